"""The composite "target" (a regressor's prediction through inverse target steps) in every format:
written and read back with the same id, recorded in the formats' next strict minor, and scored in
every runtime exactly as the reference scores it; onnx refuses expm1 by name. Expected outputs against scikit-learn's TransformedTargetRegressor come from the conformance
suite (cases/target-steps.json) and tests/frontends/test_transformed_target.py."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import ir
from crossform.errors import IRValidationError, MalformedPackageError, UnsupportedModelError
from crossform.exporters import Files, get_format
from crossform.exporters._versions import FEATURES_SINCE, features_used
from crossform.runtime import get_runtime, unavailable
from helpers import every_kind
from helpers.protobuf import refused_in_java
from helpers.runtimes import assert_runtimes_score_as_reference

PACKAGES = every_kind.target_packages()
NEXT = FEATURES_SINCE["target steps"]


def _rows() -> pd.DataFrame:
    sizes = [0.0, 0.5, 0.25, 2.0, 1.0, math.nan, math.inf, -1.0, 1e39, 3.0, math.nextafter(0.5, 1.0), -0.0, 1e300]
    weights = [1.0, 0.5, 2.0, math.nan, 0.4, 0.0, 0.5, -2.0, 0.25, math.inf, 3.5, 0.5, -1e300]
    return pd.DataFrame({"size": sizes, "weight": weights})


def _refused(name: str, package: ir.Package):
    if name == "onnx" and ("expm1", None) in package.model.target_steps:
        return "expm1"
    return None


@pytest.mark.parametrize("package_name", sorted(PACKAGES))
@pytest.mark.parametrize("name", ["stripe-json", "protobuf", "onnx", "pmml"])
def test_a_target_round_trips_records_the_next_minor_and_scores_like_the_reference(name, package_name):
    package = PACKAGES[package_name]
    fmt = get_format(name)
    words = _refused(name, package)
    if words is not None:
        assert words in fmt.unsupported(package)
        with pytest.raises(UnsupportedModelError, match=words):
            fmt.dumps(package)
        return
    data = fmt.dumps(package)
    back = fmt.loads(Files.from_mapping(data, label="<test>") if fmt.LAYOUT == "directory" else data)
    assert back.id == package.id
    assert back.model.combination == package.model.combination
    assert back.model.target_steps == package.model.target_steps
    assert fmt.written_version(package) == NEXT[name]
    assert "target steps" in dict(features_used(package))
    rows = _rows()
    assert_runtimes_score_as_reference(fmt, data, package, back, rows, same=_identical, leaves=False)


def _identical(got: np.ndarray, want: np.ndarray) -> None:
    """SEMANTICS' identical: equal infinities, else within 1e-12 relative (onnx's Exp is not numpy's
    exp to the last bit)."""
    infinite = np.isinf(want)
    assert np.array_equal(got[infinite], want[infinite])
    assert (np.abs(got[~infinite] - want[~infinite]) <= 1e-12 * np.abs(want[~infinite])).all(), (got, want)


def test_the_reference_runs_the_steps_in_order_on_the_member_s_prediction():
    rows = _rows()
    for package in PACKAGES.values():
        plain = dataclasses.replace(package.model, target_steps=()) if package.model.combination != "target" else None
        member = crossform.score(package.replace(model=plain or package.model.members[0]), rows)
        got = crossform.score(package, rows)
        t = member.values[:, 0].copy()
        with np.errstate(over="ignore"):
            for op, number in package.model.target_steps:
                if number is None:
                    t = {"exp": np.exp, "expm1": np.expm1}[op](t)
                else:
                    t = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide}[op](
                        t, number
                    )
        ok = np.equal(got.errors, None)
        assert np.array_equal(got.values[ok, 0], t[ok])
        finite = np.isfinite(member.values[:, 0])
        assert [e is None for e in got.errors] == list(np.equal(member.errors, None) & finite)


def test_a_prediction_that_is_not_finite_is_refused_in_every_runtime():
    package = PACKAGES["target-linear-exp"]
    rows = pd.DataFrame({"size": [1e308, 1.0], "weight": [-1e308, 1.0]})  # 2e308 + 0.5e308 overflows
    want = crossform.score(package, rows)
    assert "not finite" in want.errors[0] and want.errors[1] is None
    fmt = get_format("onnx")
    for runtime_name in fmt.RUNTIMES:
        if unavailable(runtime_name) is None:
            got = get_runtime(runtime_name).prepare(fmt.dumps(package), fmt)(rows)
            assert got.errors[0] is not None and got.errors[1] is None
            assert abs(got.values[1, 0] - want.values[1, 0]) <= 1e-12 * abs(want.values[1, 0])


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda m: ir.Composite((m, m), "target", target_steps=(("exp", None),)), "one regressor under 'target'"),
        (lambda m: ir.Composite((m,), "target"), "non-empty sequence of (operation, number) pairs"),
        (lambda m: ir.Composite((m,), "target", target_steps=(("log", None),)), "an operation of"),
        (lambda m: ir.Composite((m,), "target", target_steps=(("exp", 1.0),)), "no number with 'exp'"),
        (lambda m: ir.Composite((m,), "target", target_steps=(("add", None),)), "a number"),
        (lambda m: ir.Composite((m,), "target", target_steps=(("add", math.inf),)), "a finite number"),
        (lambda m: ir.Composite((m,), "target", target_steps=(("divide", 0.0),)), "a divisor other than 0"),
        (lambda m: ir.Composite((m,), "vote", classes=("a", "b"), target_steps=(("exp", None),)), "no steps unless"),
        (lambda m: ir.Composite((m,), "target", target_steps="exp"), "a sequence of (operation, number) pairs"),
    ],
)
def test_the_ir_refuses_target_steps_it_cannot_state_by_name(build, message):
    member = PACKAGES["target-scaled-forest"].model.members[0]
    with pytest.raises(IRValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(member)


def test_the_formats_refuse_crafted_target_steps_by_name():
    package = PACKAGES["target-linear-exp"]
    files = dict(get_format("stripe-json").dumps(package))
    doc = files["model.json"].decode()
    files["model.json"] = doc.replace('"operation": "exp"', '"operation": "exp", "number": 1.0').encode()
    assert files["model.json"].decode() != doc
    with pytest.raises(MalformedPackageError, match="no number with 'exp'"):
        get_format("stripe-json").loads(Files.from_mapping(files, label="<test>"))


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (
            lambda step: setattr(step, "number", 1.0),
            "ProtobufUnexpectedError",
            "expected no number with operation 'exp'",
        ),
        (lambda step: setattr(step, "operation", 0), "ProtobufEnumError", "OPERATION_UNSPECIFIED"),
    ],
)
def test_protobuf_refuses_crafted_target_steps_by_name_in_python_and_java(edit, error, message):
    from crossform.exporters import protobuf as P
    from crossform.v1 import package_pb2 as pb

    msg = pb.Package.FromString(get_format("protobuf").dumps(PACKAGES["target-linear-exp"]))
    step = next(s for s in msg.model.composite.target_steps if s.operation == pb.Composite.TargetStep.OPERATION_EXP)
    edit(step)
    data = msg.SerializeToString(deterministic=True)
    with pytest.raises(getattr(P, error), match=message):
        P.loads(data)
    assert message in refused_in_java(data, getattr(P, error))
