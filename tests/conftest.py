"""Fixtures shared by every test directory; the helpers they build on live in the helpers package."""

from __future__ import annotations

import itertools

import pytest

from crossform import ir
from helpers.packages import small_package
from helpers.servers import moto_s3_server, postgresql_cluster

_schemas = itertools.count()


@pytest.fixture
def package() -> ir.Package:
    return small_package()


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on loopback, one per session."""
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_environment(s3_endpoint, monkeypatch):
    """boto3 pointed at the session's S3 server as a user's would be, through the environment (so a
    child process finds it too); returns a client for setting up buckets."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    import boto3

    return boto3.client("s3")


@pytest.fixture(scope="session")
def postgresql_server():
    """The URL of a PostgreSQL cluster started for this session on loopback."""
    with postgresql_cluster() as url:
        yield url


@pytest.fixture
def postgresql_url(postgresql_server):
    """A URL of the session's server whose tables live in a new, empty schema."""
    import psycopg

    schema = f"test_schema_{next(_schemas)}"
    with psycopg.connect(postgresql_server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    return f"{postgresql_server}?options=-csearch_path%3D{schema}"
