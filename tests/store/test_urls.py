"""Store URLs: what each opens, and a store that cannot be opened or reached is a named error,
fast, with nothing written."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from crossform.errors import StoreDependencyError, StoreUnreachableError
from crossform.store import open_store
from helpers.net import free_loopback_port
from helpers.packages import small_package


def test_a_path_and_a_file_url_open_the_same_local_store(tmp_path):
    package_id = open_store(tmp_path / "store").put(small_package())
    assert open_store(f"file://{tmp_path / 'store'}").list() == [package_id]
    assert open_store(str(tmp_path / "store")).get(package_id).id == package_id


def test_a_local_store_is_made_on_the_first_put_only(tmp_path):
    store = open_store(tmp_path / "new" / "store")
    assert store.list() == []
    assert not (tmp_path / "new").exists()
    store.put(small_package())
    assert (tmp_path / "new" / "store").is_dir()


def test_a_store_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("not a store")
    with pytest.raises(StoreUnreachableError, match="expected a directory for the store, found a file"):
        open_store(tmp_path / "file")


@pytest.mark.parametrize("url", ["http://example.com/models", "gs://bucket/models", "s3://", "s3:///models"])
def test_an_unsupported_url_is_refused(url):
    with pytest.raises(StoreUnreachableError, match="expected"):
        open_store(url)


def test_an_unreachable_s3_endpoint_is_a_named_error_fast(s3_environment, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_loopback_port()}")  # nothing listens
    store = open_store("s3://bucket/models")
    package = small_package()
    for call in (store.list, lambda: store.exists(package.id), lambda: store.put(package)):
        started = time.monotonic()
        with pytest.raises(StoreUnreachableError, match="cannot reach S3"):
            call()
        assert time.monotonic() - started < 5  # one retry, a short connect timeout: no retry storm


def test_a_missing_bucket_is_a_named_error(s3_environment):
    store = open_store("s3://no-such-bucket-here/models")
    with pytest.raises(StoreUnreachableError, match="expected the bucket no-such-bucket-here to exist"):
        store.put(small_package())
    with pytest.raises(StoreUnreachableError, match="expected the bucket no-such-bucket-here to exist"):
        store.list()


def test_missing_credentials_are_a_named_error(s3_environment, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StoreUnreachableError, match="no AWS credentials found"):
        open_store("s3://bucket/models").list()


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_without_boto3_an_s3_url_names_the_extra_to_install():
    out = _run(
        """
        import sys
        sys.modules["boto3"] = None  # as if it were not installed
        from crossform.errors import StoreDependencyError
        from crossform.store import open_store
        try:
            open_store("s3://bucket/models")
        except StoreDependencyError as exc:
            print(exc)
        """
    )
    assert "needs boto3" in out and "pip install 'crossform[store]'" in out
    assert issubclass(StoreDependencyError, ImportError)


def test_a_local_store_never_imports_boto3(tmp_path):
    out = _run(
        f"""
        import sys
        from crossform.store import open_store
        from crossform import ir
        store = open_store({str(tmp_path / "store")!r})
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parents[1])!r})
        from helpers.packages import small_package
        store.get(store.put(small_package()))
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "moto")))
        """
    )
    assert out.strip() == "[]"
