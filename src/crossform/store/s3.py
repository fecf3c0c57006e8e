"""The S3 backend (``s3://bucket/prefix``), through boto3 from the ``store`` extra.

S3 makes each object visible whole, so an object of the store is its files put one by one and
its manifest put last: until the manifest is there, no listing or read sees the object. The
endpoint and credentials come from boto3's usual configuration (``AWS_ENDPOINT_URL_S3``,
``AWS_ACCESS_KEY_ID``, ...) unless given to :func:`crossform.store.open_store`. A short connect
timeout and one retry keep an unreachable endpoint a quick, named error.
"""

from __future__ import annotations

import contextlib

from ..errors import ObjectNotFoundError, StoreDependencyError, StoreUnreachableError, shown

INSTALL = "pip install 'crossform[store]'"
CONNECT_TIMEOUT = 2.0  # seconds; S3 answers a connect in milliseconds, a dead endpoint never
READ_TIMEOUT = 30.0
ATTEMPTS = 2  # one retry: a transient error recovers, an unreachable endpoint fails fast
MISSING = ("404", "NoSuchKey", "NotFound")


class S3Backend:
    def __init__(self, location: str, endpoint_url=None, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.url = f"s3://{location}"
        bucket, _, prefix = location.partition("/")
        if not bucket:
            raise StoreUnreachableError(shown(self.url), "expected s3://bucket/prefix, found no bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise StoreDependencyError(
                self.url, f"an s3:// store needs boto3, which is not installed ({exc.name}): {INSTALL}"
            ) from None
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=READ_TIMEOUT,
            retries={"max_attempts": ATTEMPTS, "mode": "standard"},
        )
        # a session of its own: credentials and endpoint read now, never cached from another store
        self._client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)

    @contextlib.contextmanager
    def _named_errors(self, key: str):
        """botocore's exceptions as the store's named errors."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = f"{self.url.rstrip('/')}/{key}" if key else self.url
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                raise ObjectNotFoundError(where, "no such object in the store") from None
            if code == "NoSuchBucket":
                raise StoreUnreachableError(
                    self.url, f"expected the bucket {self.bucket} to exist, found none"
                ) from None
            raise StoreUnreachableError(where, f"S3 refused the request: {code} {shown(str(exc), 200)}") from None
        except NoCredentialsError:
            raise StoreUnreachableError(
                self.url, "no AWS credentials found (AWS_ACCESS_KEY_ID, a profile...)"
            ) from None
        except BotoCoreError as exc:  # endpoint unreachable, timeouts, a malformed endpoint
            raise StoreUnreachableError(self.url, f"cannot reach S3: {shown(str(exc), 200)}") from None

    def exists(self, key: str) -> bool:
        try:
            with self._named_errors(key):
                self._client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ObjectNotFoundError:
            return False
        return True

    def read(self, key: str, limit: int) -> bytes:
        """The bytes at ``key``; at most ``limit`` + 1 are read, so an object grown beyond what
        the manifest promises costs no more memory than the promise."""
        with self._named_errors(key):
            response = self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            body = response["Body"]
            try:
                data = body.read(limit + 1)
            finally:
                body.close()
        return data

    def manifests(self, package_id):
        """(id, format) of every complete object, of one id or (None) of all."""
        start = self.prefix + (f"{package_id}/" if package_id else "")
        with self._named_errors(""):
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                for entry in page.get("Contents", ()):
                    parts = entry["Key"][len(self.prefix) :].split("/")
                    if len(parts) == 3 and parts[2] == "manifest.json":
                        yield parts[0], parts[1]

    def write_object(self, prefix: str, files: dict, manifest: bytes) -> None:
        for name, data in files.items():
            self._write(prefix + name, data)
        self._write(prefix + "manifest.json", manifest)  # last: the object is complete

    def _write(self, key: str, data: bytes) -> None:
        """Put one S3 object (one place, so a fault test can stop a put here)."""
        with self._named_errors(key):
            self._client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)


__all__ = ["S3Backend"]
