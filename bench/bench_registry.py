"""Deploy throughput of the SQLite registry (events/s), beside a plain file copy as the floor.

Each registry deploy is one committed SQLite transaction (the history event and the new
current id); the floor writes one small file per event the way a deploy script without a
registry would: copy it over, and copy it over with an fsync (what SQLite's commit pays).
Then 8 processes deploy to one tag at once: the rate the write lock serialises them to.
With a PostgreSQL URL (an empty database or schema: the bench writes its registry there), the
same on PostgreSQL.
Run: ./dev bench registry [--postgresql URL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path

from crossform.registry import open_registry

EVENTS = 300
PROCESSES = 8
TAG = "bench.production"
RACE_TAG = "bench.race"


def ids(count: int, seed: str) -> list[str]:
    return [
        "sha256." + base64.b32encode(hashlib.sha256(f"{seed}-{n}".encode()).digest()).decode().rstrip("=")
        for n in range(count)
    ]


def rate(seconds: float, events: int = EVENTS) -> float:
    return events / seconds


def deploy_all(url, models: list[str], actor: str, tag: str = TAG) -> float:
    with open_registry(url) as registry:
        start = time.perf_counter()
        for model in models:
            registry.deploy(tag, model, actor=actor)
        return time.perf_counter() - start


def copy_all(folder: Path, models: list[str], durable: bool) -> float:
    source, target = folder / "source", folder / "current"
    start = time.perf_counter()
    for model in models:
        source.write_text(model)
        shutil.copyfile(source, target)
        if durable:
            with open(target, "rb+") as file:
                os.fsync(file.fileno())
    return time.perf_counter() - start


def racer(url, worker: int, start, results) -> None:
    models = ids(EVENTS // PROCESSES, f"race-{worker}")
    start.wait()
    results.put(deploy_all(url, models, f"worker-{worker}", RACE_TAG))


def race(url) -> float:
    open_registry(url).close()
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(PROCESSES + 1), context.Queue()
    workers = [context.Process(target=racer, args=(url, w, start, results)) for w in range(PROCESSES)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for _ in workers:
        results.get(timeout=600)
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join()
    return elapsed


def measure(url) -> dict:
    """Deploys one after another, then 8 racing processes, on the registry at ``url``."""
    one = deploy_all(url, ids(EVENTS, "one"), "bench")
    racing = race(url)
    with open_registry(url) as registry:
        recorded = len(registry.history(RACE_TAG))
    return {"deploy": rate(one), "racing": rate(racing, PROCESSES * (EVENTS // PROCESSES)), "recorded": recorded}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", metavar="URL", help="also measure a registry in this PostgreSQL database")
    args = parser.parse_args()
    raced = PROCESSES * (EVENTS // PROCESSES)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copy = copy_all(folder, ids(EVENTS, "copy"), durable=False)
        durable = copy_all(folder, ids(EVENTS, "durable"), durable=True)
        results = {"SQLite": measure(str(folder / "registry.sqlite"))}
    if args.postgresql:
        results["PostgreSQL"] = measure(args.postgresql)
    print(f"{EVENTS} deploys to one tag, one process; then {PROCESSES} processes racing on one tag")
    print(f"plain file copy                   {rate(copy):9.0f} events/s   (floor)")
    print(f"file copy + fsync                 {rate(durable):9.0f} events/s   (durable floor)")
    for name, result in results.items():
        print(
            f"registry deploy ({name + ')':11}    {result['deploy']:9.0f} events/s   "
            f"{result['deploy'] / rate(copy):.3f}x plain copy, {result['deploy'] / rate(durable):.2f}x copy + fsync"
        )
        print(
            f"  {PROCESSES} racing processes             {result['racing']:9.0f} events/s   "
            f"{result['recorded']} of {raced} events recorded"
        )
    if not args.postgresql:
        print("PostgreSQL: skipped (give --postgresql URL of an empty database to measure it)")
    print(
        json.dumps(
            {
                "events": EVENTS,
                "plain_copy_events_per_s": rate(copy),
                "durable_copy_events_per_s": rate(durable),
                "registries": results,
            }
        )
    )
    return 0 if all(result["recorded"] == raced for result in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
