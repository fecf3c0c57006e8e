"""Shared fixtures: small hand-built packages whose content never depends on a fit."""

from __future__ import annotations

import numpy as np
import pytest

from crossform import ir


def small_tree(threshold: float = 0.5, leaf_values=((0.25, 0.75), (0.9, 0.1), (0.5, 0.5))) -> ir.Tree:
    """x0 <= threshold ? leaf 1 : (x1 <= 2.0 ? leaf 3 : leaf 4)."""
    v = np.zeros((5, 2))
    v[1], v[3], v[4] = leaf_values
    return ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[threshold, 0.0, 2.0, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[True, False, False, False, False],
        value=v,
    )


def small_package(**changes) -> ir.Package:
    parts = dict(
        inputs=(ir.Field("colour", ir.CATEGORICAL), ir.Field("size", ir.NUMERIC)),
        encoders=(
            ir.FillMissing(("colour",), ("red",)),
            ir.CategoricalEncoding(("colour",), (("blue", "red", "green"),), ((0.0, 2.0, 1.0),), (None,), None),
            ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)),
        ),
        model=ir.TreeEnsemble(
            ("colour", "size_scaled"),
            (small_tree(), small_tree(1.5, ((1.0, 0.0), (0.0, 1.0), (0.5, 0.5)))),
            classes=("no", "yes"),
        ),
        owner="tests",
        tags=("golden",),
        metadata={"purpose": "pin the package id"},
    )
    parts.update(changes)
    return ir.Package(**parts)


@pytest.fixture
def package() -> ir.Package:
    return small_package()


def edit_saved_trees(package_dir, edit) -> None:
    """Change the trees of a saved stripe-json package the way a tool would:
    decode trees.bonsai, let ``edit(trees)`` (a list of ir.Tree) change them,
    and write them back re-encoded, with a valid checksum. The manifest still
    records the old id."""
    import json
    from pathlib import Path

    from crossform.exporters import bonsai

    path = Path(package_dir)
    model_doc = json.loads((path / "model.json").read_text())
    trees_file = path / model_doc["trees"]["path"]
    trees = list(bonsai.loads(trees_file.read_bytes(), str(trees_file), len(model_doc["features"])))
    edit(trees)
    classes = model_doc.get("classes")
    model = ir.TreeEnsemble(model_doc["features"], tuple(trees), model_doc["aggregation"], model_doc["postTransform"],
                            None if classes is None else tuple(classes), model_doc.get("baseValue"))
    trees_file.write_bytes(bonsai.dumps(model))


def changed_tree(tree: ir.Tree, **arrays) -> ir.Tree:
    """A copy of ``tree`` with some of its arrays replaced."""
    parts = {name: getattr(tree, name) for name in ("feature", "threshold", "left", "right", "missing_left", "value")}
    parts.update(arrays)
    return ir.Tree(**parts)
