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
