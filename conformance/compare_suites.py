"""Is a regenerated conformance suite the committed one, to the bits machines can agree on?

A fit is reproducible only to a few ulps across machines: OpenBLAS picks its kernel per CPU
(and splits work per thread), numpy picks SIMD loops per CPU, and their summation orders change
the last bits of a linear model's coefficients and of scikit-learn's predictions. The committed
suite stays the source of truth; a regenerated one matches it when

- the same files exist, and every file is byte-identical, or else:
- a package reads back (crossform.load) to the same IR: the same kinds, names, tree shapes,
  features, classes and integers exactly, every float within FIT_TOLERANCE (relative) of the
  committed one, NaN where it has NaN;
- a case file holds the same JSON: the same keys, strings, row labels, classes, leaves and rows
  in error exactly, every float (rows, expected values) within FIT_TOLERANCE. A case's `id` may
  differ only where its package differs within the tolerance (the id hashes the float bits).

FIT_TOLERANCE is 1e-9, about a thousand times the largest difference measured between BLAS
kernels (4.2e-12 relative, conformance/README.md) and a million times finer than any change of a
seed, a parameter or a scikit-learn release, which moves fitted values in their leading digits.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

FIT_TOLERANCE = 1e-9
# per file, so that one drifted fit does not bury the rest of the report
MAX_REPORTED = 5


def _close(a: float, b: float, relative: float) -> bool:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    return abs(a - b) <= relative * max(abs(a), abs(b))  # inf vs finite: inf <= inf is False


class _Walk:
    """Collects differences between a committed (left) and a regenerated (right) value."""

    def __init__(self, relative: float) -> None:
        self.relative = relative
        self.found: list = []
        self.largest = (0.0, "")

    def differ(self, path: str, committed: Any, regenerated: Any) -> None:
        self.found.append(f"{path}: {_show(committed)} committed, {_show(regenerated)} regenerated")

    def floats(self, path: str, a: float, b: float) -> None:
        if not _close(a, b, self.relative):
            self.differ(path, a, b)
        elif a != b and not (math.isnan(a) and math.isnan(b)):
            self.largest = max(self.largest, (abs(a - b) / max(abs(a), abs(b)), path))

    def array(self, path: str, a: np.ndarray, b: np.ndarray) -> None:
        if a.shape != b.shape or a.dtype != b.dtype:
            return self.differ(path, f"{a.dtype}{list(a.shape)}", f"{b.dtype}{list(b.shape)}")
        if a.dtype.kind == "f":
            same = (a == b) | (np.isnan(a) & np.isnan(b))
            with np.errstate(invalid="ignore", over="ignore"):
                near = np.abs(a - b) <= self.relative * np.maximum(np.abs(a), np.abs(b))
            for i in np.argwhere(~(same | near))[:MAX_REPORTED].tolist():
                self.differ(f"{path}{i}", a[tuple(i)].item(), b[tuple(i)].item())
            drift = ~same & near
            if drift.any():
                rel = np.abs(a - b)[drift] / np.maximum(np.abs(a), np.abs(b))[drift]
                self.largest = max(self.largest, (float(rel.max()), path))
        elif a.dtype.kind == "O":
            for i, (x, y) in enumerate(zip(a.ravel().tolist(), b.ravel().tolist())):
                self.value(f"{path}[{i}]", x, y)
        elif not np.array_equal(a, b):
            for i in np.argwhere(a != b)[:MAX_REPORTED].tolist():
                self.differ(f"{path}{i}", a[tuple(i)].item(), b[tuple(i)].item())

    def value(self, path: str, a: Any, b: Any, skip: frozenset = frozenset()) -> None:
        if len(self.found) >= MAX_REPORTED:
            return
        if type(a) is not type(b):  # JSON's 1 is not 1.0 or true; an int array is not a float one
            return self.differ(path, a, b)
        if dataclasses.is_dataclass(a):
            for f in dataclasses.fields(a):
                if f.name not in skip:
                    self.value(f"{path}.{f.name}", getattr(a, f.name), getattr(b, f.name))
        elif isinstance(a, Mapping):
            if list(a) != list(b):
                return self.differ(f"{path} keys", list(a), list(b))
            for k in a:
                if k not in skip:
                    self.value(f"{path}.{k}", a[k], b[k], skip)
        elif isinstance(a, (list, tuple)):
            if len(a) != len(b):
                return self.differ(f"{path} length", len(a), len(b))
            for i, (x, y) in enumerate(zip(a, b)):
                self.value(f"{path}[{i}]", x, y, skip)
        elif isinstance(a, np.ndarray):
            self.array(path, a, b)
        elif isinstance(a, float):
            self.floats(path, a, b)
        elif a != b:
            self.differ(path, a, b)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


SUITE_FILES = ("cases", "packages", "estimators.json")


def _files(root: Path) -> set:
    """The suite's own files under ``root`` (not the scripts, docs or golden packages beside them)."""
    found = set()
    for top in SUITE_FILES:
        path = root / top
        found |= {p.relative_to(root).as_posix() for p in path.rglob("*") if p.is_file()} if path.is_dir() else set()
        if path.is_file():
            found.add(top)
    return found


def _identical(left: Path, right: Path, names) -> bool:
    return all((left / n).read_bytes() == (right / n).read_bytes() for n in names)


def compare(committed: Path, regenerated: Path, relative: float = FIT_TOLERANCE) -> tuple:
    """(differences, report) between two suite folders (each holding cases/, packages/ and
    estimators.json). ``differences`` lists what is beyond the tolerance, each naming its file;
    ``report`` counts identical and drifted files and names the largest drift."""
    import crossform

    differences: list = []
    drifted: list = []  # (file, largest relative difference, where)
    left, right = _files(committed), _files(regenerated)
    differences += [f"{n} (committed, not generated)" for n in sorted(left - right)]
    differences += [f"{n} (generated, not committed)" for n in sorted(right - left)]
    common = left & right
    packages = sorted({n.split("/")[1] for n in common if n.startswith("packages/")})
    drifted_packages = set()
    identical = 0
    for name in packages:
        names = {n for n in common if n.split("/")[:2] == ["packages", name]}
        if _identical(committed, regenerated, names):
            identical += len(names)
            continue
        walk = _Walk(relative)
        walk.value(
            f"packages/{name}",
            crossform.load(committed / "packages" / name),
            crossform.load(regenerated / "packages" / name),
            skip=frozenset({"checks", "producer"}),
        )
        differences += walk.found
        drifted.append((f"packages/{name}", *walk.largest))
        drifted_packages.add(f"packages/{name}")
    for name in sorted(n for n in common if not n.startswith("packages/")):
        a, b = committed / name, regenerated / name
        if a.read_bytes() == b.read_bytes():
            identical += 1
            continue
        if not name.startswith("cases/"):
            differences.append(f"{name} (differs)")
            continue
        walk = _Walk(relative)
        old, new = json.loads(a.read_text("utf-8")), json.loads(b.read_text("utf-8"))
        for i, (x, y) in enumerate(zip(old.get("cases", []), new.get("cases", []))):
            # an id hashes its package's float bits: it follows the package, compared above
            skip = frozenset({"id"}) if x.get("package") in drifted_packages else frozenset()
            walk.value(f"{name} cases[{i}]", x, y, skip)
        walk.value(name, {k: v for k, v in old.items() if k != "cases"}, {k: v for k, v in new.items() if k != "cases"})
        if len(old.get("cases", [])) != len(new.get("cases", [])):
            walk.differ(f"{name} cases", len(old["cases"]), len(new["cases"]))
        differences += walk.found
        drifted.append((name, *walk.largest))
    largest = max(drifted, key=lambda d: d[1], default=None)
    report = f"{identical} files identical, {len(drifted)} packages or case files differ within {relative:g} relative"
    if largest is not None and largest[1] > 0:
        report += f" (largest: {largest[1]:.2g} in {largest[2]})"
    return differences, report
