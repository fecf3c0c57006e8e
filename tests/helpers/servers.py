"""Real servers a test starts on loopback: moto's S3 server and a throwaway PostgreSQL cluster.

The fixtures over them live in tests/conftest.py (one server per session, shared by every test
directory); what starts and stops each server is here.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers.net import free_loopback_port


@contextlib.contextmanager
def moto_s3_server():
    """The endpoint URL of moto's S3 server on 127.0.0.1, a real HTTP server, stopped on exit."""
    from moto.server import ThreadedMotoServer

    port = free_loopback_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def postgresql_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


@contextlib.contextmanager
def postgresql_cluster():
    """The URL of a PostgreSQL cluster made by initdb in a temporary folder and listening on a free
    loopback port, stopped and deleted on exit. Skips (saying what is missing) without psycopg or
    Debian's postgresql binaries."""
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
