"""Eight processes deploy to one tag at once: no update is lost and the history holds every deploy."""

from __future__ import annotations

import multiprocessing

from crossform.errors import DeployConflictError
from crossform.registry import open_registry
from helpers.model_ids import model_id

TAG = "txn_fraud.production"
DEPLOYERS = 8
DEPLOYS_EACH = 10


def deploy_with_retries(url, worker, start, results, checked):
    """Deploy this worker's ids one after another; with ``checked``, read the tag and retry on a conflict.
    Any other error is reported, so the test fails with it rather than waiting for a result."""
    try:
        start.wait()
        deploy_each(url, worker, results, checked)
    except BaseException as error:
        results.put((worker, f"{type(error).__name__}: {error}", 0))


def deploy_each(url, worker, results, checked):
    with open_registry(url) as registry:
        done, conflicts = [], 0
        for n in range(DEPLOYS_EACH):
            model = model_id(f"{worker}-{n}")
            while True:
                expect = registry.current(TAG) if checked and registry.tags() else None
                try:
                    if checked:
                        registry.deploy(TAG, model, actor=f"worker-{worker}", expect=expect)
                    else:
                        registry.deploy(TAG, model, actor=f"worker-{worker}")
                    break
                except DeployConflictError:
                    conflicts += 1
            done.append(model)
        results.put((worker, done, conflicts))


def race(url, checked):
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(DEPLOYERS), context.Queue()
    workers = [
        context.Process(target=deploy_with_retries, args=(url, w, start, results, checked)) for w in range(DEPLOYERS)
    ]
    for worker in workers:
        worker.start()
    reported = [results.get(timeout=120) for _ in workers]
    assert [error for _, error, _ in reported if isinstance(error, str)] == []
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    return reported


def check_history(url, reported):
    deployed = [model for _, done, _ in reported for model in done]
    assert len(deployed) == DEPLOYERS * DEPLOYS_EACH
    with open_registry(url) as registry:
        history = registry.history(TAG)
        # every successful deploy is one event, none lost and none twice
        assert sorted(e.to_id for e in history) == sorted(deployed)
        assert all(e.kind == "deploy" for e in history)
        # each event starts where the one before it ended: no deploy overwrote another unseen
        assert [e.from_id for e in history] == [None] + [e.to_id for e in history[:-1]]
        assert [e.at for e in history] == sorted(e.at for e in history)
        assert registry.current(TAG) == history[-1].to_id
        assert registry.current(TAG) in deployed
        # each worker's own deploys appear in the order it made them
        for worker, done, _ in reported:
            assert [e.to_id for e in history if e.actor == f"worker-{worker}"] == done


def test_eight_deployers_with_expect_retry_on_conflict_and_lose_nothing(registry_url):
    open_registry(registry_url).close()
    reported = race(registry_url, checked=True)
    check_history(registry_url, reported)


def test_eight_deployers_without_expect_each_record_the_id_they_replaced(registry_url):
    # no registry yet (no file; an empty schema): the eight processes also race to create it
    reported = race(registry_url, checked=False)
    check_history(registry_url, reported)
