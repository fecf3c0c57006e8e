"""``crossform score``: score CSV or JSON Lines rows with a package, a chunk at a time."""

from __future__ import annotations

import argparse
import itertools

import crossform
from crossform import progress, tabular

from ._common import EXIT_FAILED, EXIT_OK, UsageError, _err, _help_sections, _load, _require_path, _row_count
from ._io import IO_FORMATS, _input_share, _io_format, _open_input, _open_output, _source


def run_score(args: argparse.Namespace) -> int:
    from crossform.chunks import with_row_errors
    from crossform.runtime import get_runtime

    in_format = _io_format(args.input, args.input_format, "--input-format")
    out_format = _io_format(args.output, args.output_format, "--output-format", default="csv")
    _require_path(args.package, "package")
    if args.input != "-":
        _require_path(args.input, "input")
    keep = list(args.keep or [])
    package, _ = _load(args.package)
    clash = sorted(set(keep) & (set(package.outputs) | {"error"}))
    if clash:
        raise UsageError(f"--keep {', '.join(clash)} would clash with an output column of the same name")
    score = crossform.scorer(package, args.runtime, chunk_rows=None)  # the reader's chunks are bounded already
    rows = failures = 0
    with _open_input(args.input) as stream:
        tracker, share = progress.Progress("score", enabled=not args.quiet), _input_share(stream)
        chunks = tabular.READERS[in_format](stream, package.inputs, keep, _source(args.input), args.chunk_rows)
        first = next(chunks, None)  # the header is checked before anything is written
        with _open_output(args.output) as out:
            write = tabular.WRITERS[out_format](out, keep, package.outputs)
            for chunk in itertools.chain([first] if first is not None else [], chunks):
                scores = score(chunk.columns)
                if chunk.errors is not None:
                    scores = with_row_errors(scores, chunk.errors)
                write(scores, chunk.kept)
                rows += len(scores)
                failures += len(scores.errors) - list(scores.errors).count(None)
                tracker(rows, None, f"{rows:,} rows scored{share()}")
        tracker.close()
    if not args.quiet:
        _err(f"scored {rows} rows in {args.runtime} ({get_runtime(args.runtime).version()}): {failures} row errors")
    return EXIT_FAILED if args.fail_on_row_error and failures else EXIT_OK


def _score_input_help() -> str:
    na = ", ".join(f'"{cell}"' for cell in tabular.NA_CELLS)
    paragraphs = [
        (
            "input",
            "CSV: a header row naming the columns, then one row per line (quoted cells may span "
            f"lines), UTF-8, read as pandas.read_csv reads it by default. Missing in every column: {na}. In a "
            "numeric column, True/TRUE/true is 1 and False/FALSE/false is 0; a number is plain decimal or "
            "scientific notation (1.5, -2e-3, .5) or inf/infinity in any case with an optional sign, whitespace "
            "around it ignored; any other cell (1_000, 0x10, 1,5) is a row error naming it. A categorical cell is "
            "its text as written. JSON Lines: one JSON object per line; null or an absent key is missing, true "
            "and false are 1 and 0 in a numeric column, a string in a numeric column or a number in a "
            "categorical one is a row error, and so is an integer beyond the float64 range. Rows are read and "
            "scored --chunk-rows at a time, so memory stays bounded whatever the input's size. An input error "
            "names the file and the line (stdout may already hold the rows before it; an -o file is written "
            "only when every row was).",
        ),
        (
            "output",
            'the --keep columns, one column per model output, then "error" (empty, or null, when the '
            "row scored); numbers read back exactly. Progress goes to stderr once scoring lasts 2 s, then the "
            "summary line: the rows, the runtime that scored and the row errors. --quiet prints neither.",
        ),
    ]
    return _help_sections(paragraphs)


def score_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _score_input_help() + "\n" + (parser.epilog or "")
    parser.add_argument("package", metavar="PACKAGE", help="a saved package")
    parser.add_argument("input", metavar="INPUT", help='rows to score (.csv, .jsonl, .ndjson), or "-" for stdin')
    parser.add_argument(
        "-o", "--output", default="-", metavar="OUTPUT", help='where to write the scores (default: "-", stdout)'
    )
    parser.add_argument("--input-format", choices=IO_FORMATS, help="format of INPUT (default: from its extension)")
    parser.add_argument(
        "--output-format", choices=IO_FORMATS, help="format of OUTPUT (default: from its extension; csv for stdout)"
    )
    parser.add_argument(
        "--runtime",
        default="reference",
        choices=crossform.runtimes(),
        help="the runtime that scores (default: %(default)s)",
    )
    parser.add_argument(
        "--keep",
        action="append",
        metavar="COLUMN",
        help="copy this input column to the output, e.g. an id (repeat for several)",
    )
    parser.add_argument(
        "--fail-on-row-error",
        action="store_true",
        help="exit 1 when any row could not be scored (the scores are still written): for CI",
    )
    parser.add_argument(
        "--chunk-rows",
        type=_positive,
        default=crossform.CHUNK_ROWS,
        metavar="N",
        help="rows read and scored at a time; memory grows with it (default: %(default)s)",
    )


def _positive(text: str) -> int:
    value = _row_count(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value
