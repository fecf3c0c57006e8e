"""The model cache: each id loaded once per process however many requests ask at once, read through the
store (which re-hashes what it reads), kept within a memory bound, least recently used out first."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from crossform.errors import ObjectNotFoundError, StoreIntegrityError
from crossform.serve.models import ModelCache, array_bytes
from crossform.store import open_store
from helpers.serving import TAG, request_rows, serving

GOOD = request_rows()[0]
CALLERS = 8


def test_concurrent_first_requests_load_a_model_once(deployer, config, packages):
    model_id = deployer.push(packages["classifier"])
    deployer.deploy(TAG, model_id)
    start = threading.Barrier(CALLERS)

    def ask(path):
        with httpx.Client(timeout=60) as client:
            start.wait()
            return client.post(path, json=GOOD)

    with serving(config) as (base, app):
        with ThreadPoolExecutor(CALLERS) as pool:
            by_id = list(pool.map(ask, [f"{base}/model/{model_id}/predict"] * CALLERS))
        cache = app.state.server.cache
        loads_after_ids = dict(cache.load_count)
        second = deployer.push(packages["regressor"])
        deployer.deploy("txn_fraud.staging", second)
        with ThreadPoolExecutor(CALLERS) as pool:
            by_tag = list(pool.map(ask, [f"{base}/tag/txn_fraud.staging/predict"] * CALLERS))
        loads_after_tags = dict(cache.load_count)
    assert [r.status_code for r in by_id + by_tag] == [200] * 2 * CALLERS
    assert {r.json()["values"][0][0] for r in by_id} == {by_id[0].json()["values"][0][0]}
    assert loads_after_ids == {model_id: 1}
    assert loads_after_tags == {model_id: 1, second: 1}


def test_the_cache_keeps_the_most_recently_used_models_within_its_bound(tmp_path, packages):
    store = open_store(tmp_path / "store")
    first, second = store.put(packages["classifier"]), store.put(packages["regressor"])
    probe = ModelCache(store)
    one = probe.get(first)
    assert one.nbytes >= array_bytes(packages["classifier"].model) > 0
    cache = ModelCache(store, max_bytes=one.nbytes + 1)  # room for the first model only
    a = cache.get(first)
    b = cache.get(second)
    assert [m.id for m in cache.models()] == [second]  # the first went out to make room
    assert a.score(packages["classifier"].checks.data()).values.shape[0] == 60  # a holder still scores with it
    assert cache.get(first) is not a and cache.load_count == {first: 2, second: 1}
    assert [m.id for m in cache.models()] == [first]
    assert b.id == second


def test_a_model_always_fits_even_when_bigger_than_the_bound(tmp_path, packages):
    store = open_store(tmp_path / "store")
    model_id = store.put(packages["classifier"])
    cache = ModelCache(store, max_bytes=1)
    assert cache.get(model_id) is cache.get(model_id) and cache.load_count == {model_id: 1}


def test_a_failed_load_reaches_every_waiter_and_the_next_request_tries_again(tmp_path, packages):
    store = open_store(tmp_path / "store")
    model_id = packages["classifier"].id  # not stored yet
    cache = ModelCache(store)
    with pytest.raises(ObjectNotFoundError):
        cache.get(model_id)
    assert not cache.loading(model_id)
    store.put(packages["classifier"])
    assert cache.get(model_id).id == model_id


def test_the_cache_reads_through_the_store_which_refuses_changed_bytes(tmp_path, packages):
    store = open_store(tmp_path / "store")
    model_id = store.put(packages["classifier"], format="protobuf")
    (stored,) = (tmp_path / "store").rglob("files/package")
    stored.write_bytes(stored.read_bytes()[:-1] + bytes([stored.read_bytes()[-1] ^ 1]))
    with pytest.raises(StoreIntegrityError):
        ModelCache(store).get(model_id)
