"""Packages by id from the store (a local folder and moto's S3 server on loopback) and by tag
through the registry: resolved once on the driver, recorded, and refused before any job when
the id is unknown, the tag is unknown or the stored bytes were changed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from crossform.checks import compare
from crossform.deployer import Deployer
from crossform.errors import (
    InputError,
    InvalidTagError,
    ObjectNotFoundError,
    StoreIntegrityError,
    UnknownTagError,
)
from crossform.store import open_store
from helpers.serving import TAG, store_and_registry
from helpers.spark import ROW, case_frame, conformance_case, scores_of

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'crossform[spark]')")

CASE = "categories/encoded-missing"


@pytest.fixture(scope="module")
def case():
    return conformance_case(CASE)


def _s3_store(request) -> str:
    client = request.getfixturevalue("s3_environment")
    bucket = f"spark-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/models"


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_an_id_in_the_store_scores_as_scikit_learn_did(spark, tmp_path, request, case, backend):
    from crossform import spark as crossform_spark

    url = str(tmp_path / "store") if backend == "local" else _s3_store(request)
    model_id = open_store(url).put(case.package)
    assert model_id == case.package.id

    scored = crossform_spark.score(case_frame(spark, case.checks), model_id, store=url, keep=[ROW])

    resolved = crossform_spark.resolved_of(scored)
    assert resolved == {
        "kind": "id",
        "given": model_id,
        "tag": None,
        "id": model_id,
        "format": "stripe-json",
        "source": open_store(url).url,
    }
    comparison = compare(case.checks, scores_of(scored.toPandas(), case.package.outputs), case.package.model)
    assert comparison.ok, comparison.summary()


def test_the_store_format_the_runtime_executes_is_the_one_fetched(spark, tmp_path, case):
    from crossform import spark as crossform_spark

    store = open_store(tmp_path / "store")
    for name in ("stripe-json", "onnx"):
        store.put(case.package, format=name)

    scored = crossform_spark.score(
        case_frame(spark, case.checks), case.package.id, store=store.url, runtime="onnxruntime", keep=[ROW]
    )

    assert crossform_spark.resolved_of(scored)["format"] == "onnx"
    comparison = compare(case.checks, scores_of(scored.toPandas(), case.package.outputs), case.package.model)
    assert comparison.ok, comparison.summary()


def test_a_tag_is_resolved_once_to_its_current_id_and_recorded(spark, tmp_path, case):
    from crossform import spark as crossform_spark

    store, registry = store_and_registry(tmp_path)
    deployer = Deployer(store=store, registry=registry, actor="test")
    model_id = deployer.push(case.package)
    deployer.deploy(TAG, model_id, message="first")
    frame = case_frame(spark, case.checks)

    scored = crossform_spark.score(frame, TAG, store=store, registry=registry, keep=[ROW])
    # a deploy after the job was defined changes nothing in it: the id was resolved at the start
    other = conformance_case("categories/unknown-as-value").package
    deployer.deploy(TAG, deployer.push(other), message="second")

    assert crossform_spark.resolved_of(scored) == {
        "kind": "tag",
        "given": TAG,
        "tag": TAG,
        "id": model_id,
        "format": "stripe-json",
        "source": store,
    }
    comparison = compare(case.checks, scores_of(scored.toPandas(), case.package.outputs), case.package.model)
    assert comparison.ok, comparison.summary()


def test_row_errors_land_in_the_error_column_with_null_outputs(spark, tmp_path, case):
    from crossform import spark as crossform_spark

    model_id = open_store(tmp_path / "store").put(case.package)
    scored = crossform_spark.score(
        case_frame(spark, case.checks), model_id, store=tmp_path / "store", error_column="why"
    ).toPandas()

    refused = scored[scored["why"].notna()].sort_values(ROW)
    assert refused[ROW].tolist() == [i for i, e in enumerate(case.checks.errors) if e]
    assert refused[list(case.package.outputs)].isna().all().all()
    assert all(isinstance(message, str) and message for message in refused["why"])
    assert scored.loc[scored["why"].isna(), list(case.package.outputs)].notna().all().all()
    # the input columns are kept by default, in their order, before the outputs
    assert list(scored.columns) == [ROW, *(f.name for f in case.checks.columns), *case.package.outputs, "why"]


def test_a_tampered_object_fails_before_any_job_or_output(spark, tmp_path, case):
    from crossform import spark as crossform_spark

    root = tmp_path / "store"
    model_id = open_store(root).put(case.package)
    target = sorted(p for p in (root / model_id / "stripe-json" / "files").rglob("*") if p.is_file())[0]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 1  # one bit, as a disk fault would
    target.write_bytes(bytes(data))
    jobs_before = spark.sparkContext.statusTracker().getJobIdsForGroup(None)

    with pytest.raises(StoreIntegrityError, match="the stored object was changed"):
        crossform_spark.score(case_frame(spark, case.checks), model_id, store=root)

    assert spark.sparkContext.statusTracker().getJobIdsForGroup(None) == jobs_before


def test_each_executor_process_reads_the_package_once(spark, tmp_path, case):
    from crossform import spark as crossform_spark

    model_id = open_store(tmp_path / "store").put(case.package)
    frame = case_frame(spark, case.checks).repartition(8)
    assert crossform_spark.score(frame, model_id, store=tmp_path / "store").count() == len(case.checks)

    key = (model_id, "stripe-json", "reference")

    def loads(batches):
        import os

        import pandas as pd

        from crossform import spark as on_executor

        for _ in batches:
            yield pd.DataFrame({"pid": [os.getpid()], "loads": [on_executor.LOAD_COUNTS.get(key, 0)]})

    # the same kind of Python worker as the scoring (an Arrow UDF's), run after it
    probe = spark.range(0, 64, numPartitions=8).mapInPandas(loads, "pid long, loads long").toPandas()
    counts = probe.groupby("pid")["loads"].max().to_dict()
    assert max(counts.values()) == 1, counts


def test_refusals_name_what_was_expected_and_found(spark, tmp_path, case):
    from crossform import spark as crossform_spark

    store, registry = store_and_registry(tmp_path)
    deployer = Deployer(store=store, registry=registry, actor="test")
    model_id = deployer.push(case.package)
    deployer.deploy(TAG, model_id, force=True)
    frame = case_frame(spark, case.checks)
    first = case.checks.columns[0].name

    with pytest.raises(InputError, match=rf"Missing: \['{first}'\]; found columns"):
        crossform_spark.score(frame.drop(first), model_id, store=store)
    with pytest.raises(InputError, match="clash"):
        crossform_spark.score(frame.withColumnRenamed(ROW, "error"), model_id, store=store)
    with pytest.raises(UnknownTagError, match="no such tag in the registry"):
        crossform_spark.score(frame, "no_such.tag", store=store, registry=registry)
    deployer.add_shadow("shadowed.only", model_id, force=True)
    with pytest.raises(UnknownTagError, match="expected a tag deployed to a model, found one with only shadow"):
        crossform_spark.score(frame, "shadowed.only", store=store, registry=registry)
    unstored = "sha256." + "A" * 52
    with pytest.raises(ObjectNotFoundError, match="expected a package stored under this id, found none"):
        crossform_spark.score(frame, unstored, store=store)
    with pytest.raises(InvalidTagError, match="an existing package path, a package id"):
        crossform_spark.score(frame, str(Path(tmp_path) / "missing-package"), store=store)


def test_column_names_with_dots_and_backticks_are_columns(spark, tmp_path, case):
    from crossform import spark as crossform_spark

    model_id = open_store(tmp_path / "store").put(case.package)
    frame = case_frame(spark, case.checks).withColumnRenamed(ROW, "txn.`id`")

    scored = crossform_spark.score(frame, model_id, store=tmp_path / "store", keep=["txn.`id`", "txn.`id`"])

    assert scored.columns == ["txn.`id`", *case.package.outputs, "error"]
    assert crossform_spark.resolved_of(scored)["id"] == model_id
    rows = scored.toPandas().rename(columns={"txn.`id`": ROW})
    comparison = compare(case.checks, scores_of(rows, case.package.outputs), case.package.model)
    assert comparison.ok, comparison.summary()


def test_an_empty_dataframe_scores_to_an_empty_one(spark, tmp_path, case):
    from crossform import spark as crossform_spark

    model_id = open_store(tmp_path / "store").put(case.package)
    scored = crossform_spark.score(case_frame(spark, case.checks).limit(0), model_id, store=tmp_path / "store")

    assert scored.count() == 0
    assert scored.columns[-len(case.package.outputs) - 1 :] == [*case.package.outputs, "error"]
