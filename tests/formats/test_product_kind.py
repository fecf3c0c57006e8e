"""The product encoder (columns of several inputs) in every format: written and read back with the
same id, recorded in the formats' 0.6.0 minors, scored in every runtime bit for bit as the
reference scores it, on rows where the rule decides something (NaN and +-inf in either input,
products that overflow, -0.0, subnormals); PMML checks each product against what the steps after
it accept, and its reader refuses a product field it did not write."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import checks as checks_module
from crossform.exporters import Files, get_format
from crossform.exporters._versions import FEATURES_SINCE
from crossform.runtime import get_runtime, unavailable
from helpers import every_kind

PACKAGES = every_kind.product_packages()
SINCE = FEATURES_SINCE["product encoder"]


def _rows() -> pd.DataFrame:
    sizes = [1.5, -2.0, 0.1, 3.0, -0.0, 1e200, 1e-200, 5e-324, math.nan, math.inf, 2.0, -math.inf, 7.0, 1e155]
    weights = [0.3, 4.0, -0.7, math.nan, 2.0, 0.5, 1e-200, 3.0, 1.0, 1.0, -math.inf, 2.0, 1e-310, 1e155]
    return pd.DataFrame({"size": sizes, "weight": weights})


@pytest.mark.parametrize("package_name", sorted(PACKAGES))
@pytest.mark.parametrize("name", ["stripe-json", "protobuf", "onnx", "pmml"])
def test_products_round_trip_record_the_minor_and_score_like_the_reference(name, package_name):
    package = PACKAGES[package_name]
    fmt = get_format(name)
    data = fmt.dumps(package)
    back = fmt.loads(Files.from_mapping(data, label="<test>") if fmt.LAYOUT == "directory" else data)
    assert back.id == package.id
    assert back.encoders[0] == package.encoders[0]
    assert fmt.written_version(package) == SINCE[name]
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
        if got.leaves is not None:
            np.testing.assert_array_equal(
                checks_module.leaf_positions(back.model, got.leaves[ok]),
                checks_module.leaf_positions(package.model, want.leaves[ok]),
            )


def test_the_reference_multiplies_in_the_order_given_and_refuses_what_polynomial_features_refuses():
    rows = _rows()
    scores = crossform.score(PACKAGES["linear-products"], rows)
    size, weight = rows["size"].to_numpy(), rows["weight"].to_numpy()
    refused = ~np.isfinite(size) | ~np.isfinite(weight)
    with np.errstate(over="ignore"):
        overflow = ~np.isfinite((size * size - 1.5) / 4.0) | ~np.isfinite(size * weight)
        overflow |= ~np.isfinite(weight * size * size)
    assert [e is not None for e in scores.errors] == (refused | overflow).tolist()
    assert scores.errors[8] == "feature 'size': missing value, which a product refuses"
    assert "'size^2 scaled'" in scores.errors[5] or "'size^2'" in scores.errors[5]


def test_pmml_checks_each_product_against_the_steps_after_it_and_computes_every_check():
    text = get_format("pmml").dumps(PACKAGES["linear-products"]).decode("utf-8")
    # size^2 feeds a scaler, the rest the linear model: every product is checked (finite) ...
    assert text.count('<Apply function="/"><Constant dataType="double">0.0</Constant>') == 5
    assert '<Constant dataType="double">-1.7976931348623157e+308</Constant>' in text
    # ... and the first Segment reads every one of them, since JPMML computes a field only when read
    first = text[text.index("<Segment ") : text.index("<RegressionModel")]
    for k in range(5):
        assert f'<SimplePredicate field="crossform:e0.{k}" operator="isNotMissing"/>' in first


def test_pmml_writes_no_check_for_a_product_nothing_reads():
    from crossform import ir

    package = PACKAGES["linear-products"]
    product = package.encoders[0]
    extra = ir.Product(product.features, (*product.factors, (0, 1, 1)), (*product.outputs, "unused"))
    unread = ir.Package(inputs=package.inputs, encoders=(extra, *package.encoders[1:]), model=package.model)
    fmt = get_format("pmml")
    text = fmt.dumps(unread).decode("utf-8")
    field = text[text.index('<DerivedField name="crossform:e0.5"') :]
    field = field[: field.index("</DerivedField>")]
    assert '<Apply function="if">' not in field and 'field="crossform:e0.5"' not in text
    assert fmt.loads(text.encode("utf-8")).id == unread.id


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('"factors":[0,0]', '"factors":[0,7]', "feature indices from 0 to 1"),
        ('"fields":["size","weight"]', '"fields":["size","nowhere"]', "expected a product to read earlier fields"),
        ('"factors":[0,0]', '"factors":"x"', "expected a list of field indices as factors"),
        ('"factors":[0,0]', '"factors":[0,1]', "differs"),
    ],
)
def test_the_pmml_reader_refuses_a_product_field_it_did_not_write(old, new, message):
    from crossform.errors import MalformedPackageError

    text = get_format("pmml").dumps(PACKAGES["linear-products"]).decode("utf-8")
    old, new = old.replace('"', "&quot;"), new.replace('"', "&quot;")  # as the attribute spells them
    assert old in text
    with pytest.raises(MalformedPackageError, match=message):
        get_format("pmml").loads(text.replace(old, new).encode("utf-8"))


def test_pmml_refuses_a_product_no_split_reads_as_the_reference_does():
    """A tree that splits only on 'bias' still refuses a row whose size^2 overflows or passes
    the float32 bound (scikit-learn validates every column it is given): JPMML computes a
    derived field only when read, so the first Segment must read every checked product."""
    from crossform import ir

    base = PACKAGES["forest-products"]
    model = ir.TreeEnsemble(base.model.features, (every_kind.regression_stump(0),), "average")
    package = ir.Package(inputs=base.inputs, encoders=base.encoders, model=model)
    rows = pd.DataFrame({"size": [1.0, 1e20, 1e155, 1.8e19, 1.9e19], "weight": [1.0, 1.0, 1.0, 1.0, 1.0]})
    want = crossform.score(package, rows)
    # 1e20^2 = 1e40 is beyond float32, 1e155^2 overflows, 1.8e19^2 = 3.24e38 is below the bound
    assert [e is None for e in want.errors] == [True, False, False, True, False]
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml unavailable: {reason}")
    fmt = get_format("pmml")
    got = get_runtime("jpmml").prepare(fmt.dumps(package), fmt)(rows)
    assert [e is None for e in got.errors] == [e is None for e in want.errors]
    np.testing.assert_array_equal(got.values[[0, 3]], want.values[[0, 3]])
