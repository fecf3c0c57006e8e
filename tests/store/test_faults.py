"""A put that dies midway leaves nothing exists, list or get can see, and a later put of the
same package completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from crossform import exporters
from crossform.errors import ObjectNotFoundError
from helpers.packages import small_package

# A child process that puts the package and, after writing its first file, says so and waits
# to be killed: SIGKILL, so no cleanup, no finally, no atexit runs.
CHILD = textwrap.dedent(
    """
    import sys, time
    from helpers.packages import small_package
    from crossform.store import open_store

    store = open_store(sys.argv[1])
    backend = type(store._backend)
    write = backend._write
    def write_then_hang(self, *args):
        write(self, *args)
        print("written", flush=True)
        time.sleep(60)
    backend._write = write_then_hang
    store.put(small_package(), format=sys.argv[2])
    """
)


def _assert_invisible(store, package_id):
    assert store.list() == []
    assert not store.exists(package_id)
    assert store.formats(package_id) == []
    with pytest.raises(ObjectNotFoundError):
        store.get(package_id)


@pytest.mark.parametrize("format", ["stripe-json", "onnx"])
def test_a_put_killed_midway_leaves_no_visible_object(store, store_url, format):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(__file__)), *sys.path]))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store_url, format], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert child.stdout.readline().strip() == "written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    package = small_package()
    _assert_invisible(store, package.id)
    assert store.put(package, format=format) == package.id
    assert store.get(package.id, format=format).id == package.id


@pytest.mark.parametrize("format", exporters.formats())
def test_a_failure_before_the_manifest_leaves_no_visible_object(store, monkeypatch, format):
    backend = type(store._backend)
    write = backend._write

    def fail_on_the_manifest(self, where, data):
        if str(where).endswith("manifest.json"):
            raise OSError("disk full")
        write(self, where, data)

    monkeypatch.setattr(backend, "_write", fail_on_the_manifest)
    package = small_package()
    with pytest.raises(OSError, match="disk full"):
        store.put(package, format=format)
    _assert_invisible(store, package.id)
    monkeypatch.setattr(backend, "_write", write)
    assert store.put(package, format=format) == package.id
    assert store.list() == [package.id]


# A child process that puts the package but, before its manifest, says so and waits for the
# go file: every racer has then checked that the object is absent, and all finish at once.
RACER = textwrap.dedent(
    """
    import os, sys, time
    from helpers.packages import small_package
    from crossform.store import open_store

    store = open_store(sys.argv[1])
    backend = type(store._backend)
    write = backend._write
    def wait_before_the_manifest(self, where, data):
        if str(where).endswith("manifest.json"):
            print("ready", flush=True)
            while not os.path.exists(sys.argv[3]):
                time.sleep(0.01)
        write(self, where, data)
    backend._write = wait_before_the_manifest
    print(store.put(small_package(), format=sys.argv[2]))
    """
)


@pytest.mark.parametrize("format", ["stripe-json", "protobuf"])
def test_processes_putting_one_package_at_once_all_get_its_id(store, store_url, tmp_path, format):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(__file__)), *sys.path]))
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, store_url, format, str(go)], stdout=subprocess.PIPE, env=env, text=True
        )
        for _ in range(4)
    ]
    try:
        assert [racer.stdout.readline().strip() for racer in racers] == ["ready"] * 4
    finally:
        go.touch()
    outputs = [racer.communicate(timeout=60)[0].strip() for racer in racers]
    package = small_package()
    assert [racer.returncode for racer in racers] == [0] * 4
    assert outputs == [package.id] * 4
    assert store.list() == [package.id]
    assert store.get(package.id, format=format).id == package.id
