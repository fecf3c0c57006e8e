"""The server's side of shadows and its Prometheus metrics: every tag request with shadows becomes one
job for the shadow pool, handed over after the answer is sent; a full queue is counted; the pool's
results feed the agreement metrics; request counts, errors and latency are kept per model and tag.

The shadow pool itself is crossform.serve.shadows' (tests/serve/test_shadow_pool.py); here a fake with
its interface records the ShadowJobs the server hands it. tests/serve/test_readme_serving.py runs the
real pool behind the real server."""

from __future__ import annotations

import dataclasses
import os
import time

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crossform.serve.shadows import open_shadow_log
from helpers.model_ids import model_id
from helpers.serving import TAG, request_rows, serving, sklearn_outputs

ROWS = request_rows()[:3]


class FakeShadowPool:
    """ShadowPool's interface: submit (recorded; accepted unless told to drop), stats, close."""

    def __init__(self, accept: bool = True, submit_seconds: float = 0.0) -> None:
        self.accept, self.submit_seconds = accept, submit_seconds
        self.jobs: list = []
        self.closed = False

    def submit(self, job, shadow_ids) -> bool:
        time.sleep(self.submit_seconds)
        self.jobs.append((job, tuple(shadow_ids)))
        return self.accept

    def stats(self) -> dict:
        return {"queued": 0, "dropped": 0, "scored": 0, "failed": 0}

    def close(self, timeout=None) -> None:
        self.closed = True


@pytest.fixture
def shadowed(deployer, packages):
    primary = deployer.push(packages["classifier"])
    shadow = deployer.push(packages["regressor"])
    deployer.deploy(TAG, primary)
    deployer.add_shadow(TAG, shadow)
    return primary, shadow


def samples(text: str, name: str) -> dict:
    """{labels as a sorted tuple: value} of one metric's samples in a scrape."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_each_tag_request_is_handed_to_the_shadow_pool_after_its_answer(config, shadowed):
    primary, shadow = shadowed
    # the hand-off runs on the event loop after the answer is sent (a real pool's submit returns at
    # once); this one takes a second, so an answer that waited for it would show in its time
    pool = FakeShadowPool(submit_seconds=1.0)
    with serving(config, shadow_pool=pool) as (base, _), httpx.Client(base_url=base) as client:
        client.post(f"/model/{primary}/predict", json={"rows": ROWS})  # by id, no shadows: loads the model
        start = time.perf_counter()
        response = client.post(f"/tag/{TAG}/predict", json={"rows": ROWS})
        answered = time.perf_counter() - start
        client.post(f"/model/{primary}/predict", json={"rows": ROWS})  # by id: no shadows
        deadline = time.monotonic() + 10
        while len(pool.jobs) < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert answered < 0.5
    answer = response.json()
    assert len(pool.jobs) == 1 and {ids for _, ids in pool.jobs} == {(shadow,)}
    (job,) = [job for job, _ in pool.jobs if job.request_id == answer["request_id"]]
    assert (job.tag, job.primary_id) == (TAG, primary)
    # the columns as the primary scored them: a numeric column of JSON numbers as a float64 array
    assert {name: list(values) for name, values in job.columns.items()} == {
        name: [row[name] for row in ROWS] for name in ("colour", "size", "weight")
    }
    assert job.columns["weight"].dtype == np.float64
    assert job.primary.values.tolist() == answer["values"] and job.primary.errors == answer["errors"]
    assert 0 < job.primary_seconds < answered and job.received_at <= time.time()
    assert pool.closed  # the server closes its pool when it stops


def test_a_shadow_added_while_serving_gets_the_next_requests(deployer, config, packages):
    primary = deployer.push(packages["classifier"])
    deployer.deploy(TAG, primary)
    pool = FakeShadowPool()
    with serving(config, shadow_pool=pool) as (base, app), httpx.Client(base_url=base) as client:
        client.post(f"/tag/{TAG}/predict", json=ROWS[0])
        shadow = deployer.push(packages["regressor"])
        deployer.add_shadow(TAG, shadow)
        deadline = time.monotonic() + 5
        while not pool.jobs:
            assert time.monotonic() < deadline
            client.post(f"/tag/{TAG}/predict", json=ROWS[0])
            time.sleep(0.05)
        described = client.get(f"/tag/{TAG}").json()
    assert pool.jobs[0][1] == (shadow,)
    assert described["shadows"] == [shadow] and described["events"][-1]["kind"] == "shadow-add"


def test_a_full_shadow_queue_is_counted_and_the_answer_unchanged(config, shadowed):
    primary, _ = shadowed
    pool = FakeShadowPool(accept=False)
    with serving(config, shadow_pool=pool) as (base, _), httpx.Client(base_url=base) as client:
        answers = [client.post(f"/tag/{TAG}/predict", json={"rows": ROWS}) for _ in range(3)]
        deadline = time.monotonic() + 5
        while len(pool.jobs) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        scrape = client.get("/metrics").text
    assert {a.status_code for a in answers} == {200}
    assert [a.json()["values"] for a in answers] == [answers[0].json()["values"]] * 3
    assert samples(scrape, "crossform_serve_shadow_dropped_total") == {(("tag", TAG),): 3.0}


def test_shadow_results_feed_the_agreement_metrics(config, shadowed):
    primary, shadow = shadowed
    record = {
        "request_id": "r1",
        "tag": TAG,
        "primary_id": primary,
        "shadow_id": shadow,
        "outputs": ["a", "b"],
        "shadow_outputs": ["a", "b"],
        "primary_classes": None,
        "shadow_classes": None,
        "primary_values": [[0.25, 0.75], [0.5, 0.5], None, [1.0, 0.0], None],
        "shadow_values": [[0.25, 0.75], [0.5, 0.625], [0.1, 0.9], None, None],
        "primary_errors": [None, None, "refused", None, "refused"],
        "shadow_errors": [None, None, None, "refused", "refused"],
        "error": None,
    }
    failed = dict(record, shadow_values=None, error="the shadow failed to load")
    with serving(config, shadow_pool=FakeShadowPool()) as (base, app):
        app.state.server.metrics.shadow_result(record)
        app.state.server.metrics.shadow_result(failed)
        scrape = httpx.get(f"{base}/metrics").text
    rows = samples(scrape, "crossform_serve_shadow_rows_total")
    labels = (("shadow_id", shadow), ("tag", TAG))
    assert rows == {
        tuple(sorted(labels + (("outcome", "same"),))): 2.0,  # row 0 equal, row 4 refused by both
        tuple(sorted(labels + (("outcome", "different"),))): 1.0,
        tuple(sorted(labels + (("outcome", "error"),))): 2.0 + 5.0,  # rows 2 and 3, then all 5 of the failed one
    }
    deltas = samples(scrape, "crossform_serve_shadow_score_delta_count")
    assert deltas == {labels: 2.0}
    assert samples(scrape, "crossform_serve_shadow_score_delta_sum") == {labels: 0.125}


def test_requests_errors_and_latency_are_counted_per_model_and_tag(config, shadowed):
    primary, _ = shadowed
    bad_row = dict(ROWS[0], size="big")
    with serving(config, shadow_pool=FakeShadowPool()) as (base, _), httpx.Client(base_url=base) as client:
        for _ in range(3):
            client.post(f"/tag/{TAG}/predict", json={"rows": ROWS + [bad_row]})
        client.post(f"/model/{primary}/predict", json=ROWS[0])
        client.post(f"/model/{primary}/predict", json={"colour": "red"})  # missing inputs: 400
        client.post("/tag/nobody.home/predict", json=ROWS[0])  # 404
        scrape = client.get("/metrics").text
    requests = samples(scrape, "crossform_serve_requests_total")
    assert requests == {
        (("code", "200"), ("model_id", primary), ("tag", TAG)): 3.0,
        (("code", "200"), ("model_id", primary), ("tag", "")): 1.0,
        (("code", "400"), ("model_id", primary), ("tag", "")): 1.0,
        (("code", "404"), ("model_id", ""), ("tag", "")): 1.0,
    }
    assert samples(scrape, "crossform_serve_rows_total")[(("model_id", primary), ("tag", TAG))] == 12.0
    assert samples(scrape, "crossform_serve_row_errors_total") == {(("model_id", primary), ("tag", TAG)): 3.0}
    latency = samples(scrape, "crossform_serve_request_seconds_count")
    assert latency == {(("model_id", primary), ("tag", TAG)): 3.0, (("model_id", primary), ("tag", "")): 1.0}
    (loads,) = samples(scrape, "crossform_serve_model_loads_total").items()
    assert loads[1] == 1.0 and dict(loads[0])["model_id"] == primary
    assert samples(scrape, "crossform_serve_models_loaded") == {(): 1.0}


def test_the_servers_own_shadow_process_logs_a_failing_and_a_working_shadow_and_answers_unchanged(
    deployer, config, fitted, packages, tmp_path
):
    primary = deployer.push(packages["classifier"])
    working = deployer.push(packages["regressor"])
    missing = model_id("a shadow whose package never reached the store")  # it fails to load, as a raise would
    deployer.deploy(TAG, primary)
    deployer.add_shadow(TAG, working)
    deployer.add_shadow(TAG, missing, force=True)
    log_path = tmp_path / "shadows.jsonl"
    config = dataclasses.replace(config, shadow_log=str(log_path))
    with serving(config) as (base, app), httpx.Client(base_url=base) as client:
        answers = [client.post(f"/tag/{TAG}/predict", json={"rows": ROWS}) for _ in range(5)]
        shadows = app.state.server.shadow_pool()
        assert shadows.pid != os.getpid()  # a process of its own
        deadline = time.monotonic() + 60
        while shadows.stats()["scored"] + shadows.stats()["failed"] < 10:
            assert time.monotonic() < deadline, shadows.stats()
            time.sleep(0.05)
        scrape = client.get("/metrics").text
    expected = sklearn_outputs(fitted["classifier"], ROWS)
    for answer in answers:
        assert answer.status_code == 200 and answer.json()["model_id"] == primary
        np.testing.assert_allclose(answer.json()["values"], expected, rtol=1e-12, atol=0)
    with open_shadow_log(log_path, create=False) as log:
        records = list(log.records(tag=TAG))
    failed = [r for r in records if r["shadow_id"] == missing]
    scored = [r for r in records if r["shadow_id"] == working]
    assert len(failed) == len(scored) == 5
    assert all(r["error"].startswith("cannot load the shadow model") for r in failed)
    regressor = sklearn_outputs(fitted["regressor"], ROWS)
    for record in scored:
        np.testing.assert_allclose(record["shadow_values"], regressor, rtol=1e-12, atol=0)
    # the agreement counts came back from the child to this process's metrics
    rows = samples(scrape, "crossform_serve_shadow_rows_total")
    assert rows[(("outcome", "error"), ("shadow_id", missing), ("tag", TAG))] == 5 * len(ROWS)
