"""get refuses bytes that do not hash to the id asked for: a flipped byte, swapped objects,
a manifest that lies or points outside the object."""

from __future__ import annotations

import json

import pytest

from crossform import exporters
from crossform.errors import StoreIntegrityError, UnsafePackageError
from crossform.store import FILES, MANIFEST
from helpers.packages import small_package


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize("format", exporters.formats())
def test_a_flipped_byte_in_a_stored_file_is_refused(store, objects, format):
    package_id = store.put(small_package(), format=format)
    stored = [k for k in objects.keys() if f"/{FILES}" in k]
    key = max(stored, key=lambda k: len(objects.read(k)))
    data = objects.read(key)
    objects.write(key, _flip(data, len(data) // 2))
    with pytest.raises(StoreIntegrityError, match="the stored object was changed"):
        store.get(package_id, format=format)


def test_a_flipped_byte_in_the_manifest_is_refused(store, objects):
    package_id = store.put(small_package())
    key = f"{package_id}/stripe-json/{MANIFEST}"
    data = objects.read(key)
    objects.write(key, data.replace(b'"crossform-store": 1', b'"crossform-store": 3'))
    with pytest.raises(StoreIntegrityError, match="expected a manifest with crossform-store 1"):
        store.get(package_id)


def test_another_package_with_a_matching_manifest_is_refused_by_its_id(store, objects):
    """An intruder who rewrites the files and the manifest's digests still cannot make the
    bytes hash to the id: get recomputes it from the package read."""
    stored_id = store.put(small_package(), format="onnx")
    other_id = store.put(small_package(owner="someone else"), format="onnx")
    prefix, other = f"{stored_id}/onnx/", f"{other_id}/onnx/"
    objects.write(prefix + FILES + "package", objects.read(other + FILES + "package"))
    manifest = json.loads(objects.read(other + MANIFEST))
    manifest["id"] = stored_id
    objects.write(prefix + MANIFEST, json.dumps(manifest).encode())
    with pytest.raises(StoreIntegrityError, match=f"expected bytes that hash to {stored_id}, found {other_id}"):
        store.get(stored_id, format="onnx")


def test_a_file_that_no_longer_reads_is_refused_by_name(store, objects):
    package_id = store.put(small_package(), format="pmml")
    prefix = f"{package_id}/pmml/"
    junk = b"<not pmml"
    objects.write(prefix + FILES + "package", junk)
    manifest = json.loads(objects.read(prefix + MANIFEST))
    manifest["files"]["package"] = {"bytes": len(junk), "sha256": __import__("hashlib").sha256(junk).hexdigest()}
    objects.write(prefix + MANIFEST, json.dumps(manifest).encode())
    with pytest.raises(StoreIntegrityError, match="bytes that no longer read"):
        store.get(package_id, format="pmml")


@pytest.mark.parametrize("name", ["../../../outside", "/etc/passwd", "a/../../b", "a\\b"])
def test_a_manifest_naming_a_path_outside_the_object_is_refused(store, objects, name):
    package_id = store.put(small_package())
    key = f"{package_id}/stripe-json/{MANIFEST}"
    manifest = json.loads(objects.read(key))
    manifest["files"][name] = {"bytes": 1, "sha256": "0" * 64}
    objects.write(key, json.dumps(manifest).encode())
    with pytest.raises(UnsafePackageError, match="expected a plain relative path"):
        store.get(package_id)


def test_a_manifest_that_is_not_json_is_refused(store, objects):
    package_id = store.put(small_package())
    objects.write(f"{package_id}/stripe-json/{MANIFEST}", b"\xff\xfe")
    with pytest.raises(StoreIntegrityError, match="expected the store's manifest, found .*UTF-8"):
        store.get(package_id)
