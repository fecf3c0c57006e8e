"""crossform compat: the HISTORY table, the release ranges the policy gives, and the command."""

from __future__ import annotations

import json
import re

import pytest

import crossform
from crossform import cli, compat
from crossform.exporters import BUILTIN, get_format
from helpers.packages import small_package


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def package():
    return small_package()


@pytest.fixture
def saved(tmp_path, package):
    return crossform.save(package, tmp_path / "pkg")


def edit_manifest(path, **changes) -> None:
    manifest = json.loads((path / "MODEL").read_text(encoding="utf-8"))
    manifest.update(changes)
    (path / "MODEL").write_text(json.dumps(manifest), encoding="utf-8")


def release(text: str) -> tuple:
    return tuple(int(part) for part in re.match(r"\d+(\.\d+)*", text).group().split("."))


# ---------------------------------------------------------------- HISTORY and the policy


@pytest.mark.parametrize("module", BUILTIN)
def test_history_records_every_builtin_format_up_to_its_current_version(module):
    fmt = get_format(__import__(module, fromlist=["NAME"]).NAME)
    rows = compat.HISTORY[fmt.NAME]
    assert rows[-1][0] == fmt.VERSION, "bumped VERSION without a HISTORY row (docs/FORMATS.md)"
    versions = [compat.parse_version(v, "HISTORY") for v, _ in rows]
    releases = [release(r) for _, r in rows]
    assert versions == sorted(set(versions)) and releases == sorted(set(releases))
    assert releases[-1] <= release(crossform.__version__)


@pytest.fixture
def long_history(monkeypatch):
    monkeypatch.setitem(
        compat.HISTORY,
        "stripe-json",
        [("1.0", "0.1.0"), ("1.1", "0.2.0"), ("1.3", "0.4.0"), ("2.0", "1.0.0"), ("2.1", "1.2.0")],
    )
    # a release that drops major 1's frozen reader ends its range
    monkeypatch.setitem(compat.DROPPED, "stripe-json", {1: "1.0.0"})
    monkeypatch.setitem(compat.STRICT, "stripe-json", {})  # this made-up history has no strict minor


@pytest.mark.parametrize(
    "version, expected",
    [
        ("1.0", ">=0.1.0,<1.0.0"),
        ("1.1", ">=0.1.0,<0.2.0 with a warning (newer minor); >=0.2.0,<1.0.0"),
        ("1.2", ">=0.1.0,<0.4.0 with a warning (newer minor); >=0.4.0,<1.0.0"),  # never written: first reader is 1.3's
        ("1.4", ">=0.1.0,<1.0.0 with a warning (newer minor)"),
        ("2.0", ">=1.0.0"),
        ("2.1", ">=1.0.0,<1.2.0 with a warning (newer minor); >=1.2.0"),
        ("3.0", "none"),
    ],
)
def test_readers_follow_the_policy(long_history, version, expected):
    assert compat.readers_text(compat.readers("stripe-json", version)) == expected


def test_a_strict_minor_is_read_only_from_the_release_that_writes_it():
    """0.5.0's minors add kinds older readers refuse: no "with a warning" span for them."""
    for fmt, version in (("stripe-json", "2.1"), ("protobuf", "1.1"), ("onnx", "1.3"), ("pmml", "1.2")):
        assert compat.readers_text(compat.readers(fmt, version)) == ">=0.5.0", fmt


def test_a_new_major_keeps_reading_the_old_one():
    """stripe-json 2.0 (bonsai trees) kept the 1.x reader: both majors read from their first release on."""
    assert compat.readers_text(compat.readers("stripe-json", "1.0")) == ">=0.1.0"
    assert compat.readers_text(compat.readers("stripe-json", "2.0")) == ">=0.2.0"
    assert compat.readers_text(compat.readers("stripe-json", "3.0")) == "none"


def test_reader_ranges_are_machine_readable(long_history):
    assert compat.readers("stripe-json", "2.1") == [
        {"from": "1.0.0", "before": "1.2.0", "specifier": ">=1.0.0,<1.2.0", "warning": True},
        {"from": "1.2.0", "before": None, "specifier": ">=1.2.0", "warning": False},
    ]
    assert compat.readers("no-such-format", "1.0") is None


# ---------------------------------------------------------------- report


def test_report_of_a_current_package(saved, package):
    doc = compat.report(saved)
    # a package of 2.0's kinds records 2.0 (stripe-json 2.1 is a strict minor)
    assert doc["format"] == "stripe-json" and doc["format_version"] == "2.0"
    assert doc["reads"] == "reads" and doc["ok"] is True
    assert doc["id"] == package.id and doc["error"] is None and doc["warnings"] == []
    assert doc["crossform"] == crossform.__version__
    assert doc["readers"]["text"] == ">=0.2.0"
    # the jvm scorer (jvm/) has no release yet, so no version range is recorded for it
    assert doc["runtimes"] == [{"name": "reference", "versions": ">=0.2.0"}, {"name": "jvm", "versions": None}]


def test_version_is_read_from_the_manifest_alone(saved):
    (saved / "model.json").unlink()
    doc = compat.report(saved)
    assert doc["format_version"] == "2.0" and doc["reads"] == "reads"
    assert doc["ok"] is False and "model.json" in doc["error"]


def test_foreign_runtimes_are_not_recorded_without_the_hook(monkeypatch, saved):
    fmt = get_format("stripe-json")
    monkeypatch.setattr(fmt, "RUNTIMES", ("reference", "onnxruntime"))
    assert compat.report(saved)["runtimes"][1] == {"name": "onnxruntime", "versions": None}
    monkeypatch.setattr(fmt, "runtime_versions", lambda version: {"onnxruntime": f">=1.16 for {version}"})
    assert compat.report(saved)["runtimes"][1] == {"name": "onnxruntime", "versions": ">=1.16 for 2.0"}


def test_a_format_without_read_version_is_judged_by_loading(monkeypatch, saved, package):
    monkeypatch.setattr(get_format("stripe-json"), "TELLS_VERSION", False)
    doc = compat.report(saved)
    assert doc["format_version"] is None and doc["reads"] == "reads" and doc["id"] == package.id
    assert doc["readers"] == {"text": "not recorded", "ranges": None, "needs": None}


# ---------------------------------------------------------------- the command


def test_compat_current_package(capsys, saved, package):
    code, out, err = run(capsys, "compat", saved)
    assert code == 0, err
    assert err == ""
    assert re.search(r"^format version\s+2\.0$", out, re.MULTILINE)
    assert re.search(r"^this crossform\s+0\.2\.0: reads$", out.replace(crossform.__version__, "0.2.0"), re.MULTILINE)
    assert re.search(rf"^id\s+{re.escape(package.id)}$", out, re.MULTILINE)
    assert re.search(r"^read by\s+crossform >=0\.2\.0$", out, re.MULTILINE)
    assert re.search(r"^runtimes\s+reference: >=0\.2\.0$", out, re.MULTILINE)


def test_compat_newer_minor_reads_with_a_warning(capsys, saved, package):
    edit_manifest(saved, formatVersion="2.7", newThing={"x": 1})
    code, out, err = run(capsys, "compat", saved)
    assert code == 0, err
    assert "reads with a warning: newer minor" in out and package.id in out
    assert "crossform: warning:" in err and "'newThing'" in err


def test_compat_other_major_prints_format_and_version_and_fails(capsys, saved):
    edit_manifest(saved, formatVersion="3.0")
    code, out, err = run(capsys, "compat", saved)
    assert code == 1 and err == ""  # the error is part of the report, on stdout
    assert re.search(r"^format\s+stripe-json$", out, re.MULTILINE)
    assert re.search(r"^format version\s+3\.0$", out, re.MULTILINE)
    assert "cannot read: major version 3" in out
    refusal = (
        r"^error\s+.*MODEL: written in stripe-json 3\.0; this crossform reads stripe-json 1\.x and stripe-json 2\.x$"
    )
    assert re.search(refusal, out, re.MULTILINE)
    assert re.search(r"^read by\s+no crossform release$", out, re.MULTILINE)


@pytest.mark.parametrize("written, shown", [(1.0, None), ("1.0.0", "1.0.0")])
def test_compat_malformed_version(capsys, saved, written, shown):
    edit_manifest(saved, formatVersion=written)
    code, out, _ = run(capsys, "compat", saved, "--json")
    doc = json.loads(out)
    assert code == 1
    assert doc["format"] == "stripe-json" and doc["format_version"] == shown
    assert doc["readers"] == {"text": "none", "ranges": [], "needs": None}
    assert doc["reads"] == "cannot read: no valid format version" and "major.minor" in doc["error"]


def test_compat_missing_path_is_usage(capsys, tmp_path):
    code, out, err = run(capsys, "compat", tmp_path / "nowhere")
    assert code == 2 and out == "" and "no such file or directory" in err


def test_compat_not_a_package(capsys, tmp_path):
    code, _, err = run(capsys, "compat", tmp_path)
    assert code == 1 and "no registered format recognises" in err


def test_compat_json(capsys, saved, package):
    code, out, _ = run(capsys, "compat", saved, "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {
        "path",
        "format",
        "format_version",
        "crossform",
        "reads",
        "ok",
        "id",
        "error",
        "warnings",
        "readers",
        "runtimes",
    }
    assert doc["id"] == package.id and doc["ok"] is True
    assert doc["readers"]["ranges"] == [{"from": "0.2.0", "before": None, "specifier": ">=0.2.0", "warning": False}]
    # the jvm scorer (jvm/) has no release yet, so no version range is recorded for it
    assert doc["runtimes"] == [{"name": "reference", "versions": ">=0.2.0"}, {"name": "jvm", "versions": None}]


def test_compat_json_other_major(capsys, saved):
    edit_manifest(saved, formatVersion="3.0")
    code, out, _ = run(capsys, "compat", saved, "--json")
    doc = json.loads(out)
    assert code == 1
    assert (doc["format"], doc["format_version"], doc["ok"], doc["id"]) == ("stripe-json", "3.0", False, None)
    assert doc["readers"] == {"text": "none", "ranges": [], "needs": None}


def test_compat_help(capsys):
    code, out, _ = run(capsys, "compat", "--help")
    assert code == 0
    assert "usage: crossform compat" in out and "format_version" in out and "crossform compat fraud-pkg" in out
    code, out, _ = run(capsys, "--help")
    assert "compat" in out


# ---------------------------------------------------------------- what in a package needs its version


@pytest.fixture(scope="module")
def linear_package():
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    X = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 2)), columns=["a", "b"])
    return crossform.from_sklearn(LinearRegression().fit(X, X.a * 2 - X.b), checks=0)


@pytest.mark.parametrize("name", ["pkg", "m.pb", "m.onnx", "m.pmml"])
def test_compat_names_what_needs_a_newer_release(capsys, tmp_path, linear_package, name):
    path = crossform.save(linear_package, tmp_path / name)
    code, out, err = run(capsys, "compat", path)
    assert code == 0, err
    read_by = next(line for line in out.splitlines() if line.startswith("read by"))
    assert read_by == "read by         crossform >=0.5.0 (for a linear model; older releases refuse it)"
    doc = json.loads(run(capsys, "compat", path, "--json")[1])
    assert doc["readers"]["needs"] == "a linear model"


@pytest.mark.parametrize(
    "name, options, read_by",
    [
        (
            "m.pmml",
            {"leaves": "off"},
            "crossform >=0.4.0 (for no leaf outputs (--leaves off); older releases refuse it)",
        ),
        ("m.onnx", {}, "crossform >=0.4.0 (for one TreeEnsemble per tree; older releases refuse it)"),
    ],
)
def test_compat_names_the_layout_that_needs_a_newer_release(capsys, tmp_path, package, name, options, read_by):
    path = crossform.save(package, tmp_path / name, **options)
    code, out, err = run(capsys, "compat", path)
    assert code == 0, err
    assert f"read by         {read_by}\n" in out


def test_compat_names_nothing_when_every_release_of_the_major_reads_it(capsys, saved):
    code, out, err = run(capsys, "compat", saved)
    assert "read by         crossform >=0.2.0\n" in out
    assert json.loads(run(capsys, "compat", saved, "--json")[1])["readers"]["needs"] is None
