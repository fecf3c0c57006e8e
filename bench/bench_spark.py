"""Batch scoring on Spark, local mode, 1 and 2 executor cores: crossform's two paths against what
a user would write otherwise, on the same rows in the same run. One table, ratios, goals.

Rows, each scoring the bench forest (bench/_forest.py) over the same DataFrame:

- **scikit-learn pandas UDF**: what a user writes without crossform. The fitted forest is
  broadcast (pickled by Spark, unpickled once per Python worker) and a pandas UDF calls
  ``predict_proba`` on each Arrow batch (``n_jobs=1``: Spark gives each task one core).
- **crossform Python path**: ``crossform.spark.score(df, package)``, mapInPandas with the reference
  evaluator in the Python workers.
- **crossform JVM path**: ``crossform.spark.score(df, package, runtime="jvm")``, the Java scorer in
  the executors' JVM, no Python worker.
- **crossform SQL function**: ``crossform.spark.register(spark, "forest", package)`` called as
  ``forest(struct(*))``: the Java scorer's row path, one row a call, in the executors' JVM. It
  has no goal; it scores ``--sql-rows`` rows (default 2 million), its rows/s being the figure.

The DataFrame: the 50,000 bench rows crossed with ``spark.range`` to ``--rows`` rows (default 10
million), generated in the JVM as the job runs (no file read), in 4 partitions per core. Each
measured job writes to Spark's ``noop`` sink, which evaluates every row and stores nothing; a
smaller job of the same path runs first (Python workers started, JIT warm). Each core count is a
separate process (a fresh Spark JVM) on the same machine. Before its rows count, each path's
outputs on one copy of the 50,000 rows are compared with scikit-learn's ``predict_proba``:
crossform's must be bit-equal.

Goals (batch scoring on Spark, in the project's plan): the Python path at least as fast as the
scikit-learn UDF, the JVM path at least 3x; at least 1.7x the rows/s from 1 to 2 cores.

Run: ./dev bench spark [--rows N] [--sql-rows N] [--cores 1 2] [--markdown] [--json PATH] [--show JSON]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402
from _forest import bench_forest  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "spark.json"
ROWS = 10_000_000
WARM_ROWS = 500_000
PARTITIONS_PER_CORE = 4
BENCH_ROWS = 50_000  # bench/_forest.py's rows: the table is whole copies of them
PATHS = ("scikit-learn pandas UDF", "crossform Python path", "crossform JVM path", "crossform SQL function")
SQL_ROWS = 2_000_000  # the SQL function scores a row a call, about a third of the JVM path's rows/s
ANCHOR = PATHS[0]
GOALS = {"crossform Python path": 1.0, "crossform JVM path": 3.0}
SCALING_GOAL = 1.7


# ---------------------------------------------------------------- one core count, in its own process


def session(cores: int):
    from pyspark.sql import SparkSession

    import crossform.spark

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(f"crossform bench, {cores} cores")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "4g")
        .config("spark.jars", ",".join(crossform.spark.jars()))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def table(spark, X: np.ndarray, rows: int, cores: int):
    """The bench rows, repeated ``rows // len(X)`` times: crossed in the JVM with a range."""
    import pandas as pd
    from pyspark.sql import functions as F

    base = spark.createDataFrame(pd.DataFrame({f"x{i}": X[:, i] for i in range(X.shape[1])}))
    copies = spark.range(0, rows // len(X), numPartitions=PARTITIONS_PER_CORE * cores)
    return copies.crossJoin(F.broadcast(base)).drop("id")


def sklearn_udf(spark, forest, columns: list):
    """A pandas UDF calling the scikit-learn forest, as a user would write it: the fitted model
    broadcast (pickled by Spark, unpickled once per Python worker) and ``predict_proba`` on each
    Arrow batch. ``n_jobs=1``: each Spark task has one core, as crossform's paths do."""
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    forest.n_jobs = 1
    shipped = spark.sparkContext.broadcast(forest)

    @pandas_udf("`probability(0)` double, `probability(1)` double")
    def predict(*cols: pd.Series) -> pd.DataFrame:
        proba = shipped.value.predict_proba(np.column_stack([c.to_numpy() for c in cols]))
        return pd.DataFrame({"probability(0)": proba[:, 0], "probability(1)": proba[:, 1]})

    def score(df):
        return df.select(predict(*[F.col(c) for c in columns]).alias("p")).select("p.*")

    return score


def measure_cores(cores: int, rows: int, sql_rows: int, package: str) -> dict:
    from pyspark.sql import functions as F

    import crossform.spark

    forest, X, _ = bench_forest()
    expected = forest.predict_proba(X)
    spark = session(cores)
    columns = [f"x{i}" for i in range(X.shape[1])]
    crossform.spark.register(spark, "forest", package)
    paths = {
        PATHS[0]: sklearn_udf(spark, forest, columns),
        PATHS[1]: lambda df: crossform.spark.score(df, package, keep=[]),
        PATHS[2]: lambda df: crossform.spark.score(df, package, keep=[], runtime="jvm"),
        PATHS[3]: lambda df: df.select(F.expr("forest(struct(*))").alias("s")).select("s.*"),
    }
    results = []
    for name, score in paths.items():
        measured = min(rows, sql_rows) if name == PATHS[3] else rows
        checked = check(spark, score, X, expected)
        score(table(spark, X, min(WARM_ROWS, measured), cores)).write.format("noop").mode("overwrite").save()
        start = time.perf_counter()
        score(table(spark, X, measured, cores)).write.format("noop").mode("overwrite").save()
        seconds = time.perf_counter() - start
        results.append(
            {
                "row": name,
                "cores": cores,
                "rows": measured,
                "seconds": seconds,
                "rows_per_s": measured / seconds,
                **checked,
            }
        )
        print(f"  {cores} core(s)  {name:<26} {measured / seconds:>12,.0f} rows/s  ({seconds:.1f} s)", flush=True)
    spark.stop()
    return {"cores": cores, "rows": results}


def check(spark, score, X: np.ndarray, expected: np.ndarray) -> dict:
    """The path's outputs on the 50,000 bench rows (in order: one partition) against scikit-learn's."""
    import pandas as pd

    base = spark.createDataFrame(pd.DataFrame({f"x{i}": X[:, i] for i in range(X.shape[1])})).coalesce(1)
    got = score(base).toPandas()
    values = got[["probability(0)", "probability(1)"]].to_numpy()
    errors = int(got["error"].notna().sum()) if "error" in got else 0
    identical = int(np.all(values == expected, axis=1).sum())
    return {
        "checked_rows": len(X),
        "rows_identical": identical,
        "rows_in_error": errors,
        "max_abs_diff": float(np.max(np.abs(values - expected))),
        "checked": identical == len(X) and errors == 0,
    }


# ---------------------------------------------------------------- the run


def run(rows: int, sql_rows: int, cores_list: list) -> dict:
    import crossform
    import crossform.spark

    reason = crossform.spark.jvm_unavailable()
    if reason:
        raise SystemExit(f"bench_spark: the JVM path cannot run: {reason}")
    forest, _, _ = bench_forest()
    report = {**bench_run.environment(), "forest": "bench", "runs": []}
    with tempfile.TemporaryDirectory() as work:
        package = str(Path(work) / "bench-forest")
        crossform.save(crossform.from_sklearn(forest, checks=0), package, format="stripe-json")
        for cores in cores_list:
            out = Path(work) / f"cores-{cores}.json"
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    str(cores),
                    "--rows",
                    str(rows),
                    "--sql-rows",
                    str(sql_rows),
                    "--package",
                    package,
                    "--json",
                    str(out),
                ],
                check=True,
            )
            report["runs"].append(json.loads(out.read_text()))
    report["goals"] = goals(report)
    return report


def goals(report: dict) -> list:
    lines = []
    by = {(r["cores"], r["row"]): r for run in report["runs"] for r in run["rows"]}
    for run in report["runs"]:
        cores = run["cores"]
        anchor = by[(cores, ANCHOR)]
        for name, goal in GOALS.items():
            row = by[(cores, name)]
            ratio = row["rows_per_s"] / anchor["rows_per_s"]
            met = ratio >= goal and row["checked"]
            lines.append(
                {"goal": f"{name}, {cores} core(s): {ratio:.2f}x the scikit-learn UDF's rows/s >= {goal}x", "met": met}
            )
    cores_run = sorted({run["cores"] for run in report["runs"]})
    if 1 in cores_run and 2 in cores_run:
        for name in GOALS:
            scaling = by[(2, name)]["rows_per_s"] / by[(1, name)]["rows_per_s"]
            lines.append(
                {
                    "goal": f"{name}: 2 cores give {scaling:.2f}x 1 core's rows/s >= {SCALING_GOAL}x",
                    "met": scaling >= SCALING_GOAL,
                }
            )
        for name, label in ((ANCHOR, "(anchor)"), (PATHS[3], "(no goal)")):
            if (2, name) in by and (1, name) in by:
                scaling = by[(2, name)]["rows_per_s"] / by[(1, name)]["rows_per_s"]
                lines.append({"goal": f"{label} {name}: 2 cores give {scaling:.2f}x 1 core's rows/s", "met": None})
    return lines


def print_report(report: dict, markdown: bool) -> None:
    bench_run.print_header(report)
    rows = [r for run in report["runs"] for r in run["rows"]]
    header = ["row", "cores", "rows", "rows/s", "x UDF", "checked against scikit-learn"]
    anchors = {r["cores"]: r["rows_per_s"] for r in rows if r["row"] == ANCHOR}
    lines = [
        [
            r["row"],
            str(r["cores"]),
            f"{r['rows']:,}",
            f"{r['rows_per_s']:,.0f}",
            f"{r['rows_per_s'] / anchors[r['cores']]:.2f}x",
            f"{r['rows_identical']:,} of {r['checked_rows']:,} bit-equal" + (", FAILED" if not r["checked"] else ""),
        ]
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(header, *lines)]
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        for line in [header, *lines]:
            print(
                "  ".join(
                    cell.rjust(w) if i in (1, 2, 3, 4) else cell.ljust(w)
                    for i, (cell, w) in enumerate(zip(line, widths))
                )
            )
    print()
    for goal in report["goals"]:
        verdict = "" if goal["met"] is None else ("PASS  " if goal["met"] else "MISS  ")
        print(f"{verdict}{goal['goal']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows per measured job (default {ROWS:,})")
    parser.add_argument(
        "--sql-rows", type=int, default=SQL_ROWS, help=f"rows for the SQL function's job (default {SQL_ROWS:,})"
    )
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2], help="executor cores to run with (default 1 2)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where the figures go (default {RESULTS})")
    parser.add_argument("--show", type=Path, metavar="JSON", help="print an earlier results file instead of measuring")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one core count, in this process
    parser.add_argument("--package", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.rows = max(1, round(args.rows / BENCH_ROWS)) * BENCH_ROWS  # whole copies of the bench rows
    args.sql_rows = max(1, round(args.sql_rows / BENCH_ROWS)) * BENCH_ROWS
    if args.one:
        args.json.write_text(json.dumps(measure_cores(args.one, args.rows, args.sql_rows, args.package)))
        return 0
    if args.show:
        print_report(json.loads(args.show.read_text()), args.markdown)
        return 0
    report = run(args.rows, args.sql_rows, args.cores)
    print()
    print_report(report, args.markdown)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(bench_run._strict(report), indent=1, allow_nan=False) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
