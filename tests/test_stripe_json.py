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
from crossform.exporters import Files, bonsai, stripe_json
from stripe_json_v1 import v1_files


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
    assert sorted(files) == ["MODEL", "fill-missing.json", "label-encoder.json", "model.json", "standard-scaler.json",
                             "trees.bonsai"]
    manifest = json.loads(files["MODEL"])
    assert manifest["id"] == package.id
    assert manifest["formatVersion"] == stripe_json.VERSION
    assert manifest["encoders"]["apply"][1] == {"encoderType": "label-encoder", "path": "label-encoder.json"}
    assert manifest["model"] == {"modelType": "simple-bonsai-classification-forest", "path": "model.json"}
    assert json.loads(files["model.json"])["trees"] == {"path": "trees.bonsai", "encoding": "bonsai"}
    assert files["trees.bonsai"].startswith(bonsai.MAGIC)
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


def edit_trees(files: dict, edit) -> dict:
    """Re-encode the bonsai trees after ``edit(trees)`` changes them, as a tool would (valid checksum)."""
    model = stripe_json.loads(Files.from_mapping(files, "pkg")).model
    trees = list(model.trees)
    edit(trees)
    changed = ir.TreeEnsemble(model.features, tuple(trees), model.aggregation, model.post_transform, model.classes,
                              model.base_value)
    return {**files, "trees.bonsai": bonsai.dumps(changed)}


def retuned(tree: ir.Tree, node: int, threshold: float) -> ir.Tree:
    t = tree.threshold.copy()
    t[node] = threshold
    return ir.Tree(tree.feature, t, tree.left, tree.right, tree.missing_left, tree.value)


def test_edited_threshold_is_refused(package):
    files = edit_trees(files_of(package), lambda trees: trees.__setitem__(0, retuned(trees[0], 0, 0.51)))
    with pytest.raises(errors.IdMismatchError, match="content hashes to"):
        load_files(files)


def test_edited_bonsai_bytes_are_refused_by_checksum(package):
    files = files_of(package)
    data = bytearray(files["trees.bonsai"])
    data[len(data) // 2] ^= 0x40
    with pytest.raises(errors.BonsaiChecksumError, match="pkg/trees.bonsai"):
        load_files({**files, "trees.bonsai": bytes(data)})


def test_version_1_packages_still_read(package):
    files = v1_files(package)
    assert "trees.bonsai" not in files and json.loads(files["MODEL"])["formatVersion"] == "1.0"
    assert load_files(files).id == package.id


def test_bonsai_trees_are_smaller_than_json_trees(package):
    assert len(files_of(package)["trees.bonsai"]) * 2 < len(v1_files(package)["model.json"])


def test_edited_encoding_is_refused(package):
    files = edit_json(files_of(package), "label-encoder.json",
                      lambda d: d["encodings"]["colour"].__setitem__("red", 7.0))
    with pytest.raises(errors.IdMismatchError):
        load_files(files)


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
    "bonsai model type in 1.0": ("MODEL", lambda d: d["model"].__setitem__("modelType",
                                                                            "simple-bonsai-classification-forest")),
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
    "beyond float64": (lambda b: b.replace(b'"threshold":[0.5', b'"threshold":[1e999'), errors.MalformedPackageError,
                       "float64"),
    "duplicate key": (lambda b: b.replace(b'{"modelType"', b'{"trees":[],"modelType"'), errors.MalformedPackageError,
                      "twice"),
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


@pytest.mark.parametrize("fmt", ["stripe-json", "protobuf"])
def test_saved_packages_get_the_usual_permissions(tmp_path, package, fmt):
    """Writes go through private temporary files; the package must not stay private."""
    mask = os.umask(0o022)
    try:
        path = crossform.save(package, tmp_path / "pkg", format=fmt)
    finally:
        os.umask(mask)
    expected = 0o755 if path.is_dir() else 0o644
    assert os.stat(path).st_mode & 0o777 == expected
