"""The ``crossform`` command: export, score, check and describe model packages.

One module per command group (demo, export, score, validate with id, info and compat, conform
with suite, formats); this module holds the command table, the parser and ``main``.
Only ``demo`` and ``export`` need scikit-learn, pandas and joblib, and they
import them inside their functions: reading, validating and scoring
packages must work with the core dependencies (numpy, jsonschema) alone.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import textwrap
from collections.abc import Callable, Sequence

import crossform
from crossform.errors import CrossformError
from crossform.validation import one_line

from ._common import EXIT_CODES, EXIT_FAILED, EXIT_USAGE, PROG, WIDTH, CommandError, UsageError, _err
from .conform import conform_arguments, run_conform, run_suite, suite_arguments
from .demo import demo_arguments, run_demo
from .export import export_arguments, run_export
from .formats import formats_arguments, run_formats
from .score import run_score, score_arguments
from .validate import (
    compat_arguments,
    id_arguments,
    info_arguments,
    run_compat,
    run_id,
    run_info,
    run_validate,
    validate_arguments,
)

# name -> (function, argument builder, one-line summary, description, example)
COMMANDS: dict[str, tuple[Callable, Callable, str, str, str]] = {
    "demo": (
        run_demo,
        demo_arguments,
        "fit and export an example; compare it with scikit-learn",
        "Fit an example pipeline (imputers, an ordinal encoder and a random forest on "
        "2000 rows of bird data), export it as a package, load it back and score six sample "
        "rows with both crossform and scikit-learn, including a missing bird, an unknown "
        "planet and an infinite wingspan. Exits 1 if the two disagree on any row. Needs "
        "scikit-learn, pandas and joblib. With --json, non-finite input numbers are written "
        'as the strings "Infinity", "-Infinity" and "NaN".',
        "crossform demo --out /tmp/birds --overwrite",
    ),
    "export": (
        run_export,
        export_arguments,
        "convert a joblib-saved scikit-learn estimator into a package",
        "Load a fitted scikit-learn estimator or pipeline with joblib.load, convert it and "
        "save it as a package. Loading a joblib file runs code from it, so export only files "
        "you trust. Owner, tags and metadata are recorded in the package and change its id. "
        "Needs scikit-learn, pandas and joblib.",
        "crossform export model.joblib fraud-pkg --owner fraud-team --tag prod --meta ticket=FR-12\n"
        "  crossform export model.joblib fraud.onnx --precision float32   # the format from the extension",
    ),
    "score": (
        run_score,
        score_arguments,
        "score CSV or JSON Lines rows with a package",
        "Score every row of INPUT with the package and write one output row per input row: "
        'the --keep columns, one column per model output, then "error" (empty, or null, when '
        "the row scored). Cells are read as pandas.read_csv reads them (below; "
        "docs/tabular-input.md). A row that cannot be scored is a row error and the others "
        "still score; --fail-on-row-error makes any row error exit 1. A summary naming the "
        "runtime goes to stderr.",
        "crossform score fraud-pkg transactions.csv -o scores.csv --keep id\n"
        "  cat rows.jsonl | crossform score fraud-pkg - --input-format jsonl --output-format jsonl",
    ),
    "validate": (
        run_validate,
        validate_arguments,
        "check packages: schemas, structure and id",
        "Read each package as scoring would: check every file against its JSON Schema, build "
        "and check the model, and recompute the id from the content, which must equal the "
        "recorded one (so an edited file is caught). Then score the checks the package "
        "carries (rows with the outputs scikit-learn gave at export) in the reference evaluator "
        "and in every runtime of the package's format that is installed (onnxruntime and onnx's "
        "ReferenceEvaluator for .onnx, JPMML for .pmml), which score the file itself, and name "
        "every row that differs. The line says which runtimes ran and names those that are not "
        "installed. Exits 1 if any package fails.",
        "crossform validate fraud-pkg churn-pkg",
    ),
    "conform": (
        run_conform,
        conform_arguments,
        "check that every format and runtime scores a package or the suite identically",
        "For each package: write it in every registered format, read it back (the id must "
        "not change), and score rows in every runtime that executes the format: the checks "
        "the package carries (scikit-learn's outputs at export), rows generated at the "
        "model's own splits and leaves, and the --rows file, the last two compared with the "
        "reference evaluator on the package as stored. A PATH holding cases/ (the "
        "conformance suite) or a case file runs those cases against scikit-learn's recorded "
        "outputs. Runtimes that are not installed are skipped, with the reason, never "
        "silently. Exits 0 when nothing failed, 1 on any difference (naming the case, the "
        "row and the difference), 2 on bad usage.",
        "crossform conform fraud-pkg --junit conform.xml\n  crossform conform conformance/ --json > report.json",
    ),
    "suite": (
        run_suite,
        suite_arguments,
        "check the conformance suite itself",
        "Check a conformance suite: every case file valid against "
        "schemas/conformance-cases-1.schema.json and named after its feature, case names and "
        "descriptions unique and short, every referenced package present and hashing to the "
        "id its case records, rows covering the package's inputs, expected outputs matching "
        "the package's. Exits 1 on any problem.",
        "crossform suite conformance",
    ),
    "id": (
        run_id,
        id_arguments,
        "print the id of packages",
        "Print the id of each package, recomputed from its content and checked against the "
        "recorded one. Packages with equal ids score identically.",
        "crossform id fraud-pkg",
    ),
    "formats": (
        run_formats,
        formats_arguments,
        "list the package formats this crossform reads and writes",
        "List the registered package formats with their format version, layout (a directory "
        "or a single file) and the runtimes that execute them.",
        "crossform formats --json",
    ),
    "info": (
        run_info,
        info_arguments,
        "describe a package: inputs, encoders, model, owner",
        "Describe a package: its format, id, owner, tags and metadata, its inputs, its "
        "encoders in the order they apply, the model (type, trees, nodes, depth, classes) "
        "and the library versions that wrote it.",
        "crossform info fraud-pkg",
    ),
    "compat": (
        run_compat,
        compat_arguments,
        "which crossform releases and runtimes read a package",
        "Report a package's format and format version (read even when this crossform cannot "
        "read the package), whether this crossform reads it, its id when it loads (the error "
        "when not), the crossform releases that read it (docs/FORMATS.md) and, per runtime "
        "of the format, the versions that run it. Exits 0 when this crossform reads the "
        "package, 1 when it cannot. --json prints one object: path, format, format_version, "
        'crossform (this version), reads ("reads", "reads with a warning: newer minor", or '
        '"cannot read: ..."), ok, id, error, warnings, readers {text, ranges: [{from, before, '
        "specifier, warning}], needs} (ranges null: not recorded; needs: what makes older releases "
        "refuse it, or null) and runtimes [{name, versions}] "
        "(versions null: not recorded).",
        "crossform compat fraud-pkg --json",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=textwrap.fill(
            "Export fitted scikit-learn pipelines to portable model packages, and "
            "score, check and describe those packages.",
            WIDTH,
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {crossform.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)
    for name, (_, add_arguments, summary, description, example) in COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, WIDTH),
            epilog=f"examples:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_arguments(sub)
        # one flag for every command, so that any long step can report progress (crossform.progress)
        sub.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            help="no progress on stderr for long work (warnings and errors still show)",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    function = COMMANDS[args.command][0]
    try:
        return function(args)
    except UsageError as exc:
        _err(f"{PROG}: error: {exc}")
        return EXIT_USAGE
    except (CrossformError, CommandError) as exc:
        _err(f"{PROG}: error: {one_line(exc)}")
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (e.g. "| head"); nothing left to tell anyone.
        _silence_stdout()
        return EXIT_FAILED
    except FileNotFoundError as exc:
        _err(f"{PROG}: error: {one_line(exc)}")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"{PROG}: error: {one_line(exc)}")
        return EXIT_FAILED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
