"""What the pmml format's tests share: the jpmml runtime (or a skip that says why it cannot run), the
rows and comparisons every file scores with, and the packages of every kind a 1.2 file holds."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.exporters import pmml as P
from crossform.runtime import unavailable
from helpers import every_kind
from helpers.packages import changed_value, small_package, small_tree


def jpmml_or_skip():
    """The jpmml runtime module; skips the test, naming the reason, where it cannot run here."""
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml runtime unavailable: {reason}")
    from crossform.runtime import jpmml

    return jpmml


ROWS = [
    {"colour": c, "size": s}
    for c in ("red", "blue", "green", None, "", "purple")
    for s in (-30.0, 9.0, 14.0, 30.0, math.nan, math.inf, -math.inf, 1e39, -3.5e38, None)
]
ROWS += [{"colour": 3, "size": 9.0}, {"colour": "red", "size": "big"}]  # wrong types: row errors before JPMML


def assert_jpmml_scores_like_the_reference(package: ir.Package, content: bytes, rows=ROWS) -> None:
    """The same rows in error, every value within 1e-12 relative, the same leaf in every tree
    (when the file has leaf outputs: a linear model has none)."""
    jpmml = jpmml_or_skip()
    back = P.loads(content)
    want = crossform.score(package, rows)
    got = jpmml.prepare(content, P)(rows)
    assert got.outputs == want.outputs and got.classes == want.classes
    listed = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert [e is None for e in got.errors] == [e is None for e in want.errors], list(
        zip(listed, got.errors, want.errors)
    )
    ok = np.equal(want.errors, None)
    np.testing.assert_allclose(got.values[ok], want.values[ok], rtol=1e-12, atol=0)
    if P.properties(content)["leaves"] == P.OFF or isinstance(package.model, ir.LinearModel):
        assert got.leaves is None
        return
    np.testing.assert_array_equal(
        checks_module.leaf_positions(back.model, got.leaves), checks_module.leaf_positions(package.model, want.leaves)
    )


def assert_same(a: ir.Package, b: ir.Package, rows=ROWS) -> None:
    assert b.id == a.id
    assert b.producer == a.producer and b.owner == a.owner and b.tags == a.tags
    assert [type(c) for c in a.model.classes or ()] == [type(c) for c in b.model.classes or ()]
    sa, sb = crossform.score(a, rows), crossform.score(b, rows)
    np.testing.assert_array_equal(sa.values, sb.values)
    assert sa.errors == sb.errors
    if sa.leaves is not None:
        np.testing.assert_array_equal(
            checks_module.leaf_positions(a.model, sa.leaves), checks_module.leaf_positions(b.model, sb.leaves)
        )


# ---------------------------------------------------------------- every kind: encoders, linear models, boosting, rules

KIND_ROWS = every_kind.rows()


def _tree(feature, threshold, values, missing_left=(True, False, False), sets=()) -> ir.Tree:
    """feature <= threshold ? leaf 1 : leaf 2, with the leaves' value vectors."""
    v = np.zeros((3, len(values[0])))
    v[1], v[2] = values
    return ir.Tree(
        feature=[feature, -1, -1],
        threshold=[threshold, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=list(missing_left),
        value=v,
        sets=sets,
    )


def more_packages() -> dict:
    """Layouts helpers.every_kind leaves out: other aggregations and post transforms of
    classifiers, trees a sum skips or keeps for their zeros, set splits, +inf
    thresholds, an isolation forest, one-hot over a derived column with an empty
    block, and encoders whose steps make a number constant or overflow."""
    fields = every_kind.fields()
    numeric = ("size", "weight")

    def trees(width, k=3):
        return tuple(_tree(t % 2, 0.5 * t, ((0.25 * (t + 1),) * width, (-0.5 + t / 8,) * width)) for t in range(k))

    out = {}
    probabilities = (
        _tree(0, 1.0, ((0.2, 0.3, 0.5), (0.6, 0.3, 0.1))),
        _tree(1, 0.0, ((1.0, 0.0, 0.0), (0.0, 0.5, 0.5))),
    )
    out["average-softmax"] = ir.Package(
        fields[1:], (), ir.TreeEnsemble(numeric, probabilities, "average", "softmax", classes=("a", "b", "c"))
    )
    out["average-logistic-binary"] = ir.Package(
        fields[1:], (), ir.TreeEnsemble(numeric, trees(1), "average", "logistic", classes=(0, 1))
    )
    out["sum-none-classifier"] = ir.Package(
        fields[1:],
        (),
        ir.TreeEnsemble(numeric, trees(3), "sum", "none", classes=("x", "y", "z"), base_value=[0.5, -0.5, 0.0]),
    )
    out["average-logistic-multi"] = ir.Package(
        fields[1:], (), ir.TreeEnsemble(numeric, trees(2), "average", "logistic", classes=(True, False))
    )
    # tree 0 is zero in every class (kept in class 0's sum for its leaf), tree 1 has -0.0 in class 1 (kept),
    # tree 2 adds to classes 0 and 2
    zeros = (
        _tree(0, 0.0, ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))),
        _tree(1, 1.0, ((0.0, -0.0, 0.0), (0.0, -0.0, 0.0))),
        _tree(0, 2.0, ((0.5, 0.0, -1.5), (0.25, 0.0, 2.0))),
    )
    out["sum-softmax-zeros"] = ir.Package(
        fields[1:],
        (),
        ir.TreeEnsemble(
            numeric, zeros, "sum", "softmax", classes=(1, 2, 3), base_value=[0.0, 0.1, -0.1], missing="error"
        ),
    )
    out["linear-logistic-multi"] = ir.Package(
        fields[1:],
        (),
        ir.LinearModel(
            numeric, [[0.5, -1.0], [0.0, 0.25], [-0.75, 1.5]], [0.1, 0.2, -0.3], "logistic", classes=("p", "q", "r")
        ),
    )
    out["linear-regression-logistic"] = ir.Package(
        fields[1:], (), ir.LinearModel(numeric, [[1e-3, -2.0]], [0.5], "logistic")
    )
    sets = (
        _tree(0, 0.0, ((1.0,), (2.0,)), (True, False, False), sets=((0.0, 3.0, 8.0), None, None)),
        _tree(1, 0.0, ((-1.0,), (4.0,)), (False, False, False), sets=((-1.0, 0.5, 2.0), None, None)),
        _tree(0, math.inf, ((0.125,), (-0.25,)), (False, False, False)),
    )
    out["sets-and-inf"] = ir.Package(
        fields[1:], (), ir.TreeEnsemble(numeric, sets, "sum", base_value=[1.0], infinite="compare")
    )
    out["isolation"] = ir.Package(
        fields[1:],
        (ir.FillMissing(("size",), (0.0,)),),
        ir.TreeEnsemble(numeric, trees(1), "sum", "isolation", base_value=[0.5], isolation=(7.25, -0.5)),
    )
    fill = ir.FillMissing(("colour",), ("red",), ("colour_filled",))
    two = ir.OneHot(
        ("colour", "colour_filled"),
        (("blue", "green", "red"), ("blue", "red")),
        ((-1, -1, -1), (0, 1)),
        (0, 3),
        (None, -1),
        ("zeros", 2),
        ("c0", "c1", "c2"),
    )
    out["one-hot-two-blocks"] = ir.Package(
        fields,
        (fill, two, ir.MissingIndicator(("weight",), (ir.NUMERIC,), ("weight_missing",))),
        ir.LinearModel(("c0", "c1", "c2", "weight_missing"), [[1.0, -2.0, 0.5, 4.0]], [0.0]),
    )
    # a scale of 0.0 makes the number constant; an indicator scaled by 1e-320 overflows where the value is missing
    out["constant-steps"] = ir.Package(
        fields[1:],
        (
            ir.Affine(("size",), [0.0], [5.0], ("five",)),
            ir.MissingIndicator(("weight",), (ir.NUMERIC,)),
            ir.Scale(("weight",), [0.0], [1e-320]),
            ir.Affine(("weight",), [1.0], [0.0]),
        ),
        ir.TreeEnsemble(("five", "weight"), (_tree(0, 5.0, ((1.0,), (2.0,))), _tree(1, 0.5, ((3.0,), (4.0,))))),
    )
    out.update(refuse_missing_packages())
    return out


def refuse_missing_packages() -> dict:
    """Refuse-missing (1.2): a missing value (and a numeric +-inf) is a row error, other values pass unchanged."""
    fields = every_kind.fields()
    out = {}
    # size in place, colour under a new name read by a label encoder (an unknown colour takes code 7.0)
    out["refuse-missing"] = ir.Package(
        fields,
        (
            ir.RefuseMissing(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("size", "colour_checked")),
            ir.CategoricalEncoding(("colour_checked",), (("blue", "red"),), ((0.0, 1.0),), (None,), 7.0, ("code",)),
            ir.Scale(("size",), [1.0], [2.0]),
        ),
        ir.TreeEnsemble(
            ("size", "code", "weight"),
            (
                _tree(0, 1.0, ((1.0,), (2.0,))),
                _tree(1, 0.5, ((3.0,), (4.0,))),
                _tree(2, 0.5, ((-1.0,), (0.5,)), (False, False, False)),
            ),
            "sum",
            base_value=[0.25],
        ),
    )
    # after other steps, in place: a missing colour's NaN code is refused as a number, a filled weight only as
    # +-inf; the trees (missing "route") would have scored both; a flat regressor otherwise 1.1's layout
    out["refuse-missing-derived"] = ir.Package(
        fields,
        (
            ir.CategoricalEncoding(
                ("colour",), (("blue", "green", "red"),), ((0.0, 1.0, 2.0),), (math.nan,), 5.0, ("code",)
            ),
            ir.FillMissing(("weight",), (0.5,), ("weight_filled",)),
            ir.RefuseMissing(("code", "weight_filled"), (ir.NUMERIC, ir.NUMERIC)),
        ),
        ir.TreeEnsemble(
            ("code", "weight_filled", "size"),
            (_tree(0, 1.5, ((1.0,), (2.0,))), _tree(2, 0.0, ((3.0,), (-4.0,)), (False, False, False))),
        ),
    )
    # a categorical feature in place before a one-hot whose missing column it makes unreachable, under a linear model
    oh, names = every_kind._one_hot(unknown="zeros", missing=1)
    out["refuse-missing-linear"] = ir.Package(
        fields,
        (ir.RefuseMissing(("colour",), (ir.CATEGORICAL,)), oh),
        ir.LinearModel(names + ("size",), [[1.0, -2.0, 0.5, 0.25]], [0.125]),
    )
    return out


# a package of every kind a 1.2 file holds, and the combinations this format lays out its own way
KINDS = {**every_kind.packages(), **more_packages()}


def has_trees(package: ir.Package) -> bool:
    return isinstance(package.model, ir.TreeEnsemble)


ODD = ("a&b", "<tag>", 'say "hi"', "tab\there", "line\nbreak", "cr\rhere", " padded ", "", "ünïcødé ✓", "x'y")


def odd_package() -> ir.Package:
    cats = tuple(ODD)
    return ir.Package(
        inputs=(ir.Field("colour & <shade>", ir.CATEGORICAL), ir.Field('size "cm"\t', ir.NUMERIC)),
        encoders=(
            ir.FillMissing(("colour & <shade>",), ("line\nbreak",)),
            ir.CategoricalEncoding(
                ("colour & <shade>",),
                (cats,),
                (tuple(float(i) for i in range(len(cats))),),
                (None,),
                None,
                ("code\n<1>",),
            ),
            ir.Scale(('size "cm"\t',), [0.1], [1e-300], ("scaled & co",)),
        ),
        model=ir.TreeEnsemble(
            ("code\n<1>", "scaled & co"), (small_tree(4.5), small_tree(1.5)), classes=("<no>", 'y"es')
        ),
        owner="owner\x01with a control character",
        tags=("t\x02",),
        metadata={"k\n": "v\x7f"},
    )


def classifier_with(values) -> ir.Package:
    tree = changed_value(small_tree(), width=2)
    value = tree.value.copy()
    value[tree.is_leaf] = values
    return small_package(
        model=ir.TreeEnsemble(
            ("colour", "size_scaled"),
            (ir.Tree(tree.feature, tree.threshold, tree.left, tree.right, tree.missing_left, value),),
            classes=("no", "yes"),
        )
    )


def forest_package(n_estimators: int = 20):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(4000, 10, random_state=0)
    forest = RandomForestClassifier(n_estimators=n_estimators, random_state=0).fit(X, y)
    return crossform.from_sklearn(forest, checks=0)


GOOD = P.dumps(small_package())


GOOD_TEXT = GOOD.decode()


def edited(old: str, new: str, count: int = 1) -> bytes:
    assert old in GOOD_TEXT, old
    return GOOD_TEXT.replace(old, new, count).encode()


def kind_text(name: str, leaves: str = P.ON) -> str:
    return P.dumps(KINDS[name], leaves=leaves).decode()


def kind_edited(name: str, old: str, new: str, count: int = 1) -> bytes:
    text = kind_text(name)
    assert old in text, (name, old)
    return text.replace(old, new, count).encode()
