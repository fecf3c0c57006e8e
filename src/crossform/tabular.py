"""Scoring rows as CSV and JSON Lines: streaming readers and writers.

A reader yields :class:`Chunk` objects of at most ``chunk_rows`` rows: typed
columns that ``rows.read_batch`` takes as they are (no dict per row), so
memory is bounded by the chunk size whatever the size of the input. The
rules for cells are those of pandas' ``read_csv`` defaults, which is how
most training data was read (docs/tabular-input.md):

- a cell in ``NA_CELLS`` (pandas' default ``na_values``: empty, ``NA``,
  ``nan``, ``null``, ...) is missing, in numeric and categorical columns;
- in a numeric column, ``True``/``TRUE``/``true`` is 1 and
  ``False``/``FALSE``/``false`` is 0; a number is plain decimal or
  scientific notation (``NUMBER``), or inf/infinity in any case with an
  optional sign; anything else (``1_000``, ``0x10``, ``1,5``) stays text and
  is a row error naming the value;
- in JSON Lines, JSON's own types decide: null or an absent key is missing.

Every error about the input names the file and the line.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import PurePath
from typing import Any

import numpy as np

from . import ir
from .chunks import CHUNK_ROWS
from .errors import InputError, TabularInputError

NA_CELLS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)  # pandas' STR_NA_VALUES
TRUE_CELLS = ("True", "TRUE", "true")  # pandas' default true_values
FALSE_CELLS = ("False", "FALSE", "false")
NUMBER = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity)\s*", re.ASCII | re.IGNORECASE
)

# The bytes of every NUMBER. float() also reads "1_000", "nan", non-ASCII digits and
# other whitespace around a number; a cell made only of these bytes that float() reads
# is a NUMBER, so a column of such cells needs no check cell by cell.
_NUMBER_BYTES = b"0123456789.+-eEiInNfFtTyY \t\n\r\v\f"


@dataclass
class Chunk:
    """Rows of the input: what the scorer takes, and what the writer copies."""

    n_rows: int
    columns: dict  # input name -> float64 array (numeric) or object array of str/None
    kept: list  # per --keep column, the cells as read
    errors: list | None = None  # per row None or an error found while reading; None when no row has one


# ---------------------------------------------------------------- CSV


def read_csv(
    stream, fields: Sequence[ir.Field], keep: Sequence[str], source: str, chunk_rows: int = CHUNK_ROWS
) -> Iterator[Chunk]:
    """Chunks of the CSV text ``stream`` (named ``source`` in errors)."""
    lines = iter(stream)  # the header's reader and every chunk after it take lines from here
    reader = csv.reader(lines, strict=True)
    header: list = []
    while not header:  # blank lines before the header are skipped, as pandas does
        first = _records(reader, stream, source, reader.line_num, 1)
        if not first:
            raise TabularInputError(source, None, "the CSV input is empty: expected a header row naming the columns")
        header = first[0]
    header_line = reader.line_num
    names = [f.name for f in fields]
    needed = names + [k for k in keep if k not in names]
    absent = [name for name in needed if name not in header]
    if absent:
        raise TabularInputError(
            source,
            header_line,
            f"the CSV header has no column {', '.join(map(repr, absent))} "
            f"(the package needs {names}" + (f", --keep asks for {list(keep)})" if keep else ")"),
        )
    doubled = sorted({name for name in needed if header.count(name) > 1})
    if doubled:
        raise TabularInputError(
            source, header_line, f"the CSV header names column {', '.join(map(repr, doubled))} more than once"
        )
    position = {name: header.index(name) for name in needed}
    width = len(header)
    line = header_line  # lines read so far
    while True:
        try:
            block = list(islice(lines, chunk_rows))
        except UnicodeDecodeError as exc:
            raise _not_utf8(stream, source, line + 1, exc) from None
        if not block:
            return
        n_rows, flat = _plain_rows(block, width)
        if flat is None:  # quotes, or a row of another width: the csv module, for the record and the error
            n_rows, flat, consumed = _parsed_rows(block, lines, width, stream, source, line)
            line += consumed
        else:
            line += len(block)
        if not n_rows:
            continue

        def column(name: str) -> list:
            return flat[position[name] :: width]  # column j of the rows, sliced at C speed

        columns = {
            f.name: (numeric_cells if f.kind == ir.NUMERIC else categorical_cells)(column(f.name)) for f in fields
        }
        yield Chunk(n_rows, columns, [column(k) for k in keep])


def _plain_rows(block: list, width: int) -> tuple:
    """(rows, their cells in one flat list) of lines holding no quote, CR or NUL, split at
    C speed: what the csv module makes of them, blank lines skipped; (0, None) when the
    block needs the csv module (a quote, a lone CR, a NUL, or a row of another width)."""
    text = "".join(block)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if '"' in text or "\r" in text or "\0" in text:
        return 0, None
    rows = text.split("\n")
    if rows[-1] == "":  # the last line's line break
        rows.pop()
    if "" in rows:
        rows = [row for row in rows if row]
    flat = ",".join(rows).split(",")
    return (len(rows), flat) if len(flat) == width * len(rows) else (0, None)


def _parsed_rows(block: list, lines: Iterator[str], width: int, stream, source: str, line: int) -> tuple:
    """(rows, flat cells, lines read) of the records starting at ``block``: the csv module
    reads them, and reads on from ``lines`` where a quoted cell spans past the block."""
    reader = csv.reader(chain(block, lines), strict=True)
    # each record takes at least one line, so len(block) records read all of the block
    records = _records(reader, stream, source, line, len(block), offset=line)
    lengths = set(map(len, records))
    if not lengths <= {0, width}:  # 0: a blank line, which is skipped
        k = next(k for k, r in enumerate(records) if len(r) not in (0, width))
        cells = f"{len(records[k])} cell" + ("s" if len(records[k]) != 1 else "")
        raise TabularInputError(
            source, line + 1 + _lines_spanned(records[:k]), f"this row has {cells}, the header has {width}"
        )
    body = records if 0 not in lengths else [r for r in records if r]
    return len(body), list(chain.from_iterable(body)), reader.line_num


def _records(reader, stream, source: str, line: int, count: int, offset: int = 0) -> list:
    """The next ``count`` records (blank lines as []); ``line``: lines read before them;
    ``offset``: lines read before ``reader`` started (its line_num counts from there)."""
    records = []
    try:
        for cells in islice(reader, count):
            records.append(cells)
    except csv.Error as exc:
        start = line + 1 + _lines_spanned(records)
        if "unexpected end of data" in str(exc):
            raise TabularInputError(
                source, start, "a quoted cell opened in this row is never closed (the file ends inside it)"
            ) from None
        raise TabularInputError(source, offset + reader.line_num, f"malformed CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(stream, source, line + 1 + _lines_spanned(records), exc) from None
    return records


def _not_utf8(stream, source: str, near: int, exc: UnicodeDecodeError) -> TabularInputError:
    """The error for undecodable input: at its exact line when the input is a file that
    can be read again (text is decoded in blocks, ahead of the line being parsed)."""
    name = getattr(stream, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        decoder = codecs.getincrementaldecoder("utf-8")()
        with open(name, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    decoder.decode(raw)
                except UnicodeDecodeError as found:
                    return TabularInputError(source, number, f"not UTF-8 text ({found.reason})")
    return TabularInputError(source, near, f"not UTF-8 text ({exc.reason}) at this line or after it")


def _lines_spanned(records: Sequence[list]) -> int:
    """The physical lines ``records`` took: one each, plus the line breaks inside quoted cells."""
    return sum(1 + sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in r) for r in records)


def numeric_cells(cells: list) -> np.ndarray:
    """float64 when every cell reads, else an object array keeping the unread cells as text."""
    values = _plain_numbers(cells)
    if values is not None:
        return values
    text = np.array(cells, dtype=str)
    missing = np.isin(text, NA_CELLS)
    true, false = np.isin(text, TRUE_CELLS), np.isin(text, FALSE_CELLS)
    out = np.full(len(text), np.nan)
    out[true], out[false] = 1.0, 0.0
    rest = np.flatnonzero(~(missing | true | false)).tolist()
    subset = [cells[i] for i in rest]
    values = _plain_numbers(subset)
    if values is not None:
        out[rest] = values
        return out
    out = out.astype(object)
    for i, cell in zip(rest, subset):
        out[i] = float(cell) if NUMBER.fullmatch(cell) else cell  # text: a row error naming the value
    return out


def _plain_numbers(cells: Sequence[str]) -> np.ndarray | None:
    """The cells as float64 when every one is a NUMBER, else None; at C speed."""
    try:
        values = np.fromiter(map(float, cells), np.float64, len(cells))
        plain = not "".join(cells).encode("ascii").translate(None, _NUMBER_BYTES)
    except (ValueError, UnicodeEncodeError):
        return None
    return values if plain else None


def categorical_cells(cells: list) -> np.ndarray:
    out = np.array(cells, dtype=object)
    out[np.isin(np.array(cells, dtype=str), NA_CELLS)] = None
    return out


def csv_writer(stream, keep: Sequence[str], outputs: Sequence[str]) -> Callable:
    """Write the header now; return ``write(scores, kept)`` for each chunk."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(list(keep) + list(outputs) + ["error"])
    texts = FloatTexts()

    def write(scores, kept: list) -> None:
        columns = [*kept, *texts(scores.values), ["" if e is None else e for e in scores.errors]]
        try:
            special = _CSV_SPECIAL.search("".join(chain.from_iterable(kept)) + "".join(columns[-1]))
        except TypeError:  # a kept JSON value that is not text: the csv module writes it
            special = True
        if special:  # a cell to quote: the csv module decides how
            writer.writerows(zip(*columns))
        else:  # no cell needs quotes, and no cell is the only one of its row: joined at C speed
            stream.write("".join(map("%s\n".__mod__, map(",".join, zip(*columns)))))

    return write


# what makes the csv module quote a cell (QUOTE_MINIMAL, delimiter ",", quote '"')
_CSV_SPECIAL = re.compile(r'[,"\r\n\0]')


class FloatTexts:
    """Per column, the text of each float64: repr (it reads back exactly), "" for NaN.

    Each distinct value (by its bits, so -0.0 stays -0.0) is formatted once per stream,
    not once per row: repr costs ~0.4 us, and scores repeat across the whole input (a
    forest's probabilities take a few thousand values). The texts are kept across
    chunks up to MAX_KEPT of them, so memory stays bounded."""

    MAX_KEPT = 1 << 17  # about 20 MB of texts

    def __init__(self) -> None:
        self.known: dict = {}  # float64 bits -> text

    def __call__(self, values: np.ndarray) -> list:
        bits, inverse = np.unique(np.ascontiguousarray(values).view(np.int64), return_inverse=True)
        if len(self.known) > self.MAX_KEPT:
            self.known.clear()
        known = self.known
        keys = bits.tolist()
        text = [known.get(b) for b in keys]
        fresh = [i for i, t in enumerate(text) if t is None]
        if fresh:
            numbers = bits[fresh].view(np.float64).tolist()
            for i, number in zip(fresh, numbers):
                text[i] = known[keys[i]] = "" if number != number else repr(number)
        table = np.array(text or [""], dtype=object)
        return table[inverse.reshape(values.shape)].T.tolist()


# ---------------------------------------------------------------- JSON Lines


class _LongInteger:
    """A JSON integer with more digits than Python converts (sys.get_int_max_str_digits)."""

    def __init__(self, text: str):
        self.text = text


def _json_integer(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return _LongInteger(text)


def read_jsonl(
    stream, fields: Sequence[ir.Field], keep: Sequence[str], source: str, chunk_rows: int = CHUNK_ROWS
) -> Iterator[Chunk]:
    """Chunks of the JSON Lines text ``stream``: one JSON object per line, blank lines skipped."""
    decode = json.JSONDecoder(parse_int=_json_integer).decode
    names = [f.name for f in fields]
    lines = enumerate(stream, start=1)
    number = 0  # the last line read
    while True:
        values: list = [[] for _ in names]
        kept: list = [[] for _ in keep]
        errors: list = []
        count = 0
        try:
            for number, line in lines:
                if not line.strip():
                    continue
                obj = _json_object(decode, line, source, number)
                row_error = None
                for name, column in zip(names, values):
                    value = obj.get(name)
                    if isinstance(value, _LongInteger):
                        row_error = row_error or (
                            f"line {number}: feature {name!r}: the JSON integer of "
                            f"{len(value.text)} digits is beyond the float64 range"
                        )
                        value = None
                    column.append(value)
                for name, column in zip(keep, kept):
                    value = obj.get(name)
                    column.append(value.text if isinstance(value, _LongInteger) else value)
                errors.append(row_error)
                count += 1
                if count == chunk_rows:
                    break
        except UnicodeDecodeError as exc:
            raise _not_utf8(stream, source, number + 1, exc) from None
        if not count:
            return
        has_errors = any(e is not None for e in errors)
        yield Chunk(count, dict(zip(names, values)), kept, errors if has_errors else None)


def _json_object(decode: Callable, line: str, source: str, number: int) -> dict:
    try:
        obj = decode(line)
    except RecursionError:
        raise TabularInputError(
            source, number, "JSON nested too deeply to read (a row is one flat JSON object)"
        ) from None
    except ValueError as exc:
        raise TabularInputError(source, number, f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise TabularInputError(source, number, f"expected a JSON object, got {type(obj).__name__}")
    return obj


def jsonl_writer(stream, keep: Sequence[str], outputs: Sequence[str]) -> Callable:
    """Return ``write(scores, kept)``, writing one JSON object per row."""
    names = list(keep) + list(outputs) + ["error"]

    def write(scores, kept: list) -> None:
        rows = scores.values.tolist()
        for i in np.flatnonzero(np.isnan(scores.values).any(axis=1)).tolist():
            rows[i] = [None if math.isnan(v) else v for v in rows[i]]  # JSON has no NaN: null
        stream.writelines(
            json.dumps(dict(zip(names, (*cells, *values, error)))) + "\n"
            for cells, values, error in zip(zip(*kept) if keep else iter(tuple, None), rows, scores.errors)
        )

    return write


READERS = {"csv": read_csv, "jsonl": read_jsonl}
WRITERS = {"csv": csv_writer, "jsonl": jsonl_writer}
# A rows file's format from its name (any case); anything else must be named by the caller.
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def format_of(path: str) -> str | None:
    """The format ("csv" or "jsonl") ``path``'s extension names, or None."""
    return EXTENSIONS.get(PurePath(path).suffix.lower())


def read_rows(stream, fmt: str, fields: Sequence[ir.Field], source: str) -> list:
    """Every row of ``stream`` as a mapping of the ``fields`` (rows a person wrote, e.g. conform's
    --rows), read by the rules above; the first row error is an InputError naming ``source``."""
    rows = []
    for chunk in READERS[fmt](stream, fields, [], source, CHUNK_ROWS):
        if chunk.errors is not None:
            unread = next(e for e in chunk.errors if e is not None)
            raise InputError(f"{source}: {unread}")
        columns = [
            (name, column.tolist() if hasattr(column, "tolist") else column) for name, column in chunk.columns.items()
        ]
        rows += [{name: column[i] for name, column in columns} for i in range(chunk.n_rows)]
    return rows
