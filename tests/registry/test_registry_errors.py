"""Every registry refusal is a named error naming the tag or file and saying what was expected
and what was found, and a refused operation writes nothing."""

from __future__ import annotations

import sqlite3

import pytest

from crossform.errors import (
    DeployConflictError,
    InvalidIdError,
    InvalidTagError,
    NothingToRollBackError,
    RegistryError,
    RegistryFormatError,
    RegistryNotFoundError,
    RegistryTextError,
    UnknownShadowError,
    UnknownTagError,
)
from crossform.registry import open_registry
from helpers.model_ids import model_id

A, B = model_id("a"), model_id("b")
TAG = "txn_fraud.production"


def snapshot(registry):
    """Everything a registry holds, as its read methods give it."""
    return {tag: (registry.current(tag), registry.shadows(tag), registry.history(tag)) for tag in registry.tags()}


@pytest.fixture
def deployed(registry):
    registry.deploy(TAG, A, actor="ana")
    registry.add_shadow(TAG, B, actor="ana")
    return registry


@pytest.mark.parametrize(
    "tag",
    [
        "txn fraud.production",
        "Txn.production",
        "txn..production",
        ".prod",
        "prod.",
        "",
        "txn/prod",
        "prod\n",
        "é",
        "x" * 201,
        7,
        None,
    ],
)
@pytest.mark.parametrize(
    "change",
    [
        lambda r, tag: r.deploy(tag, A, actor="ana"),
        lambda r, tag: r.rollback(tag, actor="ana"),
        lambda r, tag: r.add_shadow(tag, A, actor="ana"),
        lambda r, tag: r.remove_shadow(tag, B, actor="ana"),
        lambda r, tag: r.current(tag),
        lambda r, tag: r.shadows(tag),
        lambda r, tag: r.history(tag),
    ],
    ids=["deploy", "rollback", "add_shadow", "remove_shadow", "current", "shadows", "history"],
)
def test_a_tag_that_is_not_dotted_lower_case_words_is_refused(deployed, tag, change):
    before = snapshot(deployed)
    with pytest.raises(InvalidTagError, match="lower-case") as caught:
        change(deployed, tag)
    assert "got" in str(caught.value)
    assert snapshot(deployed) == before


BAD_IDS = [
    "sha256.abc",
    A.lower(),
    A[:-1],
    A + "A",
    "md5." + A[7:],
    "sha256." + "1" * 52,
    "",
    b"sha256.",
]


@pytest.mark.parametrize("bad_id", BAD_IDS + [None])
@pytest.mark.parametrize(
    "change",
    [
        lambda r, bad: r.deploy(TAG, bad, actor="ana"),
        lambda r, bad: r.add_shadow(TAG, bad, actor="ana"),
        lambda r, bad: r.remove_shadow(TAG, bad, actor="ana"),
    ],
    ids=["deploy", "add_shadow", "remove_shadow"],
)
def test_an_id_without_the_shape_of_an_id_is_refused_before_anything_is_written(deployed, bad_id, change):
    before = snapshot(deployed)
    with pytest.raises(InvalidIdError, match=r"sha256\.") as caught:
        change(deployed, bad_id)
    assert "got" in str(caught.value)
    assert snapshot(deployed) == before


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_an_expected_id_without_the_shape_of_an_id_is_refused(deployed, bad_id):
    # None is a valid expect (a tag with no model yet), so it is not among these
    before = snapshot(deployed)
    with pytest.raises(InvalidIdError, match="expected id"):
        deployed.deploy(TAG, B, actor="ana", expect=bad_id)
    assert snapshot(deployed) == before


@pytest.mark.parametrize("actor", ["", "   ", None, 3, "a\nb"])
def test_an_actor_that_is_not_text_is_refused(deployed, actor):
    before = snapshot(deployed)
    with pytest.raises(RegistryTextError, match="actor"):
        deployed.deploy(TAG, A, actor=actor)
    with pytest.raises(RegistryTextError, match="actor"):
        deployed.rollback(TAG, actor=actor)
    assert snapshot(deployed) == before


def test_a_message_that_is_not_text_is_refused(deployed):
    before = snapshot(deployed)
    with pytest.raises(RegistryTextError, match="message"):
        deployed.deploy(TAG, A, actor="ana", message=b"bytes")
    assert snapshot(deployed) == before


@pytest.mark.parametrize(
    "read", [lambda r: r.current("no.such"), lambda r: r.shadows("no.such"), lambda r: r.history("no.such")]
)
def test_reading_an_unknown_tag_is_refused(registry, read):
    with pytest.raises(UnknownTagError, match="no.such"):
        read(registry)


def test_rolling_back_an_unknown_tag_is_refused_and_creates_nothing(registry):
    with pytest.raises(UnknownTagError, match="no.such"):
        registry.rollback("no.such", actor="ana")
    with pytest.raises(UnknownTagError, match="no.such"):
        registry.remove_shadow("no.such", A, actor="ana")
    assert registry.tags() == ()


def test_rolling_back_a_single_deploy_or_a_shadow_only_tag_is_refused(registry):
    registry.deploy(TAG, A, actor="ana")
    registry.add_shadow("other.tag", A, actor="ana")
    before = snapshot(registry)
    for tag in (TAG, "other.tag"):
        with pytest.raises(NothingToRollBackError, match=tag):
            registry.rollback(tag, actor="ana")
    assert snapshot(registry) == before


def test_removing_an_id_not_in_the_shadow_set_is_refused(deployed):
    before = snapshot(deployed)
    with pytest.raises(UnknownShadowError, match=A[:20]):
        deployed.remove_shadow(TAG, A, actor="ana")
    assert snapshot(deployed) == before


def test_a_deploy_whose_expect_no_longer_holds_is_a_conflict(deployed):
    before = snapshot(deployed)
    with pytest.raises(DeployConflictError) as caught:
        deployed.deploy(TAG, B, actor="bo", expect=B)
    assert (caught.value.expected, caught.value.found) == (B, A)
    assert A in str(caught.value) and B in str(caught.value)
    with pytest.raises(DeployConflictError, match="no model"):
        deployed.deploy("new.tag", B, actor="bo", expect=A)
    with pytest.raises(DeployConflictError):
        deployed.deploy(TAG, B, actor="bo", expect=None)
    assert snapshot(deployed) == before


def test_a_file_that_is_not_sqlite_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"just some notes, not a database\n" * 10)
    with pytest.raises(RegistryFormatError, match="not an SQLite") as caught:
        open_registry(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == b"just some notes, not a database\n" * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def sqlite_file(path, *statements):
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path.read_bytes()


def test_an_sqlite_file_without_the_registry_schema_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "app.sqlite"
    content = sqlite_file(path, "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ana')")
    with pytest.raises(RegistryFormatError, match="not a crossform registry"):
        open_registry(path)
    assert path.read_bytes() == content


def test_a_registry_of_a_newer_schema_version_is_refused(registry_path):
    open_registry(registry_path).close()
    content = sqlite_file(registry_path, "UPDATE crossform_registry SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RegistryFormatError, match="version 99"):
        open_registry(registry_path)
    assert registry_path.read_bytes() == content


def test_an_sqlite_header_over_garbage_is_refused(tmp_path):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    with pytest.raises(RegistryFormatError):
        open_registry(path).tags()
    assert path.read_bytes() == b"SQLite format 3\x00" + b"\xff" * 4096


def test_a_directory_or_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(RegistryError, match="directory"):
        open_registry(tmp_path)
    with pytest.raises(RegistryError, match="does not exist"):
        open_registry(tmp_path / "missing" / "registry.sqlite")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["mysql://host/db", "sqlite://relative.sqlite", "sqlite:///", "", 42])
def test_a_url_that_names_no_supported_registry_is_refused(url):
    with pytest.raises(RegistryFormatError, match="sqlite:///"):
        open_registry(url)


def test_opening_only_to_read_creates_no_file(tmp_path):
    missing = tmp_path / "registry.sqlite"
    with pytest.raises(RegistryNotFoundError, match="no registry here yet") as caught:
        open_registry(missing, create=False)
    assert str(missing) in str(caught.value)
    assert list(tmp_path.iterdir()) == []
    missing.write_bytes(b"")
    with pytest.raises(RegistryNotFoundError):
        open_registry(missing, create=False)
    assert missing.read_bytes() == b""


def test_opening_only_to_read_an_empty_postgresql_schema_creates_no_table(postgresql_url):
    import psycopg

    with pytest.raises(RegistryNotFoundError, match="no registry here yet"):
        open_registry(postgresql_url, create=False)
    with psycopg.connect(postgresql_url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    assert tables == []


def test_opening_only_to_read_an_existing_registry_reads_it(registry_url):
    with open_registry(registry_url) as registry:
        registry.deploy(TAG, A, actor="ana")
    with open_registry(registry_url, create=False) as registry:
        assert registry.current(TAG) == A


def test_opening_only_to_read_in_a_missing_folder_is_no_registry_yet(tmp_path):
    with pytest.raises(RegistryNotFoundError, match="no registry here yet"):
        open_registry(tmp_path / "missing" / "registry.sqlite", create=False)
    assert list(tmp_path.iterdir()) == []
