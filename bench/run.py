"""Every crossform format and every anchor on the same forests, in the same run: one table each.

For a small forest and the bench forest of the design, each exporter below gives one row
per runtime that scores what it wrote: file size (and the tree file alone), export time
(crossform also with its default 1000 rows of checks, which scikit-learn scores at export),
load time, throughput on 20,000 rows, single-row latency, and the largest difference from
scikit-learn's predict_proba. Ratios against each anchor follow, then the same figures go
to bench/results/latest.json. An exporter that is not installed, or that fails or refuses,
is a printed skip with its reason; the others still run.

A new crossform format needs no change here (formats come from crossform.formats(), runtimes
from each format's RUNTIMES); a new anchor is one more entry in ANCHORS.

Run: ./dev bench run [--forest small|bench] [--markdown] [--json PATH] [--show JSON]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NamedTuple, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _sklearn2pmml  # noqa: E402
from _forest import bench_forest, size_of  # noqa: E402

import crossform  # noqa: E402
import crossform.runtime  # noqa: E402
from crossform.exporters import labels, parse_label  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SCORE_ROWS = 20_000
LATENCY_CALLS = 200
WARM_UP_CALLS = 5
# An operation slower than this is timed once: skl2onnx on the bench forest takes ~16 s,
# and two more runs would add half a minute to tell apart differences well under its noise.
SLOW_S = 5.0
# Latency of a slow runtime is the median of fewer calls rather than minutes of waiting.
LATENCY_BUDGET_S = 15.0
PROBE_ROWS = 100
SCORING_BUDGET_S = 120.0  # per batch of rows; timed() may run it three times
MIN_LATENCY_CALLS = 20
VERSIONS = ("numpy", "scikit-learn", "joblib", "skl2onnx", "onnx", "onnxruntime", "sklearn2pmml")


class Skip(Exception):
    """A step that cannot run here; the message says why, for the printed skip line."""


class Scorer(NamedTuple):
    feed: Callable[[np.ndarray], Any]  # float64 rows -> the input this runtime takes (not timed)
    run: Callable[[Any], Any]  # that input -> probabilities, rows x classes


@dataclass(frozen=True)
class Exporter:
    """One row of the table (one per runtime): how to write, read back and score a forest."""

    name: str
    format: str
    anchor: bool
    unavailable: Callable[[], Optional[str]]
    runtimes: tuple = ()
    scorer: Optional[Callable[[str, Any, Any], Scorer]] = None  # (runtime, forest, loaded)
    export: Optional[Callable[[Any, Path], None]] = None  # (forest, path to write)
    export_checks: Optional[Callable[[Any, Path], None]] = None
    load: Optional[Callable[[Path], Any]] = None


# ---------------------------------------------------------------- crossform


def crossform_exporter(label: str) -> Exporter:
    """A format, or a variant of one ("onnx[float32]": the format's options)."""
    fmt, _, options = parse_label(label)

    def export(checks):
        def run(forest, out):
            crossform.save(
                crossform.from_sklearn(forest, checks=checks), out, format=fmt.NAME, overwrite=True, **options
            )

        return run

    def scorer(runtime, forest, package):
        reason = crossform.runtime.unavailable(runtime)
        if reason:
            raise Skip(reason)
        names = [field.name for field in package.inputs]
        # loaded once, like an ONNX session; a variant runs its own file (float32 inputs and scores)
        prepared = crossform.scorer(package, runtime=runtime, **options)
        return Scorer(
            feed=lambda rows: {n: np.ascontiguousarray(col) for n, col in zip(names, rows.T)},
            run=lambda columns: prepared(columns).values,
        )

    return Exporter(
        name=f"crossform {label}",
        format=label,
        anchor=False,
        unavailable=lambda: None,
        runtimes=tuple(fmt.RUNTIMES),
        scorer=scorer,
        export=export(0),
        export_checks=export(None),
        load=crossform.load,
    )


# ---------------------------------------------------------------- anchors


def missing(*modules: str) -> Optional[str]:
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    if absent:
        return f"{', '.join(absent)} not installed (pip install -c constraints.txt -e '.[bench]')"
    return None


def feature_names(forest) -> list:
    # the names crossform gives a forest fitted on a bare array, so every format sees the same fields
    return [f"x{i}" for i in range(forest.n_features_in_)]


def skl2onnx_export(forest, out):
    from skl2onnx import to_onnx

    # zipmap off: probabilities come out as one float tensor, as from predict_proba, rather
    # than a Python dict per row, which would time the unpacking instead of the trees
    model = to_onnx(forest, np.zeros((1, forest.n_features_in_), np.float32), options={"zipmap": False})
    out.write_bytes(model.SerializeToString())


def onnxruntime_session(path):
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnxruntime_scorer(runtime, forest, session):
    feed_name = session.get_inputs()[0].name
    return Scorer(
        feed=lambda rows: {feed_name: rows.astype(np.float32)},
        run=lambda feed: session.run(["probabilities"], feed)[0],
    )


def sklearn2pmml_unavailable():
    return missing("sklearn2pmml") or (None if shutil.which("java") else "needs Java 11 or newer on PATH")


def sklearn2pmml_export(forest, out):
    try:
        done = _sklearn2pmml.convert(forest, out, feature_names(forest))
    except _sklearn2pmml.Refused as error:
        raise Skip(f"refused: {error}") from None
    return Measured(done.seconds, done.where)


def jpmml_load(path):
    return _sklearn2pmml.jpmml_evaluator(Path(path).read_bytes())


def jpmml_scorer(runtime, forest, evaluator):
    reason = crossform.runtime.unavailable("jpmml")
    if reason:
        raise Skip(reason)
    n = forest.n_features_in_
    classes = list(forest.classes_)

    def run(rows):
        values, _, _ = _sklearn2pmml.jpmml_score(evaluator, feature_names(forest), [True] * n, rows.tolist(), classes)
        return values

    return Scorer(feed=lambda rows: rows, run=run)


def sklearn_scorer(runtime, forest, loaded):
    model = forest if loaded is None else loaded
    return Scorer(feed=lambda rows: rows, run=model.predict_proba)


def joblib_dump(forest, out):
    import joblib

    joblib.dump(forest, out)


def joblib_load(path):
    import joblib

    return joblib.load(path)


ANCHORS = (
    Exporter(
        name="skl2onnx",
        format="ONNX",
        anchor=True,
        unavailable=lambda: missing("skl2onnx", "onnx", "onnxruntime"),
        runtimes=("onnxruntime",),
        scorer=onnxruntime_scorer,
        export=skl2onnx_export,
        load=onnxruntime_session,
    ),
    # converted here or, when it refuses this scikit-learn, by a side interpreter (_sklearn2pmml)
    Exporter(
        name="sklearn2pmml",
        format="PMML",
        anchor=True,
        unavailable=sklearn2pmml_unavailable,
        runtimes=("jpmml",),
        scorer=jpmml_scorer,
        export=sklearn2pmml_export,
        load=jpmml_load,
    ),
    Exporter(
        name="joblib",
        format="pickle",
        anchor=True,
        unavailable=lambda: missing("joblib"),
        runtimes=("scikit-learn",),
        scorer=sklearn_scorer,
        export=joblib_dump,
        load=joblib_load,
    ),
    # the scoring baseline: nothing written or read, predict_proba on the fitted forest
    Exporter(
        name="scikit-learn",
        format="(in memory)",
        anchor=True,
        unavailable=lambda: None,
        runtimes=("scikit-learn",),
        scorer=sklearn_scorer,
    ),
)


def exporters() -> list:
    return [crossform_exporter(label) for name in crossform.formats() for label in labels(name)] + list(ANCHORS)


# ---------------------------------------------------------------- forests


def small_forest():
    """(forest, X): 10 trees of depth 8, about 1,200 nodes.

    Not cached, unlike the bench forest: the fit takes a fraction of a second and,
    with random_state fixed, gives the same trees every run.
    """
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=5000, n_features=20, random_state=0)
    return RandomForestClassifier(n_estimators=10, max_depth=8, random_state=0).fit(X, y), X


def large_forest():
    forest, X, _ = bench_forest()
    return forest, X


FORESTS = {
    "small": (
        "small forest",
        "RandomForestClassifier(n_estimators=10, max_depth=8) on "
        "make_classification(5000, 20 features, random_state=0)",
        small_forest,
    ),
    "bench": (
        "bench forest",
        "RandomForestClassifier(n_estimators=100) on make_classification(50000, "
        "20 features, n_informative=10, flip_y=0.1, random_state=0)",
        large_forest,
    ),
}


# ---------------------------------------------------------------- measuring


class Timing(NamedTuple):
    seconds: float
    runs: int
    result: Any


class Measured(NamedTuple):
    """What an operation returns when it timed itself where it ran (another process)."""

    seconds: float
    note: str  # how it ran, for the table's notes ("" when nothing to say)


def timed(fn: Callable[[], Any], repeat: int = 3) -> Timing:
    """Best of ``repeat`` runs, or one run when the first is slower than SLOW_S."""
    best, runs, result = float("inf"), 0, None
    while runs < repeat:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        best = min(best, result.seconds if isinstance(result, Measured) else elapsed)
        runs += 1
        if best > SLOW_S:
            break
    return Timing(best, runs, result)


def tree_file_bytes(path: Path) -> Optional[int]:
    """Size of the trees alone in a directory package: its *.bonsai files, else its largest file."""
    if not path.is_dir():
        return None
    files = [p for p in path.rglob("*") if p.is_file()]
    bonsai = [p.stat().st_size for p in files if p.suffix == ".bonsai"]
    return sum(bonsai) if bonsai else max((p.stat().st_size for p in files), default=0)


def scoring(scorer: Scorer, rows: np.ndarray, expected: np.ndarray) -> dict:
    # A runtime that walks nodes in Python (onnx's reference evaluator) would take
    # hours on the bench forest: time a small batch first and skip, saying so.
    probe = scorer.feed(rows[:PROBE_ROWS])

    def projected_s():
        start = time.perf_counter()
        scorer.run(probe)
        return (time.perf_counter() - start) * len(rows) / PROBE_ROWS

    projected = projected_s()
    if SCORING_BUDGET_S < projected < 10 * SCORING_BUDGET_S:
        projected = projected_s()  # warm: a JIT (JPMML's JVM) makes the cold run several times slower
    if projected > SCORING_BUDGET_S:
        raise Skip(
            f"too slow to measure here: {PROBE_ROWS} rows took {projected * PROBE_ROWS / len(rows):.1f} s, "
            f"so {len(rows):,} rows would take about {projected / 60:.0f} min"
        )
    feed = scorer.feed(rows)
    batch = timed(lambda: scorer.run(feed))
    got = np.asarray(batch.result, dtype=np.float64)
    singles = [scorer.feed(rows[i : i + 1]) for i in range(LATENCY_CALLS)]
    for one in singles[:WARM_UP_CALLS]:
        scorer.run(one)
    latencies = []
    for one in singles:
        start = time.perf_counter()
        scorer.run(one)
        latencies.append(time.perf_counter() - start)
        if len(latencies) >= MIN_LATENCY_CALLS and sum(latencies) > LATENCY_BUDGET_S:
            break
    return {
        "score_s": batch.seconds,
        "score_runs": batch.runs,
        "rows_per_s": len(rows) / batch.seconds,
        "latency_ms": statistics.median(latencies) * 1e3,
        "latency_calls": len(latencies),
        "identical_to_sklearn": bool(np.array_equal(got, expected, equal_nan=True)),
        # rows a runtime refuses (NaN) are not a difference in value; strict JSON has no NaN
        "max_abs_diff": float(np.nanmax(np.abs(got - expected), initial=0.0)),
    }


def _strict(value):
    """The report as strict JSON: a non-finite number (a ratio to a zero) becomes null."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def reason_of(error: Exception) -> str:
    return str(error) if isinstance(error, Skip) else f"{type(error).__name__}: {error}"


def attempt(what: str, skip: Callable[[str], None], fn: Callable, *args):
    """fn(*args), or None after printing why it failed.

    Any exception counts, whatever raised it: one broken or refusing tool costs its
    own step, never the rest of the run.
    """
    try:
        return fn(*args)
    except Exception as error:
        skip(f"{what}: {reason_of(error)}")
        return None


def measure(exporter: Exporter, forest, rows, expected, work: Path, skip: Callable[[str], None]) -> list:
    """The table rows of one exporter: one per runtime, or one without scores when none runs."""
    reason = exporter.unavailable()
    if reason:
        skip(f"{exporter.name}: {reason}")
        return []
    base = {"exporter": exporter.name, "format": exporter.format, "anchor": exporter.anchor}
    loaded = None
    if exporter.export:
        out = work / re.sub(r"\W+", "-", exporter.name)
        export = attempt(exporter.name, skip, timed, lambda: exporter.export(forest, out))
        if export is None:
            return []
        base.update(
            export_s=export.seconds, export_runs=export.runs, bytes=size_of(out), tree_file_bytes=tree_file_bytes(out)
        )
        if isinstance(export.result, Measured) and export.result.note:
            base["note"] = export.result.note
        if exporter.export_checks:
            checked = out.with_name(out.name + "-checks")
            export = attempt(
                f"{exporter.name} with checks", skip, timed, lambda: exporter.export_checks(forest, checked)
            )
            if export is not None:
                base.update(export_checks_s=export.seconds, bytes_with_checks=size_of(checked))
    if exporter.load:
        load = attempt(f"{exporter.name} load", skip, timed, lambda: exporter.load(out))
        if load is None:
            return [base]
        base.update(load_s=load.seconds, load_runs=load.runs)
        loaded = load.result

    def score_with(runtime):
        start = time.perf_counter()
        scorer = exporter.scorer(runtime, forest, loaded)
        prepare = {"prepare_s": time.perf_counter() - start}
        if "load_s" in base:  # from the file on disk to a runtime ready to score, wherever the work is
            prepare["ready_s"] = base["load_s"] + prepare["prepare_s"]
        return {**prepare, **scoring(scorer, rows, expected)}

    results = []
    for runtime in exporter.runtimes:
        numbers = attempt(f"{exporter.name} scored by {runtime}", skip, score_with, runtime)
        if numbers is not None:
            results.append({**base, "runtime": runtime, **numbers})
    return results or [{**base, "runtime": None}]


# (label, key in a row, key in the anchor's row): ratio = row / anchor
RATIOS = (
    ("size", "bytes", "bytes"),
    ("trees", "tree_file_bytes", "bytes"),
    ("export", "export_s", "export_s"),
    ("export+checks", "export_checks_s", "export_s"),
    ("load", "load_s", "load_s"),
    ("ready", "ready_s", "ready_s"),
    ("rows/s", "rows_per_s", "rows_per_s"),
    ("1-row", "latency_ms", "latency_ms"),
)


def ratios(rows: list) -> dict:
    """{anchor: [{exporter, runtime, <label>: ratio}]} for every row against each anchor's row."""
    out = {}
    for anchor in rows:
        if not anchor["anchor"] or anchor["exporter"] in out:
            continue
        against = []
        for row in rows:
            if row["exporter"] == anchor["exporter"]:
                continue
            pairs = {
                label: row[key] / anchor[base]
                for label, key, base in RATIOS
                if row.get(key) is not None and anchor.get(base)
            }
            if pairs:
                against.append({"exporter": row["exporter"], "runtime": row["runtime"], **pairs})
        if against:
            out[anchor["exporter"]] = against
    return out


# ---------------------------------------------------------------- printing


def sig(value: Optional[float], digits: int = 3) -> str:
    """``digits`` significant figures without exponents (29.4, 0.0912, 11,050); "-" for none."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - int(np.floor(np.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def size(n: Optional[int]) -> str:
    if n is None:
        return "-"
    return f"{sig(n / 1e6)} MB" if n >= 1e6 else f"{sig(n / 1e3)} kB"


def difference(row: dict) -> str:
    if "max_abs_diff" not in row:
        return "-"
    return "0 (identical)" if row["identical_to_sklearn"] else f"{row['max_abs_diff']:.1e}"


COLUMNS = (
    ("exporter", lambda r: r["exporter"]),
    ("format", lambda r: r["format"]),
    ("runtime", lambda r: r["runtime"] or "-"),
    ("size", lambda r: size(r.get("bytes"))),
    ("tree file", lambda r: size(r.get("tree_file_bytes"))),
    ("export s", lambda r: sig(r.get("export_s"))),
    ("export+checks s", lambda r: sig(r.get("export_checks_s"))),
    ("load s", lambda r: sig(r.get("load_s"))),
    ("prepare s", lambda r: sig(r.get("prepare_s"))),
    ("rows/s", lambda r: sig(r.get("rows_per_s"))),
    ("1-row ms", lambda r: sig(r.get("latency_ms"))),
    ("max abs diff vs sklearn", difference),
)


def render(header: list, body: list, markdown: bool, left: int) -> str:
    """Columns before ``left`` are names (left-aligned), the rest numbers (right-aligned)."""
    if markdown:
        rule = ["---" if i < left else "---:" for i in range(len(header))]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, rule, *body])
    widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(len(header))]
    lines = []
    for cells in [header, *body]:
        lines.append(
            "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        )
    return "\n".join(lines)


def print_forest(result: dict, markdown: bool) -> None:
    print(f"\n{result['title']}: {result['model']}")
    print(
        f"{result['trees']} trees, {result['nodes']:,} nodes; rows/s on {result['score_rows']:,} rows, "
        f"1-row = median of up to {LATENCY_CALLS} single-row calls; best of 3 (once when over {SLOW_S:g} s)\n"
    )
    print(render([h for h, _ in COLUMNS], [[f(r) for _, f in COLUMNS] for r in result["rows"]], markdown, left=3))
    notes = {r["exporter"]: r["note"] for r in result["rows"] if r.get("note")}
    for name, note in notes.items():
        print(f"\n{name}: {note}")
    for anchor, against in result["ratios"].items():
        labels = [label for label, _, _ in RATIOS if any(label in r for r in against)]
        print(f"\nvs {anchor} (this row / {anchor}; for rows/s higher is better, for the rest lower)\n")
        body = [
            [r["exporter"], r["runtime"] or "-", *(f"{sig(r[label], 2)}x" if label in r else "-" for label in labels)]
            for r in against
        ]
        print(render(["exporter", "runtime", *labels], body, markdown, left=2))


# ---------------------------------------------------------------- the run


def run_forest(key: str) -> dict:
    title, model, fit = FORESTS[key]
    forest, X = fit()
    # the forest's own rows, repeated when it has fewer than SCORE_ROWS
    rows = np.resize(X, (SCORE_ROWS, X.shape[1]))
    expected = forest.predict_proba(rows)
    results, skips = [], []

    def skip(message):
        print(f"skip {message}  [{title}]", flush=True)
        skips.append(message)

    with tempfile.TemporaryDirectory(prefix="crossform-bench-") as tmp:
        for exporter in exporters():
            results.extend(measure(exporter, forest, rows, expected, Path(tmp), skip))
    return {
        "title": title,
        "model": model,
        "trees": len(forest.estimators_),
        "nodes": int(sum(tree.tree_.node_count for tree in forest.estimators_)),
        "sklearn_n_jobs": forest.n_jobs,
        "score_rows": SCORE_ROWS,
        "rows": results,
        "skipped": skips,
        "ratios": ratios(results),
    }


def java_version() -> Optional[str]:
    if not shutil.which("java"):
        return None
    done = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return (done.stderr or done.stdout).splitlines()[0] if done.returncode == 0 else None


def source() -> dict:
    """The commit crossform was imported from, and its files that differ from that commit,
    so a result measured on work in progress says so."""
    root = Path(crossform.__file__).resolve().parent

    def git(*args):
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "modified": None}
    status = git("status", "--porcelain", "--", str(root))
    return {"commit": commit.strip(), "modified": [line[3:] for line in status.splitlines()]}


def pinned_cpus(how: str) -> list:
    """The CPUs this process may run on, with a note when they are more than one: a script whose
    figures are one CPU's says how to pin it (``how``, e.g. "taskset -c 1")."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) != 1:
        print(f"note: running on CPUs {cpus}; pin to one ({how}) for the one-CPU figures")
    return cpus


def environment() -> dict:
    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    cpu = None
    if Path("/proc/cpuinfo").exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            None,
        )
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "java": java_version(),
        # other work on the machine shows in every timing; this says how busy it was
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        # crossform's from the code imported: an editable install's metadata lags its source
        "versions": {"crossform": crossform.__version__, **{name: installed(name) for name in VERSIONS}},
        "crossform_source": source(),
    }


def warm_up() -> None:
    """Pay what a process pays once (importing the runtimes, starting the JVM) before anything
    is timed, so it is charged to no row: otherwise the first row to use a runtime carries it."""
    for module in ("onnx", "onnxruntime", "skl2onnx", "sklearn2pmml", "jpmml_evaluator"):
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    if crossform.runtime.unavailable("jpmml") is None:
        from sklearn.tree import DecisionTreeClassifier

        from crossform.exporters import pmml
        from crossform.runtime import jpmml

        # JPMML's first evaluator loads its classes (~1.4 s), whichever document it reads
        tiny = crossform.from_sklearn(DecisionTreeClassifier().fit([[0.0], [1.0]], [0, 1]), checks=0)
        jpmml.build_evaluator(pmml.dumps(tiny))


def print_header(report: dict) -> None:
    print(
        f"{report['date']}  Python {report['python']}  {report['cpu_count']} CPUs "
        f"(load {report.get('load_average_1m') or 0:.1f})  "
        + "  ".join(f"{k} {v}" for k, v in report["versions"].items() if v)
    )
    origin = report["crossform_source"]
    if origin["modified"]:
        print(f"crossform is {origin['commit'][:10]} with uncommitted changes to {', '.join(origin['modified'])}")


def print_skips(report: dict) -> None:
    skips = [f"{forest['title']}: {s}" for forest in report["forests"] for s in forest["skipped"]]
    if skips:
        print("\nskipped:\n" + "\n".join(f"  {s}" for s in skips))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forest", choices=[*FORESTS, "all"], default="all")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where the figures go (default {RESULTS})")
    parser.add_argument(
        "--show", type=Path, metavar="JSON", help="print the tables of an earlier results file instead of measuring"
    )
    args = parser.parse_args(argv)

    if args.show:
        report = json.loads(args.show.read_text())
        print_header(report)
        for forest in report["forests"]:
            print_forest(forest, args.markdown)
        print_skips(report)
        return 0
    warm_up()
    report = {**environment(), "forests": []}
    print_header(report)
    for key in FORESTS if args.forest == "all" else [args.forest]:
        report["forests"].append(run_forest(key))
        print_forest(report["forests"][-1], args.markdown)
    print_skips(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_strict(report), indent=1, allow_nan=False) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
