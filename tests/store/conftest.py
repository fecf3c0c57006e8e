"""The store fixtures: one store per test on each backend, and raw access to its objects
(to tamper with them, as a disk fault or an intruder would).

The S3 backend runs against moto's S3 server, started once per session on 127.0.0.1 on a
free port (a real HTTP server: boto3 goes through its whole stack), each test in a bucket of
its own. The endpoint and credentials reach boto3 as a user's would, through the environment,
so a child process (the fault test's) finds them too.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from crossform.store import open_store

BACKENDS = ["local", "s3"]


class LocalObjects:
    """The objects of a local store, by key, bypassing the store."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        (self.root / key).write_bytes(data)

    def keys(self) -> list:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())


class S3Objects:
    """The objects of an S3 store, by key below its prefix, bypassing the store."""

    def __init__(self, client, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def keys(self) -> list:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix).get("Contents", [])
        return sorted(entry["Key"][len(self.prefix) :] for entry in listed)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def store_url(backend, tmp_path, request):
    if backend == "local":
        return str(tmp_path / "store")
    client = request.getfixturevalue("s3_environment")
    bucket = f"store-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/models/v1"


@pytest.fixture
def store(store_url):
    return open_store(store_url)


@pytest.fixture
def objects(store_url, backend, request):
    if backend == "local":
        return LocalObjects(Path(store_url))
    bucket, _, prefix = store_url[len("s3://") :].partition("/")
    return S3Objects(request.getfixturevalue("s3_environment"), bucket, prefix + "/")
