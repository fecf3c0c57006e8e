"""A fresh registry per test, on SQLite and on a throwaway PostgreSQL cluster.

The cluster is started once per session by initdb and pg_ctl (Debian's postgresql) in a
temporary folder, listening on a free loopback port; every test gets its own schema in it.
Without psycopg or the binaries the PostgreSQL cases skip, saying which is missing.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from crossform.registry import open_registry
from helpers.net import free_loopback_port

_schemas = itertools.count()


def postgresql_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


@pytest.fixture(scope="session")
def postgresql_server():
    """The URL of a PostgreSQL server started for this session, stopped and deleted after it."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'crossform[postgresql]')")
    binaries = postgresql_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (./dev setup installs Debian's postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="crossform-pg-"))
    run_as = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the cluster as the postgres user
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_loopback_port()
    data = folder / "data"
    subprocess.run(
        [*run_as, binaries / "initdb", "-D", data, "-A", "trust", "-U", "crossform", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*run_as, binaries / "pg_ctl", "-D", data]
    subprocess.run([*pg_ctl, "-o", options, "-l", folder / "log", "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://crossform@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgresql_url(postgresql_server):
    """A URL of the session's server whose tables live in a new, empty schema."""
    import psycopg

    schema = f"registry_test_{next(_schemas)}"
    with psycopg.connect(postgresql_server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    return f"{postgresql_server}?options=-csearch_path%3D{schema}"


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
