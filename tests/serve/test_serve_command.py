"""`crossform serve` as a user runs it: a subprocess on a loopback port, one worker or two."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crossform.cli import main
from helpers.serving import TAG, request_rows, serve_command, sklearn_outputs

REQUESTS = 40


def total(scrape: str, name: str, **labels) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_by_tag_with_workers_and_metrics_over_all_of_them(tmp_path, deployer, fitted, packages, workers):
    model_id = deployer.push(packages["classifier"])
    deployer.deploy(TAG, model_id)
    arguments = ["--store", deployer.store_url, "--registry", deployer.registry_url, "--tag", TAG]
    rows = request_rows()
    with (
        serve_command(*arguments, "--workers", str(workers), cwd=tmp_path) as base,
        httpx.Client(base_url=base) as client,
    ):
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200:  # every worker loads the --tag model at startup
            assert time.monotonic() < deadline
            time.sleep(0.1)
        answers = []
        for i in range(REQUESTS):
            # a new connection each time, so that the kernel spreads them over the workers
            answers.append(httpx.post(f"{base}/tag/{TAG}/predict", json={"rows": rows[i % 5 : i % 5 + 2]}))
        scrapes = [client.get("/metrics").text for _ in range(4)]
    assert {a.status_code for a in answers} == {200}
    for i, answer in enumerate(answers):
        expected = sklearn_outputs(fitted["classifier"], rows[i % 5 : i % 5 + 2])
        np.testing.assert_allclose(answer.json()["values"], expected, rtol=1e-12, atol=0)
    for scrape in scrapes:  # whichever worker answers the scrape counts every worker's requests
        assert total(scrape, "crossform_serve_requests_total", tag=TAG, code="200") == REQUESTS
        assert total(scrape, "crossform_serve_request_seconds_count", tag=TAG) == REQUESTS
        assert total(scrape, "crossform_serve_model_loads_total", model_id=model_id) == workers


def test_serve_refuses_a_malformed_tag_and_bad_numbers_before_starting(tmp_path, capsys):
    assert main(["serve", "--tag", "Not A Tag", "--store", str(tmp_path / "s"), "--registry", str(tmp_path / "r")]) == 2
    assert "dot-separated lower-case words" in capsys.readouterr().err
    assert main(["serve", "--max-rows", "0"]) == 2
    assert "expected a positive int" in capsys.readouterr().err
    assert not (tmp_path / "s").exists() and not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("models.internal", False),
    ],
)
def test_serve_warns_before_listening_beyond_this_machine(host, loopback):
    # the tests never listen beyond loopback: the rule that decides the warning is checked alone
    from crossform.cli.serve import _is_loopback

    assert _is_loopback(host) is loopback
