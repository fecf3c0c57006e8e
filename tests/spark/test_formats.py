"""Every format of a few conformance packages scores on Spark as scikit-learn did: the recorded
outputs of the conformance corpus, row for row, with the same rows in error."""

from __future__ import annotations

import pytest

import crossform
from crossform.checks import compare
from crossform.exporters import get_format
from crossform.runtime import unavailable
from helpers.spark import CASES, ROW, case_frame, conformance_case, scores_of

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'crossform[spark]')")

# each format with the runtime that executes it on the executors
FORMATS = {"stripe-json": "reference", "protobuf": "reference", "onnx": "onnxruntime", "pmml": "jpmml"}


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("format_name, runtime", FORMATS.items(), ids=list(FORMATS))
def test_every_format_scores_the_case_as_scikit_learn_did(spark, tmp_path, case_name, format_name, runtime):
    from crossform import spark as crossform_spark

    case = conformance_case(case_name)
    fmt = get_format(format_name)
    reason = unavailable(runtime) or fmt.unsupported(case.package)
    if reason is not None:
        pytest.skip(f"{format_name} in {runtime}: {reason}")
    suffix = fmt.EXTENSIONS[0] if fmt.EXTENSIONS else ""
    path = crossform.save(case.package, tmp_path / f"package{suffix}", format=format_name)
    frame = case_frame(spark, case.checks)

    scored = crossform_spark.score(frame, str(path), runtime=runtime, keep=[ROW])

    outputs = list(case.package.outputs)
    assert scored.columns == [ROW, *outputs, "error"]
    assert crossform_spark.resolved_of(scored)["id"] == case.package.id
    assert crossform_spark.resolved_of(scored)["format"] == format_name
    comparison = compare(case.checks, scores_of(scored.toPandas(), outputs), case.package.model)
    assert comparison.ok, comparison.summary()
    assert case.checks.errors.any(), "the case was chosen for its row errors"
