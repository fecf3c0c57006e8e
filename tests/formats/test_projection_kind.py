"""The projection encoder (PCA's transform) in every format: written and read back with the same
id, recorded in the formats' 0.6.0 minors, scored in every runtime bit for bit as the reference
scores it, on rows where the rule decides something (NaN and +-inf in either input, -0.0,
subnormals, values whose fold overflows or leaves the float32 range a tree reads), pmml included."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import ir
from crossform.exporters import Files, get_format
from crossform.exporters._versions import FEATURES_SINCE
from helpers import every_kind
from helpers.protobuf import refused_in_java
from helpers.runtimes import assert_runtimes_score_as_reference

PACKAGES = every_kind.projection_packages()
SINCE = FEATURES_SINCE["projection encoder"]


def _rows() -> pd.DataFrame:
    sizes = [1.5, -2.0, 0.1, 3.0, -0.0, 1e200, 1e-200, 5e-324, math.nan, math.inf, 2.0, -math.inf, 7.0, 1e308]
    weights = [0.3, 4.0, -0.7, math.nan, 2.0, 0.5, 1e-200, 3.0, 1.0, 1.0, -math.inf, 2.0, 1e-310, 1e308]
    return pd.DataFrame({"size": sizes, "weight": weights})


@pytest.mark.parametrize("package_name", sorted(PACKAGES))
@pytest.mark.parametrize("name", ["stripe-json", "protobuf", "onnx", "pmml"])
def test_projections_round_trip_record_the_minor_and_score_like_the_reference(name, package_name):
    package = PACKAGES[package_name]
    fmt = get_format(name)
    data = fmt.dumps(package)
    back = fmt.loads(Files.from_mapping(data, label="<test>") if fmt.LAYOUT == "directory" else data)
    assert back.id == package.id
    enc, got = package.encoders[0], back.encoders[0]
    assert (got.features, got.outputs, got.centring) == (enc.features, enc.outputs, enc.centring)
    np.testing.assert_array_equal(got.components, enc.components)
    assert fmt.written_version(package) == SINCE[name]
    rows = _rows()
    assert_runtimes_score_as_reference(fmt, data, package, back, rows)


def test_the_reference_folds_in_feature_order_and_refuses_what_pca_refuses():
    rows = _rows()
    package = PACKAGES["linear-projection"]
    scores = crossform.score(package, rows)
    size, weight = rows["size"].to_numpy(), rows["weight"].to_numpy()
    refused = ~np.isfinite(size) | ~np.isfinite(weight)
    enc = package.encoders[0]
    with np.errstate(over="ignore", invalid="ignore"):
        # X @ C.T - mean @ C.T, with each dot product of two terms written out in feature order
        fold = size[:, None] * enc.components[:, 0] + weight[:, None] * enc.components[:, 1]
        offsets = 1.25 * enc.components[:, 0] + -0.5 * enc.components[:, 1]
        projected = (fold - offsets) / enc.divisors
    overflow = ~np.isfinite(projected).all(axis=1)
    assert [e is not None for e in scores.errors] == (refused | overflow).tolist()
    assert scores.errors[8] == "feature 'size': missing value, which a projection refuses"
    model = package.model
    ok = ~(refused | overflow)
    raw = projected[ok] @ np.asarray(model.coefficients)[0, :3] + weight[ok] * model.coefficients[0][3]
    np.testing.assert_allclose(scores.values[ok, 0], raw + model.intercepts[0], rtol=1e-12)


def test_the_written_fold_differs_from_another_order_where_float64_rounds():
    """The order is part of the rule: a fold of the same terms in another order is not the same double."""
    enc = ir.Projection(("a", "b", "c"), [0.0, 0.0, 0.0], [[1.0, 1.0, 1.0]], ("p",))
    cols = [np.array([1e16]), np.array([1.0]), np.array([1.0])]
    from crossform import rules

    assert rules.projections(enc, cols)[0][0] == (1e16 + 1.0) + 1.0 == 1e16
    assert 1e16 + (1.0 + 1.0) != 1e16


def test_protobuf_refuses_components_or_divisors_of_the_wrong_count_by_name():
    from crossform.exporters import protobuf as P
    from crossform.v1 import package_pb2 as pb

    msg = pb.Package.FromString(get_format("protobuf").dumps(PACKAGES["linear-projection"]))
    del msg.encoders[0].projection.components[-1]
    short_components = msg.SerializeToString(deterministic=True)
    with pytest.raises(P.ProtobufCountError, match=r"expected 6 components, 3 outputs times 2 features, found 5"):
        P.loads(short_components)
    msg = pb.Package.FromString(get_format("protobuf").dumps(PACKAGES["linear-projection"]))
    del msg.encoders[0].projection.divisors[-1]
    short_divisors = msg.SerializeToString(deterministic=True)
    with pytest.raises(P.ProtobufCountError, match=r"expected no divisors or 3, one per output, found 2"):
        P.loads(short_divisors)
    # the Java reader refuses both by the same name
    assert "expected 6 components" in refused_in_java(short_components, P.ProtobufCountError)
    assert "expected no divisors or 3" in refused_in_java(short_divisors, P.ProtobufCountError)


def test_pmml_refuses_a_projection_extension_without_its_keys_or_with_other_numbers():
    from crossform.errors import MalformedPackageError
    from crossform.exporters.pmml.rules import PmmlStructureError

    pmml = get_format("pmml")
    text = pmml.dumps(PACKAGES["linear-projection"]).decode("utf-8")
    broken = text.replace("{&quot;centring&quot;:&quot;after&quot;,", "{", 1)
    assert broken != text
    with pytest.raises(PmmlStructureError, match=r"expected a JSON object with \['centring', 'components'"):
        pmml.loads(broken.encode("utf-8"))
    # a component the Extension states but the expression does not hold: the document written again differs
    other = text.replace("&quot;components&quot;:[0.6,", "&quot;components&quot;:[0.7,", 1)
    assert other != text
    with pytest.raises(MalformedPackageError):
        pmml.loads(other.encode("utf-8"))
