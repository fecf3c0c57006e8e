"""The shadow pool and its logs: every shadow's result is logged beside the primary's, with the
values scikit-learn's fitted models give; a shadow that raises or hangs never makes ``submit``
wait and never keeps the other shadows' records from arriving; a full queue drops and counts;
both log kinds round-trip, refuse what is not a log by name, and take appends from two
processes at once without losing one."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from crossform.errors import ShadowLogError, ShadowLogFormatError, ShadowLogNotFoundError
from crossform.registry import open_registry
from crossform.serve.shadows import RECORD_FIELDS, ShadowPool, open_shadow_log
from helpers.shadow_models import PackageModel, fit_shadow_models, job_for, sklearn_scores

TAG = "birds.production"
WAIT_SECONDS = 60.0  # the longest any test waits for background work; a hanging shadow is released after it


@pytest.fixture(scope="module")
def models():
    return fit_shadow_models()


@pytest.fixture(params=["sqlite", "jsonl"])
def log_path(request, tmp_path):
    return tmp_path / ("shadows.sqlite" if request.param == "sqlite" else "shadows.jsonl")


def loader(models, extra=None):
    """The ``load`` the server passes: model id -> a scoring object (built on first use)."""
    cache = {}

    def load(model_id):
        if extra and model_id in extra:
            return extra[model_id]
        if model_id not in cache:
            cache[model_id] = PackageModel(models.packages[model_id])
        return cache[model_id]

    return load


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_SECONDS} s for {what}")
        time.sleep(0.01)


class Raising:
    def score(self, columns):
        raise RuntimeError("the candidate's feature store is down")


class Verbose:
    def score(self, columns):
        raise ValueError("x" * 10**6)


class Hanging:
    """A shadow that sleeps 'forever': until the test releases it, or WAIT_SECONDS pass."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()

    def score(self, columns):
        self.started.set()
        self.release.wait(WAIT_SECONDS)
        raise RuntimeError("released")


def assert_values_equal(logged_rows, expected):
    """Logged rows (None for a row in error) equal scikit-learn's (NaN rows in error)."""
    in_error = np.isnan(expected).all(axis=1)
    assert [row is None for row in logged_rows] == in_error.tolist()
    logged = np.array([row for row in logged_rows if row is not None], dtype=np.float64).reshape(-1, expected.shape[1])
    np.testing.assert_allclose(logged, expected[~in_error], rtol=1e-12, atol=1e-12)


def test_each_shadow_result_is_logged_beside_the_primary_with_scikit_learns_values(models, log_path):
    requests = [("req-0", 0, 50), ("req-1", 50, 51), ("req-2", 51, 200)]
    results = []
    with open_shadow_log(log_path) as log:
        pool = ShadowPool(loader(models), log, on_result=results.append)
        for request_id, start, stop in requests:
            assert pool.submit(job_for(models, start, stop, request_id, TAG), models.shadow_ids) is True
        wait_for(lambda: pool.stats()["scored"] == 6, "six records")
        pool.close()
        records = list(log.records(tag=TAG))
    assert pool.stats() == {"queued": 0, "dropped": 0, "scored": 6, "failed": 0}
    assert len(records) == 6 and sorted(map(json.dumps, records)) == sorted(map(json.dumps, results))
    for request_id, start, stop in requests:
        mine = {r["shadow_id"]: r for r in records if r["request_id"] == request_id}
        assert set(mine) == set(models.shadow_ids)
        primary, _, _ = sklearn_scores(models, models.primary_id, start, stop)
        for shadow_id, record in mine.items():
            assert tuple(record) == RECORD_FIELDS
            assert (record["tag"], record["primary_id"], record["error"]) == (TAG, models.primary_id, None)
            assert record["at"].endswith("+00:00")
            classes = list(models.fitted[shadow_id].classes_)
            assert record["outputs"] == record["shadow_outputs"] == [f"probability({c})" for c in classes]
            assert record["primary_classes"] == record["shadow_classes"] == classes
            assert_values_equal(record["primary_values"], primary)
            assert record["primary_errors"] == [None] * (stop - start)
            shadow, _, refused = sklearn_scores(models, shadow_id, start, stop)
            assert_values_equal(record["shadow_values"], shadow)
            assert [e is not None for e in record["shadow_errors"]] == refused.tolist()
            assert all("purple" in e for e in record["shadow_errors"] if e is not None)
            assert record["primary_seconds"] > 0 and record["shadow_seconds"] > 0
    # the strict shadow refused some rows: the test covers rows in error on one side only
    assert any(e is not None for r in records for e in r["shadow_errors"])


def test_a_raising_and_a_hanging_shadow_never_delay_submit_or_the_other_shadows(models, tmp_path):
    hanging = Hanging()
    good = models.shadow_ids[0]
    load = loader(models, extra={"raising": Raising(), "hanging": hanging})
    jobs = [job_for(models, i, i + 5, f"req-{i}", TAG) for i in range(10)]
    with open_shadow_log(tmp_path / "shadows.sqlite") as log:
        pool = ShadowPool(load, log, queue_size=4)
        try:
            assert pool.submit(jobs[0], [good, "raising", "hanging"]) is True
            assert hanging.started.wait(WAIT_SECONDS)
            taken = []
            seconds = []
            for n, job in enumerate(jobs[1:], start=2):
                began = time.perf_counter()
                taken.append(pool.submit(job, [good, "raising", "hanging"]))
                seconds.append(time.perf_counter() - began)
                # requests spaced as the other shadows keep up: only the hanging one falls behind
                wait_for(lambda: pool.stats()["scored"] == pool.stats()["failed"] == n, "the other shadows")
            # the hanging shadow holds its thread for WAIT_SECONDS: a submit that waited for it would take that long
            assert max(seconds) < 0.05, seconds
            # its queue holds 4 jobs beside the one it hangs on; the other 5 are dropped, for it alone
            assert taken == [True] * 4 + [False] * 5
            assert pool.stats() == {"queued": 4, "dropped": 5, "scored": 10, "failed": 10}
            assert sorted(r["request_id"] for r in log.records(shadow_id=good)) == sorted(j.request_id for j in jobs)
            raised = list(log.records(shadow_id="raising"))
            assert len(raised) == 10
            for record in raised:
                assert record["error"] == "RuntimeError: the candidate's feature store is down"
                assert record["shadow_values"] is record["shadow_errors"] is record["shadow_outputs"] is None
                assert record["primary_values"] is not None and record["shadow_seconds"] >= 0
            assert list(log.records(shadow_id="hanging")) == []
        finally:
            hanging.release.set()
        pool.close(timeout=WAIT_SECONDS)
        # released, the hanging shadow's five taken jobs are logged as failures
        assert len(list(log.records(shadow_id="hanging"))) == 5
        assert pool.stats() == {"queued": 0, "dropped": 5, "scored": 10, "failed": 15}


def test_a_full_queue_drops_and_counts_and_a_closed_pool_takes_nothing(models, tmp_path):
    hanging = Hanging()
    load = loader(models, extra={"hanging": hanging})
    jobs = [job_for(models, i, i + 1, f"req-{i}", TAG) for i in range(10)]
    with open_shadow_log(tmp_path / "shadows.jsonl") as log:
        pool = ShadowPool(load, log, queue_size=3)
        try:
            assert pool.submit(jobs[0], ["hanging"])
            assert hanging.started.wait(WAIT_SECONDS)
            assert [pool.submit(job, ["hanging"]) for job in jobs[1:]] == [True] * 3 + [False] * 6
            assert pool.stats() == {"queued": 3, "dropped": 6, "scored": 0, "failed": 0}
        finally:
            hanging.release.set()
        pool.close(timeout=WAIT_SECONDS)
        assert [r["request_id"] for r in log.records()] == [f"req-{i}" for i in range(4)]
        assert pool.submit(jobs[0], ["hanging", models.shadow_ids[0]]) is False
        assert pool.stats()["dropped"] == 8


def test_close_returns_by_its_timeout_while_a_shadow_hangs(models, tmp_path):
    hanging = Hanging()
    with open_shadow_log(tmp_path / "shadows.sqlite") as log:
        pool = ShadowPool(loader(models, extra={"hanging": hanging}), log, queue_size=2)
        try:
            for i in range(3):
                pool.submit(job_for(models, i, i + 1, f"req-{i}", TAG), ["hanging"])
            assert hanging.started.wait(WAIT_SECONDS)
            began = time.monotonic()
            pool.close(timeout=0.3)
            assert time.monotonic() - began < 2.0
        finally:
            hanging.release.set()


def test_a_shadow_that_cannot_load_and_a_failing_hook_are_failed_records_not_dead_workers(models, tmp_path):
    def load(model_id):
        raise LookupError(f"{model_id} is not in the store")

    calls = []

    def hook(record):
        calls.append(record["request_id"])
        raise ValueError("metrics are down")

    with open_shadow_log(tmp_path / "shadows.sqlite") as log:
        pool = ShadowPool(load, log, on_result=hook)
        for i in range(3):
            pool.submit(job_for(models, i, i + 2, f"req-{i}", TAG), ["sha256.MISSING"])
        wait_for(lambda: pool.stats()["failed"] == 3, "three failed records")
        pool.close()
        records = list(log.records())
    assert calls == ["req-0", "req-1", "req-2"]
    assert [r["error"] for r in records] == [
        "cannot load the shadow model: LookupError: sha256.MISSING is not in the store"
    ] * 3
    assert all(r["shadow_seconds"] is None and r["shadow_values"] is None for r in records)


def sample_records():
    base = {field: None for field in RECORD_FIELDS}
    return [
        {**base, "request_id": "r1", "tag": "a.b", "shadow_id": "s1", "outputs": ["prediction"],
         "primary_values": [[1.5], None, ["NaN"], ["Infinity"]], "primary_errors": [None, "bad 'x' <b>", None, None],
         "primary_seconds": 0.001, "at": "2026-12-04T05:00:00+00:00"},
        {**base, "request_id": "r1", "tag": "a.b", "shadow_id": "s2", "error": "RuntimeError: ünïcode"},
        {**base, "request_id": "r2", "tag": "c.d", "shadow_id": "s1"},
    ]  # fmt: skip


def test_both_log_kinds_round_trip_and_filter(log_path):
    records = sample_records()
    with open_shadow_log(log_path) as log:
        for record in records:
            log.append(record)
    with open_shadow_log(log_path, create=False) as log:
        assert list(log.records()) == records
        assert list(log.records(tag="a.b")) == records[:2]
        assert list(log.records(shadow_id="s1")) == [records[0], records[2]]
        assert list(log.records(tag="a.b", shadow_id="s2")) == [records[1]]
        assert list(log.records(tag="x.y")) == []
        assert log.tags() == ["a.b", "c.d"]


def test_non_finite_scores_are_written_as_strict_json_and_read_back(models, tmp_path):
    from crossform.scores import Scores
    from crossform.serve.shadows import make_record

    job = job_for(models, 0, 3, "req", TAG)
    odd = Scores(np.array([[np.inf, 1.0], [np.nan, np.nan], [-np.inf, 2.0]]), ("a", "b"), [None, "refused", None])
    record = make_record(job, "s", odd, 0.5, None)
    assert record["shadow_values"] == [["Infinity", 1.0], None, ["-Infinity", 2.0]]
    path = tmp_path / "shadows.jsonl"
    with open_shadow_log(path) as log:
        log.append(record)
    assert "Infinity" in path.read_text() and "NaN" not in path.read_text()
    back = np.array(next(open_shadow_log(path, create=False).records())["shadow_values"][0], dtype=np.float64)
    assert math.isinf(back[0]) and back[0] > 0 and back[1] == 1.0


APPENDER = textwrap.dedent(
    """
    import pathlib, sys, time
    from crossform.serve.shadows import open_shadow_log
    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    log = open_shadow_log(path)
    ready = pathlib.Path(path + "." + name + ".ready")
    ready.touch()
    while len(list(ready.parent.glob("*.ready"))) < 2:  # both processes append during the same moments
        time.sleep(0.001)
    for i in range(count):
        log.append({"request_id": f"{name}-{i}", "tag": "a.b", "shadow_id": name, "shadow_values": [[float(i)] * 20] * 20})
    log.close()
    """
)


def test_two_processes_appending_to_one_log_lose_nothing(log_path):
    count = 400
    processes = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(log_path), name, str(count)])
        for name in ("first", "second")
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0
    with open_shadow_log(log_path, create=False) as log:
        records = list(log.records())
    assert len(records) == 2 * count
    for name in ("first", "second"):
        mine = [r for r in records if r["shadow_id"] == name]
        assert [r["request_id"] for r in mine] == [f"{name}-{i}" for i in range(count)]
        assert all(r["shadow_values"] == [[float(i)] * 20] * 20 for i, r in enumerate(mine))
    # the two really were interleaved, so the test did exercise concurrent appends
    owners = [r["shadow_id"] for r in records]
    assert sum(a != b for a, b in zip(owners, owners[1:])) > 1


def test_an_sqlite_log_is_in_wal_mode(tmp_path):
    import sqlite3

    path = tmp_path / "shadows.sqlite"
    open_shadow_log(path).close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reading_a_missing_log_is_a_named_error_and_creates_nothing(log_path):
    with pytest.raises(ShadowLogNotFoundError, match="no shadow log here") as caught:
        open_shadow_log(log_path, create=False)
    assert str(log_path) in str(caught.value)
    assert not log_path.exists()


def test_what_is_not_a_shadow_log_is_refused_by_name(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("hello")
    with pytest.raises(ShadowLogFormatError, match=r"notes\.sqlite: not an SQLite file.*found b'hello"):
        open_shadow_log(text)
    registry = tmp_path / "registry.sqlite"
    open_registry(registry).close()
    with pytest.raises(
        ShadowLogFormatError, match="not a crossform shadow log: expected a 'crossform_shadow_log' table"
    ):
        open_shadow_log(registry)
    with pytest.raises(ShadowLogFormatError, match="found a directory"):
        open_shadow_log(tmp_path)
    with pytest.raises(ShadowLogError, match="expected a file path"):
        open_shadow_log("postgresql://somewhere/db")


def test_a_damaged_json_lines_log_names_the_line_and_skips_a_line_still_being_written(tmp_path):
    path = tmp_path / "shadows.jsonl"
    good = json.dumps({"tag": "a.b", "shadow_id": "s"})
    path.write_text(good + "\n" + good + "\n" + '{"tag": "a.b", "sha')
    assert len(list(open_shadow_log(path, create=False).records())) == 2
    path.write_text(good + "\n" + "{not json\n")
    with pytest.raises(ShadowLogFormatError, match=r"shadows\.jsonl, line 2: expected one JSON record"):
        list(open_shadow_log(path, create=False).records())
    path.write_text(good + "\n" + '["a list"]\n')
    with pytest.raises(ShadowLogFormatError, match=r"line 2: expected a record with a text tag and shadow_id"):
        list(open_shadow_log(path, create=False).records())


def test_a_huge_exception_message_is_cut_in_the_record(models, tmp_path):
    with open_shadow_log(tmp_path / "shadows.jsonl") as log:
        pool = ShadowPool(loader(models, extra={"verbose": Verbose()}), log)
        pool.submit(job_for(models, 0, 1, "req", TAG), ["verbose"])
        wait_for(lambda: pool.stats()["failed"] == 1, "the record")
        pool.close()
        (record,) = log.records()
    assert record["error"].startswith("ValueError: xxx") and record["error"].endswith("...")
    assert len(record["error"]) == 1000


class Gated:
    """A shadow that waits at its first call until released (so that later jobs queue behind it),
    counts its calls and raises on a batch holding the colour "raise me"."""

    def __init__(self, model):
        self.model = model
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls: list = []

    def score(self, columns):
        self.calls.append(len(columns["colour"]))
        if len(self.calls) == 1:
            self.entered.set()
            self.release.wait(WAIT_SECONDS)
        if "raise me" in list(columns["colour"]):
            raise ValueError("a column this shadow cannot take")
        return self.model.score(columns)


def test_jobs_that_queue_are_scored_together_each_record_with_its_own_rows(models, tmp_path):
    shadow_id = models.shadow_ids[1]  # the strict shadow: rows in error inside a batch stay with their job
    gated = Gated(PackageModel(models.packages[shadow_id]))
    spans = [(0, 1)] + [(s, s + n) for s, n in zip(range(1, 200, 10), [1, 5, 10, 3, 7, 2, 9, 4, 6, 8] * 2)]
    bad = job_for(models, 0, 2, "req-bad", TAG)
    bad = dataclasses.replace(bad, columns={**bad.columns, "colour": ["raise me", "red"]})
    with open_shadow_log(tmp_path / "shadows.sqlite") as log:
        pool = ShadowPool(loader(models, extra={shadow_id: gated}), log)
        pool.submit(job_for(models, *spans[0], "req-0", TAG), [shadow_id])
        assert gated.entered.wait(WAIT_SECONDS)
        for n, (start, stop) in enumerate(spans[1:], start=1):
            pool.submit(job_for(models, start, stop, f"req-{n}", TAG), [shadow_id])
        pool.submit(bad, [shadow_id])
        gated.release.set()
        wait_for(lambda: pool.stats()["scored"] + pool.stats()["failed"] == len(spans) + 1, "every record")
        pool.close()
        records = {r["request_id"]: r for r in log.records()}
    queued_rows = sum(stop - start for start, stop in spans[1:]) + 2
    # the first job alone, the 21 queued behind it in one call (which raised on the bad one), then each alone
    assert gated.calls[:2] == [1, queued_rows] and len(gated.calls) == 2 + 21
    assert records["req-bad"]["error"] == "ValueError: a column this shadow cannot take"
    for n, (start, stop) in enumerate(spans):
        record = records[f"req-{n}"]
        assert record["error"] is None
        shadow, _, refused = sklearn_scores(models, shadow_id, start, stop)
        assert_values_equal(record["shadow_values"], shadow)
        assert [e is not None for e in record["shadow_errors"]] == refused.tolist()
        assert record["shadow_seconds"] > 0
    assert pool.stats() == {"queued": 0, "dropped": 0, "scored": len(spans), "failed": 1}


def test_a_batch_of_records_is_appended_whole(log_path, models):
    jobs = [job_for(models, i, i + 2, f"req-{i}", TAG) for i in range(3)]
    records = [
        {**dict.fromkeys(RECORD_FIELDS), "tag": TAG, "shadow_id": "s", "request_id": job.request_id} for job in jobs
    ]
    with open_shadow_log(log_path) as log:
        log.append_many(records)
        with pytest.raises(ShadowLogError):
            log.append_many([records[0], {"tag": TAG, "shadow_id": "s", "bad": math.nan}])
        assert [r["request_id"] for r in log.records()] == ["req-0", "req-1", "req-2"]
