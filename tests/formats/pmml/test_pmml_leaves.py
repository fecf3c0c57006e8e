"""PMML files without the per-tree leaf outputs (`--leaves off`)."""

from __future__ import annotations

import json
import re

import pytest

import crossform
from crossform import checks as checks_module
from crossform.errors import CrossformError
from crossform.exporters import pmml as P
from helpers.fits import fit_pipeline
from helpers.packages import small_package
from helpers.pmml import GOOD, jpmml_or_skip

# ---------------------------------------------------------------- without leaf outputs


def test_without_leaf_outputs_the_file_records_1_1_and_scores_the_same_in_jpmml(tmp_path):
    from crossform import compat

    package = crossform.from_sklearn(fit_pipeline("classifier"), checks=200)
    path = crossform.save(package, tmp_path / "m.pmml", format="pmml", leaves="off")
    data = path.read_bytes()
    assert P.read_version(data) == "1.1" and b'feature="entityId"' not in data
    assert P.properties(data) == {"leaves": "off"} and P.properties(P.dumps(package)) == {"leaves": "on"}
    back = P.loads(data)
    assert back.id == package.id and P.dumps(back, leaves="off") == data
    assert compat.report(path)["readers"]["text"] == ">=0.4.0"
    jpmml = jpmml_or_skip()
    scores = jpmml.prepare(data, P)(back.checks.data())
    assert scores.leaves is None  # nothing names the leaves: the checks compare values, classes, errors
    comparison = checks_module.compare(back.checks, scores, back.model)
    assert comparison.ok and not comparison.leaves_compared, comparison.summary()


def test_the_leaf_outputs_and_the_recorded_version_must_agree():
    without = P.dumps(small_package(), leaves="off")
    as_10 = without.replace(
        b'name="crossform.format_version" value="1.1"', b'name="crossform.format_version" value="1.0"'
    )
    with pytest.raises(P.PmmlStructureError, match="without leaf outputs to record version 1.1, found 1.0"):
        P.loads(as_10)
    as_11 = GOOD.replace(b'name="crossform.format_version" value="1.0"', b'name="crossform.format_version" value="1.1"')
    with pytest.raises(P.PmmlStructureError, match="with leaf outputs to record version 1.0, found 1.1"):
        P.loads(as_11)
    one_gone = re.sub(rb'<OutputField name="leaf\(0\)"[^>]*/>\n', b"", GOOD)
    with pytest.raises(P.PmmlStructureError, match="differs"):
        P.loads(one_gone)
    with pytest.raises(CrossformError, match="expected leaves on or off"):
        P.dumps(small_package(), leaves="no")


def test_export_cli_takes_leaves_for_pmml_only(tmp_path, capsys):
    import joblib

    from crossform.cli import main

    joblib.dump(fit_pipeline("classifier"), tmp_path / "m.joblib")
    code = main(["export", str(tmp_path / "m.joblib"), str(tmp_path / "m.onnx"), "--format", "onnx", "--leaves", "off"])
    assert code == 2 and "--leaves: format onnx has no option 'leaves'" in capsys.readouterr().err
    code = main(
        [
            "export",
            str(tmp_path / "m.joblib"),
            str(tmp_path / "m.pmml"),
            "--format",
            "pmml",
            "--leaves",
            "off",
            "--checks",
            "100",
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["leaves"] == "off" and doc["id"] == doc["source_id"]
    assert main(["info", str(tmp_path / "m.pmml")]) == 0
    assert re.search(r"^leaves +off$", capsys.readouterr().out, re.M)
    assert main(["validate", str(tmp_path / "m.pmml")]) == 0
