"""The local-directory backend: one directory per object, moved into place whole.

An object is staged in ``<root>/.staging/`` (files and manifest written and fsynced), then
renamed to ``<root>/<id>/<format>/``: a rename within one file system is atomic, so a
reader sees the whole object or none, and a put killed midway leaves only a staging
directory, which no listing reads. The next put clears stale staging directories.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from pathlib import Path

from ..errors import ObjectNotFoundError, StoreUnreachableError
from ..exporters import read_regular_file

STAGING = ".staging"
STALE_SECONDS = 3600  # a staging directory this old belongs to a put that died


class LocalBackend:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)
        if os.path.lexists(root) and not root.is_dir():
            raise StoreUnreachableError(self.url, "expected a directory for the store, found a file")

    def exists(self, key: str) -> bool:
        return os.path.isfile(self.root / key)

    def read(self, key: str, limit: int) -> bytes:
        """The bytes at ``key``. ``limit`` (what the manifest promises) is checked by the caller:
        a local file reports its size, and read_regular_file reads what is there, at most
        MAX_FILE_BYTES, as every reader does."""
        try:
            return read_regular_file(self.root / key, f"{self.url}/{key}", follow_links=False)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"{self.url}/{key}", "no such object in the store") from None

    def manifests(self, package_id):
        """(id, format) of every complete object, of one id or (None) of all."""
        if not self.root.is_dir():
            return
        for manifest in self.root.glob(f"{package_id or '*'}/*/manifest.json"):
            yield manifest.parent.parent.name, manifest.parent.name

    def write_object(self, prefix: str, files: dict, manifest: bytes) -> None:
        staging_root = self.root / STAGING
        staging_root.mkdir(parents=True, exist_ok=True)
        self._clear_stale(staging_root)
        staging = Path(tempfile.mkdtemp(dir=staging_root))
        try:
            for name, data in files.items():
                self._write(staging / name, data)
            self._write(staging / "manifest.json", manifest)  # last: the object is complete
            target = self.root / prefix.rstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, target)
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                return  # a concurrent put of the same id and format got there first: same bytes' id
            _sync_directory(target.parent)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _write(self, path: Path, data: bytes) -> None:
        """Write one file of a staged object (one place, so a fault test can stop a put here)."""
        _write_synced(path, data)

    @staticmethod
    def _clear_stale(staging_root: Path) -> None:
        cutoff = time.time() - STALE_SECONDS
        for entry in staging_root.iterdir():
            try:
                if entry.lstat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
            except FileNotFoundError:
                pass


def _write_synced(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _sync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
