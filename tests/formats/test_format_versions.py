"""The format-version policy (docs/FORMATS.md) on crafted stripe-json packages."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import crossform
from crossform import errors
from crossform.exporters import Files, _versions, stripe_json
from helpers.packages import small_package

ROWS = [{"colour": c, "size": s} for c in ("red", "blue", "green", None) for s in (2.0, 10.0, 17.5, None)]


@pytest.fixture
def saved(tmp_path):
    package = small_package()
    return package, crossform.save(package, tmp_path / "pkg")


def edit_manifest(path, edit) -> None:
    manifest = json.loads((path / "MODEL").read_text(encoding="utf-8"))
    edit(manifest)
    (path / "MODEL").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def with_version(version, **extra):
    def edit(manifest):
        manifest["formatVersion"] = version
        manifest.update(extra)

    return edit


@pytest.mark.parametrize("version", ["3.0", "0.9"])
def test_another_major_is_refused_naming_file_version_and_major(saved, version):
    _, path = saved
    edit_manifest(path, with_version(version))
    with pytest.raises(errors.FormatVersionError) as caught:
        crossform.load(path)
    message = str(caught.value)
    assert caught.value.path == f"{path}/MODEL"
    assert f"stripe-json {version}" in message and "reads stripe-json 1.x and stripe-json 2.x" in message


def test_newer_minor_warns_once_drops_unknown_keys_and_scores_the_same(saved):
    package, path = saved
    edit_manifest(path, with_version("2.7", newThing={"anything": [1, 2]}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = crossform.load(path)
    assert [w.category for w in caught] == [_versions.FormatVersionWarning]
    message = str(caught[0].message)
    assert "'newThing'" in message and "2.7" in message and f"newer than the {stripe_json.VERSION}" in message
    # neither formatVersion nor an added key is part of the id, so the id check still passes
    assert loaded.id == package.id
    ours, theirs = crossform.score(package, ROWS), crossform.score(loaded, ROWS)
    np.testing.assert_array_equal(ours.values, theirs.values)
    assert ours.errors == theirs.errors


def test_newer_minor_without_new_keys_warns_without_naming_any(saved):
    package, path = saved
    edit_manifest(path, with_version("2.9"))
    with pytest.warns(stripe_json.FormatVersionWarning, match="newer than") as caught:
        assert crossform.load(path).id == package.id
    assert len(caught) == 1 and "ignored" not in str(caught[0].message)


@pytest.mark.parametrize("ours, version", [("2.0", "2.0"), ("2.3", "2.2")])
def test_unknown_key_in_this_or_an_older_minor_is_a_schema_error(monkeypatch, saved, ours, version):
    # a writer of this version must not add keys: nothing is dropped
    monkeypatch.setattr(stripe_json.rules, "VERSION", ours)
    _, path = saved
    edit_manifest(path, with_version(version, newThing=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and nothing warns either
        with pytest.raises(errors.SchemaError, match="newThing"):
            crossform.load(path)


def test_older_minor_reads_silently(monkeypatch, saved):
    package, path = saved
    monkeypatch.setattr(stripe_json.rules, "VERSION", "2.3")
    edit_manifest(path, with_version("2.2"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert crossform.load(path).id == package.id


def test_newer_minor_does_not_drop_known_keys(saved):
    # an ignored key is only one the schema does not name; known keys are still checked
    _, path = saved
    edit_manifest(path, with_version("2.7", tags="not a list"))
    with pytest.warns(stripe_json.FormatVersionWarning), pytest.raises(errors.SchemaError, match="tags"):
        crossform.load(path)


MALFORMED = {
    "one part": "1",
    "three parts": "1.0.0",
    "leading zero": "01.0",
    "leading zero minor": "1.01",
    "trailing newline": "1.0\n",
    "spaces": " 1.0",
    "a number": 1.0,
    "null": None,
    "ten digits": "1234567890.0",
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_versions_are_refused(saved, name):
    _, path = saved
    edit_manifest(path, with_version(MALFORMED[name]))
    with pytest.raises(errors.FormatVersionError, match="major.minor") as caught:
        crossform.load(path)
    assert caught.value.path == f"{path}/MODEL"


def test_missing_version_is_refused(saved):
    _, path = saved
    edit_manifest(path, lambda m: m.pop("formatVersion"))
    with pytest.raises(errors.FormatVersionError, match="found none"):
        crossform.load(path)


def test_a_number_is_told_apart_from_a_string():
    with pytest.raises(errors.FormatVersionError, match=r"found 1\.0$"):
        _versions.parse_version(1.0, "MODEL")
    with pytest.raises(errors.FormatVersionError, match=r'found "1\.0\.0"$'):
        _versions.parse_version("1.0.0", "MODEL")


@pytest.mark.parametrize("text, parsed", [("0.0", (0, 0)), ("1.12", (1, 12)), ("999999999.3", (999999999, 3))])
def test_parse_version(text, parsed):
    assert _versions.parse_version(text, "x") == parsed


def test_check_version_verdicts():
    assert _versions.check_version("f", "1.2", "1.0", "x") is False
    assert _versions.check_version("f", "1.2", "1.2", "x") is False
    with pytest.warns(_versions.FormatVersionWarning, match=r"ignored .*'a', 'b'"):
        assert _versions.check_version("f", "1.2", "1.3", "x", ignored={"b", "a"}) is True
    with pytest.raises(errors.FormatVersionError, match="^x: written in f 3.1; this crossform reads f 1.x$"):
        _versions.check_version("f", "1.2", "3.1", "x")


def test_stripe_json_reexports_the_shared_warning():
    assert stripe_json.FormatVersionWarning is _versions.FormatVersionWarning
    assert issubclass(_versions.FormatVersionWarning, UserWarning)


def test_read_version_reads_the_manifest_alone():
    files = stripe_json.dumps(small_package())
    # a package of 2.0's kinds records 2.0 (2.1 is a strict minor)
    assert stripe_json.read_version(Files.from_mapping({"MODEL": files["MODEL"]}, "pkg")) == "2.0"
    future = {**json.loads(files["MODEL"]), "formatVersion": "2.5"}
    assert stripe_json.read_version(Files.from_mapping({"MODEL": json.dumps(future).encode()}, "pkg")) == "2.5"
    with pytest.raises(errors.FormatVersionError, match="pkg/MODEL"):
        stripe_json.read_version(Files.from_mapping({"MODEL": b"[]"}, "pkg"))
