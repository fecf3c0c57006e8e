"""Output divisors (AdaBoost's weight total and K - 1) in every format: round trips with the same
id, the strict minor they record (FEATURES_SINCE), the previous minor refusing them, PMML's named
refusal, hand-edited files refused by name, and every runtime scoring them as the reference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crossform import compat, ir
from crossform.errors import CrossformError, UnsupportedModelError
from crossform.exporters import Files, _versions, get_format, stripe_json
from helpers import every_kind
from helpers.runtimes import assert_runtimes_pass_checks

ROWS = every_kind.rows()
FORMATS = ("stripe-json", "protobuf", "onnx", "pmml")
# PMML divides the chain's scores before its softmax link only (pmml.rules)
PMML_REFUSES = {"forest-regression-divided"}
FEATURE = ("output divisors", "divisors of the aggregated outputs")


def _vote_stump(feature: int, votes: list) -> ir.Tree:
    """A stump whose leaves carry AdaBoost's class vectors (votes[0] left, votes[1] right)."""
    return ir.Tree(
        feature=[feature, -1, -1],
        threshold=[0.5, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[True, False, False],
        value=[[0.0] * len(votes[0]), votes[0], votes[1]],
    )


def _packages() -> dict:
    w0, w1 = 1.3862943611198906, 0.6931471805599453
    three = (
        _vote_stump(0, [[w0, -w0 / 2, -w0 / 2], [-w0 / 2, -w0 / 2, w0]]),
        _vote_stump(1, [[-w1 / 2, w1, -w1 / 2], [w1, -w1 / 2, -w1 / 2]]),
    )
    two = (_vote_stump(0, [[w0, -w0], [-w0, w0]]), _vote_stump(1, [[-w1, w1], [w1, -w1]]))
    total = float(np.array([w0, w1]).sum())
    return {
        "adaboost-three-classes": ir.Package(
            inputs=every_kind.fields()[1:],
            encoders=(),
            model=ir.TreeEnsemble(
                ("size", "weight"),
                three,
                "sum",
                "softmax",
                classes=("a", "b", "c"),
                base_value=[0.0, 0.0, 0.0],
                divisors=(total, 2.0),
            ),
        ),
        "adaboost-two-classes": ir.Package(
            inputs=every_kind.fields()[1:],
            encoders=(ir.Affine(("weight",), [0.5], [0.25]),),
            model=ir.TreeEnsemble(
                ("size", "weight"),
                two,
                "sum",
                "softmax",
                classes=(0, 1),
                base_value=[0.0, 0.0],
                missing="error",
                divisors=(total, 1.0),
            ),
        ),
        "forest-regression-divided": ir.Package(
            inputs=every_kind.fields()[1:],
            encoders=(),
            model=ir.TreeEnsemble(
                ("size", "weight"),
                (every_kind.regression_stump(0), every_kind.regression_stump(1)),
                "average",
                divisors=(3.0,),
            ),
        ),
    }


PACKAGES = _packages()


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_divisors_round_trip_and_record_the_next_minor(fmt_name, name):
    if fmt_name == "onnx":
        pytest.importorskip("onnx")
    if fmt_name == "pmml" and name in PMML_REFUSES:
        pytest.skip("pmml refuses it by name (test_pmml_refuses_other_divided_models_by_name)")
    package = PACKAGES[name]
    fmt = get_format(fmt_name)
    content = fmt.dumps(package)
    source = content if isinstance(content, bytes) else Files.from_mapping(content, "pkg")
    back = fmt.loads(source)
    assert back.id == package.id and back.model.divisors == package.model.divisors
    assert fmt.dumps(back) == content
    recorded = fmt.read_version(source)
    assert recorded == _versions.FEATURES_SINCE["output divisors"][fmt_name] == fmt.VERSION
    assert FEATURE in _versions.features_used(package)
    assert fmt.needs(package) is not None
    assert compat.readers_text(compat.readers(fmt_name, recorded)) == ">=0.6.0"


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_divisors_score_as_the_reference_in_every_runtime(fmt_name, name):
    from helpers.onnx_files import reference_checks

    if fmt_name == "pmml" and name in PMML_REFUSES:
        pytest.skip("pmml refuses it by name (test_pmml_refuses_other_divided_models_by_name)")
    package = PACKAGES[name]
    fmt = get_format(fmt_name)
    checks = reference_checks(package, ROWS)
    assert np.isfinite(checks.values).any()
    assert_runtimes_pass_checks(fmt, package, checks)


def test_the_reference_divides_in_turn_after_the_sum():
    """(s / total) / 2, not s / (2 * total): the two divisions round apart."""
    from crossform import evaluator

    package = PACKAGES["adaboost-three-classes"]
    model = package.model
    scores = evaluator.score(package, {"size": [0.0, 1.0], "weight": [1.0, 0.0]})
    for row, (size, weight) in enumerate([(0.0, 1.0), (1.0, 0.0)]):
        s = 0.0 + model.trees[0].value[1 if size <= 0.5 else 2] + model.trees[1].value[1 if weight <= 0.5 else 2]
        d = s / model.divisors[0] / model.divisors[1]
        e = np.exp(d - d.max())
        np.testing.assert_array_equal(scores.values[row], e / e.sum())


def test_pmml_refuses_other_divided_models_by_name():
    fmt = get_format("pmml")
    with pytest.raises(UnsupportedModelError, match="divisors on a model other than a softmax classifier"):
        fmt.dumps(PACKAGES["forest-regression-divided"])


def test_pmml_divides_each_score_before_the_softmax_link():
    from crossform.exporters import pmml

    text = pmml.dumps(PACKAGES["adaboost-three-classes"]).decode("utf-8")
    total = PACKAGES["adaboost-three-classes"].model.divisors[0]
    assert text.count('<Apply function="/"><Apply function="/"><FieldRef field="crossform:raw(') == 3
    assert f'<Constant dataType="double">{total!r}</Constant></Apply><Constant dataType="double">2.0</Constant>' in text
    assert text.count('<MiningField name="crossform:divided(') == 3


@pytest.mark.parametrize("value", ["[]", '"2"', "[0.0]"])
def test_hand_edited_pmml_divisors_are_refused_by_name(value):
    from crossform.exporters import pmml

    text = pmml.dumps(PACKAGES["adaboost-three-classes"]).decode("utf-8")
    total = PACKAGES["adaboost-three-classes"].model.divisors[0]
    edited = text.replace(
        f"&quot;divisors&quot;:[{total!r},2.0]", f"&quot;divisors&quot;:{value.replace(chr(34), '&quot;')}"
    )
    assert edited != text
    with pytest.raises(CrossformError, match="divisors"):
        pmml.loads(edited.encode("utf-8"))


def test_a_2_1_model_schema_refuses_divisors_by_name():
    from crossform.exporters import _json

    files = stripe_json.dumps(PACKAGES["adaboost-three-classes"])
    doc = json.loads(files["model.json"])
    _json.validate(doc, "stripe-json-model-2.2.schema.json", "model.json")
    with pytest.raises(CrossformError, match="divisors"):
        _json.validate(doc, "stripe-json-model-2.1.schema.json", "model.json")
    doc["divisors"] = [0.0]
    with pytest.raises(CrossformError, match="divisors"):
        _json.validate(doc, "stripe-json-model-2.2.schema.json", "model.json")


def test_protobuf_1_1_readers_know_no_divided_member():
    """Model.tree_ensemble_divided is a oneof member 1.1's descriptor lacks: a 1.1 reader finds
    the oneof unset and refuses the file rather than scoring it without the divisors."""
    from pathlib import Path

    from google.protobuf import descriptor_pb2

    root = Path(__file__).resolve().parents[2] / "proto" / "descriptors"
    released = descriptor_pb2.FileDescriptorSet.FromString((root / "crossform-v1-1.1.binpb").read_bytes())
    fields = {f.name for m in released.file[0].message_type if m.name == "Model" for f in m.field}
    assert "tree_ensemble_with_rules" in fields and "tree_ensemble_divided" not in fields


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.model.tree_ensemble_divided.ClearField("divisors"), "expected one or more divisors"),
        (lambda m: m.model.tree_ensemble_divided.divisors.__setitem__(0, -1.0), "expected a finite number > 0"),
        (lambda m: m.model.tree_ensemble_divided.divisors.__setitem__(1, float("inf")), "expected a finite number > 0"),
        (lambda m: m.model.tree_ensemble_divided.ClearField("rules"), "'rules' to be set"),
        (lambda m: setattr(m, "format_version", "1.1"), "1.1"),
    ],
)
def test_hand_edited_protobuf_divisors_are_refused_by_name(edit, message):
    from crossform.exporters import protobuf as P
    from crossform.v1 import package_pb2 as pb

    msg = pb.Package.FromString(P.dumps(PACKAGES["adaboost-three-classes"]))
    edit(msg)
    with pytest.raises(CrossformError, match=message):
        P.loads(msg.SerializeToString(deterministic=True))


@pytest.mark.parametrize("count", [0, 3, -1, "2", 17])
def test_onnx_divisor_count_is_checked(count):
    pytest.importorskip("onnx")
    import onnx

    from crossform.exporters import onnx as O

    proto = onnx.load_from_string(O.dumps(PACKAGES["adaboost-three-classes"]))
    for node in proto.graph.node:
        if node.doc_string and '"divisors"' in node.doc_string:
            doc = json.loads(node.doc_string)
            doc["divisors"] = count
            node.doc_string = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    with pytest.raises(CrossformError, match="divisor"):
        O.loads(proto.SerializeToString())


def test_onnx_float32_variant_bounds_the_divided_scores():
    pytest.importorskip("onnxruntime")
    from crossform.exporters.onnx import _float32

    for name in ("adaboost-three-classes", "forest-regression-divided"):
        package = PACKAGES[name]
        undivided = package.replace(model=_replace(package.model, divisors=()))
        assert _float32.float32_tolerance(package) < _float32.float32_tolerance(undivided)


def _replace(model, **fields):
    import dataclasses

    return dataclasses.replace(model, **fields)
