"""What crossform.spark does without a Spark job, so it runs where pyspark is not installed:
resolving an id on the driver, and an executor checking the broadcast bytes against it."""

from __future__ import annotations

import pytest

from crossform.store import open_store
from helpers.spark import conformance_case

CASE = "categories/encoded-missing"


@pytest.fixture(scope="module")
def case():
    return conformance_case(CASE)


def test_an_id_stored_only_in_a_format_the_runtime_does_not_run_records_that_format(tmp_path, case):
    """Resolution alone, no Spark job: the reference runtime scores an onnx-only object (read into
    the IR), and the record names the format the bytes were read from."""
    from crossform import spark as crossform_spark

    store = open_store(tmp_path / "store")
    model_id = store.put(case.package, format="onnx")

    resolved, loaded, content = crossform_spark.resolve(model_id, store=store.url, runtime="reference")

    assert (resolved.kind, resolved.id, resolved.format) == ("id", model_id, "onnx")
    assert loaded.id == model_id and isinstance(content, bytes)


def test_an_executor_refuses_bytes_that_do_not_hash_to_the_resolved_id(case):
    """What an executor does with the broadcast, without Spark: bytes of another package than the
    id resolved on the driver are refused by name before anything is scored."""
    from crossform import exporters
    from crossform import spark as crossform_spark
    from crossform.errors import IdMismatchError

    other = conformance_case("categories/unknown-as-value").package
    shipment = crossform_spark._Shipment(
        id=case.package.id,
        format="protobuf",
        content=exporters.get_format("protobuf").dumps(other),
        runtime="reference",
        inputs=tuple((f.name, f.kind) for f in other.inputs),
        outputs=tuple(other.outputs),
        keep=(),
        crossing=tuple(f.name for f in other.inputs),
        error_column="error",
        csv_cells=False,
    )

    with pytest.raises(IdMismatchError, match=f"expected bytes that hash to {case.package.id}, found {other.id}"):
        crossform_spark._scorer_for(shipment)
