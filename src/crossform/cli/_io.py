"""Rows files for ``score`` and ``conform --rows``: which format a path holds, and the streams
(stdin, stdout, files written whole or not at all) that crossform.tabular reads and writes."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from crossform import ir, tabular

from ._common import UsageError

IO_FORMATS = tuple(tabular.READERS)


def _io_format(path: str, given: str | None, flag: str, default: str | None = None) -> str:
    if given:
        return given
    if path == "-":
        if default:
            return default
        raise UsageError(f"reading stdin needs {flag} csv|jsonl")
    fmt = tabular.format_of(path)
    if fmt is None:
        raise UsageError(f"cannot tell the format of {path} from its extension; give {flag} csv|jsonl")
    return fmt


@contextlib.contextmanager
def _open_input(path: str):
    # utf-8-sig drops the byte-order mark spreadsheet programs put first;
    # newline="" lets the csv module see line breaks inside quoted cells.
    if path != "-":
        with open(path, encoding="utf-8-sig", newline="") as stream:
            yield stream
        return
    if not hasattr(sys.stdin, "buffer"):  # already text, e.g. replaced by a test
        yield sys.stdin
        return
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    try:
        yield stream
    finally:
        stream.detach()  # closing the wrapper would close the process's stdin


@contextlib.contextmanager
def _open_output(path: str):
    # A regular file appears only once every row is written: an input error at the
    # last line leaves no half-written scores behind. stdout, a device (/dev/null), a
    # FIFO or a link is written in place as the rows go: replacing one would destroy it.
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    if os.path.lexists(target) and not stat.S_ISREG(os.lstat(target).st_mode):
        with open(target, "w", encoding="utf-8", newline="") as out:
            yield out
        return
    partial = target.with_name(f".{target.name}.partial")
    try:
        out = open(partial, "w", encoding="utf-8", newline="")
    except OSError as exc:  # name the file asked for, not the partial one
        raise type(exc)(exc.errno, exc.strerror, path) from None
    try:
        with out:
            yield out
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()


def _source(path: str) -> str:
    return "<stdin>" if path == "-" else path


def _row_dicts(path: str, in_format: str, fields: Sequence[ir.Field]) -> list:
    """Every row of the rows file ``path`` as a mapping (conform's --rows: rows a person wrote)."""
    with _open_input(path) as stream:
        return tabular.read_rows(stream, in_format, fields, _source(path))


def _input_share(stream) -> Callable[[], str]:
    """How much of a regular input file has been read, as text for the progress line
    ("" for stdin, a pipe or a device, whose size is unknown)."""
    with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
        info = os.fstat(stream.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size:
            raw = stream.buffer

            def share() -> str:
                with contextlib.suppress(OSError, ValueError):
                    return f", {min(100, 100 * raw.tell() // info.st_size)}% of the input"
                return ""

            return share
    return lambda: ""
