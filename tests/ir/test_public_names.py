"""crossform.ir is one namespace: every name a caller reads from it is there, whichever module defines it."""

from __future__ import annotations

import re

from crossform import ir
from helpers.paths import REPO

# ``ir.<name>`` (after ``from crossform import ir``) and ``crossform.ir.<name>``, in code and in docs
USE = re.compile(r"(?<![\w.])(?:crossform\.)?ir\.([A-Za-z_]\w*)")
WHERE = ("src", "tests", "bench", "conformance", "docs")


def names_used() -> dict:
    used = {}
    paths = [REPO / "README.md", *(path for top in WHERE for path in sorted((REPO / top).rglob("*")))]
    for path in paths:
        # hidden folders (bench/.cache holds the benchmarks' side venvs) are not the project's files
        inside = path.relative_to(REPO).parts
        if path.suffix in (".py", ".md") and "__pycache__" not in inside and not any(p.startswith(".") for p in inside):
            for name in USE.findall(path.read_text(encoding="utf-8")):
                used.setdefault(name, path.relative_to(REPO).as_posix())
    return used


def test_every_name_callers_use_is_exported():
    used = names_used()
    assert {"Package", "Tree", "CategoricalEncoding", "NUMERIC"} <= set(used)  # the scan finds the callers
    missing = {name: where for name, where in used.items() if not hasattr(ir, name)}
    assert not missing, f"names read from crossform.ir that it does not have: {missing}"
