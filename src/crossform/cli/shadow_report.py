"""``crossform shadow-report``: how a tag's shadow models compare with the model that answered,
from the shadow log ``crossform serve`` writes. The numbers are crossform.serve.report's; this
module parses, prints and writes the page."""

from __future__ import annotations

import argparse
from pathlib import Path

from crossform.serve.report import LATENCY_QUANTILES, QUANTILES, compare, report, report_html
from crossform.serve.shadows import DEFAULT_SHADOW_LOG, open_shadow_log

from ._common import EXIT_OK, CommandError, _err, _out, _print_json, _require_path, _table


def shadow_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-t", "--tag", required=True, metavar="TAG", help="the tag whose shadows to report")
    parser.add_argument(
        "--log",
        metavar="PATH",
        help=f"the shadow log `crossform serve --shadow-log` writes (default {DEFAULT_SHADOW_LOG}; "
        "*.jsonl is JSON Lines, anything else SQLite)",
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    parser.add_argument(
        "--html",
        metavar="FILE",
        help="also write a self-contained page (no network) with the numbers, a scatter of shadow vs primary "
        "scores and a histogram of their difference per output",
    )


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _lines(numbers: dict) -> list:
    lines = [f"shadow {numbers['shadow_id']}  (primary {', '.join(map(str, numbers['primary_ids']))})"]
    lines.append(
        f"  requests {numbers['requests']} ({numbers['failed']} failed); rows {numbers['rows']}, "
        f"compared {numbers['rows_compared']}"
    )
    if numbers["same_class_rate"] is not None:
        lines.append(
            f"  same class: {numbers['same_class_rate']:.2%} ({numbers['same_class_rows']} of "
            f"{numbers['rows_compared']} compared rows)"
        )
    lines.append(
        f"  rows in error on one side only: {numbers['shadow_only_errors']} refused by the shadow alone, "
        f"{numbers['primary_only_errors']} by the primary alone"
    )
    if numbers["outputs"]:
        rows = [[q["output"]] + [_fmt(q[name]) for name, _ in QUANTILES] for q in numbers["abs_delta"]]
        table = _table(["|shadow - primary|"] + [name for name, _ in QUANTILES], rows, right=range(1, 6))
        lines += ["  " + line for line in table]
    latency = [
        [side] + [_fmt(None if q is None else q[name]) for name, _ in LATENCY_QUANTILES]
        for side, q in numbers["latency_ms"].items()
    ]
    lines += ["  " + line for line in _table(["latency ms"] + [n for n, _ in LATENCY_QUANTILES], latency, right=(1, 2))]
    for failure in numbers["failures"]:
        lines.append(f"  failed {failure['count']}x: {failure['error']}")
    return lines


def run_shadow_report(args: argparse.Namespace) -> int:
    if args.log is not None:
        _require_path(args.log, "shadow log")  # a mistyped --log is a usage error; a missing default is not
    with open_shadow_log(args.log or DEFAULT_SHADOW_LOG, create=False) as log:
        comparisons = compare(log, args.tag)
        document = report(log, args.tag, comparisons)
        if args.html:
            try:
                Path(args.html).write_text(report_html(log, args.tag, comparisons), encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot write the page {args.html}: {exc.strerror}") from None
    if args.json:
        _print_json(document)
    else:
        _out(f"shadow report for tag {document['tag']} from {document['log']}")
        for numbers in document["shadows"]:
            _out()
            for line in _lines(numbers):
                _out(line)
    if args.html:
        _err(f"crossform: wrote {args.html}")
    return EXIT_OK
