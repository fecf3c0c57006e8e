"""`crossform validate` scores a package's checks in the runtimes of its own format, and says which ran."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import crossform
from crossform import cli
from crossform.exporters import get_format
from crossform.runtime import get_runtime, unavailable


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def package():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    y = X.a - X.b > 0
    model = RandomForestClassifier(n_estimators=4, max_depth=5, random_state=0).fit(X, y)
    return crossform.from_sklearn(model, checks=150)


@pytest.fixture(scope="module")
def saved(package, tmp_path_factory):
    root = tmp_path_factory.mktemp("validate")
    return {
        name: str(crossform.save(package, root / f"m{suffix}"))
        for name, suffix in [("stripe-json", ""), ("onnx", ".onnx"), ("pmml", ".pmml"), ("protobuf", ".pb")]
    }


def runtimes_of(fmt: str) -> list:
    return list(dict.fromkeys(("reference",) + tuple(get_format(fmt).RUNTIMES)))


@pytest.mark.parametrize("fmt", ["onnx", "pmml", "stripe-json", "protobuf"])
def test_validate_scores_the_checks_in_every_runtime_of_the_format(capsys, saved, package, fmt):
    installed = [r for r in runtimes_of(fmt) if unavailable(r) is None]
    code, out, err = run(capsys, "validate", saved[fmt], "--json")
    assert code == 0, out + err
    checks = json.loads(out)["packages"][0]["checks"]
    assert [r["name"] for r in checks["runtimes"]] == installed
    for entry in checks["runtimes"]:
        assert entry["ok"] and entry["rows"] == len(package.checks)
        assert entry["version"] == get_runtime(entry["name"]).version()
    assert checks["not_run"] == [
        {"name": r, "installed": False, "reason": unavailable(r)} for r in runtimes_of(fmt) if r not in installed
    ]

    code, out, err = run(capsys, "validate", saved[fmt])
    assert code == 0
    assert out.startswith(f"ok   {saved[fmt]}  {fmt}  {package.id}")
    assert f"in {', '.join(installed)}" in out


def test_validate_fails_when_a_foreign_runtime_scores_differently(capsys, saved, monkeypatch):
    engine = get_runtime("onnxruntime")
    prepare = engine.prepare

    def wrong(content, fmt):
        score = prepare(content, fmt)

        def scored(data):
            scores = score(data)
            scores.values[0, 0] += 0.125  # one value off in one row
            return scores

        return scored

    monkeypatch.setattr(engine, "prepare", wrong)
    code, out, err = run(capsys, "validate", saved["onnx"])
    assert code == 1
    assert out.startswith(f"FAIL {saved['onnx']}  onnx")
    lines = out.splitlines()
    assert "       reference: ok" in lines and "       onnx-reference: ok" in lines
    assert "       onnxruntime: 1 row differs in value" in lines

    code, out, err = run(capsys, "validate", saved["onnx"], "--json")
    doc = json.loads(out)["packages"][0]["checks"]
    assert doc["ok"] is False
    status = {r["name"]: r["ok"] for r in doc["runtimes"]}
    assert status["onnxruntime"] is False and status["reference"] is True


def test_validate_names_a_runtime_that_is_not_installed(capsys, saved, monkeypatch):
    monkeypatch.setattr(get_runtime("jpmml"), "unavailable", lambda: "no Java here (test)")
    code, out, err = run(capsys, "validate", saved["pmml"])
    assert code == 0
    assert "not installed: jpmml (no Java here (test))" in out
    code, out, err = run(capsys, "validate", saved["pmml"], "--json")
    checks = json.loads(out)["packages"][0]["checks"]
    assert checks["not_run"] == [{"name": "jpmml", "installed": False, "reason": "no Java here (test)"}]
    assert [r["name"] for r in checks["runtimes"]] == ["reference"]


def test_validate_runtime_narrows_the_runtimes_and_names_the_others(capsys, saved):
    code, out, err = run(capsys, "validate", saved["onnx"], "--runtime", "onnxruntime", "--json")
    assert code == 0, err
    checks = json.loads(out)["packages"][0]["checks"]
    assert [r["name"] for r in checks["runtimes"]] == ["onnxruntime"]
    assert [(r["name"], r["reason"]) for r in checks["not_run"]] == [
        ("reference", "left out by --runtime"),
        ("onnx-reference", "left out by --runtime"),
    ]
    code, out, err = run(capsys, "validate", saved["onnx"], "--runtime", "onnxruntime")
    assert "in onnxruntime; not run: reference (left out by --runtime); not run: onnx-reference" in out


def test_validate_unknown_runtime_is_usage(capsys, saved):
    code, out, err = run(capsys, "validate", saved["onnx"], "--runtime", "nope")
    assert code == 2 and "unknown runtime 'nope'" in err
