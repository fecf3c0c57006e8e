"""Export the bench forest with crossform and with the anchors, in the same run.

Prints time and size per exporter and the ratios against skl2onnx, sklearn2pmml and
joblib (anchors that are not installed are skipped and say so). Run: ./dev bench export
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _forest import bench_forest, best_of, size_of  # noqa: E402

import crossform  # noqa: E402


def main() -> int:
    forest, X, _ = bench_forest()
    n_nodes = sum(e.tree_.node_count for e in forest.estimators_)
    work = Path(tempfile.mkdtemp(prefix="crossform-bench-"))
    rows = []
    try:
        def crossform_export(fmt: str, checks):
            out = work / f"crossform-{fmt}"

            def run():
                crossform.save(crossform.from_sklearn(forest, checks=checks), out, format=fmt, overwrite=True)
            return run, out

        for fmt in crossform.formats():
            # with the default 1000 rows of checks (scored by scikit-learn), and without
            for checks, label in ((None, ""), (0, " no checks")):
                run, out = crossform_export(fmt, checks)
                rows.append((f"crossform {fmt}{label}", best_of(run), size_of(out)))

        import joblib

        out = work / "forest.joblib"
        rows.append(("joblib.dump", best_of(lambda: joblib.dump(forest, out)), size_of(out)))

        try:
            from skl2onnx import to_onnx
        except ImportError:
            print("skip skl2onnx: not installed (pip install skl2onnx)")
        else:
            out = work / "forest.onnx"

            def onnx_export():
                out.write_bytes(to_onnx(forest, X[:1].astype("float32")).SerializeToString())
            rows.append(("skl2onnx", best_of(onnx_export, repeat=1), size_of(out)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    anchors = {name: (t, s) for name, t, s in rows if not name.startswith("crossform")}
    print(f"bench forest: {len(forest.estimators_)} trees, {n_nodes} nodes")
    print(f"{'exporter':24} {'seconds':>8} {'MB':>8}   ratios (time, size) vs anchors")
    for name, t, s in rows:
        ratios = "  ".join(f"{a}: {t / at:.2f}x, {s / asz:.2f}x" for a, (at, asz) in anchors.items() if a != name)
        print(f"{name:24} {t:8.2f} {s / 1e6:8.2f}   {ratios}")
    print(json.dumps({"nodes": n_nodes, "results": [{"exporter": n, "seconds": t, "bytes": s} for n, t, s in rows]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
