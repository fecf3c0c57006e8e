"""The store fixtures: one store per test on each backend, and raw access to its objects
(to tamper with them, as a disk fault or an intruder would)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossform.store import open_store

BACKENDS = ["local"]


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


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    return str(tmp_path / "store")


@pytest.fixture
def store(store_url):
    return open_store(store_url)


@pytest.fixture
def objects(store_url):
    return LocalObjects(Path(store_url))
