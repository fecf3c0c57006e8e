"""Every kind in onnx: one-hot, affine, missing-indicator, refuse-missing and linear models, boosting,
binary scores, set splits and isolation forests, scored in both runtimes like the reference and
scikit-learn."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.exporters import onnx as O
from crossform.exporters.onnx import _encoders, _nodes
from crossform.floats import float32_threshold
from crossform.runtime import onnx_reference
from crossform.runtime import onnxruntime as ort_runtime
from helpers import every_kind
from helpers.onnx_files import KIND_ROWS, KINDS, RUNTIMES, assert_runtimes_pass, branch_modes, reference_checks

onnx = pytest.importorskip("onnx")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_round_trips_and_scores_like_the_reference_in_both_runtimes(name):
    package = KINDS[name]
    data = O.dumps(package)
    assert O.sniff(data) and O.read_version(data) == "1.3" and O.needs(package)
    back = O.loads(data)
    assert back.id == package.id and O.dumps(back) == data
    onnx.checker.check_model(O.build(package), full_check=True)  # shapes and types infer through every node
    checks = reference_checks(package, KIND_ROWS)
    assert not checks.errors.all()
    for runtime in RUNTIMES:
        scores = runtime.prepare(data, O)(checks.data())
        assert (scores.leaves is None) == isinstance(package.model, ir.LinearModel)
        comparison = checks_module.compare(checks, scores, back.model)
        assert comparison.ok, (runtime.NAME, comparison.summary(), comparison.mismatches[:3])
        assert comparison.leaves_compared == isinstance(package.model, ir.TreeEnsemble)


def test_one_module_writes_every_encoder_kind_and_reads_every_kind_it_writes():
    # a new encoder kind touches one onnx module: its writer and its reader sit side by side there
    assert set(_encoders.ENCODERS) == set(ir.ENCODER_TYPES)
    written = {
        _nodes.node_doc(node, "test")["crossform"]
        for package in [
            *KINDS.values(),
            *every_kind.next_minor_packages().values(),
            *every_kind.product_packages().values(),
            *every_kind.projection_packages().values(),
        ]
        for node in onnx.load_from_string(O.dumps(package)).graph.node
        if _nodes.node_tag(node).startswith("e") and node.doc_string
    }
    assert written == set(_encoders.ENCODER_READERS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_in_float32_keeps_the_declared_bound_on_float32_rows(name):
    package = KINDS[name]
    data = O.dumps(package, precision="float32")
    assert O.read_version(data) == "1.3"
    stored, checks = O.stored(package, reference_checks(package, KIND_ROWS), precision="float32")
    back = O.loads(data)
    assert back.id == stored.id
    if isinstance(package.model, ir.LinearModel):
        # computed in double from the float32 inputs: exact, and the package as it was
        assert stored.id == package.id and checks.absolute == 0.0
    assert_runtimes_pass(data, checks, back.model, leaves=isinstance(package.model, ir.TreeEnsemble))


def test_gradient_boosting_from_sklearn_scores_as_scikit_learn_in_both_runtimes():
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    rng = np.random.default_rng(8)
    X = rng.normal(0, 2, (400, 3))
    fits = {
        "binary": GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0).fit(X, X[:, 0] > X[:, 1]),
        "multiclass": GradientBoostingClassifier(n_estimators=8, max_depth=2, random_state=0).fit(
            X, np.digitize(X[:, 2], [-1, 1])
        ),
        "regressor": GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=0).fit(X, X @ [1, -2, 0.5]),
    }
    for name, estimator in fits.items():
        package = crossform.from_sklearn(estimator, checks=300)
        assert package.model.missing == "error" and package.model.is_binary == (name == "binary")
        for precision in ("float64", "float32"):
            data = O.dumps(package, precision=precision)
            back = O.loads(data)
            assert O.read_version(data) == "1.3" and back.checks.errors.any()
            for comparison in assert_runtimes_pass(data, back.checks, back.model):
                assert precision == "float32" or comparison.max_relative_difference <= 1e-12, (name, precision)


def test_binary_logistic_is_exact_where_sigmoid_is_not():
    """1 / (1 + exp(-x)) as written: onnxruntime's double Sigmoid gives 0.0 for 4.2e-18 at x = -40."""
    tree = ir.Tree(
        feature=[0, -1, -1],
        threshold=[0.0, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[False, False, False],
        value=[[0.0], [-40.0], [-10.0]],
    )
    package = ir.Package(
        inputs=(ir.Field("x", ir.NUMERIC),),
        encoders=(),
        model=ir.TreeEnsemble(("x",), (tree,), "sum", "logistic", classes=(0, 1), base_value=[0.0]),
    )
    data = O.dumps(package)
    for runtime in RUNTIMES:
        got = runtime.prepare(data, O)({"x": [-1.0, 1.0]})
        want = crossform.score(package, {"x": [-1.0, 1.0]})
        np.testing.assert_allclose(got.values, want.values, rtol=1e-15, atol=0)
        assert got.values[0, 1] > 0


def test_a_decision_model_outputs_decision_scores_and_no_leaves():
    package = KINDS["linear-decision-binary"]
    model = O.build(package)
    assert [o.name for o in model.graph.output] == ["decision", "error"]
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert [o.name for o in O.build(KINDS["linear-multinomial"], "float32").graph.output] == ["probabilities", "error"]
    got = ort_runtime.prepare(O.dumps(package), O)({"size": [1.0, 0.0], "weight": [0.0, 1.0]})
    assert got.outputs == ("decision",) and got.leaves is None and got.labels() == [1, -1]
    multi = ort_runtime.prepare(O.dumps(KINDS["linear-decision-multiclass"]), O)({"size": [1.0], "weight": [0.0]})
    assert multi.outputs == ("decision(x)", "decision(y)", "decision(z)") and multi.labels() == ["x"]
    clash = package.replace(
        inputs=(ir.Field("decision", ir.NUMERIC), ir.Field("weight", ir.NUMERIC)),
        model=ir.LinearModel(("decision", "weight"), [[1.0, 1.0]], [0.0], classes=(0, 1)),
    )
    assert "collides" in O.unsupported(clash)
    assert (
        O.unsupported(
            clash.replace(model=KINDS["linear-regression"].model.__class__(("decision", "weight"), [[1.0, 1.0]], [0.0]))
        )
        is None
    )  # a regressor's output is "prediction"


def test_compare_trees_split_in_float32_only_when_that_decides_as_double():
    """Under infinite="compare" a value too large for float32 reaches float32 splits as inf: exact only
    while every threshold is inside the float32 range."""

    def split_type(package):
        node = next(n for n in O.build(package).graph.node if n.op_type == "TreeEnsemble")
        return next(a.t.data_type for a in node.attribute if a.name == "nodes_splits")

    def forest(threshold):
        tree = ir.Tree(
            feature=[0, -1, -1],
            threshold=[threshold, 0.0, 0.0],
            left=[1, -1, -1],
            right=[2, -1, -1],
            missing_left=[False, False, False],
            value=[[0.0], [2.0], [3.0]],
        )
        return ir.Package(
            inputs=(ir.Field("x", ir.NUMERIC),), encoders=(), model=ir.TreeEnsemble(("x",), (tree,), infinite="compare")
        )

    inside, beyond = forest(float(float32_threshold(np.array([0.3]))[0])), forest(np.finfo(np.float64).max)
    assert split_type(inside) == onnx.TensorProto.FLOAT and split_type(beyond) == onnx.TensorProto.DOUBLE
    rows = {"x": [1e39, -1e39, np.inf, -np.inf, np.nan, 0.25, 3e38]}
    for package in (inside, beyond):
        want = crossform.score(package, rows)
        assert all(e is None for e in want.errors)
        for runtime in RUNTIMES:
            got = runtime.prepare(O.dumps(package), O)(rows)
            np.testing.assert_array_equal(got.values, want.values)


# ---------------------------------------------------------------- refuse-missing


REFUSE_ROWS = {  # per row: ordinary, then NaN, None, +inf, -inf, each alone, then a huge finite number
    "colour": ["blue", "red", "blue", None, "green", "red", "", "purple"],
    "size": [2.0, -7.5, math.nan, 1.0, math.inf, -math.inf, 3.0, 0.25],
    "weight": [1.0, 0.25, 0.0, -3.0, 2.0, 1.0, math.nan, 8.0],
}


@pytest.mark.parametrize(
    "options", [{}, {"precision": "float32"}, {"sets": "member"}], ids=["onnx", "onnx[float32]", "onnx[member]"]
)
def test_refuse_missing_refuses_nan_none_and_inf_rows_and_passes_values_unchanged(options):
    package = KINDS["refuse-missing"]
    data = O.dumps(package, **options)
    assert O.read_version(data) == "1.3" and O.needs(package) == "a refuse-missing encoder"
    stored, _ = O.stored(package, package.checks, **options)
    assert O.loads(data).id == stored.id
    if options.get("sets") == O.MEMBER:
        assert O.BRANCH_MEMBER in branch_modes(data) and onnx_reference.unsupported(data) is None
    want = crossform.score(stored, REFUSE_ROWS)
    # a missing colour, a NaN or infinite size: row errors; an unknown colour codes NaN, weight is not checked
    assert [e is None for e in want.errors] == [True, True, False, False, False, False, True, True]
    for runtime in RUNTIMES:
        got = runtime.prepare(data, O)(REFUSE_ROWS)
        assert [e is None for e in got.errors] == [e is None for e in want.errors], runtime.NAME
        assert all("onnx" in e for e in got.errors if e is not None)
        if options.get("precision") == O.FLOAT32:
            ok = np.array([e is None for e in want.errors])
            np.testing.assert_allclose(got.values[ok], want.values[ok], rtol=0, atol=1e-6)
        else:
            np.testing.assert_array_equal(got.values, want.values)


def test_refuse_missing_writes_no_node_for_the_values_it_passes():
    model = O.build(KINDS["refuse-missing-alone"])
    encoder = [n for n in model.graph.node if _nodes.node_tag(n).startswith("e0.")]
    assert [(_nodes.node_tag(n), n.op_type) for n in encoder] == [
        ("e0.0.missing", "Identity"),
        ("e0.1.inf", "IsInf"),
        ("e0.1.nan", "IsNaN"),
        ("e0.1.value", "Identity"),
    ]
    in_place = O.build(KINDS["refuse-missing"])  # the same names: the model reads the input itself
    assert not [n for n in in_place.graph.node if _nodes.node_tag(n).endswith(".value")]
    assert next(n for n in in_place.graph.node if _nodes.node_tag(n) == "X").input[0] == "size"
    assert json.loads(encoder[0].doc_string) == {
        "crossform": "refuse-missing",
        "features": ["colour", "size"],
        "kinds": ["categorical", "numeric"],
        "outputs": ["c", "s"],
    }
    assert encoder[0].input == ["colour#missing"]
    # the file without refuse-missing is the 1.2 file it was
    plain = KINDS["refuse-missing-alone"].replace(
        inputs=KINDS["refuse-missing-alone"].inputs[1:],
        encoders=(),
        model=ir.TreeEnsemble(("size", "weight"), KINDS["refuse-missing-alone"].model.trees),
    )
    assert O.needs(plain) is None and O.read_version(O.dumps(plain)) == "1.2"


def _missing_indicator_pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier

    X = np.random.default_rng(0).normal(size=(300, 3))
    X[::7, 1] = np.nan
    union = ColumnTransformer([("i", MissingIndicator(), [0, 1, 2]), ("f", SimpleImputer(), [0, 1, 2])])
    return Pipeline([("u", union), ("m", DecisionTreeClassifier(max_depth=4, random_state=0))]).fit(X, X[:, 0] > 0)


@pytest.mark.parametrize(
    "options", [{}, {"precision": "float32"}, {"sets": "member"}], ids=["onnx", "onnx[float32]", "onnx[member]"]
)
def test_missing_indicator_error_on_new_scores_as_scikit_learn_in_both_runtimes(options):
    package = crossform.from_sklearn(_missing_indicator_pipeline())
    assert [type(e) for e in package.encoders] == [ir.RefuseMissing, ir.MissingIndicator, ir.FillMissing]
    assert package.encoders[0].features == ("x0", "x2")
    data = O.dumps(package, **options)
    back = O.loads(data)
    assert O.read_version(data) == "1.3" and back.checks.errors.any() and not back.checks.errors.all()
    if not options:
        assert back.id == package.id and O.dumps(back) == data
    assert_runtimes_pass(data, back.checks, back.model)


# ---------------------------------------------------------------- trees: +inf thresholds, category sets, isolation


def test_a_plus_inf_threshold_sends_every_number_left_and_nan_by_its_node():
    """Histogram boosting's "numbers left, NaN right": x <= +inf for x = +inf too (double splits)."""

    def package(missing_left):
        tree = ir.Tree(
            feature=[0, -1, -1],
            threshold=[np.inf, 0.0, 0.0],
            left=[1, -1, -1],
            right=[2, -1, -1],
            missing_left=[missing_left, False, False],
            value=[[0.0], [2.0], [3.0]],
        )
        return ir.Package(
            inputs=(ir.Field("x", ir.NUMERIC),),
            encoders=(),
            model=ir.TreeEnsemble(("x",), (tree,), "sum", base_value=[0.5], infinite="compare"),
        )

    rows = {"x": [np.inf, -np.inf, np.nan, 1e39, -1e308, 0.0]}
    for missing_left in (False, True):
        p = package(missing_left)
        data = O.dumps(p, precision="float32")
        assert O.loads(O.dumps(p)).id == p.id and O.loads(data).id == O.float32_package(p).id
        want = crossform.score(p, rows)
        for runtime in RUNTIMES:
            got = runtime.prepare(O.dumps(p), O)(rows)
            np.testing.assert_array_equal(got.values, want.values)
            np.testing.assert_array_equal(got.leaves, want.leaves)


def test_histogram_boosting_with_categories_and_isolation_forests_score_as_scikit_learn():
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        IsolationForest,
    )

    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 2))
    X[rng.random(X.shape) < 0.1] = np.nan
    code = rng.integers(0, 6, 500).astype(float)
    code[rng.random(500) < 0.05] = np.nan
    colour = np.array(["red", "green", "blue", "teal"], dtype=object)[rng.integers(0, 4, 500)]
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "colour": colour})
    y = (np.nan_to_num(X[:, 0]) > 0) ^ np.isin(code, [0, 2, 5])
    fits = {
        "codes": HistGradientBoostingClassifier(max_iter=8, categorical_features=[2]).fit(np.c_[X, code], y),
        "strings": HistGradientBoostingRegressor(max_iter=8, categorical_features=["colour"]).fit(
            frame, (colour == "red") * 2.0 + np.nan_to_num(X[:, 0])
        ),
        "isolation": IsolationForest(n_estimators=15, random_state=0).fit(np.nan_to_num(X)),
    }
    for name, estimator in fits.items():
        package = crossform.from_sklearn(estimator, checks=300)
        assert O.needs(package) and O.read_version(O.dumps(package)) == "1.3", name
        assert any(t.sets for t in package.model.trees) or package.model.post_transform == "isolation", name
        for precision in ("float64", "float32"):
            data = O.dumps(package, precision=precision)
            back = O.loads(data)
            assert_runtimes_pass(data, back.checks, back.model)


def test_a_set_split_is_a_threshold_split_on_a_membership_column():
    model = O.build(KINDS["set-splits"])
    ops = [n.op_type for n in model.graph.node]
    assert "TreeEnsemble" in ops and all(a.name != "membership_values" for n in model.graph.node for a in n.attribute)
    equal = [n for n in model.graph.node if n.name.endswith(":set.0.equal")]
    assert len(equal) == 1 and json.loads(equal[0].doc_string) == {
        "crossform": "set-split",
        "feature": 0,
        "missing_left": True,
    }
    assert [n for n in model.graph.node if n.name.endswith(":set.1.outside")]  # members go left: 1 - member
    assert O.SET_THRESHOLD == float(float32_threshold(np.array([O.SET_THRESHOLD]))[0])
    assert 0.5 < O.SET_THRESHOLD < 0.5 + 1e-7


def test_an_isolation_forest_outputs_score_and_decision():
    package = KINDS["isolation"]
    model = O.build(package)
    assert [o.name for o in model.graph.output] == ["scores", "error", "leaves"]
    got = ort_runtime.prepare(O.dumps(package), O)({"size": [0.0, 9.0], "weight": [0.0, 9.0]})
    want = crossform.score(package, {"size": [0.0, 9.0], "weight": [0.0, 9.0]})
    assert got.outputs == ("score", "decision") == want.outputs
    np.testing.assert_array_equal(got.values, want.values)
    clash = ir.Package(
        inputs=(ir.Field("scores", ir.NUMERIC), ir.Field("weight", ir.NUMERIC)),
        encoders=(),
        model=ir.TreeEnsemble(
            ("scores", "weight"), package.model.trees, "sum", "isolation", base_value=[0.0], isolation=(2.0, 0.0)
        ),
    )
    assert "collides" in O.unsupported(clash)
