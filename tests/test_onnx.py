"""The onnx format: exact round trips, both runtimes against the reference, and one named error per bad input."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from conftest import small_package, small_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_protobuf import PACKAGES, fit_pipeline

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.checks import leaf_positions
from crossform.errors import CrossformError, FormatVersionError, IdMismatchError, LimitExceededError
from crossform.errors import UnsupportedModelError
from crossform.exporters import onnx as O
from crossform.runtime import onnx_reference, onnxruntime as ort_runtime

onnx = pytest.importorskip("onnx")
RUNTIMES = (ort_runtime, onnx_reference)

ROWS = [{"colour": c, "size": s} for c in ("red", "blue", "green", None, "")
        for s in (-30.0, 9.0, 14.0, 30.0, math.nan, math.inf, -math.inf, 1e39, -3.5e38, None)]
ROWS += [{"colour": 3, "size": 9.0}, {"colour": "red", "size": "big"}]  # wrong types: row errors before the graph


def assert_scores_like_the_reference(package: ir.Package, content: bytes, rows=ROWS) -> None:
    back = O.loads(content)
    want = crossform.score(package, rows)
    for runtime in RUNTIMES:
        got = runtime.prepare(content, O)(rows)
        assert got.outputs == want.outputs and got.classes == want.classes
        assert [e is None for e in got.errors] == [e is None for e in want.errors], runtime.NAME
        np.testing.assert_array_equal(got.values, want.values)  # exact, NaN in the same rows
        np.testing.assert_array_equal(leaf_positions(back.model, got.leaves), leaf_positions(package.model, want.leaves))


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_hand_built_packages_round_trip_and_score_exactly(name):
    package = PACKAGES[name]
    data = O.dumps(package)
    assert O.sniff(data)
    back = O.loads(data)
    assert back.id == package.id and back.producer == package.producer and back.owner == package.owner
    assert [type(c) for c in back.model.classes or ()] == [type(c) for c in package.model.classes or ()]
    assert O.dumps(back) == data
    assert_scores_like_the_reference(package, data)


def test_empty_category_list_and_missing_code_without_unknown_code():
    package = small_package(encoders=(
        ir.CategoricalEncoding(("colour",), ((),), ((),), (4.0,), None),
        ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)),
    ))
    assert_scores_like_the_reference(package, O.dumps(package))


@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_sklearn_pipelines_round_trip_with_their_checks_in_both_runtimes(task, tmp_path):
    package = crossform.from_sklearn(fit_pipeline(task), checks=200)
    path = crossform.save(package, tmp_path / "model.onnx", format="onnx")
    assert crossform.exporters.sniff(path) == "onnx"
    back = crossform.load(path)
    assert back.id == package.id and back.producer == package.producer
    assert checks_module.to_document(back.checks) == checks_module.to_document(package.checks)
    content = path.read_bytes()
    for runtime in RUNTIMES:
        comparison = checks_module.compare(back.checks, runtime.prepare(content, O)(back.checks.data()), back.model)
        assert comparison.ok and comparison.leaves_compared, (runtime.NAME, comparison.summary())


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
        ("colour", onnx.TensorProto.STRING), ("colour#missing", onnx.TensorProto.BOOL),
        ("size", onnx.TensorProto.DOUBLE)]
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
    for proto, version, expected in ((old, "1.2", "expected one tree in TreeEnsemble 0"),
                                     (O.build(package), "1.0", "one TreeEnsemble")):
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
    monkeypatch.setattr(O, "MAX_BYTES", 100)
    with pytest.raises(LimitExceededError):
        O.loads(GOOD)


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


FUZZ = O.dumps(PACKAGES["nan codes"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_or_truncated_bytes_raise_only_crossform_errors(data):
    raw = bytearray(FUZZ)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    candidate = bytes(raw[:data.draw(st.integers(len(raw) // 2, len(raw)))])
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
        from conftest import small_package
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
    package = small_package(inputs=(ir.Field("colour", ir.CATEGORICAL), ir.Field("error", ir.NUMERIC)),
                            encoders=(ir.CategoricalEncoding(("colour",), (("red",),), ((1.0,),), (None,), None),),
                            model=ir.TreeEnsemble(("colour", "error"), (small_tree(),), classes=("no", "yes")))
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
    model = Pipeline([("scale", StandardScaler()),
                      ("forest", RandomForestRegressor(n_trees, max_depth=9, random_state=0))])
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
    assert back.id == rounded.id and O.dumps(back, precision="float32") == data.replace(
        package.id.encode(), rounded.id.encode()) or back.id == rounded.id
    # the file carries the float32 rows of the checks, and they pass in both runtimes
    keep = checks_module.float32_rows(package.checks)
    assert len(back.checks) == int(keep.sum()) > len(package.checks) // 3 and back.checks.absolute == tolerance
    for runtime in RUNTIMES:
        comparison = checks_module.compare(back.checks, runtime.prepare(data, O)(back.checks.data()), back.model)
        assert comparison.ok and comparison.leaves_compared, (runtime.NAME, comparison.summary())
    assert O.properties(data) == {"precision": "float32", "tolerance": {"absolute": tolerance},
                                  "source id": package.id}
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
    for i, (f, x) in enumerate(edges[:len(X)]):
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
    assert O.float32_tolerance(rounded) <= 1.1 * (20 + 3) * 2.0 ** -24 * largest / 20


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
    with pytest.raises(O.OnnxStructureError, match=r"expected double or string graph inputs \(float64 precision\), "
                                                   r"found input 'size' of type FLOAT"):
        O.loads(edit(lambda m: precision(m, "float64")))
    with pytest.raises(CrossformError, match="expected precision float64 or float32, got 'half'"):
        O.dumps(small_package(), precision="half")


def test_float32_variant_runs_in_the_conformance_plan_and_by_name():
    from crossform import conformance
    from crossform.errors import UnknownFormatError

    assert ("onnx[float32]", "onnxruntime") in conformance.plan(["onnx"])
    assert conformance.plan(["onnx[float32]"]) == [("onnx[float32]", "onnxruntime"),
                                                   ("onnx[float32]", "onnx-reference")]
    with pytest.raises(UnknownFormatError, match=r"Unknown variant 'onnx\[float16\]'; variants of onnx: onnx\[float32\]"):
        conformance.plan(["onnx[float16]"])


def test_export_cli_takes_precision_for_onnx_only(tmp_path, capsys):
    import joblib

    from crossform.cli import main

    joblib.dump(fit_pipeline("regressor"), tmp_path / "m.joblib")
    code = main(["export", str(tmp_path / "m.joblib"), str(tmp_path / "m"), "--precision", "float32"])
    err = capsys.readouterr().err
    assert code == 2 and "format stripe-json has no option 'precision'" in err
    code = main(["export", str(tmp_path / "m.joblib"), str(tmp_path / "m.onnx"), "--format", "onnx",
                 "--precision", "float32", "--checks", "200"])
    out = capsys.readouterr().out
    assert code == 0 and "format  onnx, float32" in out and "source  sha256." in out
    assert main(["info", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert "precision float32" in out and "tolerance absolute " in out and "(declared)" in out
    assert main(["validate", str(tmp_path / "m.onnx")]) == 0
    assert "within the declared" in capsys.readouterr().out


def test_compat_says_only_releases_from_0_4_0_read_a_1_2_file(tmp_path):
    from crossform import compat

    path = crossform.save(small_package(), tmp_path / "m.onnx", format="onnx", precision="float32")
    assert O.read_version(path.read_bytes()) == "1.2"
    doc = compat.report(path)
    assert doc["readers"]["ranges"] == [{"from": "0.4.0", "before": None, "specifier": ">=0.4.0", "warning": False}]
    # files of the single-ensemble layout: 1.0 (float64), which 0.2.0 reads, and 1.1 (float32)
    assert compat.readers_text(compat.readers("onnx", "1.0")) == ">=0.2.0"
    assert compat.readers_text(compat.readers("onnx", "1.1")) == ">=0.3.0"
