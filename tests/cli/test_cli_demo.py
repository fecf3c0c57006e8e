"""`crossform demo` can be run again and again, and still never replaces a folder it did not write;
its shipping part pushes, deploys, deploys a retrained model and rolls back, every run."""

from __future__ import annotations

import json

import crossform
from crossform import cli, demo
from crossform.deployer import Deployer
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
    assert sorted(p.name for p in tmp_path.iterdir()) == [".crossform", "crossform-demo"]  # nothing else left


def test_demo_ships_its_model_and_a_retrained_one_then_rolls_back(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CROSSFORM_REGISTRY", str(tmp_path / "production.sqlite"))  # never the demo's
    code, out, err = run(capsys, "demo", "--json")
    assert code == 0, err
    shipped = json.loads(out)["shipping"]
    first, second = shipped["first_id"], shipped["second_id"]
    assert first == crossform.load(tmp_path / "crossform-demo").id and second != first
    assert shipped["ok"] and shipped["current"] == first
    assert not (tmp_path / "production.sqlite").exists()

    deployer = Deployer(store=".crossform/store", registry=".crossform/registry.sqlite")
    assert [(e.kind, e.to_id) for e in deployer.history(demo.DEPLOY_TAG)] == [
        ("deploy", first),
        ("deploy", second),
        ("rollback", first),
    ]
    # the retrained model in the store scores the sample rows as scikit-learn's fit of it does
    retrained, _, samples = demo.pipeline(week=1)
    scores = crossform.score(deployer.get(second), samples)
    for i, row in enumerate(samples):
        expected = demo.sklearn_row(retrained, row)
        assert (scores.errors[i] is None) == (expected is not None)
        if expected is not None:
            assert list(scores.values[i]) == expected

    code, out, err = run(capsys, "demo")  # again: the same steps, appended to the history
    assert code == 0, err
    assert f"{demo.DEPLOY_TAG} is at {first}, the demo's package, again." in out
    # $CROSSFORM_REGISTRY points elsewhere, so the commands shown name the demo's registry
    assert f"crossform history -t {demo.DEPLOY_TAG} --registry .crossform/registry.sqlite  (the last 3 of 6" in out
    assert deployer.current(demo.DEPLOY_TAG) == first


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
