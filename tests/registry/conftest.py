"""A fresh registry file per test."""

from __future__ import annotations

import pytest

from crossform.registry import open_registry


@pytest.fixture
def registry_path(tmp_path):
    return tmp_path / "registry.sqlite"


@pytest.fixture
def registry(registry_path):
    with open_registry(registry_path) as opened:
        yield opened
