"""Probe rows (crossform.vectors) for columns of several inputs: the path rows of nodes below a
split on a product are searched among the parent's rows and random rows, and a split on a product
gets, per input, the two adjacent doubles that put the product either side of its threshold."""

from __future__ import annotations

import numpy as np

from crossform import vectors
from crossform.evaluator import encoded_columns
from helpers import every_kind


def test_probe_rows_cross_every_threshold_of_a_product_column_and_reach_every_node():
    package = every_kind.product_packages()["forest-products"]
    probes = vectors.generate(package)
    assert probes.unreachable == ((0, 1),)  # the bias column is 1.0: no row goes left of 0.5
    columns = encoded_columns(package, probes.to_columns())
    for t, tree in enumerate(package.model.trees):
        name = package.model.features[int(tree.feature[0])]
        labelled = [i for i, label in enumerate(probes.labels) if label.startswith(f"tree {t} node 0: ")]
        values = np.asarray(columns[name])[labelled]
        threshold = tree.threshold[0]
        if name in ("size", "w"):  # one input's own column: the numeric probes around the threshold
            assert (values == threshold).any() or (values <= threshold).any() and (values > threshold).any()
            continue
        if name == "bias":  # 1.0 for every row: no row crosses 0.5
            assert (values == 1.0).all()
            continue
        # a product: two rows with one input at adjacent doubles, either side of the threshold
        assert (values <= threshold).any() and (values > threshold).any(), name
