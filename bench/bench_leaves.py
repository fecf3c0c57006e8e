"""The reference evaluator's two leaf walks on the bench forest, next to scikit-learn, on one CPU.

``crossform.score(package, columns)`` (runtime "reference") with the compiled walk
(crossform.leafwalk) and with the numpy walk (evaluator.forest_leaves), and scikit-learn's
``predict_proba`` with n_jobs=1, in the same process, their timed calls interleaved so that
the other work on the machine weighs on all three alike; each figure is the best of the
repeats. The three must agree: the same leaves from both walks, the same bits as scikit-learn.
Run it pinned to one CPU (``taskset -c 0``); it says when it is not.

    taskset -c 0 ./dev bench leaves [--rows N] [--repeat R]

Writes bench/results/leaves.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402
from _forest import bench_forest  # noqa: E402

import crossform  # noqa: E402
from crossform import evaluator, leafwalk  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "leaves.json"


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000, help="rows scored per call (default 20000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls of each, interleaved (default 5)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results (default {RESULTS})")
    args = parser.parse_args(argv)
    cpus = bench_run.pinned_cpus("taskset -c 0")
    if not leafwalk.AVAILABLE:
        print("the compiled walk is not built (crossform._leaves): reinstall crossform with a C compiler")
        return 1

    forest, X, _ = bench_forest()
    forest.n_jobs = 1  # fitted with n_jobs=-1; one thread, as a pandas UDF in one Spark task
    rows = X[: args.rows]
    package = crossform.from_sklearn(forest, checks=0)
    columns = {f"x{i}": rows[:, i] for i in range(rows.shape[1])}

    def score_with(walk: str):
        def run():
            evaluator.LEAF_WALK = walk
            return crossform.score(package, columns, runtime="reference")

        return run

    layout = timed(lambda: evaluator._forest(package.model).compact)  # once per forest, then cached
    runs = {
        "crossform reference, compiled walk": score_with("compiled"),
        "crossform reference, numpy walk": score_with("numpy"),
        "scikit-learn predict_proba, n_jobs=1": lambda: forest.predict_proba(rows),
    }
    outputs = {name: run() for name, run in runs.items()}  # warm, and the outputs compared below
    compiled, numpy_walk = outputs["crossform reference, compiled walk"], outputs["crossform reference, numpy walk"]
    same_leaves = bool(np.array_equal(compiled.leaves, numpy_walk.leaves))
    same_bits = bool(np.array_equal(compiled.values, outputs["scikit-learn predict_proba, n_jobs=1"]))
    same_bits = same_bits and bool(np.array_equal(compiled.values, numpy_walk.values))
    seconds = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, run in runs.items():
            seconds[name].append(timed(run))
    evaluator.LEAF_WALK = "compiled"
    best = {name: min(times) for name, times in seconds.items()}
    rate = {name: len(rows) / s for name, s in best.items()}
    sklearn = rate["scikit-learn predict_proba, n_jobs=1"]
    numpy_rate = rate["crossform reference, numpy walk"]

    print(f"bench forest: {package.model.n_nodes} nodes, {len(package.model.trees)} trees; {len(rows)} rows a call")
    print(f"compiled layout made in {layout:.2f} s (once per forest)")
    print(f"same leaves from both walks: {same_leaves}; the same bits as scikit-learn: {same_bits}")
    for name in runs:
        print(
            f"{name:40} {rate[name] / 1e3:8.1f} k rows/s  {rate[name] / sklearn:5.2f}x scikit-learn"
            f"  {rate[name] / numpy_rate:5.2f}x the numpy walk"
        )
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": cpus,
        "load_average_1m": os.getloadavg()[0],
        "versions": {"crossform": crossform.__version__, "numpy": np.__version__, "scikit-learn": _sklearn_version()},
        "forest": {"trees": len(package.model.trees), "nodes": int(package.model.n_nodes)},
        "rows": len(rows),
        "repeat": args.repeat,
        "layout_seconds": layout,
        "same_leaves": same_leaves,
        "same_bits_as_sklearn": same_bits,
        "seconds": seconds,
        "rows_per_second": rate,
        "ratio_to_sklearn": {name: r / sklearn for name, r in rate.items()},
        "compiled_over_numpy": rate["crossform reference, compiled walk"] / numpy_rate,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0 if same_leaves and same_bits else 1


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


if __name__ == "__main__":
    sys.exit(main())
