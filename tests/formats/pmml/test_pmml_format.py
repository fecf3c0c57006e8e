"""The pmml format as the registry sees it: the subpackage's FORMAT, a PmmlFormat whose
protocol methods write, read and version files as the subpackage's functions do."""

from __future__ import annotations

import pytest

from crossform import ir
from crossform.errors import CrossformError
from crossform.exporters import get_format
from crossform.exporters import pmml as P
from helpers.packages import small_package

# the version a file of the first kinds records with / without leaf outputs (crossform 0.4.0's layouts)
FIRST_LAYOUTS = [("on", "1.0"), ("off", "1.1")]


def test_the_registry_holds_the_pmml_format_object():
    fmt = get_format("pmml")
    assert fmt is P.FORMAT and isinstance(fmt, P.PmmlFormat)
    assert (fmt.NAME, fmt.VERSION, fmt.LAYOUT, fmt.EXTENSIONS, fmt.RUNTIMES) == (
        "pmml",
        "1.3",
        "file",
        (".pmml",),
        ("jpmml",),
    )
    assert fmt.OPTIONS == {"leaves": ("on", "off")} and fmt.VARIANTS == {"no-leaves": {"leaves": "off"}}


@pytest.mark.parametrize("leaves, version", FIRST_LAYOUTS)
def test_a_package_of_the_first_kinds_goes_through_the_protocol(leaves, version):
    package = small_package()
    data = P.FORMAT.dumps(package, leaves=leaves)
    assert data == P.dumps(package, leaves=leaves)
    assert P.FORMAT.sniff(data)
    assert P.FORMAT.written_version(package, leaves=leaves) == version == P.FORMAT.read_version(data)
    assert P.FORMAT.needs(package) is None
    assert P.FORMAT.properties(data) == {"leaves": leaves}
    assert P.FORMAT.loads(data).id == package.id
    assert P.FORMAT.stored(package, package.checks, leaves=leaves) == (package, package.checks)


def test_a_package_using_a_later_feature_records_the_version_that_added_it():
    package = small_package(encoders=small_package().encoders + (ir.RefuseMissing(("size",), (ir.NUMERIC,)),))
    assert P.FORMAT.needs(package) == "a refuse-missing encoder"
    for leaves, _ in FIRST_LAYOUTS:
        assert P.FORMAT.written_version(package, leaves=leaves) == "1.2"
        assert P.FORMAT.read_version(P.FORMAT.dumps(package, leaves=leaves)) == "1.2"
    assert P.FORMAT.written_version() == "1.3"  # the newest, which the next strict minor's kinds need


def test_errors_name_the_path_given_or_the_format():
    with pytest.raises(P.PmmlDecodeError, match=r"^model\.pmml: expected well-formed XML"):
        P.FORMAT.loads(b"<?xml version='1.0'?><PMML", where="model.pmml")
    with pytest.raises(P.PmmlDecodeError, match=r"^<pmml>: expected well-formed XML"):
        P.FORMAT.read_version(b"<?xml version='1.0'?><PMML")
    with pytest.raises(CrossformError, match="expected leaves on or off, got 'maybe'"):
        P.FORMAT.written_version(small_package(), leaves="maybe")


def test_runtime_versions_name_the_tested_jpmml_release():
    assert P.FORMAT.runtime_versions("1.2") == {
        "jpmml": "JPMML-Evaluator >=1.7.7 (PMML 4.4; tested with jpmml_evaluator 0.16.0)"
    }
