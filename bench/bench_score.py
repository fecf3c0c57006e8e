"""Score the bench forest: the reference evaluator next to scikit-learn and onnxruntime.

The reference evaluator is written for clarity and exactness (a left fold in tree
order, vectorised over rows; the leaves found by the compiled walk when it is built,
bench_leaves.py compares the two walks); this shows what that costs against
scikit-learn's predict_proba (on every core) and, when skl2onnx and onnxruntime are
installed, a float32 ONNX export run by onnxruntime. Run: ./dev bench score
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _forest import bench_forest, best_of  # noqa: E402

import crossform  # noqa: E402


def main() -> int:
    forest, X, _ = bench_forest()
    rows = X[:20000]
    package = crossform.from_sklearn(forest, checks=0)
    columns = {f"x{i}": rows[:, i] for i in range(rows.shape[1])}
    results = {
        "crossform reference": best_of(lambda: crossform.score(package, columns), repeat=2),
        "sklearn predict_proba": best_of(lambda: forest.predict_proba(rows), repeat=2),
    }
    ours = crossform.score(package, columns).values
    same = bool(np.array_equal(ours, forest.predict_proba(rows)))
    try:
        import onnxruntime as ort
        from skl2onnx import to_onnx
    except ImportError:
        print("skip onnxruntime: skl2onnx or onnxruntime not installed (pip install 'crossform[bench]')")
    else:
        model = to_onnx(forest, rows[:1].astype(np.float32), options={"zipmap": False})
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        feed = {name: rows.astype(np.float32)}
        results["onnxruntime (skl2onnx, float32)"] = best_of(lambda: session.run(None, feed), repeat=2)
    base = results["sklearn predict_proba"]
    print(
        f"bench forest ({package.model.n_nodes} nodes), {len(rows)} rows; reference equals scikit-learn bit for bit: {same}"
    )
    for name, seconds in results.items():
        print(f"{name:34} {seconds:7.3f} s  {len(rows) / seconds / 1e3:8.1f} k rows/s  {seconds / base:6.2f}x sklearn")
    print(json.dumps({"rows": len(rows), "seconds": results, "identical_to_sklearn": same}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
