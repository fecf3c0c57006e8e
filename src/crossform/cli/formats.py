"""``crossform formats``: the registered package formats."""

from __future__ import annotations

import argparse

import crossform
from crossform.exporters import get_format

from ._common import EXIT_OK, _out, _print_json, _table


def run_formats(args: argparse.Namespace) -> int:
    table = []
    for name in crossform.formats():
        fmt = get_format(name)
        table.append(
            {
                "name": name,
                "version": fmt.VERSION,
                "layout": fmt.LAYOUT,
                "runtimes": list(fmt.RUNTIMES),
                "options": {k: list(v) for k, v in fmt.OPTIONS.items()},
                "variants": [f"{name}[{v}]" for v in fmt.VARIANTS],
            }
        )
    if args.json:
        _print_json(table)
        return EXIT_OK
    rows = [
        [
            t["name"],
            t["version"],
            t["layout"],
            ", ".join(t["runtimes"]),
            "; ".join(f"{k}: {', '.join(v)}" for k, v in t["options"].items()) or "-",
        ]
        for t in table
    ]
    for line in _table(["name", "version", "layout", "runtimes", "options"], rows):
        _out(line)
    return EXIT_OK


def formats_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")
