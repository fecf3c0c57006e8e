"""What every command shares: the exit codes, the two CLI errors, printing, and reading or
writing a package the way every command reports it."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import crossform
from crossform import ir
from crossform.errors import PackageExistsError
from crossform.exporters import sniff

PROG = "crossform"
WIDTH = 78  # help text is wrapped here; the raw formatter keeps examples as written

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

EXIT_CODES = """\
exit status:
  0  success
  1  the check failed, or crossform refused the input (the reason is printed
     as "crossform: error: ..." on stderr)
  2  bad usage: an unknown command or option, or a file named on the command
     line that does not exist
"""


class UsageError(Exception):
    """Bad usage found after argparse accepted the arguments (exit 2)."""


class CommandError(Exception):
    """A refusal that is not a CrossformError, e.g. a malformed input file (exit 1)."""


def _help_sections(sections: Sequence[tuple]) -> str:
    """(title, text) pairs as an epilog: each title, then its text wrapped at WIDTH, indented."""
    return "".join(
        f"{title}:\n" + textwrap.fill(text, WIDTH, initial_indent="  ", subsequent_indent="  ") + "\n"
        for title, text in sections
    )


def _out(line: str = "") -> None:
    print(line, file=sys.stdout)


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def _print_json(document: Any) -> None:
    # Strict JSON (no NaN/Infinity literals) so that any JSON parser, not
    # only Python's, can read what we print.
    _out(json.dumps(document, indent=2, allow_nan=False))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Sequence[int] = ()) -> list:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    return [line(headers)] + [line(r) for r in rows]


def _require_path(path: str, what: str) -> None:
    # A path typed on the command line that does not exist is a usage
    # mistake (exit 2), unlike a package that exists but cannot be read.
    if not os.path.lexists(path):
        raise UsageError(f"{what} {path}: no such file or directory")


def _load(path: str) -> tuple:
    """(package, format name), with format warnings shown as one clean line each."""
    with warnings.catch_warnings(record=True) as caught:
        # a newer-minor format warning must show on every run, not once per process
        warnings.simplefilter("always", UserWarning)
        fmt = sniff(path)
        package = crossform.load(path, format=fmt)
    for w in caught:
        _err(f"{PROG}: warning: {w.message}")
    return package, fmt


def _needs_sklearn(what: str) -> None:
    try:
        import joblib  # noqa: F401
        import pandas  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise CommandError(
            f"{what} needs scikit-learn, pandas and joblib ({exc}); install them with: pip install 'crossform[sklearn]'"
        ) from None


def _save(package: ir.Package, path: str, format: str, overwrite: bool, **options: str) -> Path:
    try:
        return crossform.save(package, path, format=format, overwrite=overwrite, **options)
    except PackageExistsError as exc:
        if overwrite:
            raise
        # the library's message names the Python keyword, not the flag
        raise CommandError(f"{exc.path} already exists; pass --overwrite to replace it") from None


def _row_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of rows >= 0, got {text!r}")
    return value
