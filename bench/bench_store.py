"""Get a model from the store by id and score its first row: the bench forest, from the local
store and from S3 (moto's server on loopback), beside a plain copy of the same files as the floor.

Each row is the time from an id (or a path) to the first score: the store fetches the bytes,
checks them against the manifest, reads the package and recomputes its id; the floor copies the
saved package's files (shutil) and reads them with crossform.load, which also recomputes the id.
Ratios are against the floor measured in the same run. Put times (a second put is a no-op) follow.
The S3 rows need the test extra (boto3, moto[server]); without them they are a printed skip.
Run: ./dev bench store [--forest small|bench]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _forest import bench_forest, best_of  # noqa: E402

import crossform  # noqa: E402
from crossform.store import open_store  # noqa: E402


def small_forest():
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=5000, n_features=20, random_state=0)
    return RandomForestClassifier(n_estimators=10, max_depth=8, random_state=0).fit(X, y), X, y


def _moto_endpoint():
    """A moto S3 server on a free loopback port, or (None, reason)."""
    try:
        import boto3  # noqa: F401
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        return None, f"{exc.name} is not installed (pip install 'crossform[test]')"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ[name] = value
    import boto3

    boto3.session.Session().client("s3").create_bucket(Bucket="bench")
    return server, None


def _peak_bytes(fn) -> int:
    """Peak bytes Python and numpy allocated while ``fn`` ran (tracemalloc sees both)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forest", choices=["small", "bench"], default="bench")
    args = parser.parse_args()
    forest, X, _ = bench_forest() if args.forest == "bench" else small_forest()
    package = crossform.from_sklearn(forest, checks=0)
    row = {name: X[:1, i] for i, name in enumerate(f.name for f in package.inputs)}
    figures = {"forest": args.forest, "nodes": package.model.n_nodes}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        saved = crossform.save(package, tmp / "saved")
        copies = iter(range(1000))

        def copy_load_score():
            dest = tmp / f"copy-{next(copies)}"
            shutil.copytree(saved, dest)
            crossform.score(crossform.load(dest), row)
            shutil.rmtree(dest)

        floor = best_of(copy_load_score)
        load_peak = _peak_bytes(lambda: crossform.load(saved))
        figures["load_peak_bytes"] = load_peak
        figures["floor_copy_load_score_s"] = floor
        print(f"{args.forest} forest: {package.model.n_nodes} nodes, stripe-json")
        print(f"{'plain copy + load + first score':38s} {floor:7.3f} s   1.00x (floor)")
        print(f"{'  load peak memory (tracemalloc)':38s} {load_peak / 2**20:7.1f} MiB (the memory anchor)")
        stores = {"local": str(tmp / "store")}
        server, reason = _moto_endpoint()
        if server is None:
            print(f"skip S3 (moto): {reason}")
        else:
            stores["s3 (moto, loopback)"] = "s3://bench/models"
        try:
            for label, url in stores.items():
                store = open_store(url)
                put = best_of(lambda: open_store(url).put(package), repeat=1)  # noqa: B023
                again = best_of(lambda: store.put(package))  # noqa: B023
                get_score = best_of(lambda: crossform.score(store.get(package.id), row))  # noqa: B023
                key = label.split()[0]
                figures.update({f"{key}_put_s": put, f"{key}_put_again_s": again, f"{key}_get_score_s": get_score})
                peak = _peak_bytes(lambda: store.get(package.id))  # noqa: B023
                figures.update({f"{key}_get_peak_bytes": peak})
                print(f"{'store get + first score, ' + label:38s} {get_score:7.3f} s   {get_score / floor:.2f}x")
                print(f"{'  get peak memory, ' + label:38s} {peak / 2**20:7.1f} MiB {peak / load_peak:.2f}x load")
                print(f"{'  put (first), ' + label:38s} {put:7.3f} s")
                print(f"{'  put again (no-op), ' + label:38s} {again:7.3f} s")
        finally:
            if server is not None:
                server.stop()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
