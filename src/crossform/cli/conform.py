"""``crossform conform`` (every format and runtime scores alike) and ``crossform suite`` (the
conformance suite itself is sound): the runs are crossform.conformance's; this module prints them."""

from __future__ import annotations

import argparse
from pathlib import Path

import crossform
from crossform import progress
from crossform.conformance import DEFAULT_MAX_ROWS

from ._common import EXIT_FAILED, EXIT_OK, UsageError, _load, _out, _print_json, _require_path, _row_count, _table
from ._io import IO_FORMATS, _io_format, _row_dicts


def _conform_cases(args: argparse.Namespace) -> list:
    from crossform import conformance

    cases = []
    for path in args.paths:
        _require_path(path, "package or suite")
        if conformance.is_suite(path):
            if args.rows:
                raise UsageError(f"--rows applies to packages; {path} is a conformance suite")
            suite = conformance.load_suite(path)
            if len(args.paths) > 1:  # several suites may share case names
                for case in suite:
                    case.name = f"{path}: {case.name}"
            cases += suite
            continue
        rows = None
        if args.rows:
            try:
                package, _ = _load(path)
            except crossform.IdMismatchError as exc:
                package = exc.package
            in_format = _io_format(args.rows, args.input_format, "--input-format")
            rows = _row_dicts(args.rows, in_format, package.inputs)
        cases += conformance.package_cases(
            path, rows, rows_name=Path(args.rows).name if args.rows else "rows", max_rows=args.max_rows, seed=args.seed
        )
    return cases


def _cell(results: list) -> str:
    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status == "failed" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    parts = [f"{passed} passed"] if passed or not (failed or skipped) else []
    if failed:
        parts.append(f"{failed} FAILED")
    if skipped:
        parts.append(f"{skipped} skipped")
    return ", ".join(parts)


def print_matrix(report) -> None:
    from crossform.conformance import failure_lines

    pairs = report.pairs()
    formats = list(dict.fromkeys(f for f, _ in pairs))
    runtimes = list(dict.fromkeys(r for _, r in pairs))
    table = []
    for fmt in formats:
        row = [fmt]
        for runtime in runtimes:
            cell = [r for r in report.results if (r.format, r.runtime) == (fmt, runtime)]
            row.append(_cell(cell) if cell else "-")
        table.append(row)
    _out(f"{len(report.cases)} cases x {len(pairs)} format/runtime pairs = {len(report.results)} results")
    _out("")
    for line in _table(["format"] + runtimes, table):
        _out("  " + line)
    failed = [r for r in report.results if r.status == "failed"]
    skipped = [r for r in report.results if r.status == "skipped"]
    if failed:
        _out("")
        _out("failed:")
        for r in failed:
            _out(f"  {r.case}  [{r.format} x {r.runtime}]")
            for line in failure_lines(r):
                _out(f"      {line}")
    if skipped:
        _out("")
        _out("skipped:")
        reasons: dict = {}
        for r in skipped:
            reasons.setdefault((r.format, r.runtime, r.reason), []).append(r.case)
        for (fmt, runtime, reason), cases in reasons.items():
            _out(f"  {fmt} x {runtime}: {reason} ({len(cases)} cases)")
    _out("")
    verdict = "ok" if report.ok else "FAILED"
    _out(
        f"{verdict}: {report.count('passed')} passed, {report.count('failed')} failed, "
        f"{report.count('skipped')} skipped"
    )


def run_conform(args: argparse.Namespace) -> int:
    from crossform import conformance
    from crossform.exporters import labels as format_labels

    known = [label for name in crossform.formats() for label in format_labels(name)]
    for name in args.format or []:
        if name not in known:
            raise UsageError(f"unknown format {name!r}; formats and variants: {', '.join(known)}")
    for name in args.runtime or []:
        if name not in crossform.runtimes():
            raise UsageError(f"unknown runtime {name!r}; runtimes: {', '.join(crossform.runtimes())}")
    if args.rows and args.rows != "-":
        _require_path(args.rows, "rows file")
    cases = _conform_cases(args)
    report = conformance.run(
        cases,
        args.format,
        args.runtime,
        progress=progress.Progress("conform", enabled=not (args.quiet or args.no_progress)),
    )
    if args.junit:
        with open(args.junit, "wb") as fh:
            fh.write(report.junit())
    if args.json:
        _print_json(report.to_json())
    else:
        print_matrix(report)
    return EXIT_OK if report.ok else EXIT_FAILED


def conform_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a package, a conformance suite directory (holding cases/), or a case file",
    )
    parser.add_argument("--rows", metavar="FILE", help="also check these rows (.csv or .jsonl) against the reference")
    parser.add_argument("--input-format", choices=IO_FORMATS, help="format of --rows (default: from its extension)")
    parser.add_argument(
        "--format",
        action="append",
        metavar="NAME",
        help="check only this format and its variants, or one variant such as onnx[float32] "
        "(repeat for several; default: every registered format and variant)",
    )
    parser.add_argument(
        "--runtime",
        action="append",
        metavar="NAME",
        help="check only this runtime (repeat for several; default: every runtime of each format)",
    )
    parser.add_argument(
        "--max-rows",
        type=_row_count,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help="rows generated at a package's splits (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the generated rows (default: 0)")
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON (schemas/conform-report-2.schema.json)"
    )
    parser.add_argument(
        "--junit", metavar="FILE", help="also write the report as JUnit XML, one testcase per case x format x runtime"
    )
    parser.add_argument("--no-progress", action="store_true", help="the same as --quiet")


# ---------------------------------------------------------------- suite


def run_suite(args: argparse.Namespace) -> int:
    from crossform.conformance import check_suite

    _require_path(args.path, "suite")
    count, problems = check_suite(args.path)
    if args.json:
        _print_json(
            {"path": args.path, "cases": count, "ok": not problems, "problems": [p.to_json() for p in problems]}
        )
    else:
        for p in problems:
            _out(f"FAIL {p.file}" + (f" [{p.case}]" if p.case else "") + f": {p.problem}")
        verdict = "ok" if not problems else f"FAILED: {len(problems)} problems"
        _out(f"{verdict}: {count} cases in {args.path}")
    return EXIT_OK if not problems else EXIT_FAILED


def suite_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        default="conformance",
        metavar="DIR",
        help="the suite directory, or one case file (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
