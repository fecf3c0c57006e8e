"""Hash the bench forest into its package id, and read a package back.

The spine issue asks for "well under a second" to hash the ~814k-node forest. Prints the
time next to joblib.load of the same forest, the anchor for reading a model back.
Run: ./dev bench identity
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _forest import bench_forest, best_of  # noqa: E402

import crossform  # noqa: E402
from crossform.identity import package_id  # noqa: E402


def main() -> int:
    forest, _, _ = bench_forest()
    package = crossform.from_sklearn(forest, checks=0)
    convert = best_of(lambda: crossform.from_sklearn(forest, checks=0))
    hashing = best_of(lambda: package_id(package))
    with tempfile.TemporaryDirectory() as tmp:
        import joblib

        crossform.save(package, Path(tmp) / "pkg")
        joblib.dump(forest, Path(tmp) / "f.joblib")
        read = best_of(lambda: crossform.load(Path(tmp) / "pkg"))
        joblib_read = best_of(lambda: joblib.load(Path(tmp) / "f.joblib"))
    print(f"bench forest: {package.model.n_nodes} nodes")
    print(f"convert from scikit-learn   {convert:6.3f} s")
    print(f"hash to package id          {hashing:6.3f} s")
    print(f"load stripe-json (+ verify) {read:6.3f} s   {read / joblib_read:.1f}x joblib.load ({joblib_read:.3f} s)")
    print(
        json.dumps(
            {
                "nodes": package.model.n_nodes,
                "convert_s": convert,
                "hash_s": hashing,
                "load_stripe_json_s": read,
                "joblib_load_s": joblib_read,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
