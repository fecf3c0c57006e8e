"""Every class of bad request gets the status code a client can rely on, a JSON message naming what
was wrong, and never a 500; after all of them the server still answers a good request."""

from __future__ import annotations

import dataclasses
import json
import socket
import time

import httpx
import pytest

from helpers.model_ids import model_id as made_up_id
from helpers.serving import TAG, request_rows, serving

GOOD = request_rows()[0]


def bad_requests(model_id: str) -> list:
    """(name, method, path, keyword arguments for httpx, expected status, word the message contains)."""
    predict = f"/model/{model_id}/predict"
    tag = f"/tag/{TAG}/predict"
    deep = b"[" * 3000 + b"]" * 3000  # deeper than the json module recurses
    return [
        ("bad JSON", "POST", predict, {"content": b'{"size": '}, 400, "JSON"),
        ("not UTF-8", "POST", predict, {"content": b'{"colour": "\xff"}'}, 400, "UTF-8"),
        ("nesting deeper than Python parses", "POST", predict, {"content": deep}, 400, "JSON"),
        ("a number of 5000 digits", "POST", predict, {"content": b'{"size": ' + b"9" * 5000 + b"}"}, 400, "JSON"),
        ("a JSON list for the body", "POST", predict, {"json": [GOOD]}, 400, "object"),
        ("a string for the body", "POST", tag, {"json": "rows"}, 400, "object"),
        ("rows that are not a list", "POST", predict, {"json": {"rows": GOOD}}, 400, "list"),
        ("a row that is not an object", "POST", predict, {"json": {"rows": [GOOD, 3]}}, 400, "rows[1]"),
        ("columns that are not an object", "POST", tag, {"json": {"columns": [1, 2]}}, 400, "columns"),
        ("a column that is not a list", "POST", predict, {"json": {"columns": {"size": 3}}}, 400, "list"),
        (
            "columns of different lengths",
            "POST",
            predict,
            {"json": {"columns": {"colour": ["red"], "size": [1.0, 2.0], "weight": [0.0]}}},
            400,
            "length",
        ),
        ("a row without an input", "POST", tag, {"json": {"colour": "red", "weight": 1.0}}, 400, "'size'"),
        ("a column missing", "POST", predict, {"json": {"columns": {"colour": ["red"]}}}, 400, "'size'"),
        ("an id that is not an id", "POST", "/model/sha256.nope/predict", {"json": GOOD}, 400, "package id"),
        ("a malformed tag", "POST", "/tag/Not A Tag/predict", {"json": GOOD}, 400, "tag"),
        (
            "an id not in the store",
            "POST",
            f"/model/{made_up_id('never pushed')}/predict",
            {"json": GOOD},
            404,
            "no package",
        ),
        ("an unknown tag", "POST", "/tag/nobody.home/predict", {"json": GOOD}, 404, "no tag"),
        ("GET /model of an id not stored", "GET", f"/model/{made_up_id('never pushed either')}", {}, 404, "no package"),
        ("GET /tag of an unknown tag", "GET", "/tag/nobody.home", {}, 404, "no such tag"),
        ("GET /tag of a malformed tag", "GET", "/tag/UPPER", {}, 400, "tag"),
        ("GET /model of a malformed id", "GET", "/model/12", {}, 400, "package id"),
        ("a body over the limit", "POST", predict, {"json": {"rows": [GOOD] * 200}}, 413, "bytes"),
        (
            "a chunked body over the limit",
            "POST",
            predict,
            {"content": iter([b'{"rows": [', b", ".join([b'{"size": 1}'] * 1000), b"]}"])},
            413,
            "bytes",
        ),
        ("more rows than the limit", "POST", tag, {"json": {"columns": {"size": [1.0] * 21}}}, 413, "rows"),
        ("the wrong method", "GET", predict, {}, 405, "Method Not Allowed"),
        ("no such path", "POST", "/predict", {"json": GOOD}, 404, "Not Found"),
    ]


@pytest.fixture
def shipped(deployer, packages):
    model_id = deployer.push(packages["classifier"])
    deployer.deploy(TAG, model_id)
    return model_id


def test_every_bad_request_class_gets_its_status_and_the_server_keeps_serving(config, shipped):
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, max_body_bytes=8000, max_rows=20))
    cases = bad_requests(shipped)
    with serving(config) as (base, _), httpx.Client(base_url=base, timeout=30) as client:
        assert client.post(f"/tag/{TAG}/predict", json=GOOD).status_code == 200  # loaded: the checks run on it
        for name, method, path, arguments, status, word in cases:
            response = client.request(method, path, **arguments)
            assert response.status_code == status, (name, response.text)
            body = response.json()
            assert body["status"] == status and word in body["error"], (name, body)
        answer = client.post(f"/model/{shipped}/predict", json=GOOD)
        metrics = client.get("/metrics").text
    assert answer.status_code == 200 and answer.json()["errors"] == [None]
    assert 'code="500"' not in metrics


def test_a_body_that_arrives_too_slowly_is_a_408(config, shipped):
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, request_timeout=0.5))
    with serving(config) as (base, _):
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            head = f"POST /model/{shipped}/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
            connection.sendall(head.encode() + b'{"colour": ')  # then nothing more
            start = time.monotonic()
            answer = connection.recv(4096).decode()
            waited = time.monotonic() - start
        still = httpx.post(f"{base}/model/{shipped}/predict", json=GOOD)
    assert answer.startswith("HTTP/1.1 408") and "receiving the body" in answer
    assert waited < 5
    assert still.status_code == 200


@pytest.mark.parametrize("how", [{"headers": {"Prefer": "no-wait"}}, {"params": {"wait": "false"}}])
def test_a_caller_that_will_not_wait_gets_503_while_the_model_loads_for_the_first_time(config, shipped, how):
    with serving(config) as (base, _), httpx.Client(base_url=base) as client:
        first = client.post(f"/model/{shipped}/predict", json=GOOD, **how)
        deadline = time.monotonic() + 30
        while (later := client.post(f"/model/{shipped}/predict", json=GOOD, **how)).status_code == 503:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        by_tag = client.post(f"/tag/{TAG}/predict", json=GOOD, **how)  # the model is loaded: no 503
    assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    assert "loading" in first.json()["error"]
    assert later.status_code == 200 and by_tag.status_code == 200


def test_a_caller_that_will_not_wait_for_a_tag_gets_503_then_its_answer(config, shipped):
    with serving(config) as (base, _), httpx.Client(base_url=base) as client:
        first = client.post(f"/tag/{TAG}/predict", json=GOOD, headers={"Prefer": "no-wait"})
        deadline = time.monotonic() + 30
        while (
            later := client.post(f"/tag/{TAG}/predict", json=GOOD, headers={"Prefer": "no-wait"})
        ).status_code == 503:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        unknown = client.post("/tag/nobody.home/predict", json=GOOD, headers={"Prefer": "no-wait"})
    assert first.status_code == 503 and later.status_code == 200 and later.json()["model_id"] == shipped
    assert unknown.status_code == 404


def test_without_no_wait_the_first_request_waits_for_the_load(config, shipped):
    with serving(config) as (base, _):
        answer = httpx.post(f"{base}/model/{shipped}/predict", json=GOOD, timeout=60)
    assert answer.status_code == 200


def test_a_first_load_past_the_request_timeout_is_a_503_and_the_load_still_lands(monkeypatch, config, shipped):
    from crossform.serve import models

    prepare = models.prepare

    def slow_prepare(*args, **kwargs):
        time.sleep(1.5)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(models, "prepare", slow_prepare)
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, request_timeout=0.5))
    with serving(config) as (base, app), httpx.Client(base_url=base) as client:
        first = client.post(f"/model/{shipped}/predict", json=GOOD)
        deadline = time.monotonic() + 30
        while app.state.server.cache.peek(shipped) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        later = client.post(f"/model/{shipped}/predict", json=GOOD)
        loads = dict(app.state.server.cache.load_count)
    assert first.status_code == 503 and "loading the model took longer" in first.json()["error"]
    assert first.headers["Retry-After"] == "1"
    assert later.status_code == 200 and loads == {shipped: 1}


def test_damaged_and_arbitrary_json_bodies_never_get_a_500(config, shipped):
    """Good bodies with bytes overwritten and cut, and any JSON value at all: 200, 400 or 413, and
    the answer is JSON."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from helpers.fuzz import damaged

    good = [
        json.dumps(GOOD).encode(),
        json.dumps({"rows": request_rows()[:5]}).encode(),
        json.dumps({"columns": {k: [r[k] for r in request_rows()[:5]] for k in GOOD}}).encode(),
    ]
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    values = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    )
    rows = st.fixed_dictionaries({k: scalars for k in GOOD})
    documents = values | rows | st.fixed_dictionaries({"rows": st.lists(rows | values, max_size=4)})

    with serving(config) as (base, _), httpx.Client(base_url=base, timeout=30) as client:
        client.post(f"/tag/{TAG}/predict", json=GOOD)

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.data())
        def every_body_is_answered(data):
            if data.draw(st.booleans()):
                body = damaged(data, good, flips=4, keep=0.3)
            else:
                body = json.dumps(data.draw(documents)).encode()
            path = data.draw(st.sampled_from([f"/tag/{TAG}/predict", f"/model/{shipped}/predict"]))
            response = client.post(path, content=body)
            assert response.status_code in (200, 400, 413), (body, response.text)
            assert isinstance(response.json(), dict)

        every_body_is_answered()
        assert client.post(f"/tag/{TAG}/predict", json=GOOD).status_code == 200
