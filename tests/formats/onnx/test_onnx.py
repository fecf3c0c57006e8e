"""The onnx format: exact round trips, both runtimes against the reference, and one named error per bad input."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.checks import leaf_positions
from crossform.errors import (
    CrossformError,
    FormatVersionError,
    IdMismatchError,
    LimitExceededError,
    UnsupportedModelError,
)
from crossform.exporters import _limits, get_format
from crossform.exporters import onnx as O
from crossform.exporters._format import ModuleFormat
from crossform.exporters.onnx import _nodes, _read, _write_trees
from crossform.floats import float32_threshold
from crossform.runtime import onnx_reference
from crossform.runtime import onnxruntime as ort_runtime
from helpers.fits import fit_pipeline
from helpers.packages import TREE_VARIANTS, small_package, small_tree
from helpers.paths import REPO

onnx = pytest.importorskip("onnx")
RUNTIMES = (ort_runtime, onnx_reference)

ROWS = [
    {"colour": c, "size": s}
    for c in ("red", "blue", "green", None, "")
    for s in (-30.0, 9.0, 14.0, 30.0, math.nan, math.inf, -math.inf, 1e39, -3.5e38, None)
]
ROWS += [{"colour": 3, "size": 9.0}, {"colour": "red", "size": "big"}]  # wrong types: row errors before the graph


def assert_scores_like_the_reference(package: ir.Package, content: bytes, rows=ROWS) -> None:
    back = O.loads(content)
    want = crossform.score(package, rows)
    for runtime in RUNTIMES:
        got = runtime.prepare(content, O)(rows)
        assert got.outputs == want.outputs and got.classes == want.classes
        assert [e is None for e in got.errors] == [e is None for e in want.errors], runtime.NAME
        np.testing.assert_array_equal(got.values, want.values)  # exact, NaN in the same rows
        np.testing.assert_array_equal(
            leaf_positions(back.model, got.leaves), leaf_positions(package.model, want.leaves)
        )


def assert_runtimes_pass(data: bytes, checks, model, leaves=True, runtimes=RUNTIMES) -> list:
    """Each runtime scores the rows of ``checks`` with the file ``data`` as they record, comparing
    the leaves of every tree when ``leaves`` (None: whether it compares them is not asserted);
    the comparisons, for what a test asserts beyond that."""
    comparisons = []
    for runtime in runtimes:
        comparison = checks_module.compare(checks, runtime.prepare(data, O)(checks.data()), model)
        assert comparison.ok, (runtime.NAME, comparison.summary(), comparison.mismatches[:3])
        assert leaves is None or comparison.leaves_compared == leaves, runtime.NAME
        comparisons.append(comparison)
    return comparisons


@pytest.mark.parametrize("name", sorted(TREE_VARIANTS))
def test_hand_built_packages_round_trip_and_score_exactly(name):
    package = TREE_VARIANTS[name]
    data = O.dumps(package)
    assert O.sniff(data)
    back = O.loads(data)
    assert back.id == package.id and back.producer == package.producer and back.owner == package.owner
    assert [type(c) for c in back.model.classes or ()] == [type(c) for c in package.model.classes or ()]
    assert O.dumps(back) == data
    assert_scores_like_the_reference(package, data)


def test_empty_category_list_and_missing_code_without_unknown_code():
    package = small_package(
        encoders=(
            ir.CategoricalEncoding(("colour",), ((),), ((),), (4.0,), None),
            ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)),
        )
    )
    assert_scores_like_the_reference(package, O.dumps(package))


@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_sklearn_pipelines_round_trip_with_their_checks_in_both_runtimes(task, tmp_path):
    package = crossform.from_sklearn(fit_pipeline(task), checks=200)
    path = crossform.save(package, tmp_path / "model.onnx", format="onnx")
    assert crossform.exporters.sniff(path) == "onnx"
    back = crossform.load(path)
    assert back.id == package.id and back.producer == package.producer
    assert checks_module.to_document(back.checks) == checks_module.to_document(package.checks)
    assert_runtimes_pass(path.read_bytes(), back.checks, back.model)


def test_sklearn_trees_compare_in_float32_hand_built_ones_in_double():
    """Float32 splits only where they decide exactly as the IR's doubles (the rewritten thresholds)."""

    def split_type(package):
        node = next(n for n in O.build(package).graph.node if n.op_type == "TreeEnsemble")
        return next(a.t.data_type for a in node.attribute if a.name == "nodes_splits")

    assert split_type(crossform.from_sklearn(fit_pipeline("classifier"), checks=0)) == onnx.TensorProto.FLOAT
    assert split_type(small_package()) == onnx.TensorProto.DOUBLE


def test_the_graph_has_named_inputs_outputs_and_metadata():
    model = O.build(small_package())
    assert [(i.name, i.type.tensor_type.elem_type) for i in model.graph.input] == [
        ("colour", onnx.TensorProto.STRING),
        ("colour#missing", onnx.TensorProto.BOOL),
        ("size", onnx.TensorProto.DOUBLE),
    ]
    assert [o.name for o in model.graph.output] == ["probabilities", "error", "leaves"]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["crossform.format_version"] == "1.2" and props["crossform.id"] == small_package().id
    assert props["crossform.owner"] == "tests" and props["crossform.tags"] == '["golden"]'
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 18), ("ai.onnx.ml", 5)}
    assert {n.op_type for n in model.graph.node} <= {op for _, op in O.OPS}
    onnx.checker.check_model(model, full_check=True)


def test_each_tree_is_a_single_target_tree_ensemble_of_its_own():
    package = crossform.from_sklearn(fit_pipeline("classifier"), checks=0)
    ensembles = [n for n in O.build(package).graph.node if n.op_type == "TreeEnsemble"]
    assert len(ensembles) == len(package.model.trees) > 1
    assert all(next(a.i for a in n.attribute if a.name == "n_targets") == 1 for n in ensembles)
    # the 1.0/1.1 layout, which the reader still rebuilds for files of those versions: one for all
    single = [n for n in O.build(package, per_tree=False).graph.node if n.op_type == "TreeEnsemble"]
    assert len(single) == 1 and next(a.i for a in single[0].attribute if a.name == "n_targets") == len(ensembles)


def test_a_file_is_read_in_the_layout_of_the_version_it_records():
    package = crossform.from_sklearn(fit_pipeline("classifier"), checks=0)
    old = O.build(package, per_tree=False)
    assert {p.value for p in old.metadata_props if p.key == "crossform.format_version"} == {"1.0"}
    assert O.loads(old.SerializeToString()).id == package.id
    for proto, version, expected in (
        (old, "1.2", "expected one tree in TreeEnsemble 0"),
        (O.build(package), "1.0", "one TreeEnsemble"),
    ):
        for p in proto.metadata_props:
            if p.key == "crossform.format_version":
                p.value = version
        with pytest.raises(O.OnnxStructureError, match=expected):
            O.loads(proto.SerializeToString())


# ---------------------------------------------------------------- named errors


GOOD = O.dumps(small_package())


def edited(edit) -> bytes:
    model = onnx.ModelProto()
    model.ParseFromString(GOOD)
    edit(model)
    return model.SerializeToString()


def set_prop(key, value):
    def edit(model):
        for p in model.metadata_props:
            if p.key == key:
                p.value = value

    return edit


def tree_node(model):
    return next(n for n in model.graph.node if n.op_type == "TreeEnsemble")


def change_threshold(model):
    attr = next(a for a in tree_node(model).attribute if a.name == "nodes_splits")
    splits = onnx.numpy_helper.to_array(attr.t).copy()
    splits[0] = np.nextafter(splits[0], np.inf)
    attr.t.CopyFrom(onnx.numpy_helper.from_array(splits))


def change_leaf_value(model):
    init = next(t for t in model.graph.initializer if t.name.endswith(":leaf.values"))
    values = onnx.numpy_helper.to_array(init).copy()
    values[0, 0] += 0.125
    init.CopyFrom(onnx.numpy_helper.from_array(values, init.name))


def add_relu(model):
    model.graph.node.append(onnx.helper.make_node("Relu", [model.graph.input[2].name], ["relu.out"], name="relu"))


def external_data(model):
    init = model.graph.initializer[0]
    init.data_location = onnx.TensorProto.EXTERNAL
    entry = init.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"


def outside(tensor):
    """Point ``tensor`` at a file outside the package."""
    tensor.data_location = onnx.TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"


def external_data_in_if_branch(model):
    """An If node whose then-branch holds an initializer kept outside the file."""
    branch_init = onnx.numpy_helper.from_array(np.zeros(1), "branch.value")
    outside(branch_init)
    branch = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["branch.value"], ["branch.out"])],
        "branch",
        [],
        [onnx.helper.make_tensor_value_info("branch.out", onnx.TensorProto.DOUBLE, [1])],
        [branch_init],
    )
    cond = onnx.numpy_helper.from_array(np.array(True), "if.cond")
    model.graph.initializer.append(cond)
    model.graph.node.append(
        onnx.helper.make_node("If", ["if.cond"], ["if.out"], name="if", then_branch=branch, else_branch=branch)
    )


def external_data_in_sparse_initializer(model):
    values = onnx.numpy_helper.from_array(np.ones(1), "sparse.values")
    outside(values)
    sparse = onnx.helper.make_sparse_tensor(
        values, onnx.numpy_helper.from_array(np.array([0], np.int64), "sparse.indices"), [4]
    )
    model.graph.sparse_initializer.append(sparse)


def external_data_in_sparse_indices(model):
    indices = onnx.numpy_helper.from_array(np.array([0], np.int64), "sparse.indices")
    outside(indices)
    model.graph.sparse_initializer.append(
        onnx.helper.make_sparse_tensor(onnx.numpy_helper.from_array(np.ones(1), "sparse.values"), indices, [4])
    )


def external_data_in_attribute(model):
    attr = next(a for a in tree_node(model).attribute if a.name == "nodes_splits")
    outside(attr.t)


def dangling_input(model):
    model.graph.node[0].input[0] = "nowhere"


def swap_children(model):
    node = tree_node(model)
    for which in ("nodeids", "leafs"):
        true = next(a for a in node.attribute if a.name == f"nodes_true{which}")
        false = next(a for a in node.attribute if a.name == f"nodes_false{which}")
        true.ints[0], false.ints[0] = false.ints[0], true.ints[0]


def retarget_leaf(model):
    node = tree_node(model)
    next(a for a in node.attribute if a.name == "leaf_targetids").ints[0] = 1


def wrong_input_type(model):
    model.graph.input[2].type.tensor_type.elem_type = onnx.TensorProto.FLOAT


BAD = {
    "not onnx": (b"\x08\x0acrossform.format_version\xff\xff", O.OnnxDecodeError),
    "checker": (edited(dangling_input), O.OnnxCheckerError),
    "external data": (edited(external_data), O.OnnxExternalDataError),
    "external data in an If branch": (edited(external_data_in_if_branch), O.OnnxExternalDataError),
    "external data in a sparse initializer": (edited(external_data_in_sparse_initializer), O.OnnxExternalDataError),
    "external sparse indices": (edited(external_data_in_sparse_indices), O.OnnxExternalDataError),
    "external data in an attribute": (edited(external_data_in_attribute), O.OnnxExternalDataError),
    "unknown op": (edited(add_relu), UnsupportedModelError),
    "threshold": (edited(change_threshold), IdMismatchError),
    "leaf value": (edited(change_leaf_value), IdMismatchError),
    "swapped children": (edited(swap_children), IdMismatchError),
    "leaf target": (edited(retarget_leaf), O.OnnxStructureError),
    "input type": (edited(wrong_input_type), CrossformError),
    "major version": (edited(set_prop("crossform.format_version", "2.0")), FormatVersionError),
    "bad version": (edited(set_prop("crossform.format_version", "one")), FormatVersionError),
    "tags": (edited(set_prop("crossform.tags", "[oops")), O.OnnxMetadataError),
    "metadata": (edited(set_prop("crossform.metadata", "[]")), O.OnnxMetadataError),
    "recorded id": (edited(set_prop("crossform.id", "sha256.X")), IdMismatchError),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_refused_with_its_named_error(name):
    data, error = BAD[name]
    with pytest.raises(error) as caught:
        O.loads(data, where="model.onnx")
    assert "model.onnx" in str(caught.value)


def test_the_unknown_op_is_named():
    with pytest.raises(UnsupportedModelError, match="op Relu"):
        O.loads(BAD["unknown op"][0])


def test_an_edit_keeps_the_package_for_the_checker():
    with pytest.raises(IdMismatchError) as caught:
        O.loads(BAD["threshold"][0])
    assert caught.value.package is not None and caught.value.package.id != small_package().id


def test_oversized_files_are_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(_read, "MAX_BYTES", 100)
    with pytest.raises(LimitExceededError):
        O.loads(GOOD)


@pytest.mark.parametrize("per_tree", [True, False], ids=["a TreeEnsemble per tree", "one TreeEnsemble"])
def test_more_trees_than_the_shared_limit_are_refused_by_name(monkeypatch, per_tree):
    package = small_package()  # two trees
    data = O.build(package, per_tree=per_tree).SerializeToString(deterministic=True)
    monkeypatch.setattr(_limits, "MAX_TREES", 1)
    with pytest.raises(LimitExceededError, match="^m.onnx: expected at most 1 trees, found 2$"):
        O.loads(data, "m.onnx")
    assert O.unsupported(package) == "more than 1 trees"
    with pytest.raises(UnsupportedModelError, match="more than 1 trees"):
        O.dumps(package)


def test_a_newer_minor_warns_and_reads():
    with pytest.warns(O.FormatVersionWarning, match="newer than"):
        assert O.loads(edited(set_prop("crossform.format_version", "1.4"))).id == small_package().id


def test_read_version_and_compat(tmp_path):
    from crossform import compat

    path = crossform.save(small_package(), tmp_path / "m.onnx", format="onnx")
    assert O.read_version(path.read_bytes()) == "1.2"
    doc = compat.report(path)
    assert doc["ok"] and doc["readers"]["text"] == ">=0.4.0"
    versions = {r["name"]: r["versions"] for r in doc["runtimes"]}
    assert versions["onnxruntime"].startswith(">=1.21") and "ai.onnx.ml 5" in versions["onnxruntime"]


def test_the_registry_holds_the_typed_onnx_format_and_its_methods_are_the_modules():
    fmt = get_format("onnx")
    assert fmt is O.FORMAT and isinstance(fmt, O.OnnxFormat) and not isinstance(fmt, ModuleFormat)
    plain = small_package()
    data = fmt.dumps(plain, precision="float32")
    assert data == O.dumps(plain, precision="float32") and fmt.sniff(data)
    assert fmt.read_version(data) == "1.2" and fmt.written_version(plain, precision="float32") == "1.2"
    assert fmt.needs(plain) is None and fmt.written_version() == O.VERSION
    assert fmt.properties(data)["precision"] == "float32"
    assert fmt.stored(plain, None, precision="float32")[0].id == O.float32_package(plain).id != plain.id
    with pytest.raises(O.OnnxDecodeError, match="^where.onnx: "):
        fmt.loads(b"\x08\xff", where="where.onnx")
    with pytest.raises(O.OnnxDecodeError, match="^where.onnx: "):
        fmt.read_version(b"\x08\xff", where="where.onnx")


FUZZ = O.dumps(TREE_VARIANTS["nan codes"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_or_truncated_bytes_raise_only_crossform_errors(data):
    raw = bytearray(FUZZ)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    candidate = bytes(raw[: data.draw(st.integers(len(raw) // 2, len(raw)))])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            O.loads(candidate)
    except CrossformError:
        pass


# ---------------------------------------------------------------- without onnx


def test_without_onnx_the_format_is_listed_and_says_what_to_install():
    script = textwrap.dedent("""
        import sys
        sys.modules["onnx"] = None
        sys.modules["onnxruntime"] = None
        sys.path.insert(0, "tests")
        import crossform
        from helpers.packages import small_package
        from crossform.exporters import onnx as O
        from crossform.runtime import unavailable
        assert "onnx" in crossform.formats()
        assert "crossform[onnx]" in O.unsupported(small_package())
        for name in ("onnxruntime", "onnx-reference"):
            assert "pip install 'crossform[onnx]'" in unavailable(name), unavailable(name)
        try:
            O.dumps(small_package())
        except O.OnnxNotInstalledError as exc:
            assert "pip install 'crossform[onnx]'" in str(exc)
        else:
            raise AssertionError("dumps without onnx")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_colliding_names_are_a_named_skip():
    package = small_package(
        inputs=(ir.Field("colour", ir.CATEGORICAL), ir.Field("error", ir.NUMERIC)),
        encoders=(ir.CategoricalEncoding(("colour",), (("red",),), ((1.0,),), (None,), None),),
        model=ir.TreeEnsemble(("colour", "error"), (small_tree(),), classes=("no", "yes")),
    )
    assert "collides" in O.unsupported(package)
    with pytest.raises(UnsupportedModelError):
        O.dumps(package)


# ---------------------------------------------------------------- the float32 variant


def float32_forest(n_trees: int = 60, scale: float = 1e4):
    """A regression forest with large leaf values behind a scaler, fitted on float32 data."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    X = rng.normal(0, 3, (2000, 4)).astype(np.float32).astype(np.float64)
    y = scale * (X[:, 0] + np.sin(X[:, 1]) * X[:, 2]) + rng.normal(0, scale / 10, 2000)
    model = Pipeline(
        [("scale", StandardScaler()), ("forest", RandomForestRegressor(n_trees, max_depth=9, random_state=0))]
    )
    return model.fit(X, y), rng


def test_float32_file_records_its_precision_tolerance_and_source():
    package = crossform.from_sklearn(fit_pipeline("classifier"), checks=300)
    data = O.dumps(package, precision="float32")
    model = onnx.ModelProto()
    model.ParseFromString(data)
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert types["size"] == types["weight"] == onnx.TensorProto.FLOAT and types["colour"] == onnx.TensorProto.STRING
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    props = {p.key: p.value for p in model.metadata_props}
    rounded, checks = O.stored(package, package.checks, precision="float32")
    assert props["crossform.format_version"] == "1.2" and props["crossform.precision"] == "float32"
    assert props["crossform.source_id"] == package.id and props["crossform.id"] == rounded.id
    assert rounded.id != package.id  # these leaf values (class fractions) are not all float32
    tolerance = float(json_loads(props["crossform.tolerance"])["absolute"])
    assert 0 < tolerance < 1e-5 and checks.absolute == tolerance
    back = O.loads(data)
    assert (
        back.id == rounded.id
        and O.dumps(back, precision="float32") == data.replace(package.id.encode(), rounded.id.encode())
        or back.id == rounded.id
    )
    # the file carries the float32 rows of the checks, and they pass in both runtimes
    keep = checks_module.float32_rows(package.checks)
    assert len(back.checks) == int(keep.sum()) > len(package.checks) // 3 and back.checks.absolute == tolerance
    assert_runtimes_pass(data, back.checks, back.model)
    assert O.properties(data) == {"precision": "float32", "tolerance": {"absolute": tolerance}, "source id": package.id}
    assert O.properties(O.dumps(package)) == {"precision": "float64"}


def json_loads(text):
    import json

    return json.loads(text)


def test_float32_decisions_are_exact_and_scores_keep_the_declared_bound():
    """On float32 inputs every leaf is scikit-learn's, and no score strays past
    the declared tolerance: 20k rows, including the float32 values either side
    of every threshold's pre-image through the scaler."""
    from crossform.sklearn.expect import expect

    estimator, rng = float32_forest()
    package = crossform.from_sklearn(estimator, checks=0)
    data = O.dumps(package, precision="float32")
    tolerance = O.float32_tolerance(O.float32_package(package))
    X = rng.normal(0, 4, (20000, 4)).astype(np.float32)
    scaler, forest = estimator[0], estimator[-1]
    edges = []
    for tree in forest.estimators_:
        split = tree.tree_.feature >= 0
        for f, t in zip(tree.tree_.feature[split], tree.tree_.threshold[split]):
            x = t * scaler.scale_[f] + scaler.mean_[f]  # about where the scaled value crosses t
            edges += [(f, np.nextafter(np.float32(x), np.float32(d))) for d in (-np.inf, np.inf)] + [(f, np.float32(x))]
    for i, (f, x) in enumerate(edges[: len(X)]):
        X[i, f] = x
    rows = X.astype(np.float64).tolist()
    checks = expect(estimator, package, package.inputs, rows, ["row"] * len(rows), "float32 rows")
    bounded = checks_module.restrict(checks, np.ones(len(rows), bool), tolerance, "all")
    for runtime in (ort_runtime,):
        scores = runtime.prepare(data, O)({f"x{j}": X[:, j] for j in range(4)})
        comparison = checks_module.compare(bounded, scores, O.loads(data).model)
        assert comparison.ok and comparison.leaves_compared, comparison.summary()
        worst = float(np.max(np.abs(scores.values - checks.values)))
        assert 0 < worst <= tolerance, (worst, tolerance)


def test_the_float32_bound_is_not_loose_by_orders_of_magnitude():
    estimator, _ = float32_forest(n_trees=20)
    package = crossform.from_sklearn(estimator, checks=0)
    rounded = O.float32_package(package)
    largest = sum(float(np.abs(t.value[t.is_leaf]).max()) for t in rounded.model.trees)
    # (trees + 2) unit roundoffs of the summed magnitudes, averaged, rounded up to two digits
    assert O.float32_tolerance(rounded) <= 1.1 * (20 + 3) * 2.0**-24 * largest / 20


def test_float32_reader_refuses_an_unknown_precision_and_mismatched_inputs():
    data = O.dumps(small_package(), precision="float32")

    def edit(fn):
        model = onnx.ModelProto()
        model.ParseFromString(data)
        fn(model)
        return model.SerializeToString()

    def precision(model, value):
        for p in model.metadata_props:
            if p.key == "crossform.precision":
                p.value = value

    with pytest.raises(O.OnnxMetadataError, match="expected metadata 'crossform.precision' to be one of"):
        O.loads(edit(lambda m: precision(m, "float16")))
    with pytest.raises(
        O.OnnxStructureError,
        match=r"expected double or string graph inputs \(float64 precision\), "
        r"found input 'size' of type FLOAT",
    ):
        O.loads(edit(lambda m: precision(m, "float64")))
    with pytest.raises(CrossformError, match="expected precision float64 or float32, got 'half'"):
        O.dumps(small_package(), precision="half")


def test_float32_variant_runs_in_the_conformance_plan_and_by_name():
    from crossform import conformance
    from crossform.errors import UnknownFormatError

    assert ("onnx[float32]", "onnxruntime") in conformance.plan(["onnx"])
    assert conformance.plan(["onnx[float32]"]) == [
        ("onnx[float32]", "onnxruntime"),
        ("onnx[float32]", "onnx-reference"),
    ]
    with pytest.raises(
        UnknownFormatError, match=r"Unknown variant 'onnx\[float16\]'; variants of onnx: onnx\[float32\]"
    ):
        conformance.plan(["onnx[float16]"])


def test_export_cli_takes_precision_for_onnx_only(tmp_path, capsys):
    import joblib

    from crossform.cli import main

    joblib.dump(fit_pipeline("regressor"), tmp_path / "m.joblib")
    code = main(["export", str(tmp_path / "m.joblib"), str(tmp_path / "m"), "--precision", "float32"])
    err = capsys.readouterr().err
    assert code == 2 and "format stripe-json has no option 'precision'" in err
    code = main(
        [
            "export",
            str(tmp_path / "m.joblib"),
            str(tmp_path / "m.onnx"),
            "--format",
            "onnx",
            "--precision",
            "float32",
            "--checks",
            "200",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "format  onnx, float32" in out and "source  sha256." in out
    assert main(["info", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert "precision float32" in out and "tolerance absolute " in out and "(declared)" in out
    assert main(["validate", str(tmp_path / "m.onnx")]) == 0
    assert "within the declared" in capsys.readouterr().out


def test_compat_names_the_first_release_that_reads_a_1_2_file(tmp_path):
    from crossform import compat

    path = crossform.save(small_package(), tmp_path / "m.onnx", format="onnx", precision="float32")
    assert O.read_version(path.read_bytes()) == "1.2"
    doc = compat.report(path)
    assert doc["readers"]["ranges"] == [{"from": "0.4.0", "before": None, "specifier": ">=0.4.0", "warning": False}]
    # files of the single-ensemble layout: 1.0 (float64), which 0.2.0 reads, and 1.1 (float32)
    assert compat.readers_text(compat.readers("onnx", "1.0")) == ">=0.2.0"
    assert compat.readers_text(compat.readers("onnx", "1.1")) == ">=0.3.0"


# ---------------------------------------------------------------- 1.3: one-hot, linear and boosting kinds


def _every_kind_packages():
    from helpers import every_kind

    out = dict(every_kind.packages())
    fields, tree = every_kind.fields(), every_kind.regression_stump
    # each new kind alone, so each is what makes its file 1.3
    out["binary-alone"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.TreeEnsemble(
            ("size", "weight"), (tree(0), tree(1)), "sum", "logistic", classes=("a", "b"), base_value=[0.5]
        ),
    )
    out["missing-error-alone"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.TreeEnsemble(("size", "weight"), (tree(0), tree(1)), "sum", base_value=[0.5], missing="error"),
    )
    out["compare-alone-average"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.TreeEnsemble(("size", "weight"), (tree(0), tree(1)), infinite="compare"),
    )
    out["affine-alone"] = ir.Package(
        inputs=fields[1:],
        encoders=(ir.Affine(("size",), [0.5], [1.0]),),
        model=ir.TreeEnsemble(("size", "weight"), (tree(0), tree(1))),
    )
    out["indicator-alone"] = ir.Package(
        inputs=fields,
        encoders=(
            ir.MissingIndicator(
                ("colour", "weight"), (ir.CATEGORICAL, ir.NUMERIC), ("colour_missing", "weight_missing")
            ),
        ),
        model=ir.TreeEnsemble(("colour_missing", "weight_missing"), (tree(0), tree(1))),
    )
    # one-hot after fill-missing (the missing mask is then never set), zero-width and empty blocks,
    # "" as a known category (the placeholder of a missing string), several features in one encoder
    one_hot = ir.OneHot(
        ("colour", "shade"),
        (("", "blue", "red"), ()),
        ((0, 1, -1), ()),
        (2, 1),
        (None, 0),
        ("zeros", "error"),
        ("c_empty", "c_blue", "s_missing"),
    )
    out["one-hot-edges"] = ir.Package(
        inputs=fields + (ir.Field("shade", ir.CATEGORICAL),),
        encoders=(
            ir.FillMissing(("weight",), (0.0,)),
            one_hot,
            ir.OneHot(("colour",), (("green",),), ((0,),), (1,), (-1,), (0,), ("c_green",)),
        ),
        model=ir.LinearModel(
            ("c_empty", "c_blue", "s_missing", "c_green", "weight"),
            [[1.0, 2.0, 4.0, 8.0, 0.5], [-1.0, 0.0, 0.25, 3.0, -2.0]],
            [0.0, 1.0],
            "softmax",
            classes=("p", "q"),
        ),
    )
    # a linear regressor over huge finite values, and a one-output logistic regressor (no classes)
    out["linear-huge"] = ir.Package(
        inputs=fields[1:], encoders=(), model=ir.LinearModel(("size", "weight"), [[1e5, -3.0]], [1e-300])
    )  # 1e305 at most: overflow to inf would not compare
    out["linear-multi-logistic"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.LinearModel(("size", "weight"), [[1.0, -3.0], [0.5, 0.5]], [0.0, -40.0], "logistic", classes=(3, 7)),
    )
    # set splits (histogram boosting's categories): members away from the missing side, 0.0 a member
    # (-0.0 too), a set on a label-encoded column, a threshold split beside them, a +inf threshold
    set_tree = ir.Tree(
        feature=[0, 2, -1, -1, 1, -1, -1],
        threshold=[0.0, 0.0, 0.0, 0.0, np.inf, 0.0, 0.0],
        left=[1, 2, -1, -1, 5, -1, -1],
        right=[4, 3, -1, -1, 6, -1, -1],
        missing_left=[True, False, False, False, False, False, False],
        value=[[0.0], [0.0], [-1.0], [0.5], [0.0], [2.0], [4.0]],
        sets=((0.0, 3.0, 8.0), (0.0, 2.0), None, None, None, None, None),
    )
    colour_code = ir.CategoricalEncoding(
        ("colour",), (("blue", "green", "red"),), ((0.0, 1.0, 2.0),), (None,), np.nan, ("colour_code",)
    )
    out["set-splits"] = ir.Package(
        inputs=fields,
        encoders=(colour_code,),
        model=ir.TreeEnsemble(
            ("size", "weight", "colour_code"),
            (set_tree, tree(1)),
            "sum",
            "logistic",
            classes=("no", "yes"),
            base_value=[-0.25],
            infinite="compare",
        ),
    )
    # an isolation forest: score = -(2 ** -(s / d)), decision = score - offset
    depth = ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[0.5, 0.0, 2.0, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[False] * 5,
        value=[[0.0], [1.0], [0.0], [2.5], [3.25]],
    )
    out["isolation"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.TreeEnsemble(
            ("size", "weight"),
            (depth, depth),
            "sum",
            "isolation",
            base_value=[0.0],
            infinite="compare",
            isolation=(2.75, -0.5),
        ),
    )
    # refuse-missing: a numeric and a categorical feature in place before a label encoder and set
    # splits (no member 0.0, so both runtimes run the member variant), and under new names after a
    # categorical fill (its mask then never set) before a one-hot and a linear model
    checked_tree = dataclasses.replace(set_tree, sets=((1.0, 3.0, 8.0), (2.0,), None, None, None, None, None))
    out["refuse-missing"] = ir.Package(
        inputs=fields,
        encoders=(ir.RefuseMissing(("colour", "size"), (ir.CATEGORICAL, ir.NUMERIC)), colour_code),
        model=ir.TreeEnsemble(
            ("size", "weight", "colour_code"),
            (checked_tree, tree(1)),
            "sum",
            "logistic",
            classes=("no", "yes"),
            base_value=[-0.25],
        ),
    )
    out["refuse-missing-renamed"] = ir.Package(
        inputs=fields,
        encoders=(
            ir.FillMissing(("colour",), ("red",)),
            ir.RefuseMissing(("weight", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("weight_ok", "colour_ok")),
            ir.OneHot(("colour_ok",), (("blue", "red"),), ((0, 1),), (2,), (None,), ("zeros",), ("c_blue", "c_red")),
        ),
        model=ir.LinearModel(("c_blue", "c_red", "weight_ok", "weight"), [[1.0, -2.0, 0.5, 0.25]], [0.125]),
    )
    out["refuse-missing-alone"] = ir.Package(
        inputs=fields,
        encoders=(ir.RefuseMissing(("colour", "size"), (ir.CATEGORICAL, ir.NUMERIC), ("c", "s")),),
        model=ir.TreeEnsemble(("s", "weight"), (tree(0), tree(1))),
    )
    return out


NEW = _every_kind_packages()


def _rows():
    from helpers import every_kind

    frame = every_kind.rows()
    shade = ["dark", None, "light", None, "", "dark", None, None, "x", None, None, None]
    frame["shade"] = pd.Series(shade, dtype=object)
    more = pd.DataFrame(
        {
            "colour": ["", None, "blue", "green", "red"],
            "size": [-40.0, -1e300, 2.0**128, -7.5, 0.5],
            "weight": [20.0, 3.0, -1e39, 1e38, 0.0],
            "shade": [None, None, "dark", None, None],
        }
    )
    return pd.concat([frame, more], ignore_index=True)


NEW_ROWS = _rows()


def _cell(value, kind: str):
    if kind == ir.NUMERIC:
        return float(value)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def reference_checks(package: ir.Package, frame) -> checks_module.Checks:
    """What crossform.reference gives for ``frame``, as Checks that checks.compare holds a runtime to."""
    columns = package.inputs
    rows = tuple(tuple(_cell(frame[f.name][i], f.kind) for f in columns) for i in range(len(frame)))
    data = {f.name: [row[j] for row in rows] for j, f in enumerate(columns)}
    want = crossform.score(package, data)
    leaves = leaf_positions(package.model, want.leaves) if want.leaves is not None else None
    predicted = tuple(want.labels()) if package.model.is_classifier else None
    return checks_module.Checks(
        "crossform.reference",
        columns,
        rows,
        tuple(f"row {i}" for i in range(len(rows))),
        package.outputs,
        want.values,
        ~want.ok,
        predicted,
        leaves,
        expected_by="crossform.reference",
    )


@pytest.mark.parametrize("name", sorted(NEW))
def test_new_kinds_round_trip_and_score_like_the_reference_in_both_runtimes(name):
    package = NEW[name]
    data = O.dumps(package)
    assert O.sniff(data) and O.read_version(data) == "1.3" and O.needs(package)
    back = O.loads(data)
    assert back.id == package.id and O.dumps(back) == data
    onnx.checker.check_model(O.build(package), full_check=True)  # shapes and types infer through every node
    checks = reference_checks(package, NEW_ROWS)
    assert not checks.errors.all()
    for runtime in RUNTIMES:
        scores = runtime.prepare(data, O)(checks.data())
        assert (scores.leaves is None) == isinstance(package.model, ir.LinearModel)
        comparison = checks_module.compare(checks, scores, back.model)
        assert comparison.ok, (runtime.NAME, comparison.summary(), comparison.mismatches[:3])
        assert comparison.leaves_compared == isinstance(package.model, ir.TreeEnsemble)


@pytest.mark.parametrize("name", sorted(NEW))
def test_new_kinds_in_float32_keep_the_declared_bound_on_float32_rows(name):
    package = NEW[name]
    data = O.dumps(package, precision="float32")
    assert O.read_version(data) == "1.3"
    stored, checks = O.stored(package, reference_checks(package, NEW_ROWS), precision="float32")
    back = O.loads(data)
    assert back.id == stored.id
    if isinstance(package.model, ir.LinearModel):
        # computed in double from the float32 inputs: exact, and the package as it was
        assert stored.id == package.id and checks.absolute == 0.0
    assert_runtimes_pass(data, checks, back.model, leaves=isinstance(package.model, ir.TreeEnsemble))


def test_the_1_2_kinds_still_record_1_2_and_the_newest_version_is_1_3():
    for package in TREE_VARIANTS.values():
        assert O.needs(package) is None and O.read_version(O.dumps(package)) == "1.2"
        assert O.read_version(O.dumps(package, precision="float32")) == "1.2"
    assert O.written_version() == O.VERSION == "1.3" and O.written_version(precision="float32") == "1.3"
    assert O.written_version(per_tree=False) == "1.0" and O.written_version("float32", per_tree=False) == "1.1"


def test_golden_1_2_files_are_still_written_byte_for_byte():
    golden = sorted(REPO.glob("conformance/golden/onnx/1.2*/packages/*.onnx"))
    assert golden
    for path in golden:
        data = path.read_bytes()
        model = onnx.ModelProto()
        model.ParseFromString(data)
        precision = {p.key: p.value for p in model.metadata_props}.get("crossform.precision", "float64")
        back = O.loads(data)
        proto = O.build(back, precision)
        if precision == "float32":
            proto.metadata_props.add(
                key="crossform.source_id", value={p.key: p.value for p in model.metadata_props}["crossform.source_id"]
            )
        assert proto.SerializeToString(deterministic=True) == data, path.name


def test_the_one_ensemble_layout_cannot_hold_the_new_kinds():
    with pytest.raises(UnsupportedModelError, match="cannot hold a one-hot encoder"):
        O.build(NEW["forest-one-hot"], per_tree=False)


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
    package = NEW["linear-decision-binary"]
    model = O.build(package)
    assert [o.name for o in model.graph.output] == ["decision", "error"]
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert [o.name for o in O.build(NEW["linear-multinomial"], "float32").graph.output] == ["probabilities", "error"]
    got = ort_runtime.prepare(O.dumps(package), O)({"size": [1.0, 0.0], "weight": [0.0, 1.0]})
    assert got.outputs == ("decision",) and got.leaves is None and got.labels() == [1, -1]
    multi = ort_runtime.prepare(O.dumps(NEW["linear-decision-multiclass"]), O)({"size": [1.0], "weight": [0.0]})
    assert multi.outputs == ("decision(x)", "decision(y)", "decision(z)") and multi.labels() == ["x"]
    clash = package.replace(
        inputs=(ir.Field("decision", ir.NUMERIC), ir.Field("weight", ir.NUMERIC)),
        model=ir.LinearModel(("decision", "weight"), [[1.0, 1.0]], [0.0], classes=(0, 1)),
    )
    assert "collides" in O.unsupported(clash)
    assert (
        O.unsupported(
            clash.replace(model=NEW["linear-regression"].model.__class__(("decision", "weight"), [[1.0, 1.0]], [0.0]))
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


# ---------------------------------------------------------------- 1.3: refuse-missing


REFUSE_ROWS = {  # per row: ordinary, then NaN, None, +inf, -inf, each alone, then a huge finite number
    "colour": ["blue", "red", "blue", None, "green", "red", "", "purple"],
    "size": [2.0, -7.5, math.nan, 1.0, math.inf, -math.inf, 3.0, 0.25],
    "weight": [1.0, 0.25, 0.0, -3.0, 2.0, 1.0, math.nan, 8.0],
}


@pytest.mark.parametrize(
    "options", [{}, {"precision": "float32"}, {"sets": "member"}], ids=["onnx", "onnx[float32]", "onnx[member]"]
)
def test_refuse_missing_refuses_nan_none_and_inf_rows_and_passes_values_unchanged(options):
    package = NEW["refuse-missing"]
    data = O.dumps(package, **options)
    assert O.read_version(data) == "1.3" and O.needs(package) == "a refuse-missing encoder"
    stored, _ = O.stored(package, package.checks, **options)
    assert O.loads(data).id == stored.id
    if options.get("sets") == O.MEMBER:
        assert O.BRANCH_MEMBER in _modes(data) and onnx_reference.unsupported(data) is None
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
    model = O.build(NEW["refuse-missing-alone"])
    encoder = [n for n in model.graph.node if _nodes.node_tag(n).startswith("e0.")]
    assert [(_nodes.node_tag(n), n.op_type) for n in encoder] == [
        ("e0.0.missing", "Identity"),
        ("e0.1.inf", "IsInf"),
        ("e0.1.nan", "IsNaN"),
        ("e0.1.value", "Identity"),
    ]
    in_place = O.build(NEW["refuse-missing"])  # the same names: the model reads the input itself
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
    plain = NEW["refuse-missing-alone"].replace(
        inputs=NEW["refuse-missing-alone"].inputs[1:],
        encoders=(),
        model=ir.TreeEnsemble(("size", "weight"), NEW["refuse-missing-alone"].model.trees),
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


# ---------------------------------------------------------------- 1.3: versions and older readers


def _with_version(data: bytes, version: str) -> bytes:
    model = onnx.ModelProto()
    model.ParseFromString(data)
    for p in model.metadata_props:
        if p.key == "crossform.format_version":
            p.value = version
    return model.SerializeToString()


def test_the_recorded_version_must_be_the_one_the_writer_records():
    with pytest.raises(
        O.OnnxStructureError,
        match=r"expected format version 1\.3 for this package \(it uses a "
        r"one-hot encoder\), found 1\.2",
    ):
        O.loads(_with_version(O.dumps(NEW["forest-one-hot"]), "1.2"))
    with pytest.raises(O.OnnxStructureError, match=r"expected format version 1\.2 .*nothing 1\.3 added\), found 1\.3"):
        O.loads(_with_version(GOOD, "1.3"))
    with pytest.warns(O.FormatVersionWarning, match="newer than the 1.3"):
        assert O.loads(_with_version(O.dumps(NEW["linear-regression"]), "1.7")).id == NEW["linear-regression"].id


def _released_reader():
    """crossform 0.4.0's onnx module (format 1.2), from this repository's history, or None."""
    import importlib.util

    root = REPO
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "show", f"{RELEASED_0_4_0}:src/crossform/exporters/onnx.py"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    spec = importlib.util.spec_from_loader("crossform.exporters._onnx_0_4_0", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "crossform.exporters"
    exec(compile(done.stdout, "onnx.py@0.4.0", "exec"), module.__dict__)  # noqa: S102 - our own released code
    return module


RELEASED_0_4_0 = "9bf0aab"  # the last commit of onnx.py before 1.3 (crossform 0.4.0 writes 1.2)


@pytest.fixture(scope="module")
def released():
    module = _released_reader()
    if module is None:
        pytest.skip(f"crossform 0.4.0's onnx reader is not available (needs git and commit {RELEASED_0_4_0})")
    assert module.VERSION == "1.2"
    return module


@pytest.mark.parametrize("name", sorted(NEW))
def test_the_released_1_2_reader_refuses_every_1_3_file_by_a_named_error(released, name):
    for precision in ("float64", "float32"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns first: 1.3 is a newer minor of its major
            with pytest.raises((released.OnnxStructureError, UnsupportedModelError)) as caught:
                released.loads(O.dumps(NEW[name], precision=precision))
        assert "<onnx>" in str(caught.value)


def test_the_released_1_2_reader_reads_what_1_3_writes_for_1_2_kinds(released):
    for package in TREE_VARIANTS.values():
        assert released.loads(O.dumps(package)).id == package.id


# ---------------------------------------------------------------- 1.3: named errors for crafted files


def edited_file(data: bytes, edit) -> bytes:
    model = onnx.ModelProto()
    model.ParseFromString(data)
    edit(model)
    return model.SerializeToString()


def by_tag(model, tag):
    return next(n for n in model.graph.node if n.name.split(":", 2)[-1] == tag)


def edit_doc(tag, change):
    def edit(model):
        node = by_tag(model, tag)
        doc = json_loads(node.doc_string)
        change(doc)
        node.doc_string = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    return edit


def set_init(input_of_tag, k, transform):
    def edit(model):
        name = by_tag(model, input_of_tag).input[k]
        init = next(t for t in model.graph.initializer if t.name == name)
        init.CopyFrom(onnx.numpy_helper.from_array(transform(onnx.numpy_helper.to_array(init).copy()), name))

    return edit


def set_attr(tag, name, value):
    def edit(model):
        attr = next(a for a in by_tag(model, tag).attribute if a.name == name)
        attr.CopyFrom(onnx.helper.make_attribute(name, value))

    return edit


def both(*edits):
    def edit(model):
        for e in edits:
            e(model)

    return edit


def remove_node(tag):
    def edit(model):
        model.graph.node.remove(by_tag(model, tag))

    return edit


def plus_one(a):
    a.flat[0] += 1.0
    return a


ONE_HOT = O.dumps(NEW["one-hot-edges"])  # encoder 1 one-hot, 2 one-hot; a softmax linear model
AFFINE = O.dumps(NEW["boost-binary-one-hot"])  # encoder 0 one-hot, 1 affine; binary logistic boosting
INDICATOR = O.dumps(NEW["linear-regression"])  # encoder 0 missing-indicator; a linear regressor
MISSING_ERROR = O.dumps(NEW["missing-error-alone"])
REFUSE = O.dumps(NEW["refuse-missing-alone"])  # encoder 0 refuse-missing (colour, size) -> (c, s)
SETS = O.dumps(NEW["set-splits"])  # set columns 0 (size, NaN left) and 1 (colour code, NaN right)
ISOLATION = O.dumps(NEW["isolation"])


def nudge_first_split(model):
    attr = next(a for a in by_tag(model, "reached.0").attribute if a.name == "nodes_splits")
    splits = onnx.numpy_helper.to_array(attr.t).copy()
    splits[0] = np.nextafter(splits[0], np.inf)
    attr.t.CopyFrom(onnx.numpy_helper.from_array(splits))


def refuse_doc(key, value):
    """Set ``key`` in the doc_string of REFUSE's refuse-missing encoder."""
    return edit_doc("e0.0.missing", lambda d: d.__setitem__(key, value))


NEW_BAD = {
    "one-hot unknown policy": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("unknown", ["maybe", "error"])),
        O.OnnxStructureError,
        (
            r"'unknown' of encoder 1 \(one-hot\) to be a list of 2 column "
            r"indices or one of error, zeros"
        ),
    ),
    "one-hot widths": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("widths", ["2", 1])),
        O.OnnxStructureError,
        "'widths' of encoder 1 .* column counts",
    ),
    "one-hot missing": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("missing", [None])),
        O.OnnxStructureError,
        "'missing' of encoder 1 .* a list of 2 column indices or null",
    ),
    "one-hot categories": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("categories", [[1], []])),
        O.OnnxStructureError,
        "'categories' of encoder 1 .* lists of category strings",
    ),
    "one-hot column range": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("columns", [[0, 5, -1], []])),
        O.OnnxStructureError,
        "column index from -1 to 1",
    ),
    "one-hot label encoder": (
        ONE_HOT,
        set_attr("e1.0.column", "values_int64s", [1, 0, -1]),
        O.OnnxStructureError,
        "the graph differs",
    ),
    "one-hot both edited": (
        ONE_HOT,
        both(
            set_attr("e1.0.column", "values_int64s", [1, 0, -1]),
            edit_doc("e1.0.column", lambda d: d.__setitem__("columns", [[1, 0, -1], []])),
        ),
        IdMismatchError,
        "content changed",
    ),
    "one-hot outputs": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("outputs", "c_empty")),
        O.OnnxStructureError,
        "'outputs' of encoder 1 .* a list of names",
    ),
    "indicator kinds": (
        INDICATOR,
        edit_doc("e0.0.inf", lambda d: d.__setitem__("kinds", ["numeric", "text"])),
        O.OnnxStructureError,
        r"'kinds' of encoder 0 \(missing-indicator\) to be a list of 2 kinds",
    ),
    "indicator kind swapped": (
        INDICATOR,
        edit_doc("e0.0.inf", lambda d: d.__setitem__("kinds", ["numeric"] * 2)),
        O.OnnxStructureError,
        "must be a numeric column for 'colour'",
    ),
    "refuse-missing kinds": (
        REFUSE,
        refuse_doc("kinds", ["categorical"]),
        O.OnnxStructureError,
        r"'kinds' of encoder 0 \(refuse-missing\) to be a list of 2 kinds",
    ),
    "refuse-missing kind unknown": (
        REFUSE,
        refuse_doc("kinds", ["text", "numeric"]),
        O.OnnxStructureError,
        r"'kinds' of encoder 0 \(refuse-missing\)",
    ),
    "refuse-missing kind swapped": (
        REFUSE,
        refuse_doc("kinds", ["numeric"] * 2),
        O.OnnxStructureError,
        "must be a numeric column for 'colour'",
    ),
    "refuse-missing features": (
        REFUSE,
        refuse_doc("features", ["colour", 1]),
        O.OnnxStructureError,
        r"'features' of encoder 0 \(refuse-missing\) to be a list of 2 feature names",
    ),
    "refuse-missing outputs": (
        REFUSE,
        refuse_doc("outputs", "c"),
        O.OnnxStructureError,
        r"'outputs' of encoder 0 \(refuse-missing\) to be a list of names",
    ),
    "refuse-missing renamed": (REFUSE, refuse_doc("outputs", ["c", "size"]), O.OnnxStructureError, "the graph differs"),
    "refuse-missing feature dropped": (
        REFUSE,
        refuse_doc("features", ["colour"]),
        O.OnnxStructureError,
        r"'kinds' of encoder 0 \(refuse-missing\) to be a list of 1",
    ),
    "refuse-missing check dropped": (REFUSE, remove_node("e0.1.nan"), O.OnnxCheckerError, "onnx.checker refuses"),
    "refuse-missing value dropped": (REFUSE, remove_node("e0.1.value"), O.OnnxCheckerError, "onnx.checker refuses"),
    "refuse-missing check swapped": (
        REFUSE,
        lambda m: setattr(by_tag(m, "e0.1.nan"), "op_type", "IsInf"),
        O.OnnxStructureError,
        r"the graph differs \(node 2 'crossform:3:e0.1.nan'",
    ),
    "refuse-missing as indicator": (
        REFUSE,
        refuse_doc("crossform", "missing-indicator"),
        O.OnnxStructureError,
        "the graph differs",
    ),
    "refuse-missing version": (
        REFUSE,
        set_prop("crossform.format_version", "1.2"),
        O.OnnxStructureError,
        r"expected format version 1\.3 for this package \(it uses a refuse-missing encoder\)",
    ),
    "affine scale shape": (
        AFFINE,
        set_init("e1.0.scaled", 1, lambda a: np.array([0.125, 1.0])),
        O.OnnxStructureError,
        "to be one float, found float64 of shape \\[2\\]",
    ),
    "affine scale": (AFFINE, set_init("e1.0.scaled", 1, plus_one), IdMismatchError, "content changed"),
    "affine offset": (AFFINE, set_init("e1.0.affine", 1, plus_one), IdMismatchError, "content changed"),
    "coefficient shape": (
        ONE_HOT,
        set_init("linear.products", 1, lambda a: a[:, 0, :]),
        O.OnnxStructureError,
        r"expected coefficients of type double and shape \[5, 1, outputs\]",
    ),
    "coefficient type": (
        ONE_HOT,
        set_init("linear.products", 1, lambda a: a.astype(np.float32)),
        O.OnnxStructureError,
        "found float32 of shape",
    ),
    "coefficient": (ONE_HOT, set_init("linear.products", 1, plus_one), IdMismatchError, "content changed"),
    "intercept": (ONE_HOT, set_init("linear.raw", 1, plus_one), IdMismatchError, "content changed"),
    "intercept shape": (
        ONE_HOT,
        set_init("linear.raw", 1, lambda a: a[:1]),
        O.OnnxStructureError,
        r"expected intercepts of type double and shape \[2\]",
    ),
    "linear post transform": (
        ONE_HOT,
        edit_doc("linear.products", lambda d: d.__setitem__("post_transform", "probit")),
        O.OnnxStructureError,
        "'post_transform' rule to be one of none, logistic, softmax",
    ),
    "missing rule": (
        MISSING_ERROR,
        edit_doc("reached.0", lambda d: d.__setitem__("missing", "sometimes")),
        O.OnnxStructureError,
        ("'missing' rule to be one of route, error .absent for 'route'., found \"sometimes\""),
    ),
    "default rule written": (
        MISSING_ERROR,
        edit_doc("reached.0", lambda d: d.__setitem__("infinite", "error")),
        O.OnnxStructureError,
        "'infinite' rule .* found \"error\"",
    ),
    "rule dropped": (
        MISSING_ERROR,
        edit_doc("reached.0", lambda d: d.pop("missing")),
        O.OnnxStructureError,
        r"expected format version 1\.2 .* found 1\.3",
    ),
    "missing check removed": (MISSING_ERROR, remove_node("nan"), O.OnnxCheckerError, "onnx.checker refuses"),
    "binary complement": (
        AFFINE,
        set_init("complement", 0, lambda a: a * 2),
        O.OnnxStructureError,
        "the graph differs",
    ),
    "classes": (
        AFFINE,
        set_prop("crossform.classes", '{"no": 1}'),
        O.OnnxMetadataError,
        "expected a JSON list in metadata 'crossform.classes'",
    ),
    "set feature": (
        SETS,
        edit_doc("set.0.equal", lambda d: d.__setitem__("feature", 3)),
        O.OnnxStructureError,
        "expected set split 0 to name a feature below 3 and its missing side",
    ),
    "set side": (
        SETS,
        edit_doc("set.1.equal", lambda d: d.__setitem__("missing_left", 0)),
        O.OnnxStructureError,
        "expected set split 1 to name a feature below 3",
    ),
    "set side flipped": (
        SETS,
        edit_doc("set.1.equal", lambda d: d.__setitem__("missing_left", True)),
        O.OnnxStructureError,
        "the graph differs",
    ),
    "set values type": (
        SETS,
        set_init("set.0.equal", 1, lambda a: a.astype(np.float32)),
        O.OnnxStructureError,
        "values of set split 0 as a 1-D double tensor, found float32",
    ),
    "set value": (SETS, set_init("set.0.equal", 1, plus_one), IdMismatchError, "content changed"),
    "set values unsorted": (
        SETS,
        set_init("set.0.equal", 1, lambda a: a[::-1].copy()),
        O.OnnxStructureError,
        "the graph differs .initializer 'crossform:17:set.0.values'",
    ),
    "set threshold": (
        SETS,
        nudge_first_split,
        O.OnnxStructureError,
        "expected node 0 of a tree to split a set column .* at 0.50000002",
    ),
    "isolation denominator": (ISOLATION, set_init("isolation.depth", 1, plus_one), IdMismatchError, "content changed"),
    "isolation offset type": (
        ISOLATION,
        set_init("isolation.decision", 1, lambda a: a.astype(np.float32)),
        O.OnnxStructureError,
        "expected initializer 'isolation.offset' to be one double",
    ),
    "encoder kind": (
        INDICATOR,
        edit_doc("e0.0.inf", lambda d: d.__setitem__("crossform", ["affine"])),
        O.OnnxStructureError,
        r"expected an encoder kind crossform writes, found \['affine'\]",
    ),
}


@pytest.mark.parametrize("name", sorted(NEW_BAD))
def test_crafted_1_3_files_are_refused_with_their_named_error(name):
    data, edit, error, message = NEW_BAD[name]
    with pytest.raises(error, match=message) as caught:
        O.loads(edited_file(data, edit), where="model.onnx")
    assert "model.onnx" in str(caught.value)


NEW_FUZZ = O.dumps(NEW["boost-binary-one-hot"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_bytes_of_1_3_files_raise_only_crossform_errors(data):
    source = data.draw(st.sampled_from([NEW_FUZZ, ONE_HOT, INDICATOR, SETS, ISOLATION, REFUSE]))
    raw = bytearray(source)
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            O.loads(bytes(raw))
    except CrossformError:
        pass


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
    model = O.build(NEW["set-splits"])
    ops = [n.op_type for n in model.graph.node]
    assert "TreeEnsemble" in ops and all(a.name != "membership_values" for n in model.graph.node for a in n.attribute)
    equal = [n for n in model.graph.node if n.name.endswith(":set.0.equal")]
    assert len(equal) == 1 and json_loads(equal[0].doc_string) == {
        "crossform": "set-split",
        "feature": 0,
        "missing_left": True,
    }
    assert [n for n in model.graph.node if n.name.endswith(":set.1.outside")]  # members go left: 1 - member
    assert O.SET_THRESHOLD == float(float32_threshold(np.array([O.SET_THRESHOLD]))[0])
    assert 0.5 < O.SET_THRESHOLD < 0.5 + 1e-7


def test_an_isolation_forest_outputs_score_and_decision():
    package = NEW["isolation"]
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


# ---------------------------------------------------------------- sets="member": BRANCH_MEMBER


def _member_package(sets: tuple) -> ir.Package:
    """NEW["set-splits"] with its first tree's two sets replaced by ``sets``."""
    package = NEW["set-splits"]
    first, rest = package.model.trees[0], package.model.trees[1:]
    tree = dataclasses.replace(first, sets=sets + (None,) * (first.n_nodes - len(sets)))
    return package.replace(model=dataclasses.replace(package.model, trees=(tree,) + rest))


MEMBER_ROWS = pd.concat(
    [
        NEW_ROWS,
        pd.DataFrame(
            {
                # -0.0 equals the member 0.0; 0.5 and 2.5 are no member (onnxruntime's big sets truncate them)
                "colour": ["blue", "red", "green", None, "purple", "blue"],
                "size": [-0.0, 0.5, 3.0, 2.5, 8.0, math.nan],
                "weight": [1.0, -0.0, 2.0, math.nan, 0.0, 1.0],
                "shade": [None] * 6,
            }
        ),
    ],
    ignore_index=True,
)


def _modes(data: bytes) -> list:
    proto = onnx.load_from_string(data)
    return [
        int(m)
        for n in proto.graph.node
        if n.op_type == "TreeEnsemble"
        for m in onnx.numpy_helper.to_array(next(a.t for a in n.attribute if a.name == "nodes_modes"))
    ]


def test_member_sets_are_branch_member_nodes_read_back_to_the_same_package():
    package = NEW["set-splits"]
    data = O.dumps(package, sets="member")
    assert O.dumps(package) == O.dumps(package, sets="columns")  # the default, byte for byte
    assert O.BRANCH_MEMBER in _modes(data) and b"X.sets" not in data
    assert O.read_version(data) == "1.3"
    back = O.loads(data)
    assert back.id == package.id and O.dumps(back, sets="member") == data
    assert O.stored(package, package.checks, sets="member") == (package, package.checks)
    onnx.checker.check_model(O.build(package, sets="member"), full_check=True)
    plain = NEW["binary-alone"]  # no set split: the option changes nothing
    assert O.dumps(plain, sets="member") == O.dumps(plain)


@pytest.mark.parametrize(
    "sets, native",
    [
        (((0.0, 3.0, 8.0), (0.0, 2.0)), True),  # codes 0..30: BRANCH_MEMBER
        (((1.0, 3.0, 8.0), (2.0,)), True),  # no 0.0: the ReferenceEvaluator runs it too
        (((0.5, 3.0), (-1.0, 2.0)), False),  # not an integer, below 0: columns (ORT's big sets truncate x)
        (((3.0, 31.0), (0.0, 2.0)), True),  # beyond 30: a column, beside a BRANCH_MEMBER
        ((tuple(float(v) for v in range(31)), (2.0**40,)), False),  # 31 members; beyond int32
    ],
)
def test_member_sets_score_exactly_in_onnxruntime_or_fall_back_to_columns(sets, native):
    package = _member_package(sets)
    data = O.dumps(package, sets="member")
    assert (O.BRANCH_MEMBER in _modes(data)) == native
    assert (b"X.sets" in data) == (not all(_write_trees.native_set(s) for s in sets))
    back = O.loads(data)
    assert back.id == package.id
    checks = reference_checks(package, MEMBER_ROWS)
    # test_the_reference_evaluator_names_why_it_cannot_run_a_zero_member
    zero = any(0.0 in s for s in sets if _write_trees.native_set(s))
    runtimes = [r for r in RUNTIMES if not (r is onnx_reference and zero)]
    for comparison in assert_runtimes_pass(data, checks, back.model, runtimes=runtimes):
        assert comparison.max_relative_difference <= 1e-15


def test_the_reference_evaluator_names_why_it_cannot_run_a_zero_member():
    data = O.dumps(NEW["set-splits"], sets="member")
    reason = onnx_reference.unsupported(data)
    assert "ends a BRANCH_MEMBER set at a member 0.0" in reason and "op_tree_ensemble.py" in reason
    assert "line 179" in reason and "[0.0, 3.0, 8.0]" in reason
    with pytest.raises(UnsupportedModelError, match="onnx-reference cannot run this file"):
        onnx_reference.prepare(data, O)
    assert onnx_reference.unsupported(O.dumps(NEW["set-splits"])) is None  # columns: it runs those
    assert onnx_reference.unsupported(O.dumps(_member_package(((1.0, 3.0), (2.0,))), sets="member")) is None


def _edit_members(data: bytes, edit) -> bytes:
    proto = onnx.load_from_string(data)
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.name == "membership_values":
                values = onnx.numpy_helper.to_array(attr.t).copy()
                attr.t.CopyFrom(onnx.numpy_helper.from_array(np.asarray(edit(values), dtype=np.float64), attr.t.name))
                return proto.SerializeToString()
    raise AssertionError("no membership_values")


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda v: v[:-1], "NaN separators"),  # the last set's separator dropped
        (lambda v: np.append(v, np.nan), "NaN separators"),  # one separator too many
        (lambda v: np.insert(v, 1, np.nan), "NaN separators"),  # NaN inside a set
        (lambda v: np.concatenate([v[:3][::-1], v[3:]]), "strictly increasing"),  # unsorted
        (lambda v: np.concatenate([[3.0, 3.0], v[2:]]), "strictly increasing"),  # a repeated member
    ],
)
def test_bad_membership_values_are_refused_by_name(edit, problem):
    data = _edit_members(O.dumps(NEW["set-splits"], sets="member"), edit)
    with pytest.raises(O.OnnxStructureError, match=problem):
        O.loads(data)


def test_member_variant_runs_in_the_conformance_plan():
    from crossform import conformance

    assert conformance.plan(["onnx[member]"]) == [("onnx[member]", "onnxruntime"), ("onnx[member]", "onnx-reference")]
    with pytest.raises(CrossformError, match="expected sets columns or member"):
        O.dumps(NEW["set-splits"], sets="bitmask")


def test_export_cli_takes_sets_for_onnx(tmp_path, capsys):
    import joblib
    from sklearn.ensemble import HistGradientBoostingRegressor

    from crossform.cli import main

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"code": rng.integers(0, 6, 300).astype(float), "x": rng.normal(size=300)})
    target = (frame["code"].isin([0.0, 2.0, 5.0]) * 3.0 + frame["x"]).to_numpy()
    joblib.dump(
        HistGradientBoostingRegressor(max_iter=5, categorical_features=[0]).fit(frame, target), tmp_path / "m.joblib"
    )
    code = main(
        [
            "export",
            str(tmp_path / "m.joblib"),
            str(tmp_path / "m.onnx"),
            "--format",
            "onnx",
            "--sets",
            "member",
            "--checks",
            "100",
        ]
    )
    assert code == 0 and "format  onnx, sets member" in capsys.readouterr().out
    data = (tmp_path / "m.onnx").read_bytes()
    assert O.BRANCH_MEMBER in _modes(data) and O.read_version(data) == "1.3"
    assert main(["validate", str(tmp_path / "m.onnx")]) == 0


def test_a_tree_with_fewer_leaves_than_splits_is_refused_before_its_leaf_values():
    """1000 splits (each to node 1 or leaf 0) over 3 leaves: were its leaf-value table
    sized by node count x outputs first, a wide table would ask for gigabytes."""
    model = onnx.load_from_string(O.dumps(small_package()))
    node = tree_node(model)
    s = 1000
    attrs = {
        "nodes_featureids": [0] * s,
        "nodes_modes": [0] * s,
        "nodes_truenodeids": [1] * s,
        "nodes_trueleafs": [0] * s,
        "nodes_falsenodeids": [0] * s,
        "nodes_falseleafs": [1] * s,
    }
    for attr in node.attribute:
        if attr.name in attrs:
            if attr.type == onnx.AttributeProto.TENSOR:
                attr.t.CopyFrom(onnx.numpy_helper.from_array(np.array(attrs[attr.name], np.int64)))
            else:
                del attr.ints[:]
                attr.ints.extend(attrs[attr.name])
        elif attr.name == "nodes_splits":
            attr.t.CopyFrom(onnx.numpy_helper.from_array(np.full(s, 0.5)))
        elif attr.name == "leaf_weights":
            attr.t.CopyFrom(onnx.numpy_helper.from_array(np.array([s, s + 1, s + 2], np.float64)))
    with pytest.raises(O.OnnxStructureError, match="one leaf more than its 1000 splits, found 3"):
        O.loads(model.SerializeToString(), where="model.onnx")
