"""The README's Python example runs as written (in a scratch directory)."""

from __future__ import annotations

import re

from helpers.paths import REPO

README = REPO / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README lost its Python example"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    assert (tmp_path / "example-package" / "MODEL").is_file()


def test_readme_names_the_two_commands_ci_runs():
    text = README.read_text(encoding="utf-8")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "./dev demo" in text and "./dev test" in text
    assert "./dev test" in ci


def test_readme_prose_names_every_estimator_of_the_coverage_table():
    text = README.read_text(encoding="utf-8")
    prose, table = text.split("<!-- coverage:start", 1)
    prose = prose.split("What is here today:", 1)[1]
    classes = re.findall(r"^\| `sklearn\.[a-z_.]+\.(\w+)`", table, re.M)
    assert len(classes) > 20, "the coverage table moved"
    # The prose names a family once for both estimators ("`RandomForest` classifiers and regressors").
    stems = {re.sub(r"(Classifier|Regressor)$", "", name) for name in classes}
    missing = sorted(stem for stem in stems if f"`{stem}" not in prose)
    assert not missing, f"the README's 'What is here today' omits {missing}"


def test_readme_shipping_flow_runs_as_written(tmp_path):
    """The six commands of the README's shipping section, run by bash in a scratch directory
    holding the two models they name."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import joblib

    import crossform
    from helpers.fits import fit_pipeline

    section = README.read_text(encoding="utf-8").split("## Shipping", 1)[1]
    script = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert len([line for line in script.splitlines() if line.startswith("crossform") or "$(" in line]) == 6
    joblib.dump(fit_pipeline("classifier"), tmp_path / "model.joblib")
    retrained = crossform.save(
        crossform.from_sklearn(fit_pipeline("classifier", seed=1), checks=30), tmp_path / "retrained-pkg"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORM_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    first = crossform.load(tmp_path / "fraud-pkg").id
    assert "Deployed at" in done.stdout and re.search(rf"\bdeploy +{first} +- ", done.stdout)
    history = subprocess.run(
        ["crossform", "history", "-t", "txn_fraud.production", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    events = json.loads(history.stdout)["events"]
    second = crossform.load(retrained).id
    assert [(e["kind"], e["to_id"]) for e in events] == [("deploy", first), ("deploy", second), ("rollback", first)]
    assert events[0]["message"] == "weekly retrain" and events[2]["message"] == "precision dropped"
