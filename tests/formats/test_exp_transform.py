"""The exp post transform (log-link regressors) in every format: round trips with the same id,
the strict minor it records (FEATURES_SINCE), what crossform compat and the format say about
it, the previous minor's schema refusing it, and every runtime scoring it as the reference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crossform import checks as checks_module
from crossform import compat, ir
from crossform.errors import CrossformError
from crossform.exporters import Files, _versions, get_format, stripe_json
from helpers import every_kind
from helpers.runtimes import assert_runtimes_pass_checks

PACKAGES = every_kind.log_link_packages()
ROWS = every_kind.rows()
FORMATS = ("stripe-json", "protobuf", "onnx", "pmml")


def _reference_checks(package: ir.Package) -> checks_module.Checks:
    from helpers.onnx_files import reference_checks

    return reference_checks(package, ROWS)


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_exp_round_trips_and_records_the_next_minor(fmt_name, name):
    if fmt_name == "onnx":
        pytest.importorskip("onnx")
    package = PACKAGES[name]
    fmt = get_format(fmt_name)
    content = fmt.dumps(package)
    source = content if isinstance(content, bytes) else Files.from_mapping(content, "pkg")
    back = fmt.loads(source)
    assert back.id == package.id and back.model.post_transform == "exp"
    assert fmt.dumps(back) == content
    recorded = fmt.read_version(source)
    assert recorded == _versions.FEATURES_SINCE["exp transform"][fmt_name] == fmt.VERSION
    assert ("exp transform", "the exp post transform") in _versions.features_used(package)
    assert fmt.needs(package) is not None
    assert compat.readers_text(compat.readers(fmt_name, recorded)) == ">=0.6.0"


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_exp_scores_as_the_reference_in_every_runtime(fmt_name, name):
    package = PACKAGES[name]
    fmt = get_format(fmt_name)
    checks = _reference_checks(package)
    assert np.isfinite(checks.values).any()
    assert_runtimes_pass_checks(fmt, package, checks, leaves_compared=True)


def test_a_2_1_model_schema_refuses_exp_by_name():
    """A stripe-json 2.1 reader checks model.json against the 2.1 schema, which has no exp."""
    from crossform.exporters import _json

    files = stripe_json.dumps(PACKAGES["boost-regression-exp"])
    doc = json.loads(files["model.json"])
    _json.validate(doc, "stripe-json-model-2.2.schema.json", "model.json")
    with pytest.raises(CrossformError, match="exp"):
        _json.validate(doc, "stripe-json-model-2.1.schema.json", "model.json")


def test_protobuf_1_1_readers_know_no_exp_value():
    """POST_TRANSFORM_EXP is a value 1.1's descriptor lacks, so a 1.1 reader refuses it as unknown."""
    from pathlib import Path

    from google.protobuf import descriptor_pb2

    root = Path(__file__).resolve().parents[2] / "proto" / "descriptors"
    released = descriptor_pb2.FileDescriptorSet.FromString((root / "crossform-v1-1.1.binpb").read_bytes())
    values = {
        v.name
        for m in released.file[0].message_type
        if m.name == "TreeEnsemble"
        for e in m.enum_type
        if e.name == "PostTransform"
        for v in e.value
    }
    assert "POST_TRANSFORM_ISOLATION" in values and "POST_TRANSFORM_EXP" not in values


def test_exp_is_only_for_a_regressor():
    with pytest.raises(CrossformError, match="'exp' only for a regressor"):
        ir.TreeEnsemble(("a",), (every_kind.regression_stump(0),), "sum", "exp", classes=("n", "y"))


def test_a_protobuf_file_recording_1_1_with_exp_is_refused_by_name():
    from crossform.exporters import protobuf as P
    from crossform.v1 import package_pb2 as pb

    msg = pb.Package.FromString(P.dumps(PACKAGES["boost-regression-exp"]))
    msg.format_version = "1.1"
    with pytest.raises(P.ProtobufEnumError, match="the exp post transform.*recording 1.1"):
        P.loads(msg.SerializeToString(deterministic=True))
