"""The ``crossform`` command: export, score, check and describe model packages.

One module per command group (demo, export, score, spark-score, validate with id, info and compat, conform
with suite, formats, deploy with push, pull, models, history and tags, serve, shadow-report);
this module holds the command table, the parser and ``main``.
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
from .deploy import (
    deploy_arguments,
    history_arguments,
    models_arguments,
    pull_arguments,
    push_arguments,
    run_deploy,
    run_history,
    run_models,
    run_pull,
    run_push,
    run_tags,
    tags_arguments,
)
from .export import export_arguments, run_export
from .formats import formats_arguments, run_formats
from .score import run_score, score_arguments
from .serve import run_serve, serve_arguments
from .shadow_report import run_shadow_report, shadow_report_arguments
from .spark_score import run_spark_score, spark_score_arguments
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
    "spark-score": (
        run_spark_score,
        spark_score_arguments,
        "score a Parquet or CSV table on Spark with a package path, id or tag",
        "Score every row of --input on Spark (mapInPandas on the executors, each Arrow batch "
        "scored at once) with the package a path, an id in the store or a tag in the registry "
        "names, resolved once on the driver and checked against its id before any job runs. "
        "Writes --output in the input's format: the --keep columns, one column per model "
        'output, then "error" (null when the row scored). A row that cannot be scored is a '
        "row error and the others still score. Prints a summary: rows, rows in error, the id "
        "scored. Works under spark-submit (the master comes from Spark's configuration) or "
        "with --master local[N].",
        "crossform spark-score --input txns.parquet --output scores.parquet --package txn_fraud.production\n"
        "  crossform spark-score --input txns.csv --output scores.csv --package sha256.Q5NJ... --master local[2]\n"
        "  # spark-submit runs a .py file: crossform's command line is crossform/cli/__main__.py\n"
        "  spark-submit --master yarn \"$(python -c 'import crossform.cli as c; print(c.__path__[0])')/__main__.py\" \\\n"
        "      spark-score --input s3a://lake/txns/ --format parquet --output s3a://lake/scores/ \\\n"
        "      --package txn_fraud.production --store s3://models/fraud --keep txn_id",
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
    "push": (
        run_push,
        push_arguments,
        "put packages into the model store; print their ids",
        "Put each package into the content-addressed model store, in the bytes and format it is "
        "in, under the id computed from its content (the recorded id must match), and print the "
        "id, one line per package. Pushing what is already stored writes nothing. The store is "
        "--store, else $CROSSFORM_STORE, else .crossform/store in the working directory "
        "(docs/deploying.md).",
        "crossform push fraud-pkg\n  ID=$(crossform push fraud.onnx --store s3://models/fraud)",
    ),
    "pull": (
        run_pull,
        pull_arguments,
        "write a stored package to a new path",
        "Fetch the package stored under ID, check its bytes against the id (a changed object "
        "is refused, never written), and write it to DEST, a new path, as it was pushed: a "
        "file, or a folder for a folder format. --format picks one of the formats the id is "
        "stored in.",
        "crossform pull sha256.Q5NJ... fraud-copy\n  crossform pull sha256.Q5NJ... fraud.onnx --format onnx",
    ),
    "models": (
        run_models,
        models_arguments,
        "list the ids in the store, their formats and the tags using them",
        "List every model id in the store with the formats it is stored in, the tags it is "
        "deployed to and the tags it shadows. Reads only: a missing registry is no tags.",
        "crossform models --json",
    ),
    "deploy": (
        run_deploy,
        deploy_arguments,
        "point a tag at a model, roll it back, or add and remove shadows",
        "deploy -t TAG -m ID points TAG at the model ID; deploy -t TAG -b rolls TAG back to "
        "the model deployed before the current one; deploy add -t TAG -m ID and deploy remove "
        "-t TAG -m ID add and remove a shadow model (scored beside the current one, never "
        "instead of it). Every change is an event in the tag's history (crossform history). "
        "A deploy and a shadow add pass the deploy gate first: ID must be in the store and every "
        "stored format of it must pass crossform validate (read back to the id, its check rows "
        "scored as scikit-learn scored them). --force skips the gate and is recorded. A rollback "
        "is not gated. A refused change writes nothing and exits 1.",
        "crossform deploy -t txn_fraud.production -m sha256.Q5NJ... --message 'weekly retrain'\n"
        "  crossform deploy -t txn_fraud.production -b --message 'precision dropped'\n"
        "  crossform deploy add -t txn_fraud.production -m sha256.ZKLY...",
    ),
    "history": (
        run_history,
        history_arguments,
        "the deploy history of a tag",
        "Print every event of TAG, oldest first: when (UTC), what (deploy, rollback, "
        "shadow-add, shadow-remove; forced ones marked), the model id, the id it replaced, who "
        "and why. An unknown tag exits 1.",
        "crossform history -t txn_fraud.production\n  crossform history -t txn_fraud.production --json",
    ),
    "tags": (
        run_tags,
        tags_arguments,
        "list the tags with their current model and shadows",
        "List every tag in the registry with its current model id, how many shadow models it "
        "has and its last change. Reads only: with no registry yet, prints only the header.",
        "crossform tags --json",
    ),
    "serve": (
        run_serve,
        serve_arguments,
        "answer predictions over HTTP by model id and by tag",
        "Serve predictions over HTTP (docs/serving.md): POST /model/ID/predict scores with the "
        "model stored under ID; POST /tag/TAG/predict with the model TAG is deployed to, "
        "following the registry so that a deploy or rollback switches the answer within about "
        "--poll-interval once the new model is loaded and warm, while requests in flight "
        "finish on the model they started with. A body is one row as a JSON object, "
        '{"rows": [...]} or {"columns": {name: [...]}}; the answer names the outputs, the '
        "values, a per-row error (null when the row scored) and the model id that answered. "
        "GET /model/ID and /tag/TAG describe them; /healthz, /readyz and /metrics (Prometheus) "
        "are for operators. Status codes: 400 bad JSON or a missing input, 404 an id or tag "
        "that does not exist, 413 over --max-body-bytes or --max-rows, 503 a model still loading "
        "when the request says Prefer: no-wait. Each model is scored in the fastest runtime that "
        "scores its check rows exactly as scikit-learn did. Listens on 127.0.0.1 unless --host "
        "says otherwise. Needs the serve extra: pip install 'crossform[serve]'.",
        "crossform serve --port 8080 --tag txn_fraud.production\n"
        '  curl -d \'{"amount": 12.5, "country": "FR"}\' localhost:8080/tag/txn_fraud.production/predict\n'
        "  crossform serve --store s3://models/fraud --registry postgresql://deploy@db/registry --workers 2",
    ),
    "shadow-report": (
        run_shadow_report,
        shadow_report_arguments,
        "how a tag's shadow models compare with the model that answered",
        "Read the shadow log that crossform serve writes (each request to TAG scored again "
        "by the tag's shadow models, off the request path) and print per shadow model: the "
        "requests and rows it scored and how many rows both models scored (compared); for "
        "classifiers, how often both predict the same class; the absolute difference of each "
        "output (shadow - primary) at min, p50, p90, p99 and max over the compared rows; the "
        "rows only one of the two refused; its latency (p50, p99, ms) beside the primary's on "
        "the same requests; and the requests it failed (load error or exception), with the "
        "most frequent messages. --json prints the same numbers; --html FILE also writes a "
        "self-contained page with a scatter of shadow vs primary scores and a histogram of "
        "their difference. A tag without records exits 1 (docs/shadows.md).",
        "crossform shadow-report -t txn_fraud.production\n"
        "  crossform shadow-report -t txn_fraud.production --log shadows.jsonl --json\n"
        "  crossform shadow-report -t txn_fraud.production --html shadows.html",
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
            "score, check and describe those packages; keep them in a model store by id and "
            "deploy them to tags with a history, rollback and shadow models.",
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
