"""Shadow models off the request path: what ShadowPool.submit costs the request, how fast the
shadow log takes records, and what the shadow report costs to compute.

Every number is printed beside an anchor measured in the same run: submit beside the primary's
own single-row score (the request path's work), with 3 working shadows and with 3 hanging ones
(their queues full, every job dropped); records/s into each log kind beside single-row scores/s;
the report beside reading and parsing the same records. Peak memory of the report is Python's
tracemalloc peak beside the log's size on disk.
Run: ./dev bench shadows   (a 50-tree forest on 20 features; under a minute)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np

import crossform
from crossform.serve.report import compare, report
from crossform.serve.shadows import ShadowJob, ShadowPool, make_record, open_shadow_log

TAG = "bench.shadows"
SUBMITS = 3000
REPORT_RECORDS = 20000  # single-row requests in the log the report reads
BATCH_RECORDS = 200  # 1,000-row requests in a second log


def fit(seed: int):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=5000, n_features=20, n_informative=10, flip_y=0.1, random_state=0)
    model = RandomForestClassifier(n_estimators=50, max_depth=10, random_state=seed).fit(X, y)
    return crossform.from_sklearn(model, checks=0), X


class Model:
    def __init__(self, package):
        self.score = crossform.scorer(package)


class Hanging:
    def __init__(self, release: threading.Event):
        self.release = release

    def score(self, columns):
        self.release.wait(600)
        raise RuntimeError("released")


def quantiles_us(seconds) -> tuple:
    return tuple(float(v) * 1e6 for v in np.quantile(seconds, [0.5, 0.99]))


def columns_of(X, rows) -> dict:
    return {f"x{j}": X[rows, j].tolist() for j in range(X.shape[1])}


def timed_submits(pool, jobs, shadow_ids, pause: float) -> list:
    seconds = []
    for job in jobs:
        began = time.perf_counter()
        pool.submit(job, shadow_ids)
        seconds.append(time.perf_counter() - began)
        time.sleep(pause)  # requests arrive spaced, as on a server, so the working shadows keep up
    return seconds


def main() -> int:
    packages = [fit(seed) for seed in range(4)]
    primary_package, X = packages[0]
    models = {package.id: Model(package) for package, _ in packages}
    primary = models[primary_package.id]
    shadow_ids = [package.id for package, _ in packages[1:]]
    rows = [columns_of(X, [i]) for i in range(SUBMITS)]

    score_seconds = []
    jobs = []
    for i, columns in enumerate(rows):
        began = time.perf_counter()
        scores = primary.score(columns)
        score_seconds.append(time.perf_counter() - began)
        jobs.append(ShadowJob(f"req-{i}", TAG, primary_package.id, columns, scores, score_seconds[-1], time.time()))
    results = {"score_us": quantiles_us(score_seconds)}

    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "jsonl"):
            with open_shadow_log(Path(tmp) / f"submit.{kind}") as log:
                pool = ShadowPool(models.__getitem__, log, queue_size=1000)
                submit = timed_submits(pool, jobs, shadow_ids, pause=0.0005)
                pool.close(timeout=120)
                results[f"submit_3_shadows_{kind}_us"] = quantiles_us(submit)
                results[f"submit_3_shadows_{kind}_stats"] = pool.stats()
        release = threading.Event()
        hanging = {f"hang-{k}": Hanging(release) for k in range(3)}
        with open_shadow_log(Path(tmp) / "hanging.sqlite") as log:
            pool = ShadowPool(hanging.__getitem__, log, queue_size=1000)
            submit = timed_submits(pool, jobs, list(hanging), pause=0.0)
            results["submit_3_hanging_us"] = quantiles_us(submit)
            results["submit_3_hanging_stats"] = pool.stats()
            release.set()
            pool.close(timeout=120)

        # records/s into each log, written by one thread as a pool worker writes them
        records = [make_record(job, shadow_ids[0], job.primary, 0.001, None) for job in jobs]
        for kind in ("sqlite", "jsonl"):
            path = Path(tmp) / f"append.{kind}"
            with open_shadow_log(path) as log:
                began = time.perf_counter()
                for record in records:
                    log.append(record)
                results[f"append_{kind}_per_s"] = len(records) / (time.perf_counter() - began)
        results["score_per_s"] = len(score_seconds) / sum(score_seconds)

        # the report over 20,000 single-row requests and over 200 requests of 1,000 rows
        batch = columns_of(X, list(range(1000)))
        batch_job = ShadowJob("b", TAG, primary_package.id, batch, primary.score(batch), 0.01, time.time())
        shadow = models[shadow_ids[0]].score(batch)
        for name, count, job_of in (
            ("single_rows", REPORT_RECORDS, lambda i: jobs[i % len(jobs)]),
            ("batches", BATCH_RECORDS, lambda i: batch_job),
        ):
            path = Path(tmp) / f"report-{name}.sqlite"
            with open_shadow_log(path) as log:
                shadow_scores = {}
                for i in range(count):
                    job = job_of(i)
                    if job.request_id not in shadow_scores:
                        shadow_scores[job.request_id] = (
                            shadow if job is batch_job else models[shadow_ids[0]].score(job.columns)
                        )
                    log.append(make_record(job, shadow_ids[0], shadow_scores[job.request_id], 0.001, None))
            with open_shadow_log(path, create=False) as log:
                began = time.perf_counter()
                parsed = sum(1 for _ in log.records(tag=TAG))
                read = time.perf_counter() - began
                began = time.perf_counter()
                document = report(log, TAG, compare(log, TAG))
                took = time.perf_counter() - began
                tracemalloc.start()  # a second run: tracing slows Python down several times
                report(log, TAG, compare(log, TAG))
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            assert parsed == count and document["shadows"][0]["requests"] == count
            results[f"report_{name}"] = {
                "records": count,
                "rows": document["shadows"][0]["rows"],
                "report_s": took,
                "read_s": read,
                "peak_mb": peak / 1e6,
                "log_mb": os.path.getsize(path) / 1e6,
            }

    s50, s99 = results["score_us"]
    print(f"primary single-row score (the anchor)   p50 {s50:8.1f} us   p99 {s99:8.1f} us")
    for key, label in (
        ("submit_3_shadows_sqlite_us", "submit, 3 working shadows, SQLite log"),
        ("submit_3_shadows_jsonl_us", "submit, 3 working shadows, JSON Lines"),
        ("submit_3_hanging_us", "submit, 3 hanging shadows (queues full)"),
    ):
        p50, p99 = results[key]
        print(f"{label:40s} p50 {p50:8.1f} us   p99 {p99:8.1f} us   {p50 / s50:.3f}x / {p99 / s99:.3f}x the score")
    for key in ("submit_3_shadows_sqlite_stats", "submit_3_shadows_jsonl_stats", "submit_3_hanging_stats"):
        print(f"{key:40s} {results[key]}")
    for kind in ("sqlite", "jsonl"):
        rate = results[f"append_{kind}_per_s"]
        print(f"append to {kind:7s} records/s {rate:10.0f}   {rate / results['score_per_s']:.2f}x single-row scores/s")
    for name in ("single_rows", "batches"):
        r = results[f"report_{name}"]
        print(
            f"report over {r['records']} records ({r['rows']} rows): {r['report_s']:.2f} s, "
            f"{r['report_s'] / r['read_s']:.2f}x reading the records ({r['read_s']:.2f} s); "
            f"peak {r['peak_mb']:.1f} MB for a {r['log_mb']:.1f} MB log ({r['peak_mb'] / r['log_mb']:.2f}x)"
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
