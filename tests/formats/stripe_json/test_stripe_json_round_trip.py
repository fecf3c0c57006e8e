"""stripe-json: the layout, round trips that keep the id and the scores, edits the id check catches."""

from __future__ import annotations

import json

import numpy as np
import pytest

import crossform
from crossform import errors, ir
from crossform.exporters import Files, stripe_json
from crossform.exporters.stripe_json import bonsai
from helpers.packages import small_package
from helpers.stripe_json import (
    edit_json,
    files_of,
    load_files,
)
from helpers.stripe_json_1 import v1_files


def test_layout_and_manifest(package):
    files = files_of(package)
    assert sorted(files) == [
        "MODEL",
        "fill-missing.json",
        "label-encoder.json",
        "model.json",
        "standard-scaler.json",
        "trees.bonsai",
    ]
    manifest = json.loads(files["MODEL"])
    assert manifest["id"] == package.id
    assert manifest["formatVersion"] == "2.0"  # none of 2.1's kinds: the strict minor keeps 2.0
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
    changed = ir.TreeEnsemble(
        model.features, tuple(trees), model.aggregation, model.post_transform, model.classes, model.base_value
    )
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
    files = edit_json(
        files_of(package), "label-encoder.json", lambda d: d["encodings"]["colour"].__setitem__("red", 7.0)
    )
    with pytest.raises(errors.IdMismatchError):
        load_files(files)
