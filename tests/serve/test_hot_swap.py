"""Hot swap: a deploy and a rollback while a client sends requests without pause. No request fails,
the new id answers within 2 s of each change, and once it answers the old one never does again."""

from __future__ import annotations

import dataclasses
import threading
import time

import httpx
import numpy as np

from crossform.serve.follow import DEFAULT_POLL_INTERVAL
from helpers.serving import TAG, request_rows, serving, sklearn_outputs

SWITCH_SECONDS = 2.0
LOOP_SECONDS = 30.0  # the loop's bound in time ...
LOOP_REQUESTS = 20_000  # ... and in count


class Loop:
    """Requests to the tag one after another on one connection, each answer kept with its time."""

    def __init__(self, base: str, row: dict) -> None:
        self.base, self.row = base, row
        self.answers: list = []  # (monotonic time, status, model id or None, values)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        end = time.monotonic() + LOOP_SECONDS
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self.stop.is_set() and time.monotonic() < end and len(self.answers) < LOOP_REQUESTS:
                try:
                    response = client.post(f"/tag/{TAG}/predict", json=self.row)
                    body = response.json()
                    self.answers.append(
                        (time.monotonic(), response.status_code, body.get("model_id"), body.get("values"))
                    )
                except httpx.HTTPError as exc:  # a dropped connection counts as a failed request
                    self.answers.append((time.monotonic(), repr(exc), None, None))

    def wait_for(self, model_id: str, since: float) -> float:
        """Seconds from ``since`` to the first answer from ``model_id`` after it."""
        deadline = since + SWITCH_SECONDS + 5
        while time.monotonic() < deadline:
            for at, _, answered, _ in list(self.answers):
                if at >= since and answered == model_id:
                    return at - since
            time.sleep(0.01)
        raise AssertionError(f"{model_id} never answered")


def test_deploy_and_rollback_under_a_steady_request_loop(deployer, config, fitted, packages):
    config = dataclasses.replace(config, poll_interval=DEFAULT_POLL_INTERVAL)
    first = deployer.push(packages["classifier"])
    second = deployer.push(packages["regressor"])
    deployer.deploy(TAG, first)
    row = request_rows()[1]
    expected = {
        first: sklearn_outputs(fitted["classifier"], [row])[0],
        second: sklearn_outputs(fitted["regressor"], [row])[0],
    }
    with serving(config) as (base, _):
        loop = Loop(base, row)
        loop.thread.start()
        while not loop.answers:
            time.sleep(0.01)
        time.sleep(0.3)
        deployed_at = time.monotonic()
        deployer.deploy(TAG, second, message="retrained")
        to_second = loop.wait_for(second, deployed_at)
        time.sleep(0.3)
        rolled_back_at = time.monotonic()
        deployer.rollback(TAG, message="precision dropped")
        to_first = loop.wait_for(first, rolled_back_at)
        time.sleep(0.3)
        loop.stop.set()
        loop.thread.join(15)
    statuses = {status for _, status, _, _ in loop.answers}
    assert statuses == {200}, [a for a in loop.answers if a[1] != 200][:3]
    assert to_second < SWITCH_SECONDS and to_first < SWITCH_SECONDS
    served = [model_id for _, _, model_id, _ in loop.answers]
    # one switch each way: first ... first, second ... second, first ... first
    changes = [served[0]] + [b for a, b in zip(served, served[1:]) if a != b]
    assert changes == [first, second, first], changes
    for _, _, model_id, values in loop.answers:
        np.testing.assert_allclose(values[0], expected[model_id], rtol=1e-12, atol=0)
    assert len(loop.answers) > 50
    print(f"{len(loop.answers)} requests; switched in {to_second:.3f} s and back in {to_first:.3f} s")


def test_a_new_model_that_fails_to_load_leaves_the_old_one_serving(deployer, config, packages):
    """A deploy forced past the gate to an id the store does not hold: the tag keeps its model, and
    the next good deploy switches as usual."""
    from helpers.model_ids import model_id as made_up_id

    first = deployer.push(packages["classifier"])
    deployer.deploy(TAG, first)
    with serving(config) as (base, app), httpx.Client(base_url=base) as client:
        assert client.post(f"/tag/{TAG}/predict", json=request_rows()[0]).json()["model_id"] == first
        deployer.deploy(TAG, made_up_id("missing from the store"), force=True)
        follower = app.state.server.follower
        polls = follower.polls
        while follower.polls < polls + 3:
            time.sleep(0.05)
        still = client.post(f"/tag/{TAG}/predict", json=request_rows()[0])
        second = deployer.push(packages["regressor"])
        deployer.deploy(TAG, second)
        deadline = time.monotonic() + SWITCH_SECONDS
        while (answer := client.post(f"/tag/{TAG}/predict", json=request_rows()[0]).json())["model_id"] != second:
            assert time.monotonic() < deadline
        failures = client.get("/metrics").text
        described = client.get(f"/tag/{TAG}").json()
    assert still.status_code == 200 and still.json()["model_id"] == first
    assert answer["errors"] == [None]
    assert f'crossform_serve_tag_swap_failures_total{{tag="{TAG}"}}' in failures
    assert described["current_id"] == described["serving_id"] == second
    assert [e["kind"] for e in described["events"]] == ["deploy", "deploy", "deploy"]


SLOW_MARK = 999.0  # a weight that makes the patched scorer below take SLOW_SECONDS first
SLOW_SECONDS = 1.5


def slowed(monkeypatch):
    """LoadedModel.score, patched to sleep before scoring a batch whose first weight is SLOW_MARK,
    so a test can hold a request in flight for as long as it needs."""
    from crossform.serve.models import LoadedModel

    score = LoadedModel.score

    def slow_score(self, columns):
        if columns["weight"][0] == SLOW_MARK:
            time.sleep(SLOW_SECONDS)
        return score(self, columns)

    monkeypatch.setattr(LoadedModel, "score", slow_score)


def slow_batch(rows: int = 3000) -> dict:
    """A batch long enough to be scored in a worker thread (crossform.serve.app.INLINE_SECONDS)."""
    row = dict(request_rows()[0], weight=SLOW_MARK)
    return {"columns": {name: [value] * rows for name, value in row.items()}}


def test_a_request_in_flight_during_a_swap_finishes_on_the_model_it_started_with(
    monkeypatch, deployer, config, fitted, packages
):
    slowed(monkeypatch)
    first, second = deployer.push(packages["classifier"]), deployer.push(packages["regressor"])
    deployer.deploy(TAG, first)
    batch = slow_batch()
    with serving(config) as (base, _), httpx.Client(base_url=base, timeout=30) as client:
        assert client.post(f"/tag/{TAG}/predict", json=request_rows()[0]).json()["model_id"] == first
        in_flight = {}
        thread = threading.Thread(
            target=lambda: in_flight.update(answer=httpx.post(f"{base}/tag/{TAG}/predict", json=batch, timeout=30))
        )
        thread.start()
        time.sleep(0.2)  # the slow request has its model and is scoring
        deployer.deploy(TAG, second)
        deadline = time.monotonic() + SWITCH_SECONDS
        while client.post(f"/tag/{TAG}/predict", json=request_rows()[0]).json()["model_id"] != second:
            assert time.monotonic() < deadline
        assert thread.is_alive()  # the tag switched while the slow request was still in flight
        thread.join(30)
    answer = in_flight["answer"].json()
    assert in_flight["answer"].status_code == 200 and answer["model_id"] == first
    expected = sklearn_outputs(fitted["classifier"], [dict(request_rows()[0], weight=SLOW_MARK)])
    np.testing.assert_allclose(answer["values"][-1:], expected, rtol=1e-12, atol=0)


def test_scoring_past_the_request_timeout_is_a_504_and_the_server_keeps_serving(
    monkeypatch, deployer, config, packages
):
    slowed(monkeypatch)
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, request_timeout=0.5))
    model_id = deployer.push(packages["classifier"])
    with serving(config) as (base, _), httpx.Client(base_url=base, timeout=30) as client:
        assert client.post(f"/model/{model_id}/predict", json=request_rows()[0]).status_code == 200
        start = time.monotonic()
        late = client.post(f"/model/{model_id}/predict", json=slow_batch())
        waited = time.monotonic() - start
        after = client.post(f"/model/{model_id}/predict", json=request_rows()[0])
    assert late.status_code == 504 and "scoring took longer" in late.json()["error"]
    assert waited < SLOW_SECONDS
    assert after.status_code == 200


def test_readyz_waits_for_a_startup_tag_deployed_after_the_server_started(deployer, config, packages):
    config = dataclasses.replace(config, tags=(TAG,))
    with serving(config) as (base, _), httpx.Client(base_url=base) as client:
        before = client.get("/readyz")
        model_id = deployer.push(packages["classifier"])
        deployer.deploy(TAG, model_id)
        deadline = time.monotonic() + 10
        while (after := client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        health = client.get("/healthz")
    assert before.status_code == 503 and before.json()["ready"] is False
    assert "no tag" in before.json()["startup_error"] or "no tags yet" in before.json()["startup_error"]
    assert after.json() == {"ready": True, "tags": {TAG: model_id}, "registry_error": None, "startup_error": None}
    assert health.status_code == 200
