"""`crossform demo` can be run again and again, and still never replaces a folder it did not write."""

from __future__ import annotations

import crossform
from crossform import cli
from helpers.packages import small_package


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_runs_twice_in_the_same_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    first = crossform.load(tmp_path / "crossform-demo").id
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "agree: all 4 accepted rows" in out
    assert f"replaced the demo's previous output {cli.demo.DEFAULT_OUT}" in err
    assert crossform.load(tmp_path / "crossform-demo").id == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crossform-demo"]  # nothing left behind


def test_demo_never_replaces_another_package(tmp_path, capsys):
    other = crossform.save(small_package(), tmp_path / "mine")
    code, out, err = run(capsys, "demo", "--out", other)
    assert code == 1
    assert "not a crossform demo output" in err and "--overwrite" in err
    assert crossform.load(other).id == small_package().id


def test_demo_never_replaces_a_folder_named_like_its_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "crossform-demo").mkdir()
    (tmp_path / "crossform-demo" / "MODEL").write_text("my own notes")
    code, out, err = run(capsys, "demo")
    assert code == 1 and "not a crossform demo output" in err
    assert (tmp_path / "crossform-demo" / "MODEL").read_text() == "my own notes"
