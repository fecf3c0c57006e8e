"""stripe-json: round trips, and every kind of broken package refused with a named error."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

import crossform
from crossform import checks as checks_module
from crossform import errors, ir
from crossform.exporters import Files, get_format, stripe_json
from crossform.exporters._versions import FEATURES_SINCE
from crossform.exporters.stripe_json import bonsai
from crossform.runtime import reference as reference_runtime
from helpers import every_kind
from helpers.packages import small_package
from helpers.paths import CONFORMANCE
from helpers.stripe_json_1 import v1_files


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


def refused_mutations(package, rounds: int, seed: int) -> int:
    """How many of ``rounds`` mutated copies of ``package``'s files (one file truncated, a byte
    flipped or bytes deleted, in turn) are refused with a PackageError. Nothing else may be
    raised, and a copy that loads must be ``package``: only harmless edits (whitespace, producer)."""
    rng = np.random.default_rng(seed)
    original = files_of(package)
    refused = 0
    for i in range(rounds):
        files = dict(original)
        target = sorted(files)[i % len(files)]
        data = bytearray(files[target])
        at = int(rng.integers(len(data)))
        if i % 3 == 0:
            data = data[:at]
        elif i % 3 == 1:
            data[at] = int(rng.integers(256))
        else:
            del data[at : at + int(rng.integers(1, 20))]
        files[target] = bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stripe_json.FormatVersionWarning)
            try:
                loaded = load_files(files)
            except errors.PackageError:
                refused += 1
            else:
                assert loaded.id == package.id
    return refused


def test_mutations_only_raise_named_errors(package):
    """Random truncations, byte flips and deletions: a PackageError or a clean load, nothing else."""
    assert refused_mutations(package, 300, seed=0) > 250


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
    path = crossform.save(package, tmp_path / "model").rename(tmp_path / "model.onnx")  # a misleading name
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


# ---------------------------------------------------------------- one-hot, linear and boosting kinds


def later_packages() -> dict:
    """The kinds added after helpers.every_kind: set splits, +inf thresholds, isolation scores (bonsai 1.1)."""
    fields = every_kind.fields()[1:]  # size, weight
    sets = ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[0.0, 0.0, np.inf, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[True, False, True, False, False],
        value=[[0.0], [1.5], [0.0], [-0.5], [2.0]],
        sets=((-2.5, 0.0, 3.0, 8.0), None, None, None, None),
    )
    inf = ir.Tree(
        feature=[1, -1, -1],
        threshold=[np.inf, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[False, False, False],
        value=[[0.0], [1.0], [-1.0]],
    )
    return {
        "set-splits": ir.Package(fields, (), ir.TreeEnsemble(("size", "weight"), (sets,), "sum", base_value=[0.5])),
        "infinite-threshold": ir.Package(fields, (), ir.TreeEnsemble(("size", "weight"), (inf,))),
        "isolation": ir.Package(
            fields,
            (),
            ir.TreeEnsemble(
                ("size", "weight"), (inf, sets), "sum", "isolation", isolation=(3.5, -0.25), infinite="compare"
            ),
        ),
    }


def refuse_missing_packages() -> dict:
    """refuse-missing (0.5.0): a numeric and a categorical feature, in place and under new names."""
    fields = every_kind.fields()  # colour, size, weight

    def codes(name, out):
        return ir.CategoricalEncoding((name,), (("blue", "green", "red"),), ((0.0, 1.0, 2.0),), (None,), -1.0, (out,))

    tree = ir.Tree(
        feature=[0, 1, -1, -1, 2, -1, -1],
        threshold=[1.5, 0.25, 0.0, 0.0, 0.5, 0.0, 0.0],
        left=[1, 2, -1, -1, 5, -1, -1],
        right=[4, 3, -1, -1, 6, -1, -1],
        missing_left=[True, False, False, False, True, False, False],
        value=[[0.0], [0.0], [-1.0], [0.5], [0.0], [2.0], [3.25]],
    )
    return {
        "refuse-missing-in-place": ir.Package(
            fields,
            (ir.RefuseMissing(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL)), codes("colour", "colour_code")),
            ir.LinearModel(("size", "weight", "colour_code"), [[0.5, -1.5, 2.0]], [3.0]),
        ),
        "refuse-missing-renamed": ir.Package(
            fields,
            (
                ir.RefuseMissing(("weight", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("weight_ok", "colour_ok")),
                codes("colour_ok", "colour_code"),
            ),
            ir.TreeEnsemble(("size", "weight_ok", "colour_code"), (tree,), "sum", base_value=[0.5]),
        ),
    }


REFUSE = refuse_missing_packages()
KINDS_2_1 = {**every_kind.packages(), **later_packages(), **REFUSE}
# what a 2.0 reader refuses each by, where it is not the 2.x schemas: bonsai 1.0's rules
BONSAI_REFUSED = {"set-splits": "expected flags 0", "infinite-threshold": "expected finite numbers"}
GOLDEN = CONFORMANCE / "golden" / "stripe-json"
GOLDEN_2_0 = sorted((GOLDEN / "2.0" / "packages").iterdir())


def reference_checks(package) -> checks_module.Checks:
    """The reference evaluator's scores for the every-kind rows, on the package as built (not as read back)."""
    frame = every_kind.rows()
    names = [f.name for f in package.inputs]
    rows = [
        tuple(None if (isinstance(v, float) and f.kind == ir.CATEGORICAL) else v for v, f in zip(r, package.inputs))
        for r in frame[names].itertuples(index=False)
    ]
    scores = crossform.evaluator.score(package, frame[names])
    leaves = None if scores.leaves is None else checks_module.leaf_positions(package.model, scores.leaves)
    predicted = tuple(scores.labels()) if package.model.is_classifier else None
    return checks_module.Checks(
        "every-kind rows",
        package.inputs,
        tuple(rows),
        tuple(f"row {i}" for i in range(len(rows))),
        package.outputs,
        scores.values,
        ~scores.ok,
        predicted,
        leaves,
    )


@pytest.mark.parametrize("name", KINDS_2_1)
def test_2_1_kinds_round_trip_as_2_1_with_the_same_id(name):
    package = KINDS_2_1[name]
    files = files_of(package)
    manifest = json.loads(files["MODEL"])
    assert manifest["formatVersion"] == "2.1" == stripe_json.recorded_version(package)
    assert ("trees.bonsai" in files) == isinstance(package.model, ir.TreeEnsemble)
    back = load_files(files)
    assert back.id == package.id
    assert back.outputs == package.outputs and tuple(manifest["outputs"]) == package.outputs


@pytest.mark.parametrize("name", KINDS_2_1)
def test_2_1_kinds_score_as_the_reference_in_every_runtime(name):
    package = KINDS_2_1[name]
    checks = reference_checks(package)
    assert not checks.errors.all()
    for runtime in stripe_json.RUNTIMES:
        assert runtime == "reference"  # the one runtime that executes stripe-json
        files = files_of(package)
        scores = reference_runtime.prepare(files, stripe_json)(checks.data())
        # leaves are node indices of the trees as read (bonsai stores nodes breadth first)
        comparison = checks_module.compare(checks, scores, load_files(files).model)
        assert comparison.ok, (runtime, comparison.summary(), [m.describe() for m in comparison.mismatches])
        assert comparison.leaves_compared == isinstance(package.model, ir.TreeEnsemble)
        assert comparison.max_relative_difference == 0.0


def test_2_1_kinds_save_and_load_through_a_directory(tmp_path):
    for name, package in KINDS_2_1.items():
        path = crossform.save(package, tmp_path / name)
        assert stripe_json.read_version(Files.from_directory(path)) == "2.1"
        assert crossform.load(path).id == package.id


@pytest.mark.parametrize("path", GOLDEN_2_0, ids=[p.name for p in GOLDEN_2_0])
def test_packages_of_2_0_kinds_are_written_byte_for_byte_as_2_0(path):
    """The strict minor: what 2.0 could hold is still written exactly as crossform 0.2.0-0.4.0 wrote it."""
    on_disk = {f.name: f.read_bytes() for f in path.iterdir()}
    package = stripe_json.loads(Files.from_directory(path))
    assert stripe_json.recorded_version(package) == "2.0"
    assert files_of(package) == on_disk


def test_the_newest_kind_is_this_version():
    since = [v[stripe_json.NAME] for v in FEATURES_SINCE.values() if stripe_json.NAME in v]
    since += [stripe_json.recorded_version(p) for p in KINDS_2_1.values()]
    assert max(since, key=lambda v: tuple(map(int, v.split(".")))) == stripe_json.VERSION


@pytest.mark.parametrize("name", sorted(KINDS_2_1))
def test_the_format_says_what_needs_2_1_and_which_version_it_writes(package, name):
    fmt = get_format(stripe_json.NAME)
    assert fmt is stripe_json.FORMAT
    assert fmt.needs(package) is None and fmt.written_version(package) == "2.0"
    files = files_of(KINDS_2_1[name])
    assert fmt.written_version(KINDS_2_1[name]) == json.loads(files["MODEL"])["formatVersion"] == "2.1"
    assert fmt.needs(KINDS_2_1[name]), "compat names what older releases refuse"


def test_each_2_1_kind_alone_makes_a_2_1_file(package):
    model = package.model
    binary = ir.TreeEnsemble(
        ("size_scaled",), (every_kind.regression_stump(),), "sum", "logistic", classes=("no", "yes")
    )
    cases = {
        "missing error": package.replace(
            model=ir.TreeEnsemble(model.features, model.trees, classes=model.classes, missing="error")
        ),
        "infinite compare": package.replace(
            model=ir.TreeEnsemble(model.features, model.trees, classes=model.classes, infinite="compare")
        ),
        "binary logistic": package.replace(model=binary),
        "affine": package.replace(encoders=package.encoders + (ir.Affine(("size",), [2.0], [1.0], ("size_a",)),)),
        "refuse-missing": package.replace(encoders=(ir.RefuseMissing(("size",), (ir.NUMERIC,)),) + package.encoders),
    }
    for name, changed in cases.items():
        files = files_of(changed)
        assert json.loads(files["MODEL"])["formatVersion"] == "2.1", name
        assert load_files(files).id == changed.id, name
    model_doc = json.loads(files_of(cases["binary logistic"])["model.json"])
    assert model_doc["leafWidth"] == 1 and "missing" not in model_doc and "infinite" not in model_doc


def as_reader_of(monkeypatch, version: str, bonsai_version: str) -> None:
    """Make this reader the reader of an older 2.x minor: its VERSION, the schemas it shipped, its bonsai."""
    known = _versions_key(version)
    monkeypatch.setattr(stripe_json.rules, "VERSION", version)
    monkeypatch.setattr(bonsai, "VERSION", bonsai_version)
    monkeypatch.setattr(
        stripe_json.rules,
        "VERSION_SCHEMAS",
        {v: s for v, s in stripe_json.VERSION_SCHEMAS.items() if _versions_key(v) <= known},
    )


def _versions_key(version: str) -> tuple:
    return tuple(int(p) for p in version.split("."))


@pytest.mark.parametrize("name", KINDS_2_1)
def test_a_2_0_reader_refuses_2_1_files_by_name(monkeypatch, name):
    """What crossform 0.2.0-0.4.0 do: warn about the newer minor, then refuse what their 2.x schemas do not name,
    or what bonsai 1.0 does not hold. (Checked once against the released 0.4.0 code itself: the same errors.)"""
    files = files_of(KINDS_2_1[name])
    as_reader_of(monkeypatch, "2.0", "1.0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if name in BONSAI_REFUSED:
            with pytest.raises(errors.BonsaiEncodingError, match=BONSAI_REFUSED[name]):
                load_files(files)
        else:
            with pytest.raises(errors.SchemaError, match=r"violates stripe-json-(manifest|model)-2\.schema\.json"):
                load_files(files)
    assert "written in stripe-json 2.1, newer than the 2.0" in str(caught[0].message)


def test_a_2_0_reader_refuses_a_binary_logistic_forest_by_name(monkeypatch, package):
    binary = ir.TreeEnsemble(
        ("size_scaled",), (every_kind.regression_stump(),), "sum", "logistic", classes=("no", "yes")
    )
    files = files_of(package.replace(model=binary))
    as_reader_of(monkeypatch, "2.0", "1.0")
    with pytest.warns(stripe_json.FormatVersionWarning):
        with pytest.raises(errors.SchemaError, match="'leafWidth' was unexpected"):
            load_files(files)


def test_a_2_1_file_of_2_0_kinds_reads_silently(package):
    files = edit_json(files_of(package), "MODEL", lambda d: d.__setitem__("formatVersion", "2.1"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_files(files).id == package.id


def test_a_newer_minor_with_2_1_kinds_warns_and_reads():
    package = KINDS_2_1["boost-binary-one-hot"]
    files = edit_json(files_of(package), "MODEL", lambda d: d.update(formatVersion="2.7", later={"x": 1}))
    with pytest.warns(stripe_json.FormatVersionWarning, match="newer than the 2.1.*'later'"):
        assert load_files(files).id == package.id


# A file recording 2.0 may hold only 2.0's kinds: the 2.0 schemas are frozen.
AS_2_0 = {
    "one-hot in 2.0": ("forest-one-hot", "MODEL", "'one-hot' is not one of"),
    "linear model in 2.0": ("linear-multinomial", "MODEL", "'linear-classification' is not one of"),
    "compare rule in 2.0": ("boost-regression-compare", "model.json", "'infinite' was unexpected"),
    "missing rule in 2.0": ("boost-multiclass-ignore", "MODEL", "'one-hot' is not one of"),
    "refuse-missing in 2.0": ("refuse-missing-renamed", "MODEL", "'refuse-missing' is not one of"),
}


@pytest.mark.parametrize("case", AS_2_0)
def test_2_1_kinds_in_a_file_recording_2_0_are_refused(case):
    name, target, words = AS_2_0[case]
    files = edit_json(files_of(KINDS_2_1[name]), "MODEL", lambda d: d.__setitem__("formatVersion", "2.0"))
    with pytest.raises(errors.SchemaError, match=words) as info:
        load_files(files)
    assert info.value.path == f"pkg/{target}" and "-2.schema.json" in info.value.reason


def set_in(*keys, value):
    def edit(doc):
        for key in keys[:-1]:
            doc = doc[key]
        doc[keys[-1]] = value

    return edit


def drop(*keys):
    def edit(doc):
        for key in keys[:-1]:
            doc = doc[key]
        del doc[keys[-1]]

    return edit


# case -> (package, file, edit, error, words in the message): each new structure's failure modes
BREAKS_2_1 = {
    # one-hot
    "one-hot widths per feature": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("widths", "shade", value=3),
        errors.MalformedPackageError,
        "one entry per feature",
    ),
    "one-hot columns per feature": (
        "boost-binary-one-hot",
        "one-hot.json",
        drop("columns", "colour"),
        errors.MalformedPackageError,
        "'columns' object must have one entry per feature",
    ),
    "one-hot column beyond width": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("columns", "colour", "red", value=3),
        errors.MalformedPackageError,
        "column index from -1 to 2",
    ),
    "one-hot column below -1": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("columns", "colour", "red", value=-2),
        errors.SchemaError,
        "less than the minimum of -1",
    ),
    "one-hot column a fraction": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("columns", "colour", "red", value=1.5),
        errors.SchemaError,
        "not of type 'integer'",
    ),
    "one-hot column a float": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("columns", "colour", "red", value=1.0),
        errors.MalformedPackageError,
        "int32 values",
    ),
    "one-hot negative width": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("widths", "colour", value=-1),
        errors.SchemaError,
        "minimum",
    ),
    "one-hot huge width": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("widths", "colour", value=10**7),
        errors.MalformedPackageError,
        "from 0 to 1000000",
    ),
    "one-hot outputs count": (
        "boost-binary-one-hot",
        "one-hot.json",
        lambda d: d["outputs"].pop(),
        errors.MalformedPackageError,
        "3 names, one per column",
    ),
    "one-hot missing column": (
        "boost-multiclass-ignore",
        "one-hot.json",
        set_in("missing", "colour", value=5),
        errors.MalformedPackageError,
        "missing_columns",
    ),
    "one-hot missing policy": (
        "boost-multiclass-ignore",
        "one-hot.json",
        set_in("missing", "colour", value="zeros"),
        errors.SchemaError,
        "one-hot-2.schema.json",
    ),
    "one-hot unknown policy": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("unknown", "colour", value="ignore"),
        errors.SchemaError,
        "one-hot-2.schema.json",
    ),
    "one-hot unknown column": (
        "linear-binary-logistic",
        "one-hot.json",
        set_in("unknown", "colour", value=9),
        errors.MalformedPackageError,
        "'unknown'",
    ),
    "one-hot output over input": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("outputs", 0, value="colour"),
        errors.MalformedPackageError,
        "overwrite no input",
    ),
    "one-hot extra key": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("drop", value="first"),
        errors.SchemaError,
        "'drop' was unexpected",
    ),
    # affine
    "affine lengths": (
        "boost-binary-one-hot",
        "affine.json",
        lambda d: d["scale"].append(1.0),
        errors.MalformedPackageError,
        "1 numbers, one per feature",
    ),
    "affine special float": (
        "boost-binary-one-hot",
        "affine.json",
        set_in("offset", 0, value="NaN"),
        errors.SchemaError,
        "affine-2.schema.json",
    ),
    "affine no scale": ("boost-binary-one-hot", "affine.json", drop("scale"), errors.SchemaError, "'scale'"),
    # missing-indicator
    "indicator type": (
        "linear-regression",
        "missing-indicator.json",
        set_in("types", 0, value="text"),
        errors.SchemaError,
        "missing-indicator-2.schema.json",
    ),
    "indicator types count": (
        "linear-regression",
        "missing-indicator.json",
        lambda d: d["types"].pop(),
        errors.MalformedPackageError,
        "kinds_in",
    ),
    "indicator wrong type": (
        "linear-regression",
        "missing-indicator.json",
        set_in("types", 0, value="categorical"),
        errors.MalformedPackageError,
        "a categorical column for 'size'",
    ),
    "indicator over a categorical": (
        "linear-regression",
        "missing-indicator.json",
        set_in("outputs", 1, value="colour"),
        errors.MalformedPackageError,
        "cannot overwrite a categorical column",
    ),
    # refuse-missing
    "refuse type": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        set_in("types", 0, value="text"),
        errors.SchemaError,
        "refuse-missing-2.schema.json",
    ),
    "refuse no types": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        set_in("types", value=[]),
        errors.SchemaError,
        "refuse-missing-2.schema.json",
    ),
    "refuse types count": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        lambda d: d["types"].pop(),
        errors.MalformedPackageError,
        "kinds_in",
    ),
    "refuse wrong type": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        set_in("types", 0, value="categorical"),
        errors.MalformedPackageError,
        "a categorical column for 'size'",
    ),
    "refuse outputs count": (
        "refuse-missing-renamed",
        "refuse-missing.json",
        lambda d: d["outputs"].pop(),
        errors.MalformedPackageError,
        "2 names, one per feature",
    ),
    "refuse output over another input": (
        "refuse-missing-renamed",
        "refuse-missing.json",
        set_in("outputs", 0, value="colour"),
        errors.MalformedPackageError,
        "overwrite no other input",
    ),
    "refuse no outputs key": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        drop("outputs"),
        errors.SchemaError,
        "'outputs' is a required property",
    ),
    "refuse extra key": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        set_in("error_on_new", value=True),
        errors.SchemaError,
        "'error_on_new' was unexpected",
    ),
    "refuse read as an indicator": (
        "refuse-missing-in-place",
        "MODEL",
        set_in("encoders", "apply", 0, "encoderType", value="missing-indicator"),
        errors.MalformedPackageError,
        "cannot overwrite a categorical column",
    ),
    "indicator read as a refusal": (
        "linear-regression",
        "MODEL",
        set_in("encoders", "apply", 0, "encoderType", value="refuse-missing"),
        errors.MalformedPackageError,
        "encode 'colour_missing' first",
    ),
    # linear model
    "linear ragged row": (
        "linear-multinomial",
        "model.json",
        lambda d: d["coefficients"][1].pop(),
        errors.MalformedPackageError,
        "expected 2 coefficients in row 1",
    ),
    "linear long row": (
        "linear-multinomial",
        "model.json",
        lambda d: d["coefficients"][0].append(1.0),
        errors.MalformedPackageError,
        "expected 2 coefficients in row 0",
    ),
    "linear intercepts": (
        "linear-multinomial",
        "model.json",
        lambda d: d["intercepts"].pop(),
        errors.MalformedPackageError,
        "3 numbers, one per output",
    ),
    "linear classes": (
        "linear-multinomial",
        "model.json",
        lambda d: d["classes"].append("d"),
        errors.MalformedPackageError,
        "3 labels, one per output",
    ),
    "linear softmax of one": (
        "linear-decision-binary",
        "model.json",
        set_in("postTransform", value="softmax"),
        errors.MalformedPackageError,
        "'softmax' only with two or more outputs",
    ),
    "linear binary softmax": (
        "linear-binary-logistic",
        "model.json",
        set_in("postTransform", value="softmax"),
        errors.MalformedPackageError,
        "softmax",
    ),
    "linear no coefficients": (
        "linear-regression",
        "model.json",
        set_in("coefficients", value=[]),
        errors.SchemaError,
        "linear-model-2.schema.json",
    ),
    "linear string coefficient": (
        "linear-regression",
        "model.json",
        set_in("coefficients", 0, 0, value="NaN"),
        errors.SchemaError,
        "linear-model-2.schema.json",
    ),
    "linear post transform": (
        "linear-regression",
        "model.json",
        set_in("postTransform", value="probit"),
        errors.SchemaError,
        "'probit' is not one of",
    ),
    "linear trees key": (
        "linear-regression",
        "model.json",
        set_in("trees", value={"path": "trees.bonsai", "encoding": "bonsai"}),
        errors.SchemaError,
        "'trees' was unexpected",
    ),
    "linear regressor named a classifier": (
        "linear-regression",
        "model.json",
        set_in("modelType", value="linear-classification"),
        errors.MalformedPackageError,
        "as the manifest says",
    ),
    "linear classifier without classes": (
        "linear-multinomial",
        "model.json",
        drop("classes"),
        errors.MalformedPackageError,
        "class labels for 3 outputs",
    ),
    # trees
    "tree leaf width 2": (
        "boost-binary-one-hot",
        "model.json",
        set_in("leafWidth", value=2),
        errors.SchemaError,
        "1 was expected",
    ),
    "tree leaf width without classes": (
        "boost-regression-compare",
        "model.json",
        set_in("leafWidth", value=1),
        errors.MalformedPackageError,
        "leafWidth only in a classifier",
    ),
    "tree leaf width against bonsai": (
        "boost-multiclass-ignore",
        "model.json",
        set_in("leafWidth", value=1),
        errors.MalformedPackageError,
        "expected leaves of 1 outputs",
    ),
    "tree binary without leaf width": (
        "boost-binary-one-hot",
        "model.json",
        drop("leafWidth"),
        errors.MalformedPackageError,
        "expected leaves of 2 outputs",
    ),
    "tree binary softmax": (
        "boost-binary-one-hot",
        "model.json",
        set_in("postTransform", value="softmax"),
        errors.MalformedPackageError,
        "softmax",
    ),
    "tree missing route spelled out": (
        "boost-regression-compare",
        "model.json",
        set_in("missing", value="route"),
        errors.SchemaError,
        "'error' was expected",
    ),
    "tree infinite error spelled out": (
        "boost-binary-one-hot",
        "model.json",
        set_in("infinite", value="error"),
        errors.SchemaError,
        "'compare' was expected",
    ),
    "tree unknown rule": (
        "boost-regression-compare",
        "model.json",
        set_in("infinite", value="clip"),
        errors.SchemaError,
        "'compare' was expected",
    ),
    # isolation forests
    "isolation without its parameters": (
        "isolation",
        "model.json",
        drop("isolation"),
        errors.MalformedPackageError,
        "denominator, offset",
    ),
    "isolation parameters elsewhere": (
        "boost-regression-compare",
        "model.json",
        set_in("isolation", value={"denominator": 2.0, "offset": 0.5}),
        errors.MalformedPackageError,
        "None unless post transform is 'isolation'",
    ),
    "isolation denominator 0": (
        "isolation",
        "model.json",
        set_in("isolation", "denominator", value=0),
        errors.SchemaError,
        "less than or equal to the minimum of 0",
    ),
    "isolation extra key": (
        "isolation",
        "model.json",
        set_in("isolation", "scale", value=1.0),
        errors.SchemaError,
        "'scale' was unexpected",
    ),
    "isolation as a classifier": (
        "isolation",
        "model.json",
        set_in("classes", value=["a"]),
        errors.MalformedPackageError,
        "'isolation' only for a regressor",
    ),
    "isolation named a forest": (
        "isolation",
        "model.json",
        set_in("modelType", value="simple-bonsai-regression-forest"),
        errors.MalformedPackageError,
        "as the manifest says",
    ),
    # manifest
    "manifest encoder type": (
        "linear-regression",
        "MODEL",
        set_in("encoders", "apply", 0, "encoderType", value="min-max-scaler"),
        errors.SchemaError,
        "manifest-2.1.schema.json",
    ),
    "manifest wrong encoder file": (
        "linear-regression",
        "MODEL",
        set_in("encoders", "apply", 0, "encoderType", value="affine"),
        errors.SchemaError,
        "affine-2.schema.json",
    ),
    "manifest model type": (
        "linear-regression",
        "MODEL",
        set_in("model", "modelType", value="linear-classification"),
        errors.MalformedPackageError,
        "as the manifest says",
    ),
    "manifest linear names trees": (
        "linear-regression",
        "MODEL",
        set_in("model", "modelType", value="simple-bonsai-regression-forest"),
        errors.SchemaError,
        "model-2.1.schema.json",
    ),
    "manifest outputs": (
        "linear-decision-binary",
        "MODEL",
        set_in("outputs", value=["probability(-1)", "probability(1)"]),
        errors.MalformedPackageError,
        "expected outputs \\['decision'\\]",
    ),
}


@pytest.mark.parametrize("case", BREAKS_2_1)
def test_new_structures_refuse_bad_input_by_name(case):
    name, target, edit, error, words = BREAKS_2_1[case]
    files = edit_json(files_of(KINDS_2_1[name]), target, edit)
    with pytest.raises(error, match=words) as info:
        load_files(files)
    assert type(info.value) is error
    assert info.value.path.startswith("pkg/")


def test_new_structures_duplicate_category_is_refused():
    files = files_of(KINDS_2_1["boost-binary-one-hot"])
    data = files["one-hot.json"].replace(b'"blue": 0,', b'"blue": 0, "blue": 1,')
    with pytest.raises(errors.MalformedPackageError, match="'blue' appears twice"):
        load_files({**files, "one-hot.json": data})


def test_a_binary_logistic_forest_keeps_its_one_output_leaves_in_bonsai():
    files = files_of(KINDS_2_1["boost-binary-one-hot"])
    trees = bonsai.loads(files["trees.bonsai"], "pkg/trees.bonsai", 4)
    assert {t.n_outputs for t in trees} == {1}


@pytest.mark.parametrize(
    "name", ["boost-binary-one-hot", "linear-regression", "linear-binary-logistic", "refuse-missing-renamed"]
)
def test_mutations_of_2_1_files_only_raise_named_errors(name):
    assert refused_mutations(KINDS_2_1[name], 240, seed=1) > 180


def test_a_linear_regressor_named_a_classifier_everywhere_is_refused():
    files = files_of(KINDS_2_1["linear-regression"])
    for name in ("MODEL", "model.json"):
        edit = (
            set_in("model", "modelType", value="linear-classification")
            if name == "MODEL"
            else set_in("modelType", value="linear-classification")
        )
        files = edit_json(files, name, edit)
    with pytest.raises(errors.MalformedPackageError, match="expected modelType 'linear-regression' for this model"):
        load_files(files)


def fit_2_1_kind(name: str):
    """Pipelines whose packages use 2.1's kinds, fitted by scikit-learn (the checks' expected outputs are its own)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, IsolationForest
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame(
        {
            "colour": pd.Series(rng.choice(["red", "blue", "green", "teal"], n), dtype=object),
            "size": rng.normal(10, 4, n),
            "weight": rng.normal(0, 1, n),
        }
    )
    y = X["size"].to_numpy() + (X["colour"] == "red") * 3 + rng.normal(0, 1, n)
    binary = (y > np.median(y)).astype(int)
    three = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [0.33, 0.66]))]
    prep = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=40), ["colour"]),
            ("num", MinMaxScaler(), ["size", "weight"]),
        ]
    )
    if name == "boosting-binary":
        return Pipeline([("prep", prep), ("model", GradientBoostingClassifier(n_estimators=8, random_state=0))]).fit(
            X, binary
        )
    if name == "logistic-multinomial":
        return Pipeline([("prep", prep), ("model", LogisticRegression())]).fit(X, three)
    if name == "indicator-refusing-new":  # the refuse-missing encoder: MissingIndicator(error_on_new=True)
        from sklearn.impute import MissingIndicator
        from sklearn.tree import DecisionTreeClassifier

        X = np.random.default_rng(0).normal(size=(300, 3))
        X[::7, 1] = np.nan
        union = ColumnTransformer([("i", MissingIndicator(), [0, 1, 2]), ("f", SimpleImputer(), [0, 1, 2])])
        return Pipeline([("u", union), ("m", DecisionTreeClassifier(max_depth=4, random_state=0))]).fit(X, X[:, 0] > 0)
    X.loc[rng.random(n) < 0.1, "size"] = np.nan
    if name == "hist-boosting-categorical":  # set splits over a string column's codes
        model = HistGradientBoostingClassifier(max_iter=8, categorical_features=["colour"], random_state=0)
        return model.fit(X, binary)
    if name == "isolation-forest":
        return IsolationForest(n_estimators=8, random_state=0).fit(X[["size", "weight"]])
    impute = ColumnTransformer([("num", SimpleImputer(add_indicator=True), ["size", "weight"])])
    return Pipeline([("prep", impute), ("model", Ridge())]).fit(X, y)


@pytest.mark.parametrize(
    "name",
    [
        "boosting-binary",
        "logistic-multinomial",
        "ridge-with-indicator",
        "hist-boosting-categorical",
        "isolation-forest",
        "indicator-refusing-new",
    ],
)
def test_scikit_learn_fits_of_2_1_kinds_round_trip_with_their_checks(tmp_path, name):
    package = crossform.from_sklearn(fit_2_1_kind(name), checks=300)
    path = crossform.save(package, tmp_path / "pkg")
    assert stripe_json.read_version(Files.from_directory(path)) == "2.1"
    back = crossform.load(path)
    assert back.id == package.id
    comparison = checks_module.compare(back.checks, crossform.score(back, back.checks.data()), back.model)
    assert comparison.ok, comparison.summary()
    assert comparison.leaves_compared == isinstance(back.model, ir.TreeEnsemble)


def test_missing_indicator_refusing_new_scores_as_scikit_learn_in_every_runtime():
    """MissingIndicator(error_on_new=True): refuse-missing on the columns with no NaN at fit; the rest as before."""
    est = fit_2_1_kind("indicator-refusing-new")
    package = crossform.from_sklearn(est, checks=300)
    assert [type(e) for e in package.encoders[:2]] == [ir.RefuseMissing, ir.MissingIndicator]
    assert package.encoders[0].features == ("x0", "x2")
    files = files_of(package)
    assert json.loads(files["MODEL"])["formatVersion"] == "2.1" and "refuse-missing.json" in files
    back = load_files(files)
    assert back.id == package.id
    rows = np.array([[0.5, np.nan, -1.0], [np.nan, 0.0, 1.0], [0.1, 0.2, np.nan], [np.inf, 0.0, 0.0], [-0.3, 1.5, 2.0]])
    for runtime in stripe_json.RUNTIMES:
        scorer = reference_runtime.prepare(files, stripe_json)
        comparison = checks_module.compare(back.checks, scorer(back.checks.data()), back.model)
        assert comparison.ok and comparison.rows > 50, (runtime, comparison.summary())
        scores = scorer({f"x{j}": rows[:, j] for j in range(3)})
        assert scores.ok.tolist() == [True, False, False, False, True], runtime
        ok = scores.ok
        assert np.array_equal(scores.values[ok], est.predict_proba(rows[ok])), runtime
    for refused in rows[~ok]:  # scikit-learn refuses them too (a NaN new to x0 or x2; inf in any estimator)
        with pytest.raises(ValueError):
            est.predict_proba(refused[None, :])
