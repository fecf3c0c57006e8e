"""Random packages of every kind: round trips and JPMML against the reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crossform import ir
from crossform.exporters import pmml as P
from helpers.packages import small_package
from helpers.pmml import assert_jpmml_scores_like_the_reference

# ---------------------------------------------------------------- random packages of every kind


def random_tree(rng, n_features: int, width: int, depth: int = 3) -> ir.Tree:
    """A random tree: thresholds, +inf thresholds and set splits, either missing side."""
    nodes: list = []

    def grow(d: int) -> int:
        i = len(nodes)
        nodes.append([-1, 0.0, -1, -1, False, [0.0] * width, None])
        if d < depth and rng.random() < 0.8:
            kind = rng.random()
            nodes[i][0] = int(rng.integers(n_features))
            if kind < 0.15:
                nodes[i][6] = tuple(sorted({float(v) for v in rng.integers(0, 4, 2)}))
            else:
                nodes[i][1] = math.inf if kind < 0.25 else float(np.round(rng.normal(), 2))
            nodes[i][4] = bool(rng.random() < 0.5)
            nodes[i][2] = grow(d + 1)
            nodes[i][3] = grow(d + 1)
        else:
            nodes[i][5] = np.round(rng.normal(size=width), 3).tolist()
        return i

    grow(0)
    f, t, left, right, ml, value, sets = map(list, zip(*nodes))
    return ir.Tree(f, t, left, right, ml, value, sets if any(s is not None for s in sets) else ())


def random_package(seed: int) -> ir.Package:
    """Encoders and a model drawn at random from every kind the writer knows (flat classifiers
    aside: random leaves are no probabilities)."""
    rng = np.random.default_rng(seed)
    inputs = (ir.Field("colour", ir.CATEGORICAL), ir.Field("size", ir.NUMERIC), ir.Field("weight", ir.NUMERIC))
    encoders, numeric = [], ["size", "weight"]

    def one_of(*values):
        return values[int(rng.integers(len(values)))]

    if np.random.default_rng(seed + 1000).random() < 0.3:  # its own draw: the other draws stay as they were
        encoders.append(ir.RefuseMissing(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL)))
    if rng.random() < 0.4:
        encoders.append(ir.MissingIndicator(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("size_m", "colour_m")))
        numeric += ["size_m", "colour_m"]
    pick = rng.random()
    if pick < 0.4:
        encoders.append(
            ir.OneHot(
                ("colour",),
                (("blue", "green", "red"),),
                ((0, -1, 1),),
                (3,),
                (one_of(None, 2, -1),),
                (one_of("error", "zeros", 2),),
                ("o0", "o1", "o2"),
            )
        )
        numeric += ["o0", "o1", "o2"]
    elif pick < 0.7:
        encoders.append(
            ir.CategoricalEncoding(
                ("colour",),
                (("blue", "red"),),
                ((0.0, 3.0),),
                (one_of(None, -1.0, math.nan),),
                one_of(None, 7.0, math.nan),
            )
        )
        numeric.append("colour")
    if rng.random() < 0.5:
        encoders.append(ir.Affine(("size",), [one_of(0.5, -2.0, 0.0, 1e-300)], [float(rng.normal())]))
    if rng.random() < 0.5:
        encoders.append(ir.Scale(("weight",), [float(rng.normal())], [one_of(3.0, -0.5, 1e300)]))
    if rng.random() < 0.3:
        encoders.append(ir.FillMissing(("weight",), (1.5,)))
    features = tuple(rng.choice(numeric, size=min(len(numeric), int(rng.integers(1, 4))), replace=False).tolist())
    n = len(features)
    if rng.random() < 0.3:
        k = int(rng.integers(1, 4))
        if k == 1:
            classes, post = (None if rng.random() < 0.4 else ("no", "yes")), one_of("none", "logistic")
        else:
            classes, post = tuple(f"k{i}" for i in range(k)), one_of("none", "softmax", "logistic")
        model = ir.LinearModel(
            features, np.round(rng.normal(size=(k, n)), 3), np.round(rng.normal(size=k), 3), post, classes
        )
    else:
        width = int(rng.integers(1, 4))
        aggregation = one_of("sum", "average")
        if width == 1:
            classes, post = (("no", "yes"), "logistic") if rng.random() < 0.5 else (None, one_of("none", "logistic"))
        else:
            classes, post = tuple(range(width)), one_of("none", "softmax", "logistic")
            if (aggregation, post) == ("average", "none"):
                aggregation = "sum"
        trees = tuple(random_tree(rng, n, width) for _ in range(int(rng.integers(1, 4))))
        model = ir.TreeEnsemble(
            features,
            trees,
            aggregation,
            post,
            classes,
            np.round(rng.normal(size=width), 2) if aggregation == "sum" else None,
            missing=one_of("route", "error"),
            infinite=one_of("error", "compare"),
        )
    return ir.Package(inputs, tuple(encoders), model)


RANDOM_ROWS = pd.DataFrame(
    {
        "colour": pd.Series(["blue", "green", "red", "teal", None, "blue", "green", None, "red", "blue"], dtype=object),
        "size": [0.0, 1.5, -2.0, np.inf, np.nan, 1e39, -1e300, 3.0, -0.0, 2.0],
        "weight": [1.0, np.nan, 0.5, -1.0, 2.0, np.inf, 0.0, -np.inf, 1e300, 0.25],
    }
)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference's inf * 0 and overflowing scales
@pytest.mark.parametrize("seed", range(24))
def test_random_packages_round_trip_and_score_in_jpmml_as_in_the_reference(seed):
    package = random_package(seed)
    assert P.unsupported(package) is None
    for leaves in (P.ON, P.OFF):
        data = P.dumps(package, leaves=leaves)
        back = P.loads(data)
        assert back.id == package.id and P.dumps(back, leaves=leaves) == data
        assert_jpmml_scores_like_the_reference(package, data, RANDOM_ROWS)


def test_a_classifier_leaf_without_a_distribution_per_class_is_refused():
    """Leaf values are sized nodes x classes before they are filled: each leaf must bring its
    classes' ScoreDistributions, so a few bytes of Nodes cannot ask for gigabytes of values."""
    text = P.dumps(small_package()).decode()
    dist = '<ScoreDistribution value="no" recordCount="0.25"/><ScoreDistribution value="yes" recordCount="0.75"/>'
    assert dist in text
    with pytest.raises(P.PmmlStructureError, match="2 ScoreDistributions.*one per class.*found 0"):
        P.loads(text.replace(dist, "", 1).encode(), where="model.pmml")
