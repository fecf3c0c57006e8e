"""How fast this CPU can walk the bench forest at all, next to scikit-learn, on one CPU.

The JVM path on Spark scores at the speed of the Java scorer's block walk (jvm/README.md).
This script asks what the same walk gives without the JVM, and what vector gathers add: the
block walk written in C (bench/walk_limit.c, "scalar": 8 rows in step, as Tree.leaves) and the
same leaves found with AVX-512 gathers ("avx512": 8 rows a vector, 4 vectors in step, where
the CPU has AVX-512), each with the fold of the leaf values per row, against scikit-learn's
``predict_proba`` with n_jobs=1 on the same rows in the same run. Every leaf of every row and
tree is checked against scikit-learn's ``apply``. The trees are crossform's own (its package's
thresholds, compared in float64), laid out as the Java scorer's EXPANDED layout lays them out.

It also prints what 3x the Spark anchor needs, from the last ``./dev bench spark``
(bench/results/spark.json: the scikit-learn pandas UDF on one core), so a reader can see how
far from it even these walks are before any Spark cost. Run it pinned to one CPU:

    taskset -c 1 ./dev bench walk_limit [--block-rows N] [--repeat R]

Needs gcc. Writes bench/results/walk-limit.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402
from _forest import bench_forest  # noqa: E402

import crossform  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "walk-limit.json"
SPARK_RESULTS = HERE / "results" / "spark.json"
FEATURES = 20  # walk_limit.c's FEATURES: the bench forest's inputs
LABELS = {"scalar": "C, 8 rows in step (Tree.leaves)", "avx512": "C, AVX-512 gathers, 32 rows in step"}


def preorder(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The nodes of one tree in preorder (root, left subtree, right subtree)."""
    order, stack = [], [0]
    while stack:
        node = stack.pop()
        order.append(node)
        if left[node] >= 0:
            stack.append(int(right[node]))
            stack.append(int(left[node]))
    return np.array(order, dtype=np.int64)


def write_inputs(model, rows: np.ndarray, folder: Path) -> list:
    """walk_limit.c's inputs (its header comment); returns each tree's node id -> preorder position."""
    words, values, offsets, positions = [], [], [0], []
    for tree in model.trees:
        order = preorder(tree.left, tree.right)
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        leaf = tree.left[order] < 0
        skip = np.where(leaf, -1, position[tree.right[order]] - (np.arange(len(order)) + 1))
        feature = np.where(leaf, -1, tree.feature[order]).astype(np.int64)
        pair = np.empty((len(order), 2), dtype=np.int64)
        pair[:, 0] = tree.threshold[order].astype("<f8").view(np.int64)
        pair[:, 1] = (feature << 32) | (skip & 0xFFFFFFFF)
        words.append(pair.ravel())
        values.append(np.asarray(tree.value, dtype="<f8").reshape(len(order), -1)[order].ravel())
        offsets.append(offsets[-1] + len(order))
        positions.append(position)
    np.concatenate(words).astype("<i8").tofile(folder / "nodes.bin")
    np.concatenate(values).astype("<f8").tofile(folder / "values.bin")
    np.array(offsets, dtype="<i8").tofile(folder / "offsets.bin")
    np.ascontiguousarray(rows, dtype="<f8").tofile(folder / "rows.bin")
    return positions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--block-rows", type=int, default=4096, help="rows a block, each tree read once a block (default 4096)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the rows, the best counts (default 5)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results (default {RESULTS})")
    args = parser.parse_args(argv)
    cpus = bench_run.pinned_cpus("taskset -c 1")
    compiler = shutil.which("gcc")
    if compiler is None:
        print("bench_walk_limit: gcc is not installed; it compiles bench/walk_limit.c")
        return 1

    forest, X, _ = bench_forest()
    forest.n_jobs = 1
    model = crossform.from_sklearn(forest, checks=0).model
    if len(model.features) != FEATURES:
        print(f"bench_walk_limit: walk_limit.c is built for {FEATURES} features; the forest has {len(model.features)}")
        return 1
    sklearn_leaves = np.stack([tree.apply(X.astype(np.float32)) for tree in forest.estimators_], axis=1)

    results, ok = [], True
    with tempfile.TemporaryDirectory(prefix="crossform-walk-limit-") as tmp:
        folder = Path(tmp)
        positions = write_inputs(model, X, folder)
        expected = np.stack([positions[t][sklearn_leaves[:, t]] for t in range(len(positions))], axis=1)
        binary = folder / "walk_limit"
        subprocess.run([compiler, "-O2", "-march=native", "-o", str(binary), str(HERE / "walk_limit.c")], check=True)
        for variant in LABELS:
            run = subprocess.run(
                [str(binary), str(folder), variant, str(args.block_rows), str(args.repeat)],
                capture_output=True,
                text=True,
            )
            if run.returncode == 3:
                print(f"{variant:8} skipped: {run.stderr.strip()}")
                continue
            if run.returncode != 0:
                print(f"{variant:8} failed ({run.returncode}): {run.stderr.strip()}")
                ok = False
                continue
            row = json.loads(run.stdout)
            got = np.fromfile(folder / f"leaves-{variant}.bin", dtype="<i4").reshape(expected.shape)
            row["leaves_differing"] = int(np.count_nonzero(got != expected))
            ok &= row["leaves_differing"] == 0
            results.append(row)

    best = float("inf")
    predict_proba = forest.predict_proba
    predict_proba(X[:1000])  # warm
    for _ in range(args.repeat):
        start = time.perf_counter()
        predict_proba(X)
        best = min(best, time.perf_counter() - start)
    sklearn_rate = len(X) / best

    udf = None
    if SPARK_RESULTS.exists():
        spark = json.loads(SPARK_RESULTS.read_text())
        for run in spark.get("runs", []):
            for entry in run.get("rows", []):
                if entry.get("cores") == 1 and entry.get("row") == "scikit-learn pandas UDF":
                    udf = entry["rows_per_s"]

    print(f"bench forest: {len(model.trees)} trees, {model.n_nodes} nodes; {len(X)} rows, blocks of {args.block_rows}")
    print(f"{'walk':36} {'rows/s':>10} {'x sklearn':>10} {'leaves differing':>17}")
    print(f"{'scikit-learn predict_proba, n_jobs=1':36} {sklearn_rate:10,.0f} {1.0:9.2f}x {'-':>17}")
    for row in results:
        label = LABELS[row["variant"]]
        row["ratio_to_sklearn"] = row["rows_per_s"] / sklearn_rate
        print(f"{label:36} {row['rows_per_s']:10,.0f} {row['ratio_to_sklearn']:9.2f}x {row['leaves_differing']:17,}")
    if udf is not None:
        print(
            f"3x the Spark anchor (the scikit-learn pandas UDF, 1 core, {udf:,.0f} rows/s in bench/results/spark.json)"
            f" needs {3 * udf:,.0f} rows/s before any Spark cost"
        )
    result = {
        **bench_run.environment(),
        "cpus": cpus,
        "compiler": subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout.splitlines()[0],
        "forest": {"trees": len(model.trees), "nodes": int(model.n_nodes)},
        "rows": len(X),
        "block_rows": args.block_rows,
        "sklearn_rows_per_s": sklearn_rate,
        "spark_udf_one_core_rows_per_s": udf,
        "walks": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    if not ok:
        print("FAIL: a walk failed or found a leaf scikit-learn does not")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
