"""What the server tests share: two fitted pipelines, their packages (with the checks scikit-learn's
outputs give them), and a store and registry holding them."""

from __future__ import annotations

import pytest

import crossform
from crossform.deployer import Deployer
from crossform.serve.config import ServeConfig
from helpers.fits import fit_pipeline

pytest.importorskip("uvicorn", reason="the server tests need the serve extra: pip install 'crossform[serve]'")


@pytest.fixture(scope="session")
def fitted():
    return {"classifier": fit_pipeline("classifier"), "regressor": fit_pipeline("regressor")}


@pytest.fixture(scope="session")
def packages(fitted):
    return {task: crossform.from_sklearn(model, owner="fraud", checks=60) for task, model in fitted.items()}


@pytest.fixture
def deployer(tmp_path):
    return Deployer(store=tmp_path / "store", registry=tmp_path / "registry.sqlite", actor="ana")


@pytest.fixture
def config(deployer):
    return ServeConfig(store=deployer.store_url, registry=deployer.registry_url, poll_interval=0.1)
