"""The number-category (numeric categories) and binning encoders in every format: written and read
back with the same id, recorded in the formats' next strict minor, and scored in every runtime
exactly as the reference scores them, on the rows where the rules decide something: each known
number or edge, -0.0, the doubles beside each, an unknown number, NaN, +-inf."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.exporters import Files, get_format
from crossform.exporters._versions import FEATURES_SINCE
from crossform.runtime import get_runtime, unavailable
from helpers import every_kind

PACKAGES = every_kind.next_minor_packages()
NEXT = FEATURES_SINCE["number-category encoder"]
assert FEATURES_SINCE["binning encoder"] == NEXT


def _rows() -> pd.DataFrame:
    sizes = [0.0, 1.0, 3.0, 7.0, -0.0, 0.5, 8.0, -1.0, 1e300, math.nan, math.inf, -math.inf, 2.0, -1e300]
    sizes += [math.nextafter(v, d) for v in (0.0, 1.0, 3.0, 7.0) for d in (-math.inf, math.inf)]
    weights = sizes[::-1]  # the edges of forest-binning's weight are among the sizes
    return pd.DataFrame({"size": sizes, "weight": weights})


@pytest.mark.parametrize("package_name", sorted(PACKAGES))
@pytest.mark.parametrize("name", ["stripe-json", "protobuf", "onnx", "pmml"])
def test_the_kind_round_trips_records_the_next_minor_and_scores_like_the_reference(name, package_name):
    PACKAGE = PACKAGES[package_name]
    fmt = get_format(name)
    data = fmt.dumps(PACKAGE)
    back = fmt.loads(Files.from_mapping(data, label="<test>") if fmt.LAYOUT == "directory" else data)
    assert back.id == PACKAGE.id
    assert fmt.written_version(PACKAGE) == NEXT[name]
    rows = _rows()
    want = crossform.score(PACKAGE, rows)
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
                checks_module.leaf_positions(PACKAGE.model, want.leaves[ok]),
            )


def test_the_reference_names_each_number_as_the_rule_says():
    rows = _rows().assign(weight=0.5)
    scores = crossform.score(PACKAGES["forest-number-category"], rows)
    errors = [e is not None for e in scores.errors]
    assert errors == [math.isinf(s) for s in rows["size"]]  # only infinities are refused


def test_pmml_refuses_an_unknown_number_that_is_a_row_error_by_name():
    numbers = ir.NumberCategory(("size",), ([0.0, 1.0],), (("0", "1"),), "?", ("size_category",))
    strict = ir.CategoricalEncoding(("size_category",), (("0", "1"),), ([0.0, 1.0],), (None,), None, ("code",))
    package = ir.Package(
        inputs=(ir.Field("size", ir.NUMERIC),),
        encoders=(numbers, strict),
        model=ir.TreeEnsemble(("code",), (every_kind.regression_stump(0),), "average"),
    )
    reason = get_format("pmml").unsupported(package)
    assert reason is not None and "refuses the number 1.5" in reason and "one interval, not a set" in reason
    for name in ("stripe-json", "protobuf", "onnx"):
        assert get_format(name).unsupported(package) is None
