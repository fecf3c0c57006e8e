"""Shadows scored in a child process of their own (the server's default): the records reach the log
with scikit-learn's values, the server's process gets each record's agreement counts, a full queue
drops and counts, and close ends the child."""

from __future__ import annotations

import dataclasses
import os
import signal
import time

import numpy as np

from crossform.serve.metrics import shadow_outcome
from crossform.serve.shadow_process import MAX_MESSAGE_BYTES, ShadowProcess
from crossform.serve.shadows import open_shadow_log
from crossform.store import open_store
from helpers.shadow_models import fit_shadow_models, job_for, sklearn_scores

TAG = "birds.production"
WAIT_SECONDS = 60.0


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"waited {WAIT_SECONDS} s for {what}"
        time.sleep(0.02)


def test_a_child_process_scores_the_shadows_and_the_server_counts_their_outcomes(tmp_path):
    models = fit_shadow_models()
    store = open_store(tmp_path / "store")
    for package in models.packages.values():
        store.put(package)
    outcomes = []
    log_path = tmp_path / "shadows.sqlite"
    shadows = ShadowProcess(str(tmp_path / "store"), str(log_path), cache_bytes=1 << 28, on_outcome=outcomes.append)
    try:
        wait_for(lambda: shadows.stats() and shadows.ready, "the child to start")
        assert shadows.pid != os.getpid()
        if hasattr(os, "sched_getscheduler"):  # every thread of the child runs on idle CPU time only
            threads = [int(tid) for tid in os.listdir(f"/proc/{shadows.pid}/task")]
            policies = {tid: os.sched_getscheduler(tid) for tid in threads}
            assert set(policies.values()) == {os.SCHED_IDLE}, policies
        spans = [(0, 10), (10, 11), (11, 60)]
        for n, (start, stop) in enumerate(spans):
            assert shadows.submit(job_for(models, start, stop, f"req-{n}", TAG), models.shadow_ids) is True
        wait_for(lambda: shadows.stats()["scored"] == 6, "six records")  # stats reads what came back
    finally:
        shadows.close(timeout=WAIT_SECONDS)
    assert not shadows._process.is_alive() and len(outcomes) == 6
    assert shadows.stats() == {"queued": 0, "dropped": 0, "scored": 6, "failed": 0}
    with open_shadow_log(log_path, create=False) as log:
        records = list(log.records(tag=TAG))
    assert len(records) == 6
    for record in records:
        start, stop = spans[int(record["request_id"].split("-")[1])]
        expected, _, refused = sklearn_scores(models, record["shadow_id"], start, stop)
        got = np.array([np.nan * np.ones(expected.shape[1]) if r is None else r for r in record["shadow_values"]])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert [e is not None for e in record["shadow_errors"]] == refused.tolist()
    # what came back is what the metrics make of each record, computed in the child
    assert sorted(map(repr, outcomes)) == sorted(repr(shadow_outcome(r)) for r in records)


def test_a_child_that_is_behind_or_a_job_too_large_drops_and_counts_and_submit_never_waits(tmp_path):
    models = fit_shadow_models()
    # no store behind the shadows: the child's loads fail, but submit must not care
    shadows = ShadowProcess(str(tmp_path / "store"), str(tmp_path / "shadows.jsonl"), cache_bytes=1 << 20)
    job = job_for(models, 0, 1, "req", TAG)
    try:
        wait_for(lambda: shadows.stats() and shadows.ready, "the child to start")
        os.kill(shadows.pid, signal.SIGSTOP)  # a child that takes nothing: the socket fills
        try:
            taken, slowest = [], 0.0
            while len(taken) < 200_000 and (not taken or taken[-1]):
                began = time.perf_counter()
                taken.append(shadows.submit(job, ["a", "b"]))
                slowest = max(slowest, time.perf_counter() - began)
        finally:
            os.kill(shadows.pid, signal.SIGCONT)
        assert taken[-1] is False and slowest < 0.05
        assert shadows.stats()["dropped"] == 2
        huge = dataclasses.replace(job, columns={**job.columns, "size": [1.5] * (MAX_MESSAGE_BYTES // 4)})
        assert shadows.submit(huge, ["a"]) is False and shadows.stats()["dropped"] == 3
    finally:
        shadows.close(timeout=WAIT_SECONDS)
    assert shadows.submit(job, ["a"]) is False
