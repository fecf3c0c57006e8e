"""``crossform demo``: fit the example pipeline of crossform.demo, export it, and show that crossform
scores its sample rows exactly as scikit-learn does."""

from __future__ import annotations

import argparse
import math
import os
import textwrap
from pathlib import Path
from typing import Any

import crossform
from crossform import demo, progress
from crossform.validation import check

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    WIDTH,
    CommandError,
    _err,
    _load,
    _needs_sklearn,
    _out,
    _print_json,
    _save,
    _table,
)

DEFAULT_OUT = "./crossform-demo"


def run_demo(args: argparse.Namespace) -> int:
    # The README's first command must work every time it is run: the demo replaces its own
    # previous output, and refuses (before fitting, not after seconds of work) anything else.
    replacing = os.path.lexists(args.out) and not args.overwrite
    if replacing and not demo.is_demo_output(args.out):
        raise CommandError(
            f"{args.out} already exists and is not a crossform demo output; "
            "pass --out DIR for another place, or --overwrite to replace the package there"
        )
    _needs_sklearn("the demo")
    with progress.phase("demo: fitting the example pipeline and computing its check rows", enabled=not args.quiet):
        pipe, train, samples = demo.pipeline()
        package = crossform.from_sklearn(pipe, owner=demo.OWNER, tags=list(demo.TAGS), metadata={"dataset": "birds"})
    path = _save(package, args.out, "stripe-json", args.overwrite or replacing)
    if replacing:
        _err(f"{PROG}: replaced the demo's previous output {args.out}")
    loaded, fmt = _load(str(path))
    scores = crossform.score(loaded, samples)

    rows = []
    for i, row in enumerate(samples):
        ours = None if scores.errors[i] is not None else [float(v) for v in scores.values[i]]
        rows.append(
            {"inputs": row, "crossform": ours, "sklearn": demo.sklearn_row(pipe, row), "error": scores.errors[i]}
        )
    same_refusals = all((r["crossform"] is None) == (r["sklearn"] is None) for r in rows)
    same_values = all(r["crossform"] == r["sklearn"] for r in rows if r["crossform"] is not None)
    checked = check(str(path), quiet=args.quiet, load=_load)["checks"]
    agree = same_refusals and same_values and loaded.id == package.id and checked["ok"]
    files = _package_files(Path(path))

    if args.json:
        _print_json(
            {
                "path": str(path),
                "id": loaded.id,
                "files": [{"name": name, "bytes": size} for name, size in files],
                "rows": [{**r, "inputs": {k: _json_float(v) for k, v in r["inputs"].items()}} for r in rows],
                "checks": {
                    **{k: checked[k] for k in ("rows", "ok", "expected_by")},
                    "differences": checked["runtimes"][0]["differences"],
                },
                "agree": agree,
            }
        )
        return EXIT_OK if agree else EXIT_FAILED

    model = pipe[-1]
    _out(
        f"fitted {type(model).__name__}(n_estimators={model.n_estimators}, max_depth={model.max_depth}) "
        f"on {len(train)} rows of {', '.join(demo.CATEGORIES)} (categorical) and "
        f"{', '.join(demo.NUMERIC)} (numeric) to predict {demo.TARGET}"
    )
    _out(f"wrote {path} ({fmt}):")
    for line in _table(["file", "bytes"], files, right=[1]):
        _out("  " + line)
    _out(f"id {loaded.id}")
    _out("")
    column = list(loaded.outputs).index("probability(True)")

    def p_true(values):
        return "-" if values is None else _float_text(values[column])

    table = [
        [_show_cell(r["inputs"][name]) for name in ("bird", "food", "planet", "wingspan")]
        + [p_true(r["crossform"]), p_true(r["sklearn"]), r["error"] or ""]
        for r in rows
    ]
    headers = ["bird", "food", "planet", "wingspan", "crossform P(True)", "sklearn P(True)", "error"]
    for line in _table(headers, table, right=[3, 4, 5]):
        _out("  " + line)
    _out("")
    accepted = sum(r["crossform"] is not None for r in rows)
    refused = len(rows) - accepted
    _out(
        textwrap.fill(
            f"checks: the package carries {checked['rows']} rows (at every split and leaf of the "
            f"forest, special values, random rows) with {checked['expected_by']}'s outputs; the "
            f"reference evaluator: {checked['runtimes'][0]['summary']}.",
            WIDTH,
        )
    )
    if agree:
        _out(
            f"agree: all {accepted} accepted rows score exactly as in scikit-learn, and the reference "
            f"evaluator refused exactly the {refused} rows scikit-learn refuses."
        )
    else:
        _out(
            f"DISAGREE: values equal: {same_values}; same rows refused: {same_refusals}; "
            f"id kept through save and load: {loaded.id == package.id}."
        )
    return EXIT_OK if agree else EXIT_FAILED


def _show_cell(value: Any) -> str:
    if value is None:
        return "(missing)"
    return _float_text(value) if isinstance(value, float) else str(value)


def demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help="where to write the package (default: %(default)s); the demo's own earlier output "
        "there is replaced, anything else is refused",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing package at --out even when the demo did not write it",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def _float_text(value: float) -> str:
    # repr round-trips a float64 exactly; str(np.float64) would not be plain.
    return repr(float(value))


def _json_float(value: Any) -> Any:
    """A number for strict JSON: non-finite floats become the strings the formats use."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _package_files(path: Path) -> list:
    if path.is_file():
        return [(path.name, path.stat().st_size)]
    return sorted((p.relative_to(path).as_posix(), p.stat().st_size) for p in path.rglob("*") if p.is_file())
