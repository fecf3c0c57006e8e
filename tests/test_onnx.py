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
    assert props["crossform.format_version"] == "1.0" and props["crossform.id"] == small_package().id
    assert props["crossform.owner"] == "tests" and props["crossform.tags"] == '["golden"]'
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 18), ("ai.onnx.ml", 5)}
    assert {n.op_type for n in model.graph.node} <= {op for _, op in O.OPS}
    onnx.checker.check_model(model, full_check=True)


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
    assert O.read_version(path.read_bytes()) == "1.0"
    doc = compat.report(path)
    assert doc["ok"] and doc["readers"]["text"] == ">=0.2.0"
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
