"""The jvm runtime against its anchors on the same 20,000 rows, in one run: one table, ratios, goals.

JVM rows, measured inside one JVM by bench/jvm/JvmBench.java (compiled here with javac against
crossform's jar, its Debian dependencies and, when jpmml_evaluator is installed, JPMML's jars):
crossform's Java scorer in the EXPANDED and COMPACT layouts (COMPACT a skip when the jar has
no CrossformPackage.Layout), JPMML-Evaluator on crossform's PMML and on sklearn2pmml's.
Python rows, in this process: onnxruntime on crossform's ONNX and on skl2onnx's, scikit-learn's
predict_proba, and crossform's jvm runtime through Python (crossform.scorer(..., runtime="jvm"),
the function crossform.score prepares per call). Each row: single-row latency p50 and p99
(after warm-up, one row per call) and rows/s on 20,000 rows. Every row's outputs are compared
with scikit-learn's predict_proba: crossform's must be bit-equal, JPMML's within crossform's
check tolerance; a row that fails its comparison cannot meet a goal.

Goals (issue "JVM scorer"): crossform jvm at least 20x JPMML's rows/s; its single-row p50 no
slower than onnxruntime on skl2onnx's graph (the fastest anchor).

Run: ./dev bench jvm [--forest small|bench] [--markdown] [--json PATH] [--show JSON]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _sklearn2pmml  # noqa: E402
import run as bench_run  # noqa: E402
from _forest import size_of  # noqa: E402

import crossform  # noqa: E402
import crossform.runtime  # noqa: E402
from crossform.checks import TOLERANCE  # noqa: E402
from crossform.runtime import jvm as jvm_runtime  # noqa: E402

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "jvm"
RESULTS = HERE / "results" / "jvm.json"
SCORE_ROWS = 20_000
SINGLE_CALLS = 5_000  # per row of the table, fewer when a row passes SINGLE_BUDGET_S
SINGLE_BUDGET_S = 5.0
WARM_UP_CALLS = 2_000  # the JIT compiles a scorer's hot path in the first thousand calls or so
WARM_UP_S = 1.0  # and at least this long: 2,000 calls of a 20 us row are over before C2 is done
SLOW_S = 5.0  # a batch slower than this is timed once
JPMML_ROWS_GOAL = 20.0
# skl2onnx scores float32 rows into float32 probabilities: a few float32 ulps of 1 from scikit-learn
FLOAT32_ABSOLUTE = 1e-6
JVM_ROWS = ("crossform jvm EXPANDED", "crossform jvm COMPACT")
JPMML_ANCHORS = ("JPMML on crossform's PMML", "JPMML on sklearn2pmml's PMML")
FASTEST_ANCHOR = "onnxruntime on skl2onnx's ONNX"


class Skip(Exception):
    """A row that cannot run here; the message says why."""


def jpmml_jars() -> tuple[list, Optional[str]]:
    reason = crossform.runtime.unavailable("jpmml")
    if reason:
        return [], reason
    from crossform.runtime import jpmml

    return jpmml._jars(), None


# ---------------------------------------------------------------- the JVM rows


def run_harness(config: dict, work: Path) -> dict:
    """Compile bench/jvm against crossform's jar (and JPMML's jars when installed), run it once."""
    reason = jvm_runtime.unavailable()
    if reason:
        raise Skip(reason)
    jars, _ = jpmml_jars()
    classes = work / "harness"
    classes.mkdir()
    ours = os.pathsep.join(jvm_runtime.classpath())
    # ours first: JPMML ships its own jackson-annotations, which the Debian Jackson must not see first
    classpath = os.pathsep.join([ours, *jars])
    sources = [HARNESS / "JvmBench.java"] + ([HARNESS / "JpmmlScorer.java"] if jars else [])
    javac = shutil.which("javac")
    if javac is None:
        raise Skip("no javac found (a JDK 17: Debian default-jdk-headless)")
    subprocess.run(
        [
            javac,
            "--release",
            "17",
            "-nowarn",
            "-encoding",
            "UTF-8",
            "-d",
            str(classes),
            "-cp",
            classpath,
            *map(str, sources),
        ],
        check=True,
    )
    (work / "config.json").write_text(json.dumps(config))
    out = work / "jvm-rows.json"
    subprocess.run(
        [
            jvm_runtime._java(),
            "-Djava.awt.headless=true",
            *_sklearn2pmml.NO_PHONE_HOME,
            "-cp",
            os.pathsep.join([str(classes), classpath]),
            "JvmBench",
            str(work / "config.json"),
            str(out),
        ],
        check=True,
    )
    return json.loads(out.read_text())


# ---------------------------------------------------------------- the Python rows


def timed_batch(run: Callable[[], Any]) -> tuple:
    """(best seconds, runs, last result) after one warm-up run; one timed run when it is slow."""
    result = run()
    best, runs = float("inf"), 0
    while runs < 3:
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
        runs += 1
        if best > SLOW_S:
            break
    return best, runs, result


def latencies(one: Callable[[int], Any], n: int) -> tuple:
    """(p50 us, p99 us, calls, results) of one row per call, rows in turn, after warm-up calls."""
    start = time.perf_counter()
    deadline = start + SINGLE_BUDGET_S
    i = 0
    while i < WARM_UP_CALLS or time.perf_counter() - start < WARM_UP_S:  # as JvmBench warms its rows
        one(i % n)
        i += 1
        if time.perf_counter() > deadline:
            break
    deadline = time.perf_counter() + SINGLE_BUDGET_S
    took, got = [], []
    for i in range(SINGLE_CALLS):
        start = time.perf_counter()
        result = one(i % n)
        took.append(time.perf_counter() - start)
        got.append(result)
        if i >= 100 and time.perf_counter() > deadline:
            break
    took.sort()
    p = lambda q: took[int(q * (len(took) - 1))] * 1e6  # noqa: E731
    return p(0.50), p(0.99), len(took), got


def compare(values: np.ndarray, expected: np.ndarray, tolerance: float, absolute: float = 0.0) -> dict:
    """Bit-equal rows, rows within ``tolerance`` relative (or ``absolute``), the largest difference."""
    values = np.asarray(values, dtype=np.float64)
    same = (values == expected) | (np.isnan(values) & np.isnan(expected))
    near = same | (np.abs(values - expected) <= np.maximum(tolerance * np.abs(expected), absolute))
    return {
        "rows_identical": int(same.all(axis=1).sum()),
        "rows_within_tolerance": int(near.all(axis=1).sum()),
        "tolerance": tolerance,
        "absolute": absolute,
        "max_abs_diff": float(np.nanmax(np.abs(values - expected), initial=0.0)),
        "checked": bool(near.all()),
    }


def python_row(
    name: str,
    feed: Callable,
    run: Callable,
    rows: np.ndarray,
    expected: np.ndarray,
    tolerance: float,
    absolute: float = 0.0,
) -> dict:
    """A row scored in this process: ``feed(rows)`` builds the input (not timed), ``run`` scores it."""
    batch = feed(rows)
    seconds, runs, values = timed_batch(lambda: run(batch))
    singles = [feed(rows[i : i + 1]) for i in range(min(len(rows), SINGLE_CALLS))]
    p50, p99, calls, got = latencies(lambda i: run(singles[i]), len(singles))
    single_values = np.vstack([np.asarray(g, dtype=np.float64) for g in got])
    checked = compare(values, expected, tolerance, absolute)
    single = compare(single_values, expected[: len(got)], tolerance, absolute)
    return {
        "row": name,
        "where": "Python",
        "batch_s": seconds,
        "batch_runs": runs,
        "rows_per_s": len(rows) / seconds,
        "single_calls": calls,
        "p50_us": p50,
        "p99_us": p99,
        "single_rows_differing": len(got) - single["rows_within_tolerance"],
        **checked,
        "checked": checked["checked"] and single["checked"],
    }


def columns_of(names: list) -> Callable:
    return lambda rows: {n: np.ascontiguousarray(col) for n, col in zip(names, rows.T)}


# ---------------------------------------------------------------- one forest


def run_forest(key: str) -> dict:
    title, model, fit = bench_run.FORESTS[key]
    forest, X = fit()
    rows = np.resize(X, (SCORE_ROWS, X.shape[1])).astype(np.float64)  # the forest's own rows, as run.py
    expected = forest.predict_proba(rows)
    names = bench_run.feature_names(forest)
    results: list = []
    sizes: dict = {}
    with tempfile.TemporaryDirectory(prefix="crossform-bench-jvm-") as tmp:
        work = Path(tmp)
        package = crossform.from_sklearn(forest, checks=0)
        outputs = list(package.outputs)
        paths = {fmt: work / f"crossform-{fmt}" for fmt in ("stripe-json", "pmml", "onnx")}
        for fmt, path in paths.items():
            crossform.save(package, path, format=fmt)
            sizes[f"crossform {fmt}"] = size_of(path)
        pmml_entries = [{"name": JPMML_ANCHORS[0], "path": str(paths["pmml"]), "outputs": outputs}]
        s2p = work / "sklearn2pmml.pmml"
        try:
            conversion = _sklearn2pmml.convert(forest, s2p, names)
            sizes["sklearn2pmml"] = size_of(s2p)
            pmml_entries.append({"name": JPMML_ANCHORS[1], "path": str(s2p), "outputs": [], "note": conversion.where})
        except Exception as exc:  # Refused, or the side interpreter failing: a skip line, the run goes on
            pmml_entries.append({"name": JPMML_ANCHORS[1], "skip": f"sklearn2pmml did not convert: {exc}"})
        _, jpmml_reason = jpmml_jars()
        for entry in pmml_entries:
            if jpmml_reason and "skip" not in entry:
                entry["skip"] = jpmml_reason
        rows_file, expected_file = work / "rows.f64", work / "expected.f64"
        rows.astype("<f8").tofile(rows_file)
        expected.astype("<f8").tofile(expected_file)
        config = {
            "features": names,
            "n_rows": len(rows),
            "outputs": expected.shape[1],
            "rows": str(rows_file),
            "expected": str(expected_file),
            "crossform": str(paths["stripe-json"]),
            "pmml": pmml_entries,
            "tolerance": TOLERANCE,
            "single_calls": SINGLE_CALLS,
            "single_budget_s": SINGLE_BUDGET_S,
            "warm_up_calls": WARM_UP_CALLS,
            "warm_up_s": WARM_UP_S,
            "slow_s": SLOW_S,
        }
        harness: dict = {}
        try:
            harness = run_harness(config, work)
            for row in harness["rows"]:
                row["where"] = "JVM"
                results.append(row)
        except (Skip, subprocess.CalledProcessError, OSError) as exc:
            for name in (*JVM_ROWS, *JPMML_ANCHORS):
                results.append({"row": name, "skip": f"the JVM harness did not run: {exc}"})

        def attempt(name: str, make: Callable[[], dict]) -> None:
            try:
                results.append(make())
            except Exception as exc:
                results.append(
                    {"row": name, "skip": f"{type(exc).__name__}: {exc}" if not isinstance(exc, Skip) else str(exc)}
                )

        def through_python():
            reason = crossform.runtime.unavailable("jvm")
            if reason:
                raise Skip(reason)
            prepared = crossform.scorer(package, runtime="jvm")
            row = python_row(
                "crossform jvm runtime through Python",
                columns_of(names),
                lambda cols: prepared(cols).values,
                rows,
                expected,
                0.0,
            )
            # the layout the runtime loads trees in, where the runtime has a choice (CROSSFORM_JVM_LAYOUT)
            return {**row, "where": f"Python ({getattr(jvm_runtime, 'LAYOUT', 'expanded')})"}

        def onnx_row(name, path, crossform_file):
            missing = bench_run.missing("onnxruntime") or (None if crossform_file else bench_run.missing("skl2onnx"))
            if missing:
                raise Skip(missing)
            if crossform_file:
                prepared = crossform.scorer(crossform.load(path), runtime="onnxruntime")
                return python_row(name, columns_of(names), lambda cols: prepared(cols).values, rows, expected, 0.0)
            session = bench_run.onnxruntime_session(path)
            scorer = bench_run.onnxruntime_scorer("onnxruntime", forest, session)
            # float32 inputs and probabilities: held to float32's precision, never to bit-equality
            return python_row(name, scorer.feed, scorer.run, rows, expected, 0.0, FLOAT32_ABSOLUTE)

        def skl2onnx_row():
            path = work / "skl2onnx.onnx"
            if bench_run.missing("skl2onnx", "onnx"):
                raise Skip(bench_run.missing("skl2onnx", "onnx"))
            bench_run.skl2onnx_export(forest, path)
            sizes["skl2onnx"] = size_of(path)
            return onnx_row(FASTEST_ANCHOR, path, False)

        attempt("crossform jvm runtime through Python", through_python)
        attempt(
            "onnxruntime on crossform's ONNX", lambda: onnx_row("onnxruntime on crossform's ONNX", paths["onnx"], True)
        )
        attempt(FASTEST_ANCHOR, skl2onnx_row)
        attempt(
            "scikit-learn predict_proba",
            lambda: python_row("scikit-learn predict_proba", lambda r: r, forest.predict_proba, rows, expected, 0.0),
        )
    return {
        "title": title,
        "model": model,
        "trees": len(forest.estimators_),
        "nodes": int(sum(t.tree_.node_count for t in forest.estimators_)),
        "sklearn_n_jobs": forest.n_jobs,
        "score_rows": SCORE_ROWS,
        "sizes": sizes,
        "jvm": {k: v for k, v in harness.items() if k != "rows"},
        "rows": results,
        "goals": goals(results),
    }


# ---------------------------------------------------------------- goals and printing


def goals(results: list) -> list:
    """[(verdict, text)]: PASS, FAIL, or skip when a side of the comparison is missing."""
    by = {r["row"]: r for r in results if "skip" not in r}
    out = []

    def judged(row):
        return row.get("checked", False)

    for ours in (*JVM_ROWS, "crossform jvm runtime through Python"):
        row = by.get(ours)
        for anchor in JPMML_ANCHORS if ours in JVM_ROWS else ():
            a = by.get(anchor)
            if row is None or a is None:
                out.append(("skip", f"{ours} rows/s >= {JPMML_ROWS_GOAL:g}x {anchor}: not both measured"))
                continue
            ratio = row["rows_per_s"] / a["rows_per_s"]
            ok = ratio >= JPMML_ROWS_GOAL and judged(row) and judged(a)
            out.append(("PASS" if ok else "FAIL", f"{ours} {ratio:,.1f}x {anchor}'s rows/s >= {JPMML_ROWS_GOAL:g}x"))
        a = by.get(FASTEST_ANCHOR)
        if row is None or a is None:
            out.append(("skip", f"{ours} single-row p50 <= {FASTEST_ANCHOR}'s: not both measured"))
            continue
        ok = row["p50_us"] <= a["p50_us"] and judged(row)
        out.append(
            (
                "PASS" if ok else "FAIL",
                f"{ours} single-row p50 {row['p50_us']:,.1f} us <= {FASTEST_ANCHOR}'s {a['p50_us']:,.1f} us "
                f"({row['p50_us'] / a['p50_us']:.2f}x)",
            )
        )
    return out


def check_text(row: dict, n: int) -> str:
    if row["rows_identical"] == n:
        return "bit-equal"
    tol, absolute = float(row["tolerance"]), float(row.get("absolute", 0.0))
    bound = f" (within {tol:g} relative)" if tol else f" (within {absolute:g})" if absolute else ""
    ok = "" if row["checked"] else " WRONG"
    return f"max diff {float(row['max_abs_diff']):.1e}{bound}{ok}"


SHORT = {
    JPMML_ANCHORS[0]: "JPMML, our PMML",
    JPMML_ANCHORS[1]: "JPMML, sklearn2pmml's",
    "onnxruntime on crossform's ONNX": "ort, our ONNX",
    FASTEST_ANCHOR: "ort, skl2onnx's",
    "scikit-learn predict_proba": "scikit-learn",
}


def tables(forest: dict) -> list:
    """[(title, lines)]: the figures, then rows/s and p50 over each anchor measured."""
    measured = [r for r in forest["rows"] if "skip" not in r]
    figures = [["row", "where", "rows/s", "p50 us", "p99 us", "single calls", "vs scikit-learn"]]
    for r in measured:
        figures.append(
            [
                r["row"],
                r["where"],
                bench_run.sig(r["rows_per_s"]),
                bench_run.sig(r["p50_us"]),
                bench_run.sig(r["p99_us"]),
                f"{r['single_calls']:,}",
                check_text(r, forest["score_rows"]),
            ]
        )
    anchors = [r for r in measured if r["row"] in SHORT]
    out = [("", figures)]
    for title, key in (
        ("rows/s over each anchor's (higher is faster)", "rows_per_s"),
        ("single-row p50 over each anchor's (lower is faster)", "p50_us"),
    ):
        lines = [["row", *(SHORT[a["row"]] for a in anchors)]]
        for r in measured:
            lines.append([r["row"], *(f"{bench_run.sig(r[key] / a[key], 2)}x" for a in anchors)])
        out.append((title, lines))
    return out


def print_lines(lines: list, markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(lines[0]) + " |")
        print(
            "| "
            + " | ".join("---" if i == 0 or lines[0][i] == "where" else "---:" for i in range(len(lines[0])))
            + " |"
        )
        for cells in lines[1:]:
            print("| " + " | ".join(cells) + " |")
        return
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for cells in lines:
        print(
            "  ".join(
                c.ljust(w) if i == 0 or lines[0][i] == "where" else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths))
            )
        )


def print_forest(forest: dict, markdown: bool) -> None:
    print(f"\n{forest['title']} ({forest['trees']} trees, {forest['nodes']:,} nodes), {forest['score_rows']:,} rows:")
    for title, lines in tables(forest):
        if title:
            print(f"\n{title}:")
        print_lines(lines, markdown)
    for r in forest["rows"]:
        if "skip" in r:
            print(f"skip {r['row']}: {r['skip']}")
    print()
    for verdict, text in forest["goals"]:
        print(f"    {verdict} {text}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forest", choices=[*bench_run.FORESTS, "all"], default="bench")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where the figures go (default {RESULTS})")
    parser.add_argument("--show", type=Path, metavar="JSON", help="print an earlier results file instead of measuring")
    args = parser.parse_args(argv)
    if args.show:
        report = json.loads(args.show.read_text())
        bench_run.print_header(report)
        for forest in report["forests"]:
            print_forest(forest, args.markdown)
        return 0
    bench_run.warm_up()
    report = {**bench_run.environment(), "jvm_runtime": _jvm_version(), "forests": []}
    bench_run.print_header(report)
    for key in bench_run.FORESTS if args.forest == "all" else [args.forest]:
        forest = run_forest(key)
        report["forests"].append(forest)
        print_forest(forest, args.markdown)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(bench_run._strict(report), indent=1, allow_nan=False) + "\n")
    print(f"\nwrote {args.json}")
    return 0


def _jvm_version() -> Optional[str]:
    if crossform.runtime.unavailable("jvm"):
        return None
    return jvm_runtime.version()


if __name__ == "__main__":
    sys.exit(main())
