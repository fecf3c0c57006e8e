"""stripe-json: round trips, and every kind of broken package refused with a named error."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

import crossform
from conftest import small_package
from crossform import errors, ir
from crossform.exporters import Files, stripe_json


def files_of(package) -> dict:
    return stripe_json.dumps(package)


def load_files(files: dict):
    return stripe_json.loads(Files.from_mapping(files, "pkg"))


def edit_json(files: dict, name: str, edit) -> dict:
    doc = json.loads(files[name])
    edit(doc)
    return {**files, name: json.dumps(doc).encode()}


def test_layout_and_manifest(package):
    files = files_of(package)
    assert sorted(files) == ["MODEL", "fill-missing.json", "label-encoder.json", "model.json", "standard-scaler.json"]
    manifest = json.loads(files["MODEL"])
    assert manifest["id"] == package.id
    assert manifest["formatVersion"] == stripe_json.VERSION
    assert manifest["encoders"]["apply"][1] == {"encoderType": "label-encoder", "path": "label-encoder.json"}
    assert manifest["model"] == {"modelType": "simple-json-classification-forest", "path": "model.json"}
    assert json.loads(files["label-encoder.json"])["encodings"] == {"colour": {"blue": 0.0, "green": 1.0, "red": 2.0}}


def test_round_trip_keeps_id_and_scores(tmp_path, package):
    path = crossform.save(package, tmp_path / "pkg")
    loaded = crossform.load(path)
    assert loaded.id == package.id
    assert loaded.producer == package.producer
    rows = [{"colour": c, "size": s} for c in ("red", "blue", None, "mauve") for s in (2.0, 9.0, 20.0, None)]
    a, b = crossform.score(package, rows), crossform.score(loaded, rows)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.errors == b.errors


def test_special_codes_round_trip():
    enc = ir.CategoricalEncoding(("colour",), (("blue", "red"),), ((0.0, 1.0),), (float("nan"),), float("nan"))
    package = small_package(encoders=(enc, ir.Scale(("size",), [10.0], [4.0], ("size_scaled",))))
    files = files_of(package)
    doc = json.loads(files["label-encoder.json"])
    assert doc["missing"] == {"colour": "NaN"} and doc["unknown"] == "NaN"
    assert load_files(files).id == package.id


def test_edited_threshold_is_refused(package):
    files = edit_json(files_of(package), "model.json", lambda d: d["trees"][0]["threshold"].__setitem__(0, 0.51))
    with pytest.raises(errors.IdMismatchError, match="content hashes to"):
        load_files(files)


def test_edited_encoding_is_refused(package):
    files = edit_json(files_of(package), "label-encoder.json",
                      lambda d: d["encodings"]["colour"].__setitem__("red", 7.0))
    with pytest.raises(errors.IdMismatchError):
        load_files(files)


SCHEMA_BREAKS = {
    "unknown aggregation": ("model.json", lambda d: d.__setitem__("aggregation", "median")),
    "extra key": ("model.json", lambda d: d.__setitem__("comment", "hi")),
    "string threshold": ("model.json", lambda d: d["trees"][0]["threshold"].__setitem__(0, "0.5")),
    "no trees": ("model.json", lambda d: d.__setitem__("trees", [])),
    "manifest without id": ("MODEL", lambda d: d.pop("id")),
    "bad id": ("MODEL", lambda d: d.__setitem__("id", "md5.abc")),
    "path escapes": ("MODEL", lambda d: d["model"].__setitem__("path", "../model.json")),
    "absolute path": ("MODEL", lambda d: d["model"].__setitem__("path", "/etc/passwd")),
    "unknown encoder type": ("MODEL", lambda d: d["encoders"]["apply"][0].__setitem__("encoderType", "eval")),
    "unknown column type": ("MODEL", lambda d: d["inputs"][0].__setitem__("type", "text")),
    "unknown policy": ("label-encoder.json", lambda d: d.__setitem__("unknown", "ignore")),
    "fill value object": ("fill-missing.json", lambda d: d.__setitem__("values", [{}])),
}


@pytest.mark.parametrize("name", SCHEMA_BREAKS)
def test_schema_violations_are_refused(package, name):
    target, edit = SCHEMA_BREAKS[name]
    with pytest.raises(errors.SchemaError) as info:
        load_files(edit_json(files_of(package), target, edit))
    assert info.value.path.endswith(target)
    assert "violates stripe-json-" in info.value.reason


STRUCTURE_BREAKS = {
    "shared child": lambda d: d["trees"][0]["left"].__setitem__(2, 1),
    "child out of range": lambda d: d["trees"][0]["left"].__setitem__(0, 50),
    "value length": lambda d: d["trees"][0]["value"].pop(),
    "array lengths": lambda d: d["trees"][0]["threshold"].pop(),
    "feature beyond features": lambda d: d["trees"][0]["feature"].__setitem__(0, 7),
    "model type": lambda d: d.__setitem__("modelType", "simple-json-regression-forest"),
}


@pytest.mark.parametrize("name", STRUCTURE_BREAKS)
def test_structure_violations_are_refused(package, name):
    with pytest.raises(errors.MalformedPackageError) as info:
        load_files(edit_json(files_of(package), "model.json", STRUCTURE_BREAKS[name]))
    assert info.value.path == "pkg/model.json"


BYTE_BREAKS = {
    "truncated": (lambda b: b[: len(b) // 2], errors.MalformedPackageError, "truncated"),
    "empty": (lambda b: b"", errors.MalformedPackageError, "truncated"),
    "not utf-8": (lambda b: b"\xff" + b, errors.MalformedPackageError, "UTF-8"),
    "NaN literal": (lambda b: b.replace(b'"threshold":[0.5', b'"threshold":[NaN'), errors.MalformedPackageError, "NaN"),
    "beyond float64": (lambda b: b.replace(b'"threshold":[0.5', b'"threshold":[1e999'), errors.MalformedPackageError,
                       "float64"),
    "duplicate key": (lambda b: b.replace(b'{"modelType"', b'{"trees":[],"modelType"'), errors.MalformedPackageError,
                      "twice"),
    "deep nesting": (lambda b: b"[" * 100_000 + b"]" * 100_000, errors.LimitExceededError, "deeply"),
}


@pytest.mark.parametrize("name", BYTE_BREAKS)
def test_bad_bytes_are_refused(package, name):
    breaker, error, words = BYTE_BREAKS[name]
    files = files_of(package)
    files["model.json"] = breaker(files["model.json"])
    with pytest.raises(error, match=words):
        load_files(files)


def test_missing_file(package):
    files = files_of(package)
    del files["standard-scaler.json"]
    with pytest.raises(errors.PackageNotFoundError, match="standard-scaler.json"):
        load_files(files)


def test_other_major_version_is_refused(package):
    files = edit_json(files_of(package), "MODEL", lambda d: d.__setitem__("formatVersion", "2.0"))
    with pytest.raises(errors.FormatVersionError, match="reads stripe-json 1.x"):
        load_files(files)


def test_newer_minor_version_warns(package):
    files = edit_json(files_of(package), "MODEL", lambda d: d.__setitem__("formatVersion", "1.9"))
    with pytest.warns(stripe_json.FormatVersionWarning, match="newer than"):
        assert load_files(files).id == package.id


def test_manifest_not_an_object(package):
    files = {**files_of(package), "MODEL": b"[1, 2]"}
    with pytest.raises(errors.FormatVersionError):
        load_files(files)


def test_mutations_only_raise_named_errors(package):
    """Random truncations, byte flips and deletions: a PackageError or a clean load, nothing else."""
    rng = np.random.default_rng(0)
    original = files_of(package)
    outcomes = {"refused": 0, "loaded": 0}
    for i in range(300):
        files = dict(original)
        name = sorted(files)[i % len(files)]
        data = bytearray(files[name])
        kind = i % 3
        at = int(rng.integers(len(data)))
        if kind == 0:
            data = data[:at]
        elif kind == 1:
            data[at] = int(rng.integers(256))
        else:
            del data[at: at + int(rng.integers(1, 20))]
        files[name] = bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stripe_json.FormatVersionWarning)
            try:
                loaded = load_files(files)
            except errors.PackageError:
                outcomes["refused"] += 1
            else:
                outcomes["loaded"] += 1
                assert loaded.id == package.id  # only harmless edits (whitespace, producer) may load
    assert outcomes["refused"] > 250


def test_symlinked_file_is_refused(tmp_path, package):
    path = crossform.save(package, tmp_path / "pkg")
    outside = tmp_path / "outside.json"
    outside.write_bytes((path / "model.json").read_bytes())
    (path / "model.json").unlink()
    os.symlink(outside, path / "model.json")
    with pytest.raises(errors.UnsafePackageError, match="link"):
        crossform.load(path)


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../b", "a\\b", "", "./x", "a//b"])
def test_files_refuse_paths_outside(tmp_path, name):
    with pytest.raises(errors.UnsafePackageError):
        Files.from_directory(tmp_path).read(name)


def test_save_refuses_to_overwrite_unless_asked(tmp_path, package):
    path = crossform.save(package, tmp_path / "pkg")
    with pytest.raises(errors.PackageExistsError):
        crossform.save(package, path)
    other = package.replace(owner="someone else")
    crossform.save(other, path, overwrite=True)
    assert crossform.load(path).id == other.id
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]  # no staging or old copies left


def test_save_never_replaces_a_folder_that_is_not_a_package(tmp_path, package):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with pytest.raises(errors.PackageExistsError, match="not a crossform package"):
        crossform.save(package, precious, overwrite=True)
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_load_sniffs_content_not_names(tmp_path, package):
    path = crossform.save(package, tmp_path / "model.onnx")  # a misleading name
    assert crossform.load(path).id == package.id
    (tmp_path / "empty").mkdir()
    with pytest.raises(errors.UnknownFormatError, match="no registered format"):
        crossform.load(tmp_path / "empty")
    with pytest.raises(errors.PackageNotFoundError):
        crossform.load(tmp_path / "nothing-here")


def test_unknown_format_name(tmp_path, package):
    with pytest.raises(errors.UnknownFormatError, match="stripe-json"):
        crossform.save(package, tmp_path / "x", format="pickle")
