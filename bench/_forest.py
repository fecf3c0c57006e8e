"""The bench forest of docs (DESIGN "Numbers to beat"), fitted once and cached.

RandomForestClassifier(100 trees, random_state=0) on make_classification(50000, 20
features, n_informative=10, flip_y=0.1, random_state=0): about 814k nodes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

CACHE = Path(os.environ.get("CROSSFORM_BENCH_CACHE", Path(__file__).resolve().parent / ".cache"))


def bench_data():
    from sklearn.datasets import make_classification

    return make_classification(n_samples=50000, n_features=20, n_informative=10, flip_y=0.1, random_state=0)


def bench_forest():
    """(fitted forest, X, y). The fit takes ~20 s on 2 cores; later runs read the cache.

    The cache is a joblib file written by this script on this machine, so loading
    it runs no code from anywhere else.
    """
    import joblib
    from sklearn.ensemble import RandomForestClassifier

    X, y = bench_data()
    path = CACHE / "bench-forest.joblib"
    if path.exists():
        return joblib.load(path), X, y
    start = time.perf_counter()
    forest = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=-1).fit(X, y)
    print(f"(fitted the bench forest in {time.perf_counter() - start:.1f} s; cached in {path})")
    CACHE.mkdir(parents=True, exist_ok=True)
    joblib.dump(forest, path)
    return forest, X, y


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def size_of(path: Path) -> int:
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
