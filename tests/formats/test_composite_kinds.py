"""The composite model (members' outputs combined) in every format: written and read back with the
same id, recorded in the formats' next strict minor, and scored in every runtime exactly as the
reference scores it (PMML too: its members in a modelChain, the combination in Output
expressions, docs/formats/pmml.md). Expected outputs against scikit-learn's
VotingClassifier and VotingRegressor come from the conformance suite (cases/composite.json)."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import ir
from crossform.errors import IdMismatchError, PackageNotFoundError, SchemaError, UnsupportedModelError
from crossform.exporters import Files, get_format
from crossform.exporters._versions import FEATURES_SINCE, features_used
from crossform.exporters.pmml.rules import PmmlHeaderError, PmmlStructureError
from crossform.runtime import get_runtime, unavailable
from helpers import every_kind

PACKAGES = every_kind.composite_packages()
NEXT = FEATURES_SINCE["composite model"]


def _rows() -> pd.DataFrame:
    sizes = [0.0, 0.5, 0.25, 2.0, 1.0, math.nan, math.inf, -1.0, 1e39, 3.0, math.nextafter(0.5, 1.0), -0.0]
    weights = [1.0, 0.5, 2.0, math.nan, 0.4, 0.0, 0.5, -2.0, 0.25, math.inf, 3.5, 0.5]
    return pd.DataFrame({"size": sizes, "weight": weights})


@pytest.mark.parametrize("package_name", sorted(PACKAGES))
@pytest.mark.parametrize("name", ["stripe-json", "protobuf", "onnx", "pmml"])
def test_a_composite_round_trips_records_the_next_minor_and_scores_like_the_reference(name, package_name):
    package = PACKAGES[package_name]
    fmt = get_format(name)
    if name == "pmml" and package.model.calibration_method == "isotonic":
        # PMML states the sigmoid only (docs/formats/pmml.md): the isotonic one is refused by name
        with pytest.raises(crossform.errors.UnsupportedModelError, match="isotonic calibration"):
            fmt.dumps(package)
        return
    data = fmt.dumps(package)
    back = fmt.loads(Files.from_mapping(data, label="<test>") if fmt.LAYOUT == "directory" else data)
    assert back.id == package.id
    assert isinstance(back.model, ir.Composite) and len(back.model.members) == 3
    assert back.model.combination == package.model.combination
    assert fmt.written_version(package) == NEXT[name]
    assert fmt.needs(package) is not None  # crossform compat names what older releases refuse
    assert "composite model" in dict(features_used(package))
    rows = _rows()
    want = crossform.score(package, rows)
    assert not all(e is None for e in want.errors) and not all(e is not None for e in want.errors)
    for runtime_name in fmt.RUNTIMES:
        reason = unavailable(runtime_name)
        if reason is not None:
            pytest.skip(f"{runtime_name} unavailable: {reason}")
        cannot = getattr(get_runtime(runtime_name), "unsupported", None)
        if cannot is not None and cannot(data) is not None:
            continue  # a gap the runtime names (the conformance runner reports it as a skip)
        got = get_runtime(runtime_name).prepare(data, fmt)(rows)
        assert [e is None for e in got.errors] == [e is None for e in want.errors], runtime_name
        ok = np.equal(want.errors, None)
        np.testing.assert_array_equal(got.values[ok], want.values[ok])


def test_the_reference_adds_the_weighted_members_in_order_then_divides_by_the_divisor():
    package = PACKAGES["composite-classifier"]
    rows = _rows()
    members = [crossform.score(package.replace(model=m), rows).values for m in package.model.members]
    want = np.zeros_like(members[0])
    for weight, values in zip(package.model.weights, members):
        want = want + values * weight
    got = crossform.score(package, rows)
    refused = [
        any(crossform.score(package.replace(model=m), rows).errors[i] for m in package.model.members)
        for i in range(len(rows))
    ]
    assert [e is not None for e in got.errors] == refused  # a row any member refuses
    ok = np.equal(got.errors, None)
    np.testing.assert_array_equal(got.values[ok], (want / 3.8)[ok])


def test_a_vote_gives_each_member_s_class_its_weight_first_of_equal_maxima():
    package = PACKAGES["composite-vote"]
    rows = _rows()
    got = crossform.score(package, rows)
    ok = np.equal(got.errors, None)
    want = np.zeros((len(rows), 2))
    for weight, member in zip(package.model.weights, package.model.members):
        values = crossform.score(package.replace(model=member), rows).values
        chosen = (values[:, 0] > 0).astype(int) if values.shape[1] == 1 else np.argmax(values, axis=1)
        want[np.arange(len(rows)), chosen] += weight
    np.testing.assert_array_equal(got.values[ok], want[ok])
    assert got.outputs == ("votes(no)", "votes(yes)")
    assert [c for c, o in zip(got.labels(), ok) if o] == [("no", "yes")[int(v[1] > v[0])] for v in got.values[ok]]


def test_the_float32_variant_refuses_a_vote_over_trees_by_name():
    pytest.importorskip("onnx")
    with pytest.raises(UnsupportedModelError, match="hard-voting member"):
        get_format("onnx").dumps(PACKAGES["composite-vote"], precision="float32")


def test_a_stack_feeds_the_members_columns_and_the_features_to_its_final_model():
    package = PACKAGES["composite-stack"]
    rows = _rows()
    forest, boosted, linear = (crossform.score(package.replace(model=m), rows).values for m in package.model.members)
    # two probabilities give the second; one decision score gives itself; then the features
    meta = pd.DataFrame({"stack(0)": forest[:, 1], "stack(1)": boosted[:, 1], "stack(2)": linear[:, 0]})
    meta = meta.assign(size=rows["size"], weight=rows["weight"])
    final = ir.Package(
        inputs=tuple(ir.Field(name, ir.NUMERIC) for name in meta.columns), encoders=(), model=package.model.final
    )
    want = crossform.score(final, meta)
    got = crossform.score(package, rows)
    assert [e is None for e in got.errors] == [e is None for e in want.errors]
    ok = np.equal(got.errors, None)
    assert ok.any()
    np.testing.assert_array_equal(got.values[ok], want.values[ok])


def test_a_calibration_passes_each_response_through_its_sigmoid_then_averages():
    package = PACKAGES["composite-calibrate"]
    rows = _rows()
    got = crossform.score(package, rows)
    ok = np.equal(got.errors, None)
    want = np.zeros((len(rows), 2))
    for member, params in zip(package.model.members, package.model.calibration):
        values = crossform.score(package.replace(model=member), rows).values
        response = values[:, 1] if values.shape[1] == 2 else values[:, 0]  # the positive class's column
        z = -(params[0, 0] * response + params[0, 1])
        p = 1.0 / (1.0 + np.exp(-z))
        want = want + np.column_stack([1.0 - p, p])
    np.testing.assert_array_equal(got.values[ok], (want / 3)[ok])


def test_pmml_refuses_a_composite_whose_member_has_no_pmml_form_by_name():
    package = PACKAGES["composite-regressor"]
    boosted = next(m for m in package.model.members if getattr(m, "aggregation", None) == "sum")
    at = package.model.members.index(boosted)
    members = tuple(dataclasses.replace(m, accumulate="float32") if m is boosted else m for m in package.model.members)
    package = package.replace(model=dataclasses.replace(package.model, members=members))
    reason = get_format("pmml").unsupported(package)
    assert reason is not None and reason.startswith(f"member {at}: a model accumulated in float32")
    with pytest.raises(UnsupportedModelError, match="accumulated in float32"):
        get_format("pmml").dumps(package)


@pytest.mark.parametrize("package_name", sorted(set(PACKAGES) - {"composite-isotonic"}))  # no PMML form
def test_pmml_refuses_a_composite_document_it_does_not_write(package_name):
    fmt = get_format("pmml")
    data = fmt.dumps(PACKAGES[package_name])
    # the members' fields are named in the combination or the final model: one renamed is refused
    tampered = data.replace(b"crossform:m1.out(", b"crossform:m0.out(")
    assert tampered != data
    with pytest.raises(PmmlStructureError):
        fmt.loads(tampered)
    spec = re.search(rb'name="crossform.model" value="([^"]*)"', data).group(1)
    with pytest.raises(PmmlHeaderError, match='"members"'):
        fmt.loads(data.replace(spec, spec.replace(b"&quot;members&quot;", b"&quot;others&quot;")))


def test_stripe_json_refuses_a_composite_member_and_a_missing_member_file():
    fmt = get_format("stripe-json")
    files = dict(fmt.dumps(PACKAGES["composite-regressor"]))
    doc = files["model.json"].decode()
    nested = doc.replace('"modelType": "simple-bonsai-regression-forest"', '"modelType": "composite-regression"', 1)
    assert nested != doc
    with pytest.raises(SchemaError, match="members"):  # the schema lists no composite member type
        fmt.loads(Files.from_mapping({**files, "model.json": nested.encode()}, label="<test>"))
    del files["member-2.json"]
    with pytest.raises(PackageNotFoundError, match="member-2.json"):
        fmt.loads(Files.from_mapping(files, label="<test>"))


def test_protobuf_refuses_a_composite_inside_a_composite():
    from crossform.exporters.protobuf.rules import ProtobufUnexpectedError
    from crossform.v1 import package_pb2 as pb

    fmt = get_format("protobuf")
    msg = pb.Package.FromString(fmt.dumps(PACKAGES["composite-regressor"]))
    inner = pb.Composite()
    inner.CopyFrom(msg.model.composite)  # a copy: upb cannot copy a message into its own child
    msg.model.composite.members[1].composite.CopyFrom(inner)
    with pytest.raises(ProtobufUnexpectedError, match="found a composite"):
        fmt.loads(msg.SerializeToString())


def test_onnx_reads_the_divisor_from_the_graph_so_an_edited_one_changes_the_id():
    onnx = pytest.importorskip("onnx")
    fmt = get_format("onnx")
    proto = onnx.ModelProto.FromString(fmt.dumps(PACKAGES["composite-classifier"]))
    for tensor in proto.graph.initializer:
        if tensor.name.endswith(":composite.divisor"):
            tensor.CopyFrom(onnx.numpy_helper.from_array(np.array([4.0]), tensor.name))
    with pytest.raises(IdMismatchError) as info:
        fmt.loads(proto.SerializeToString())
    assert info.value.package.model.divisor == 4.0


def test_pmml_scores_a_stack_whose_final_model_is_a_regression_over_classifiers_like_scikit_learn():
    # a RidgeClassifier final model makes the document a regression, whose target is a double:
    # the members' classification models, labelled "gull" and "tern", then name no target
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier, StackingClassifier
    from sklearn.linear_model import LogisticRegression, RidgeClassifier

    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml unavailable: {reason}")
    X, y = make_classification(300, 4, random_state=0)
    rows = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)])
    members = [("rf", RandomForestClassifier(5, max_depth=3, random_state=0)), ("lr", LogisticRegression())]
    stack = StackingClassifier(members, final_estimator=RidgeClassifier()).fit(rows, np.array(["gull", "tern"])[y])
    package = crossform.from_sklearn(stack)
    fmt = get_format("pmml")
    data = fmt.dumps(package)
    assert fmt.loads(data).id == package.id
    got = get_runtime("jpmml").prepare(data, fmt)(rows)
    assert all(e is None for e in got.errors)
    np.testing.assert_allclose(got.values[:, 0], stack.decision_function(rows), rtol=1e-12, atol=0)
    assert list(got.labels()) == list(stack.predict(rows))


def test_an_isotonic_calibration_interpolates_each_response_as_numpys_interp_then_averages():
    package = PACKAGES["composite-isotonic"]
    rows = _rows()
    got = crossform.score(package, rows)
    ok = np.equal(got.errors, None)
    want = np.zeros((len(rows), 2))
    for member, (points,) in zip(package.model.members, package.model.calibration):
        values = crossform.score(package.replace(model=member), rows).values
        response = values[:, 1] if values.shape[1] == 2 else values[:, 0]  # the positive class's column
        p = np.interp(response, points[:, 0], points[:, 1])
        want = want + np.column_stack([1.0 - p, p])
    np.testing.assert_array_equal(got.values[ok], (want / 3)[ok])
    assert "isotonic calibration" in [feature for feature, _ in features_used(package)]


def test_the_ir_refuses_isotonic_breakpoints_it_cannot_interpolate_by_name():
    model = PACKAGES["composite-isotonic"].model
    members, classes = model.members, model.classes
    good = model.calibration
    bad = {
        "strictly increasing": (([[0.0, 0.0], [0.0, 1.0]],),) + good[1:],
        "finite": (([[0.0, 0.0], [math.inf, 1.0]],),) + good[1:],
        "at least one": ((np.zeros((0, 2)),),) + good[1:],
        "one per response column": ((),) + good[1:],
        "one per member": good[:2],
    }
    for words, calibration in bad.items():
        with pytest.raises(crossform.errors.IRValidationError, match=words):
            ir.Composite(members, "calibrate", classes=classes, calibration=calibration, calibration_method="isotonic")
    with pytest.raises(crossform.errors.IRValidationError, match="calibration_method"):
        ir.Composite(members, "calibrate", classes=classes, calibration=good, calibration_method="temperature")
    with pytest.raises(crossform.errors.IRValidationError, match=r"'sigmoid' \(unused\) unless combination"):
        ir.Composite(members[:1], "average", classes=None, calibration_method="isotonic")


def test_the_formats_refuse_crafted_isotonic_calibrations_by_name():
    from crossform.errors import MalformedPackageError
    from crossform.exporters.protobuf.rules import ProtobufCountError, ProtobufUnexpectedError
    from crossform.v1 import package_pb2 as pb

    package = PACKAGES["composite-isotonic"]
    fmt = get_format("stripe-json")
    files = dict(fmt.dumps(package))
    doc = files["model.json"].decode()
    both = doc.replace('"isotonicCalibration"', '"calibration": [[[1.0, 0.0]]], "isotonicCalibration"', 1)
    with pytest.raises(MalformedPackageError, match="found both"):
        fmt.loads(Files.from_mapping({**files, "model.json": both.encode()}, label="<test>"))
    fmt = get_format("protobuf")
    msg = pb.Package.FromString(fmt.dumps(package))
    msg.model.composite.calibration_points[0] += 1
    with pytest.raises(ProtobufCountError, match=r"\(x, y\) per breakpoint"):
        fmt.loads(msg.SerializeToString())
    del msg.model.composite.calibration_points[0]
    with pytest.raises(ProtobufCountError, match="point counts, one per response column"):
        fmt.loads(msg.SerializeToString())
    msg = pb.Package.FromString(fmt.dumps(PACKAGES["composite-calibrate"]))
    msg.model.composite.calibration_points.append(2)
    with pytest.raises(ProtobufUnexpectedError, match="only under CALIBRATION_METHOD_ISOTONIC"):
        fmt.loads(msg.SerializeToString())
    onnx = pytest.importorskip("onnx")
    fmt = get_format("onnx")
    proto = onnx.ModelProto.FromString(fmt.dumps(package))
    for node in proto.graph.node:
        if '"calibration":"isotonic"' in node.doc_string:
            node.doc_string = node.doc_string.replace('"isotonic"', '"spline"')
    with pytest.raises(MalformedPackageError, match="'calibration' to be 'isotonic'"):
        fmt.loads(proto.SerializeToString())
