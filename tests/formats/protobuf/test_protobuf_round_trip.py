"""The protobuf format: lossless round trips and deterministic bytes."""

from __future__ import annotations

import numpy as np
import pytest

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.exporters import protobuf as P
from crossform.v1 import package_pb2 as pb
from helpers.fits import fit_pipeline
from helpers.packages import TREE_VARIANTS, small_package
from helpers.protobuf import (
    ROWS,
)


def assert_same(a: ir.Package, b: ir.Package) -> None:
    assert b.id == a.id
    assert b.producer == a.producer and b.owner == a.owner and b.tags == a.tags
    sa, sb = crossform.score(a, ROWS), crossform.score(b, ROWS)
    np.testing.assert_array_equal(sa.values, sb.values)
    assert sa.errors == sb.errors
    np.testing.assert_array_equal(sa.leaves, sb.leaves)
    assert [type(c) for c in a.model.classes or ()] == [type(c) for c in b.model.classes or ()]


@pytest.mark.parametrize("name", sorted(TREE_VARIANTS))
def test_hand_built_packages_round_trip(name):
    package = TREE_VARIANTS[name]
    data = P.dumps(package)
    assert P.sniff(data) and data.startswith(b"\x0a\x11crossform.package")
    assert_same(package, P.loads(data))
    assert P.dumps(P.loads(data)) == data


def test_the_same_package_always_gives_the_same_bytes():
    package = small_package(metadata={"z": "1", "a": "2", "m": "3"}, producer={"b": "1", "a": "2"})
    again = small_package(metadata={"m": "3", "a": "2", "z": "1"}, producer={"a": "2", "b": "1"})
    assert P.dumps(package) == P.dumps(again) == P.dumps(P.loads(P.dumps(again)))


@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_sklearn_pipelines_round_trip_with_their_checks(task, tmp_path):
    package = crossform.from_sklearn(fit_pipeline(task), checks=200)
    path = crossform.save(package, tmp_path / "model.pb", format="protobuf")
    assert crossform.exporters.sniff(path) == "protobuf"
    back = crossform.load(path)
    assert back.id == package.id and back.producer == package.producer
    assert checks_module.to_document(back.checks) == checks_module.to_document(package.checks)
    comparison = checks_module.compare(back.checks, crossform.score(back, back.checks.data()), back.model)
    assert comparison.ok, comparison.summary()


def test_read_version_reads_the_field_after_the_magic():
    data = P.dumps(small_package())
    assert P.read_version(data) == "1.0"
    # a foreign writer may put format_version elsewhere: the whole message is parsed then
    msg = pb.Package.FromString(data)
    reordered = (
        P.PREFIX
        + msg.SerializeToString(deterministic=True)[len(P.PREFIX) :].replace(b"\x12\x031.0", b"")
        + b"\x12\x031.0"
    )
    assert P.read_version(reordered) == "1.0"
