"""The onnx format: exact round trips, both runtimes against the reference, the graph it writes, and one
named error per bad input."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossform
from crossform import checks as checks_module
from crossform import ir
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
from crossform.exporters.onnx import _read
from helpers.fits import fit_pipeline
from helpers.fuzz import damaged, read_or_refuse
from helpers.onnx_files import (
    GOOD,
    assert_runtimes_pass,
    assert_scores_like_the_reference,
    edited_file,
    nudge_first_split,
    set_prop,
    tree_node,
)
from helpers.packages import TREE_VARIANTS, small_package, small_tree

onnx = pytest.importorskip("onnx")


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
    "checker": (edited_file(GOOD, dangling_input), O.OnnxCheckerError),
    "external data": (edited_file(GOOD, external_data), O.OnnxExternalDataError),
    "external data in an If branch": (edited_file(GOOD, external_data_in_if_branch), O.OnnxExternalDataError),
    "external data in a sparse initializer": (
        edited_file(GOOD, external_data_in_sparse_initializer),
        O.OnnxExternalDataError,
    ),
    "external sparse indices": (edited_file(GOOD, external_data_in_sparse_indices), O.OnnxExternalDataError),
    "external data in an attribute": (edited_file(GOOD, external_data_in_attribute), O.OnnxExternalDataError),
    "unknown op": (edited_file(GOOD, add_relu), UnsupportedModelError),
    "threshold": (edited_file(GOOD, nudge_first_split), IdMismatchError),
    "leaf value": (edited_file(GOOD, change_leaf_value), IdMismatchError),
    "swapped children": (edited_file(GOOD, swap_children), IdMismatchError),
    "leaf target": (edited_file(GOOD, retarget_leaf), O.OnnxStructureError),
    "input type": (edited_file(GOOD, wrong_input_type), CrossformError),
    "major version": (edited_file(GOOD, set_prop("crossform.format_version", "2.0")), FormatVersionError),
    "bad version": (edited_file(GOOD, set_prop("crossform.format_version", "one")), FormatVersionError),
    "tags": (edited_file(GOOD, set_prop("crossform.tags", "[oops")), O.OnnxMetadataError),
    "metadata": (edited_file(GOOD, set_prop("crossform.metadata", "[]")), O.OnnxMetadataError),
    "recorded id": (edited_file(GOOD, set_prop("crossform.id", "sha256.X")), IdMismatchError),
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
        assert O.loads(edited_file(GOOD, set_prop("crossform.format_version", "1.99"))).id == small_package().id


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
    read_or_refuse(O.loads, damaged(data, [FUZZ]))


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
