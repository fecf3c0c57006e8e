"""``crossform spark-score``: score a Parquet or CSV table on Spark with a package path, id or tag."""

from __future__ import annotations

import argparse
import os
import sys

from ._common import EXIT_FAILED, EXIT_OK, CommandError, UsageError, _help_sections, _out, _print_json, _table
from .deploy import _registry_option, _store_option

SPARK_FORMATS = ("parquet", "csv")
APP_NAME = "crossform spark-score"


def run_spark_score(args: argparse.Namespace) -> int:
    fmt = args.format or _format_of(args.input)
    try:
        from pyspark.errors import AnalysisException
    except ImportError as exc:
        raise CommandError(
            f"spark-score needs pyspark ({exc}); install it with: pip install 'crossform[spark]'"
        ) from None
    from crossform import spark as crossform_spark

    session, started = _session(args.master, jars=args.runtime == "jvm")
    try:
        try:
            table = _read(session, fmt, args.input)
        except AnalysisException as exc:
            raise CommandError(f"cannot read {args.input} as {fmt}: {_first_line(exc)}") from None
        # resolved and verified here, before any job: a refusal leaves no output behind
        scored = crossform_spark.score(
            table,
            args.package,
            store=args.store,
            registry=args.registry,
            runtime=args.runtime,
            keep=args.keep,
            csv_cells=fmt == "csv",
        )
        resolved = crossform_spark.resolved_of(scored)
        writer = scored.write.mode("overwrite" if args.overwrite else "errorifexists")
        try:
            if fmt == "csv":
                writer.options(header=True, escape='"').csv(args.output)
            else:
                writer.parquet(args.output)
        except AnalysisException as exc:
            raise CommandError(f"cannot write {args.output}: {_first_line(exc)}") from None
        rows, failures = _counts(session, fmt, args.output)
    finally:
        if started:
            session.stop()
    summary = {
        "input": args.input,
        "output": args.output,
        "format": fmt,
        "rows": rows,
        "rows_in_error": failures,
        "package": resolved,
    }
    if args.json:
        _print_json(summary)
    else:
        shown = [("rows", f"{rows:,}"), ("rows in error", f"{failures:,}"), ("id", resolved["id"])]
        if resolved["tag"] is not None:
            shown.append(("tag", resolved["tag"]))
        shown += [("package format", resolved["format"]), ("from", resolved["source"]), ("output", args.output)]
        for line in _table(["", ""], shown)[1:]:
            _out(line)
    return EXIT_FAILED if args.fail_on_row_error and failures else EXIT_OK


def _format_of(path: str) -> str:
    ending = path.rstrip("/").rsplit(".", 1)[-1].lower()
    if ending in SPARK_FORMATS:
        return ending
    raise UsageError(f"cannot tell the format of {path} from its extension; give --format parquet|csv")


def _session(master: str | None, jars: bool = False) -> tuple:
    """(the SparkSession, whether this command started it). An active session (crossform.spark used
    from a running job) is used as it is; otherwise the master is --master, else Spark's own
    configuration (spark-submit's --master, spark-defaults.conf), so nothing here assumes local mode.
    ``jars``: start Spark with crossform's jars (the jvm runtime), unless spark-submit started its
    JVM already (then its --jars must name them: crossform.spark.jars())."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    builder = SparkSession.builder.appName(APP_NAME)
    if jars and not os.environ.get("PYSPARK_GATEWAY_PORT"):  # spark-submit sets it: its JVM has its classpath
        from crossform import spark as crossform_spark

        builder = builder.config("spark.jars", ",".join(crossform_spark.jars()))
    if master:
        builder = builder.master(master)
        if master.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
            # local executors run on this machine: give them this interpreter, which has crossform.
            # pyspark reads PYSPARK_PYTHON when the context starts (spark.pyspark.python is spark-submit's)
            os.environ["PYSPARK_PYTHON"] = sys.executable
    return builder.getOrCreate(), True


def _read(session, fmt: str, path: str):
    if fmt == "csv":
        # every cell as text: crossform.spark reads numbers with crossform score's CSV rules
        return session.read.options(header=True, inferSchema=False, escape='"').csv(path)
    return session.read.parquet(path)


def _counts(session, fmt: str, path: str) -> tuple:
    """(rows, rows in error) of what was written, read back from the output itself."""
    from pyspark.sql import functions as F

    written = _read(session, fmt, path)
    row = written.agg(F.count(F.lit(1)).alias("rows"), F.count("error").alias("errors")).first()
    return int(row["rows"]), int(row["errors"])


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _spark_score_help() -> str:
    paragraphs = [
        (
            "package",
            "PATH, ID or TAG: an existing package path (sent to the executors with the job), a package id "
            "sha256.<base32> in --store, or a tag in --registry, looked up once when the job starts and "
            "then scored by id for every row, even if the tag is deployed elsewhere meanwhile. The bytes "
            "are checked against the id on the driver before any job runs (a changed stored object is "
            "refused, and no output is written) and again on each executor when it reads them.",
        ),
        (
            "input and output",
            "Parquet or CSV, from the extension or --format; the output is written in the same format "
            "as a Spark output folder (part files). CSV is read with a header row, every cell as text, "
            "numbers read by crossform score's rules (docs/tabular-input.md; a quoted cell may not span "
            'lines here) and written with "" escaping quotes. The output holds the --keep columns (default: '
            'all input columns), one double column per model output, then "error": null when the row '
            "scored; when it did not, the outputs are null and error says why.",
        ),
        (
            "summary",
            "read back from the output: the rows, the rows in error, the id scored (and the tag it came "
            "from), the package format and where it was read from; --json prints them as one object "
            "{input, output, format, rows, rows_in_error, package: {kind, given, tag, id, format, source}}. "
            "Exit 0 whatever the row errors unless --fail-on-row-error (exit 1 when any row is in error), "
            "as crossform score.",
        ),
        (
            "runtime",
            "Where the executors score. reference (the default), onnxruntime, jpmml: in Python workers, "
            "mapInPandas over Arrow batches. jvm: in the executors' own JVM with crossform's Java scorer "
            "(jvm/spark/), no Python worker; it reads stripe-json and protobuf packages and needs "
            "crossform's jars on Spark's classpath: this command adds them to a session it starts; under "
            'spark-submit give them to --jars (python -c "import crossform.spark as s; '
            "print(','.join(s.jars()))\"). Both give the same values and the same rows in error.",
        ),
        (
            "spark",
            "The master is --master, else Spark's own configuration: under spark-submit its --master "
            "and --conf. With a local master the executors use this Python (unless PYSPARK_PYTHON is "
            "set); on a cluster they need crossform and the runtime installed. Needs the spark extra: "
            "pip install 'crossform[spark]' and Java 17+.",
        ),
    ]
    return _help_sections(paragraphs)


def spark_score_arguments(parser: argparse.ArgumentParser) -> None:
    import crossform

    parser.epilog = _spark_score_help() + "\n" + (parser.epilog or "")
    parser.add_argument("--input", required=True, metavar="PATH", help="the rows: a Parquet or CSV file or folder")
    parser.add_argument("--output", required=True, metavar="PATH", help="a new folder for the scored rows")
    parser.add_argument(
        "--package", required=True, metavar="ID|TAG|PATH", help="what to score with (see package below)"
    )
    _store_option(parser)
    _registry_option(parser)
    parser.add_argument("--format", choices=SPARK_FORMATS, help="of the input and output (default: from --input)")
    parser.add_argument(
        "--master", metavar="URL", help="the Spark master, e.g. local[2] (default: Spark's configuration)"
    )
    parser.add_argument(
        "--keep",
        nargs="+",
        action="extend",
        metavar="COLUMN",
        help="the input columns copied to the output, e.g. an id; --keep a b or --keep a --keep b "
        "(default: every input column)",
    )
    parser.add_argument(
        "--runtime",
        default="reference",
        choices=crossform.runtimes(),
        help="the runtime the executors score in; jvm scores in Spark's own JVM (see runtime below; "
        "default: %(default)s)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    parser.add_argument(
        "--fail-on-row-error", action="store_true", help="exit 1 when any row could not be scored (still written)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


__all__ = ["run_spark_score", "spark_score_arguments"]
