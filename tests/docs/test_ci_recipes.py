"""The CI recipes we ship run as written: the pre-commit hook's entry on real packages, and the
crossform commands of the documented GitHub Actions job."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import crossform
from helpers.edit import changed_tree, edit_saved_trees
from helpers.paths import REPO

ROOT = REPO
BIN = Path(sys.executable).parent  # where this environment's `crossform` script is


def hooks() -> list:
    """The hook list of .pre-commit-hooks.yaml: '- key: value' items, values plain or single-quoted."""
    items = []
    for line in (ROOT / ".pre-commit-hooks.yaml").read_text().splitlines():
        found = re.match(r"^(- |  )(\w+): (.*)$", line)
        if not found:
            continue
        if found.group(1) == "- ":
            items.append({})
        value = found.group(3)
        if value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        items[-1][found.group(2)] = value
    return items


def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A repository as a user has it: packages in the four formats beside unrelated files."""
    root = tmp_path_factory.mktemp("repo")
    rng = np.random.default_rng(8)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    package = crossform.from_sklearn(
        RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, X.a > X.c), checks=100
    )
    for name in ("models/fraud", "models/fraud.onnx", "models/fraud.pmml", "models/fraud.pb"):
        crossform.save(package, root / name)
    (root / "README.md").write_text("notes\n")
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_text("a,b,c\n")
    return root


def staged(root: Path) -> list:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_hook_selects_the_package_files_only(repo):
    (hook,) = hooks()
    selected = [f for f in staged(repo) if re.search(hook["files"], f)]
    assert "models/fraud/MODEL" in selected and "models/fraud/trees.bonsai" in selected
    assert {"models/fraud.onnx", "models/fraud.pmml", "models/fraud.pb"} <= set(selected)
    assert not [f for f in selected if f.endswith((".csv", ".md", ".json"))]


def run_hook(root: Path) -> subprocess.CompletedProcess:
    (hook,) = hooks()
    files = [f for f in staged(root) if re.search(hook["files"], f)]
    return subprocess.run(
        shlex.split(hook["entry"]) + files, cwd=root, env=env(), capture_output=True, text=True, timeout=300
    )


def test_the_hook_entry_validates_each_package_once(repo):
    done = run_hook(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert sorted(line.split()[1] for line in lines) == [
        "models/fraud",
        "models/fraud.onnx",
        "models/fraud.pb",
        "models/fraud.pmml",
    ]
    assert all(line.startswith("ok   ") for line in lines)


def test_the_hook_entry_fails_on_an_edited_package(repo, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)

    def edit(trees):
        threshold = trees[0].threshold.copy()
        threshold[0] += 0.5  # node 0 is the root, a split
        trees[0] = changed_tree(trees[0], threshold=threshold)

    edit_saved_trees(copy / "models" / "fraud", edit)
    done = run_hook(copy)
    assert done.returncode == 1
    assert any(line.startswith("FAIL models/fraud  IdMismatchError") for line in done.stdout.splitlines())


def workflow_commands() -> list:
    text = (ROOT / "docs" / "ci" / "validate-packages.yml").read_text()
    return [m.group(1) for m in re.finditer(r"^\s+run: (crossform .*)$", text, re.M)]


def test_the_documented_ci_job_runs(repo, tmp_path):
    commands = workflow_commands()
    assert [c.split()[1] for c in commands] == ["validate", "conform"]
    for command in commands:
        done = subprocess.run(command, shell=True, cwd=repo, env=env(), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    report = (repo / "conform.xml").read_text()
    assert report.startswith("<?xml") and "<testcase" in report
