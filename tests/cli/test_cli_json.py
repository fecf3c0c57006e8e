"""One key convention, snake_case, in every --json output of the command and in the schemas describing them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import crossform.schemas
from crossform import cli, conformance
from crossform.exporters import _json
from crossform.serve.shadows import ShadowJob, make_record, open_shadow_log
from helpers.paths import CONFORMANCE

SNAKE = re.compile(r"[a-z][a-z0-9_]*")
# maps whose keys are the user's or a library's names, not ours
SCHEMAS = Path(crossform.schemas.__file__).parent
USER_KEYS = {"metadata", "producer", "inputs"}


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def keys_not_snake(doc, where="$") -> list:
    found = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if not SNAKE.fullmatch(key):
                found.append(f"{where}.{key}")
            if key not in USER_KEYS or not isinstance(value, dict):
                found += keys_not_snake(value, f"{where}.{key}")
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += keys_not_snake(value, f"{where}[{i}]")
    return found


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    path = tmp_path_factory.mktemp("json") / "m.joblib"
    joblib.dump(RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, X.a > 0), path)
    return path


@pytest.fixture(scope="module")
def onnx_file(model_file):
    path = model_file.parent / "m.onnx"
    assert cli.main(["export", str(model_file), str(path), "--precision", "float32", "--checks", "100"]) == 0
    return path


def outputs(capsys, model_file, onnx_file, tmp_path):
    yield "export", run(capsys, "export", model_file, tmp_path / "e", "--checks", "50", "--json")
    for command in ("validate", "info", "compat", "id"):
        yield command, run(capsys, command, onnx_file, "--json")
    yield "formats", run(capsys, "formats", "--json")
    yield "conform", run(capsys, "conform", tmp_path / "e", "--format", "stripe-json", "--max-rows", "20", "--json")
    yield "demo", run(capsys, "demo", "--out", tmp_path / "demo", "--ship-to", tmp_path / "ship", "--json")
    where = ["--store", tmp_path / "store", "--registry", tmp_path / "registry.sqlite"]
    code, out, err = run(capsys, "push", onnx_file, *where[:2], "--json")
    yield "push", (code, out, err)
    model = json.loads(out)["pushed"][0]["id"]
    yield "pull", run(capsys, "pull", model, tmp_path / "pulled.onnx", *where[:2], "--json")
    yield "deploy", run(capsys, "deploy", "-t", "json.keys", "-m", model, *where, "--json")
    yield "history", run(capsys, "history", "-t", "json.keys", *where[2:], "--json")
    yield "tags", run(capsys, "tags", *where[2:], "--json")
    yield "models", run(capsys, "models", *where, "--json")
    log = shadow_log(onnx_file, tmp_path / "shadows.jsonl")
    yield "shadow-report", run(capsys, "shadow-report", "-t", "json.keys", "--log", log, "--json")


def shadow_log(package_file, path):
    """A shadow log where the package shadows itself on five rows."""
    package = crossform.load(package_file)
    columns = {name: [0.1, -0.2, 0.3, 1.5, -2.0] for name in ("a", "b", "c")}
    scores = crossform.score(package, columns)
    job = ShadowJob("req-1", "json.keys", package.id, columns, scores, 0.001, 0.0)
    with open_shadow_log(path) as log:
        log.append(make_record(job, package.id, scores, 0.001, None))
    return path


def test_every_json_output_is_snake_case(capsys, tmp_path, model_file, onnx_file):
    seen = set()
    for command, (code, out, err) in outputs(capsys, model_file, onnx_file, tmp_path):
        assert code == 0, (command, err)
        assert keys_not_snake(json.loads(out)) == [], command
        seen.add(command)
    # score writes rows, suite is checked below, serve answers over HTTP (tests/serve checks its keys),
    # spark-score needs a Spark session (tests/spark/test_spark_score_command.py checks its keys)
    assert seen | {"score", "suite", "serve", "spark-score"} >= set(cli.COMMANDS)


def test_suite_json_is_snake_case(capsys):
    code, out, err = run(capsys, "suite", CONFORMANCE, "--json")
    assert keys_not_snake(json.loads(out)) == []


def test_the_conform_report_names_its_current_schema_and_validates(capsys, tmp_path, model_file):
    assert run(capsys, "export", model_file, tmp_path / "e", "--checks", "20")[0] == 0
    code, out, err = run(capsys, "conform", tmp_path / "e", "--format", "stripe-json", "--max-rows", "20", "--json")
    doc = json.loads(out)
    assert doc["schema"] == "urn:crossform:schemas:conform-report-2"
    _json.validate(doc, conformance.REPORT_SCHEMA, "report")


def property_names(schema) -> list:
    names = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties":
                names += list(value)
            names += property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names += property_names(value)
    return names


def test_the_current_report_schema_is_snake_case_and_the_old_one_is_kept():
    current = json.loads((SCHEMAS / conformance.REPORT_SCHEMA).read_text())
    assert [n for n in property_names(current) if not SNAKE.fullmatch(n)] == []
    # reports written by earlier releases still validate against the schema they name
    assert (SCHEMAS / "conform-report-1.schema.json").is_file()
