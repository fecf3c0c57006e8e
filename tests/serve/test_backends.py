"""The server over the team backends: a store on S3 (moto's server on loopback) and a registry in
PostgreSQL (a throwaway cluster), the follower reading deploys from PostgreSQL."""

from __future__ import annotations

import dataclasses
import time
import uuid

import httpx
import numpy as np

from crossform.deployer import Deployer
from crossform.serve.config import ServeConfig
from helpers.serving import TAG, request_rows, serving, sklearn_outputs


def test_serving_from_s3_and_postgresql_follows_a_deploy(s3_environment, postgresql_url, fitted, packages):
    bucket = f"serve-{uuid.uuid4().hex[:16]}"
    s3_environment.create_bucket(Bucket=bucket)
    deployer = Deployer(store=f"s3://{bucket}/models", registry=postgresql_url, actor="ana")
    first, second = deployer.push(packages["classifier"]), deployer.push(packages["regressor"], format="protobuf")
    deployer.deploy(TAG, first)
    config = dataclasses.replace(ServeConfig(store=deployer.store_url, registry=postgresql_url), poll_interval=0.1)
    rows = request_rows()
    with serving(config) as (base, _), httpx.Client(base_url=base) as client:
        before = client.post(f"/tag/{TAG}/predict", json={"rows": rows}).json()
        deployer.deploy(TAG, second)
        deadline = time.monotonic() + 2
        while (after := client.post(f"/tag/{TAG}/predict", json={"rows": rows}).json())["model_id"] != second:
            assert time.monotonic() < deadline
        described = client.get(f"/tag/{TAG}").json()
    assert before["model_id"] == first
    np.testing.assert_allclose(before["values"], sklearn_outputs(fitted["classifier"], rows), rtol=1e-12, atol=0)
    np.testing.assert_allclose(after["values"], sklearn_outputs(fitted["regressor"], rows), rtol=1e-12, atol=0)
    assert described["current_id"] == described["serving_id"] == second
