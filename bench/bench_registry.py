"""Deploy throughput of the SQLite registry (events/s), beside a plain file copy as the floor.

Each registry deploy is one committed SQLite transaction (the history event and the new
current id); the floor writes one small file per event the way a deploy script without a
registry would: copy it over, and copy it over with an fsync (what SQLite's commit pays).
Then 8 processes deploy to one tag at once: the rate the write lock serialises them to.
Run: ./dev bench registry
"""

from __future__ import annotations

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


def ids(count: int, seed: str) -> list[str]:
    return [
        "sha256." + base64.b32encode(hashlib.sha256(f"{seed}-{n}".encode()).digest()).decode().rstrip("=")
        for n in range(count)
    ]


def rate(seconds: float, events: int = EVENTS) -> float:
    return events / seconds


def deploy_all(path: Path, models: list[str], actor: str) -> float:
    with open_registry(path) as registry:
        start = time.perf_counter()
        for model in models:
            registry.deploy(TAG, model, actor=actor)
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


def racer(path: Path, worker: int, start, results) -> None:
    models = ids(EVENTS // PROCESSES, f"race-{worker}")
    start.wait()
    results.put(deploy_all(path, models, f"worker-{worker}"))


def race(path: Path) -> float:
    open_registry(path).close()
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(PROCESSES + 1), context.Queue()
    workers = [context.Process(target=racer, args=(path, w, start, results)) for w in range(PROCESSES)]
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


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one = deploy_all(folder / "one.sqlite", ids(EVENTS, "one"), "bench")
        copy = copy_all(folder, ids(EVENTS, "copy"), durable=False)
        durable = copy_all(folder, ids(EVENTS, "durable"), durable=True)
        racing = race(folder / "race.sqlite")
        with open_registry(folder / "race.sqlite") as registry:
            recorded = len(registry.history(TAG))
    raced = PROCESSES * (EVENTS // PROCESSES)
    print(f"{EVENTS} deploys to one tag, one process; then {PROCESSES} processes racing on one tag")
    print(f"plain file copy                {rate(copy):9.0f} events/s   (floor)")
    print(f"file copy + fsync              {rate(durable):9.0f} events/s   (durable floor)")
    print(
        f"registry deploy (SQLite)       {rate(one):9.0f} events/s   "
        f"{copy / one:.3f}x plain copy, {durable / one:.2f}x copy + fsync"
    )
    print(
        f"registry, {PROCESSES} racing processes  {rate(racing, raced):9.0f} events/s   "
        f"{recorded} of {raced} events recorded"
    )
    print(
        json.dumps(
            {
                "events": EVENTS,
                "plain_copy_events_per_s": rate(copy),
                "durable_copy_events_per_s": rate(durable),
                "sqlite_deploy_events_per_s": rate(one),
                "sqlite_racing_events_per_s": rate(racing, raced),
                "racing_events_recorded": recorded,
                "racing_events_attempted": raced,
            }
        )
    )
    return 0 if recorded == raced else 1


if __name__ == "__main__":
    raise SystemExit(main())
