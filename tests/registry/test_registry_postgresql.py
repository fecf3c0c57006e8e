"""What is PostgreSQL's own: a database that is not ours, a newer schema version, a server that
cannot be reached, a missing psycopg; each a named error, nothing written, no password echoed."""

from __future__ import annotations

import socket
import sys

import pytest

from crossform.errors import RegistryError, RegistryFormatError
from crossform.registry import open_registry
from helpers.model_ids import model_id


def run(url, *statements):
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)
        return connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
        ).fetchall()


def test_a_database_with_other_tables_is_refused_and_left_as_it_was(postgresql_url):
    before = run(postgresql_url, "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ana')")
    with pytest.raises(RegistryFormatError, match="not a crossform registry"):
        open_registry(postgresql_url)
    assert run(postgresql_url) == before == [("users",)]


def test_a_registry_of_a_newer_schema_version_is_refused(postgresql_url):
    open_registry(postgresql_url).close()
    run(postgresql_url, "UPDATE crossform_registry SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RegistryFormatError, match="version 99"):
        open_registry(postgresql_url)


def test_the_registry_reopens_with_everything_in_it(postgresql_url):
    with open_registry(postgresql_url) as registry:
        registry.deploy("txn_fraud.production", model_id("a"), actor="ana")
    with open_registry(postgresql_url.replace("postgresql://", "postgres://")) as reopened:
        assert reopened.current("txn_fraud.production") == model_id("a")


def test_a_server_that_cannot_be_reached_is_named_without_its_password():
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'crossform[postgresql]')")
    # a loopback port held bound but never listening: a connection to it is refused
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        url = f"postgresql://crossform:hunter2@127.0.0.1:{held.getsockname()[1]}/postgres"
        with pytest.raises(RegistryError, match="cannot connect") as caught:
            open_registry(url)
    assert "hunter2" not in str(caught.value)
    assert "crossform:***@127.0.0.1" in str(caught.value)


def test_without_psycopg_a_postgresql_url_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(RegistryError, match=r"crossform\[postgresql\]"):
        open_registry("postgresql://crossform:secret@127.0.0.1:1/postgres")
