"""Small hand-built packages whose content never depends on a fit."""

from __future__ import annotations

import math

import numpy as np

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


def leaf_only_tree(values=(3.5,)) -> ir.Tree:
    return ir.Tree([-1], [0.0], [-1], [-1], [False], [list(values)])


def regression_tree() -> ir.Tree:
    return changed_value(small_tree(), width=1)


def changed_value(tree: ir.Tree, width: int) -> ir.Tree:
    value = np.zeros((tree.n_nodes, width))
    value[tree.is_leaf] = np.arange(1, tree.n_leaves * width + 1).reshape(-1, width) / 8
    return ir.Tree(tree.feature, tree.threshold, tree.left, tree.right, tree.missing_left, value)


def with_model(model: ir.TreeEnsemble, **changes) -> ir.Package:
    return small_package(model=model, **changes)


FEATURES = ("colour", "size_scaled")
TREE_VARIANTS = {
    "small": small_package(),
    "nan codes": small_package(
        encoders=(
            ir.FillMissing(("size",), (1.25,)),
            ir.CategoricalEncoding(("colour",), (("blue", "red"),), ((0.0, 2.0),), (math.nan,), math.nan),
            ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)),
        )
    ),
    "missing code and unknown code": small_package(
        encoders=(
            ir.CategoricalEncoding(("colour",), (("blue", "red"),), ((0.0, 2.0),), (-1.0,), -2.0),
            ir.Scale(("size",), [10.0], [-4.0], ("size_scaled",)),
        ),
        owner=None,
        tags=(),
        metadata={},
    ),
    "int labels": with_model(ir.TreeEnsemble(FEATURES, (small_tree(),), classes=(0, -(2**63)))),
    "float labels": with_model(ir.TreeEnsemble(FEATURES, (small_tree(),), classes=(0.5, 2.0))),
    "bool labels": with_model(ir.TreeEnsemble(FEATURES, (small_tree(),), classes=(False, True))),
    "sum logistic": with_model(
        ir.TreeEnsemble(FEATURES, (regression_tree(), regression_tree()), "sum", "logistic", None, [0.25])
    ),
    "softmax": with_model(
        ir.TreeEnsemble(
            FEATURES, (changed_value(small_tree(), 3),), "sum", "softmax", ("a", "b", "c"), [0.5, -0.5, 0.0]
        )
    ),
    "single leaf": with_model(ir.TreeEnsemble(FEATURES, (leaf_only_tree(), regression_tree()))),
    "producer": small_package(producer={"scikit-learn": "1.9.1", "crossform": "0.2.0"}),
}
