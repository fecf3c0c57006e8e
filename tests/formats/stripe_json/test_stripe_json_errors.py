"""stripe-json: schema, structure and byte breaks, versions and mutations, each refused with a named error."""

from __future__ import annotations

import pytest

from crossform import errors
from crossform.exporters import stripe_json
from helpers.stripe_json import (
    edit_json,
    files_of,
    load_files,
    refused_mutations,
)
from helpers.stripe_json_1 import v1_files

SCHEMA_BREAKS = {
    "unknown aggregation": ("model.json", lambda d: d.__setitem__("aggregation", "median")),
    "extra key": ("model.json", lambda d: d.__setitem__("comment", "hi")),
    "trees not bonsai": ("model.json", lambda d: d["trees"].__setitem__("encoding", "pickle")),
    "trees path escapes": ("model.json", lambda d: d["trees"].__setitem__("path", "../x.bonsai")),
    "manifest without id": ("MODEL", lambda d: d.pop("id")),
    "bad id": ("MODEL", lambda d: d.__setitem__("id", "md5.abc")),
    "path escapes": ("MODEL", lambda d: d["model"].__setitem__("path", "../model.json")),
    "absolute path": ("MODEL", lambda d: d["model"].__setitem__("path", "/etc/passwd")),
    "unknown encoder type": ("MODEL", lambda d: d["encoders"]["apply"][0].__setitem__("encoderType", "eval")),
    "unknown column type": ("MODEL", lambda d: d["inputs"][0].__setitem__("type", "text")),
    "unknown policy": ("label-encoder.json", lambda d: d.__setitem__("unknown", "ignore")),
    "fill value object": ("fill-missing.json", lambda d: d.__setitem__("values", [{}])),
}


V1_SCHEMA_BREAKS = {
    "string threshold": ("model.json", lambda d: d["trees"][0]["threshold"].__setitem__(0, "0.5")),
    "no trees": ("model.json", lambda d: d.__setitem__("trees", [])),
    "bonsai model type in 1.0": (
        "MODEL",
        lambda d: d["model"].__setitem__("modelType", "simple-bonsai-classification-forest"),
    ),
}


@pytest.mark.parametrize("name", V1_SCHEMA_BREAKS)
def test_version_1_schema_violations_are_refused(package, name):
    target, edit = V1_SCHEMA_BREAKS[name]
    with pytest.raises(errors.SchemaError) as info:
        load_files(edit_json(v1_files(package), target, edit))
    assert info.value.path.endswith(target)
    assert "-1.schema.json" in info.value.reason


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
        load_files(edit_json(v1_files(package), "model.json", STRUCTURE_BREAKS[name]))
    assert info.value.path == "pkg/model.json"


BYTE_BREAKS = {
    "truncated": (lambda b: b[: len(b) // 2], errors.MalformedPackageError, "truncated"),
    "empty": (lambda b: b"", errors.MalformedPackageError, "truncated"),
    "not utf-8": (lambda b: b"\xff" + b, errors.MalformedPackageError, "UTF-8"),
    "NaN literal": (lambda b: b.replace(b'"threshold":[0.5', b'"threshold":[NaN'), errors.MalformedPackageError, "NaN"),
    "beyond float64": (
        lambda b: b.replace(b'"threshold":[0.5', b'"threshold":[1e999'),
        errors.MalformedPackageError,
        "float64",
    ),
    "duplicate key": (
        lambda b: b.replace(b'{"modelType"', b'{"trees":[],"modelType"'),
        errors.MalformedPackageError,
        "twice",
    ),
    "deep nesting": (lambda b: b"[" * 100_000 + b"]" * 100_000, errors.LimitExceededError, "deeply"),
}


@pytest.mark.parametrize("name", BYTE_BREAKS)
def test_bad_bytes_are_refused(package, name):
    breaker, error, words = BYTE_BREAKS[name]
    files = v1_files(package)
    files["model.json"] = breaker(files["model.json"])
    with pytest.raises(error, match=words):
        load_files(files)


def test_missing_file(package):
    files = files_of(package)
    del files["standard-scaler.json"]
    with pytest.raises(errors.PackageNotFoundError, match="standard-scaler.json"):
        load_files(files)


def test_other_major_version_is_refused(package):
    files = edit_json(files_of(package), "MODEL", lambda d: d.__setitem__("formatVersion", "3.0"))
    with pytest.raises(errors.FormatVersionError, match="reads stripe-json 1.x and stripe-json 2.x"):
        load_files(files)


def test_newer_minor_version_warns(package):
    files = edit_json(files_of(package), "MODEL", lambda d: d.__setitem__("formatVersion", "2.9"))
    with pytest.warns(stripe_json.FormatVersionWarning, match="newer than"):
        assert load_files(files).id == package.id


def test_manifest_not_an_object(package):
    files = {**files_of(package), "MODEL": b"[1, 2]"}
    with pytest.raises(errors.FormatVersionError):
        load_files(files)


def test_mutations_only_raise_named_errors(package):
    """Random truncations, byte flips and deletions: a PackageError or a clean load, nothing else."""
    assert refused_mutations(package, 300, seed=0) > 250
