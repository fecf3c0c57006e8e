"""The layers of docs/ARCHITECTURE.md hold: the import-linter contracts in pyproject.toml pass,
and fail as soon as a module imports against them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers.paths import REPO as ROOT

CONFIG = ROOT / "pyproject.toml"
LAYERS = "The layers of docs/ARCHITECTURE.md"
FORMATS = "Formats never import the evaluator or a runtime"


def lint_imports(src: Path) -> subprocess.CompletedProcess:
    """lint-imports with the repository's contracts on the crossform found first in ``src``."""
    env = dict(os.environ, PYTHONPATH=str(src))
    command = [
        sys.executable,
        "-c",
        "from importlinter.cli import lint_imports_command; lint_imports_command()",
        "--config",
        str(CONFIG),
        "--no-cache",
        "--no-logo",
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=src)


def test_the_contracts_are_kept():
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{LAYERS} KEPT" in result.stdout
    assert f"{FORMATS} KEPT" in result.stdout


# A copy of crossform with one import added, and the contract that must then break.
FORBIDDEN = [
    # the IR sits below checks, ids and scores: the circle the layers were drawn to end; the IR is a
    # package, and an upward import from any of its modules breaks the layer as one from ir/ itself
    ("ir/package.py", "from .. import checks", LAYERS, "crossform.ir.package -> crossform.checks"),
    ("ir/trees.py", "from ..identity import package_id", LAYERS, "crossform.ir.trees -> crossform.identity"),
    ("ir/__init__.py", "from .. import scores", LAYERS, "crossform.ir -> crossform.scores"),
    # checks and the evaluator are siblings: neither imports the other
    ("checks.py", "from .evaluator import score", LAYERS, "crossform.checks -> crossform.evaluator"),
    # a format reaching the evaluator, directly or through a module that imports it
    (
        "exporters/protobuf/reader.py",
        "from ...evaluator import score",
        FORMATS,
        "crossform.exporters.protobuf.reader -> crossform.evaluator",
    ),
    (
        "exporters/stripe_json/writer.py",
        "from ... import vectors",
        FORMATS,
        "crossform.exporters.stripe_json.writer -> crossform.vectors",
    ),
    # a module no layer names is refused, so it cannot sit outside the rules
    ("unplaced.py", "from . import ir", LAYERS, "crossform.unplaced"),
]


@pytest.mark.parametrize(
    "module, line, contract, shown", FORBIDDEN, ids=[f"{module}: {line}" for module, line, _, _ in FORBIDDEN]
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, contract, shown):
    copy = tmp_path / "src" / "crossform"
    shutil.copytree(ROOT / "src" / "crossform", copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / module
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(text + f"\n{line}\n", encoding="utf-8")

    result = lint_imports(tmp_path / "src")

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in result.stdout, result.stdout
    assert shown in result.stdout, result.stdout


def run(script: str) -> None:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_reading_a_package_loads_no_evaluator(tmp_path, package):
    # the registry imports formats by name, which no static contract sees: check the running process
    import crossform

    paths = [str(crossform.save(package, tmp_path / name)) for name in ("pkg", "pkg.pb", "pkg.onnx", "pkg.pmml")]
    run(f"""
        import sys
        import crossform
        for path in {paths!r}:
            crossform.load(path)
        loaded = sorted(m for m in sys.modules if m.startswith(("crossform.evaluator", "crossform.runtime",
                                                                "crossform.vectors", "crossform.sklearn")))
        assert not loaded, loaded
    """)
