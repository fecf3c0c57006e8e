"""Export the bench forest and two boosting models with crossform and with the anchors, in the same run.

First the default-export goals: crossform's default export (``from_sklearn`` with its
default 1000 rows of checks scored by scikit-learn, then saved as stripe-json: what
``crossform export`` does) of the bench forest, over skl2onnx's conversion of it
(``to_onnx``, serialized to a file), goal at most 0.25x; and the default export of two
histogram-boosting models, goal under 1.5 s each. The boosting models are seeded
stand-ins of the same shape as the ones measured in the field (Audit: 1,899 rows, 9
columns with string categories and missing cells, a classifier of 60 iterations;
auto-mpg: 392 rows, a regressor of 80 iterations), because neither data set is
available offline: bench/_boosting.py builds them.

Then, unless --goals, time and size per format with and without checks, and the
anchors (skl2onnx, joblib), with the ratios against each anchor. Anchors that are not
installed are skipped and say so. Run: ./dev bench export [--goals]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _boosting import audit_classifier, mpg_regressor  # noqa: E402
from _forest import bench_forest, best_of, size_of  # noqa: E402

import crossform  # noqa: E402

FOREST_GOAL = 0.25  # crossform default export / skl2onnx conversion, bench forest
BOOSTING_GOAL = 1.5  # seconds, default export of each boosting model


def skl2onnx_export(forest, X, out: Path):
    """skl2onnx's conversion, serialized to a file; None (and a skip line) when it is not installed."""
    try:
        from skl2onnx import to_onnx
    except ImportError:
        print("skip skl2onnx: not installed (pip install skl2onnx)")
        return None

    def run():
        out.write_bytes(to_onnx(forest, X[:1].astype("float32")).SerializeToString())

    return run


def crossform_export(estimator, out: Path, fmt: str = "stripe-json", checks=None):
    def run():
        crossform.save(crossform.from_sklearn(estimator, checks=checks), out, format=fmt, overwrite=True)

    return run


def goals(forest, X, work: Path) -> dict:
    """The default-export goals, each timed in this run, with its ratio or limit."""
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    result: dict = {}
    default = best_of(crossform_export(forest, work / "forest-default"))
    no_checks = best_of(crossform_export(forest, work / "forest-no-checks", checks=0))
    result["forest"] = {"crossform_default_s": default, "crossform_no_checks_s": no_checks}
    print(
        f"bench forest   crossform default export (1000 rows of checks) {default:8.3f} s"
        f"   (without checks {no_checks:.3f} s)"
    )
    onnx = skl2onnx_export(forest, X, work / "forest.onnx")
    if onnx is not None:
        anchor = best_of(onnx, repeat=1)  # several seconds: timed once
        ratio = default / anchor
        result["forest"].update(
            {"skl2onnx_s": anchor, "ratio": ratio, "goal": FOREST_GOAL, "met": ratio <= FOREST_GOAL}
        )
        print(f"bench forest   skl2onnx conversion                           {anchor:8.3f} s")
        print(
            f"bench forest   ratio crossform default / skl2onnx            {ratio:8.3f}x"
            f"   goal <= {FOREST_GOAL}x: {'met' if ratio <= FOREST_GOAL else 'NOT MET'}"
        )
    for name, build in (
        ("audit-like hgb classifier (60 iterations, 1899x9)", audit_classifier),
        ("auto-mpg-like hgb regressor (80 iterations, 392x7)", mpg_regressor),
    ):
        model = build()
        out = work / "boosting"
        default = best_of(crossform_export(model, out))
        rows = len(crossform.load(out).checks)
        no_checks = best_of(crossform_export(model, out, checks=0))
        result[name] = {
            "crossform_default_s": default,
            "crossform_no_checks_s": no_checks,
            "check_rows": rows,
            "goal_s": BOOSTING_GOAL,
            "met": default < BOOSTING_GOAL,
        }
        print(
            f"{name:52} default export {default:6.3f} s ({rows} rows of checks; without checks "
            f"{no_checks:.3f} s)   goal < {BOOSTING_GOAL} s: {'met' if default < BOOSTING_GOAL else 'NOT MET'}"
        )
    return result


def formats_table(forest, X, work: Path) -> list:
    rows = []
    for fmt in crossform.formats():
        # with the default 1000 rows of checks (scored by scikit-learn), and without
        for checks, label in ((None, ""), (0, " no checks")):
            out = work / f"crossform-{fmt}"
            rows.append((f"crossform {fmt}{label}", best_of(crossform_export(forest, out, fmt, checks)), size_of(out)))

    import joblib

    out = work / "forest.joblib"
    rows.append(("joblib.dump", best_of(lambda: joblib.dump(forest, out)), size_of(out)))
    out = work / "forest.onnx"
    onnx = skl2onnx_export(forest, X, out)
    if onnx is not None:
        rows.append(("skl2onnx", best_of(onnx, repeat=1), size_of(out)))

    anchors = {name: (t, s) for name, t, s in rows if not name.startswith("crossform")}
    print(f"{'exporter':24} {'seconds':>8} {'MB':>8}   ratios (time, size) vs anchors")
    for name, t, s in rows:
        ratios = "  ".join(f"{a}: {t / at:.2f}x, {s / asz:.2f}x" for a, (at, asz) in anchors.items() if a != name)
        print(f"{name:24} {t:8.2f} {s / 1e6:8.2f}   {ratios}")
    return [{"exporter": n, "seconds": t, "bytes": s} for n, t, s in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--goals", action="store_true", help="the default-export goals alone, not the format table")
    args = parser.parse_args(argv)
    forest, X, _ = bench_forest()
    n_nodes = sum(e.tree_.node_count for e in forest.estimators_)
    print(f"bench forest: {len(forest.estimators_)} trees, {n_nodes} nodes")
    work = Path(tempfile.mkdtemp(prefix="crossform-bench-"))
    try:
        report = {"nodes": n_nodes, "goals": goals(forest, X, work)}
        if not args.goals:
            report["results"] = formats_table(forest, X, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
