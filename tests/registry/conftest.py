"""A fresh registry per test, on SQLite and on a throwaway PostgreSQL cluster.

The cluster (tests/conftest.py's ``postgresql_server``, started by helpers/servers.py) runs once
per session on a loopback port; every test gets its own schema in it. Without psycopg or
Debian's postgresql binaries the PostgreSQL cases skip, saying which is missing.
"""

from __future__ import annotations

import pytest

from crossform.registry import open_registry


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "registry.sqlite")
    return request.getfixturevalue("postgresql_url")


@pytest.fixture
def registry_path(tmp_path):
    return tmp_path / "registry.sqlite"


@pytest.fixture
def registry(registry_url):
    with open_registry(registry_url) as opened:
        yield opened
