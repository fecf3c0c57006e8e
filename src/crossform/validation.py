"""Validating a saved package: read it as scoring would, then score the checks it carries in every
runtime of its format that can run here. ``crossform validate`` prints what ``check`` returns.

The result is plain data (the ``--json`` document of ``crossform validate``): a package that
cannot be read is a result with an error, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Union

import crossform
from crossform import ir, progress
from crossform.errors import CrossformError
from crossform.exporters import get_format, sniff


def one_line(exc: BaseException) -> str:
    """An error as one line of text: an OSError as "file: reason", any whitespace run as one space."""
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, CrossformError):
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _load(path: str) -> tuple:
    fmt = sniff(path)
    return crossform.load(path, format=fmt), fmt


def runtimes_of(fmt_name: str) -> list:
    """The runtimes that score a package read from ``fmt_name``: the reference evaluator on the
    package as read, then every runtime the format lists (JPMML for pmml, onnxruntime and onnx's
    ReferenceEvaluator for onnx), which run the file itself."""
    return list(dict.fromkeys(("reference",) + tuple(get_format(fmt_name).RUNTIMES)))


def score_checks(
    package: ir.Package, path: str, fmt_name: str, only: Union[Sequence[str], None] = None, quiet: bool = False
) -> dict:
    """The package's checks scored in each runtime of its format that can run here (of ``only``, when given)."""
    from crossform.checks import compare
    from crossform.runtime import get_runtime, unavailable

    fmt = get_format(fmt_name)
    checks = package.checks
    data = checks.data()
    content = None
    ran, not_run = [], []
    for name in runtimes_of(fmt_name):
        reason = unavailable(name)
        if only is not None and name not in only:
            not_run.append({"name": name, "installed": reason is None, "reason": "left out by --runtime"})
            continue
        if reason is not None:
            not_run.append({"name": name, "installed": False, "reason": reason})
            continue
        engine = get_runtime(name)
        if name == "reference":
            scores = crossform.scorer(package)(data)
        else:
            if content is None:  # the file as it is; a directory package as its format writes it
                content = Path(path).read_bytes() if Path(path).is_file() else fmt.dumps(package)
            cannot = getattr(engine, "unsupported", None)
            reason = cannot(content) if cannot is not None else None
            if reason is not None:  # a known defect of that runtime on this very file
                not_run.append({"name": name, "installed": True, "reason": f"cannot run this file: {reason}"})
                continue
            with progress.phase(f"validate: scoring {len(checks)} check rows of {path} in {name}", enabled=not quiet):
                scores = engine.prepare(content, fmt)(data)
        comparison = compare(checks, scores, package.model)
        ran.append(
            {
                "name": name,
                "version": engine.version(),
                "ok": comparison.ok,
                "rows": comparison.rows,
                "differences": dict(comparison.counts),
                "mismatches": [m.to_json() for m in comparison.mismatches],
                "summary": comparison.summary(),
                "lines": [m.describe() for m in comparison.mismatches],
            }
        )
    return {
        "rows": len(checks),
        "ok": all(r["ok"] for r in ran),
        "expected_by": checks.expected_by,
        "absolute": checks.absolute,
        "runtimes": ran,
        "not_run": not_run,
    }


def check(
    path: str, only: Union[Sequence[str], None] = None, quiet: bool = False, load: Callable[[str], tuple] = _load
) -> dict:
    """Validate the package at ``path``: {path, ok, format, id, error, checks}.

    ``load(path) -> (package, format name)`` reads it (the CLI passes one that prints format
    warnings); ``only`` limits the runtimes that score the checks; ``quiet`` turns progress off.
    """
    result = {"path": path, "ok": False, "format": None, "id": None, "error": None, "checks": None}
    try:
        package, result["format"] = load(path)
    except crossform.IdMismatchError as exc:
        # Still score the checks: they say which rows the change affects.
        result["format"] = sniff(path)
        result["error"] = {"type": type(exc).__name__, "message": one_line(exc)}
        package = exc.package
    except (CrossformError, OSError) as exc:
        try:
            result["format"] = sniff(path)
        except (CrossformError, OSError):
            pass
        result["error"] = {"type": type(exc).__name__, "message": one_line(exc)}
        return result
    if package.checks is not None:
        result["checks"] = score_checks(package, path, result["format"], only, quiet)
    if result["error"] is None:
        result["id"] = package.id
    result["ok"] = result["error"] is None and (result["checks"] is None or result["checks"]["ok"])
    return result


def package_of(path: str) -> str:
    """The package ``path`` names: itself, or, for a file inside a directory package (its
    manifest or a tree file, as pre-commit passes changed files), that directory."""
    if not Path(path).is_file():
        return path
    try:
        sniff(path)
        return path  # a package of a file format
    except (CrossformError, OSError):
        pass
    from crossform.exporters import registry

    manifests = [fmt.MANIFEST for fmt in registry().values() if fmt.LAYOUT == "directory" and fmt.MANIFEST]
    for parent in Path(path).parents:
        if any((parent / name).is_file() for name in manifests):
            return str(parent)
    return path  # not inside a package: reading it says why
