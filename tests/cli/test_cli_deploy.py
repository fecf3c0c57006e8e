"""The shipping commands: push, pull, models, deploy (add, remove, -b), history and tags.

Each test runs in a scratch working directory with CROSSFORM_STORE and CROSSFORM_REGISTRY unset,
so the commands use their defaults under .crossform/ unless a test says otherwise. Every refusal
is checked to exit 1 with a named error and to leave every file as it was.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

import crossform
from crossform import cli
from helpers.fits import fit_pipeline
from helpers.model_ids import model_id
from helpers.net import free_loopback_port

TAG = "txn_fraud.production"


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def two_packages():
    first = crossform.from_sklearn(fit_pipeline("classifier"), owner="fraud", checks=40)
    second = crossform.from_sklearn(fit_pipeline("regressor"), owner="fraud", checks=40)
    return first, second


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name in ("CROSSFORM_STORE", "CROSSFORM_REGISTRY", "CROSSFORM_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def saved(workdir, two_packages):
    first, second = two_packages
    return str(crossform.save(first, workdir / "first-pkg")), str(crossform.save(second, workdir / "second.onnx"))


def files_under(folder):
    return sorted((p.relative_to(folder).as_posix(), p.read_bytes()) for p in folder.rglob("*") if p.is_file())


def test_push_deploy_history_second_deploy_and_roll_back(capsys, saved, two_packages, workdir):
    first, second = two_packages
    code, out, err = run(capsys, "push", saved[0])
    assert code == 0, err
    assert out == f"{first.id}\n"  # the id alone, for ID=$(crossform push ...)
    code, out, err = run(capsys, "deploy", "-t", TAG, "-m", first.id, "--message", "weekly retrain", "--actor", "ana")
    assert code == 0, err
    assert out.splitlines()[0] == f"deployed {TAG}: - -> {first.id}"
    assert "gate: stripe-json: 40 check rows, reference 40 rows identical" in out

    code, out, err = run(capsys, "push", saved[1])
    assert (code, out) == (0, f"{second.id}\n"), err
    code, out, err = run(capsys, "deploy", "-t", TAG, "-m", second.id, "--actor", "bo")
    assert code == 0, err
    assert f"{first.id} -> {second.id}" in out and "gate: onnx: 40 check rows, reference" in out
    code, out, err = run(capsys, "deploy", "-t", TAG, "-b", "--message", "precision dropped", "--actor", "ana")
    assert code == 0, err
    assert out == f"rolled back {TAG}: {second.id} -> {first.id}\n"

    code, out, err = run(capsys, "history", "-t", TAG)
    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split("  ")[0] == "Deployed at" and "Model ID" in header
    assert [line.split()[3] for line in lines] == ["deploy", "deploy", "rollback"]
    assert [line.split()[4] for line in lines] == [first.id, second.id, first.id]
    assert [line.split()[6] for line in lines] == ["ana", "bo", "ana"]
    assert lines[0].endswith("weekly retrain") and lines[2].endswith("precision dropped")

    code, out, err = run(capsys, "history", "-t", TAG, "--json", "--last", "2")
    events = json.loads(out)["events"]
    assert [(e["kind"], e["from_id"], e["to_id"], e["actor"]) for e in events] == [
        ("deploy", first.id, second.id, "bo"),
        ("rollback", second.id, first.id, "ana"),
    ]
    assert (workdir / ".crossform" / "registry.sqlite").is_file()
    assert (workdir / ".crossform" / "store" / second.id / "onnx" / "manifest.json").is_file()


def test_tags_models_and_shadows(capsys, saved, two_packages):
    first, second = two_packages
    for path in saved:
        assert run(capsys, "push", path)[0] == 0
    assert run(capsys, "deploy", "-t", TAG, "-m", first.id)[0] == 0
    code, out, err = run(capsys, "deploy", "add", "-t", TAG, "-m", second.id, "--message", "try it")
    assert code == 0, err
    assert out.startswith(f"shadow added to {TAG}: {second.id}")
    code, out, err = run(capsys, "deploy", "add", "-t", TAG, "-m", second.id)
    assert (code, out) == (0, f"{second.id} is already a shadow of {TAG}; nothing changed\n")

    code, out, err = run(capsys, "tags", "--json")
    (state,) = json.loads(out)
    assert (state["tag"], state["current"], state["shadows"], state["last"]["kind"]) == (
        TAG,
        first.id,
        [second.id],
        "shadow-add",
    )
    code, out, err = run(capsys, "tags")
    assert out.splitlines()[1].split()[:3] == [TAG, first.id, "1"]
    code, out, err = run(capsys, "models", "--json")
    assert {m["id"]: (m["formats"], m["tags"], m["shadow_of"]) for m in json.loads(out)} == {
        first.id: (["stripe-json"], [TAG], []),
        second.id: (["onnx"], [], [TAG]),
    }
    code, out, err = run(capsys, "deploy", "remove", "-t", TAG, "-m", second.id, "--json")
    assert code == 0, err
    assert json.loads(out)["event"]["kind"] == "shadow-remove"
    code, out, err = run(capsys, "deploy", "remove", "-t", TAG, "-m", second.id)
    assert code == 1 and "UnknownShadow" not in err and "shadow set" in err


def test_pull_writes_the_stored_bytes(capsys, saved, two_packages, workdir):
    first, second = two_packages
    for path in saved:
        run(capsys, "push", path)
    code, out, err = run(capsys, "pull", second.id, "copy.onnx", "--format", "onnx")
    assert code == 0, err
    assert (workdir / "copy.onnx").read_bytes() == (workdir / "second.onnx").read_bytes()
    code, out, err = run(capsys, "pull", first.id, "copy-pkg", "--json")
    assert json.loads(out) == {"id": first.id, "format": "stripe-json", "path": "copy-pkg"}
    assert files_under(workdir / "copy-pkg") == files_under(workdir / "first-pkg")
    code, out, err = run(capsys, "pull", first.id, "copy-pkg")
    assert code == 1 and "already exists" in err


def test_the_gate_refuses_failing_checks_and_force_is_recorded(capsys, workdir, two_packages):
    first, _ = two_packages
    checks = first.checks
    wrong = dataclasses.replace(first, checks=dataclasses.replace(checks, values=checks.values * 0.5))
    run(capsys, "push", crossform.save(wrong, workdir / "wrong-pkg"))
    before = files_under(workdir)
    code, out, err = run(capsys, "deploy", "-t", TAG, "-m", wrong.id)
    assert code == 1 and out == ""
    assert err.startswith(f"crossform: error: {wrong.id}: refused for {TAG}: the package fails validate")
    assert files_under(workdir) == before
    code, out, err = run(capsys, "deploy", "-t", TAG, "-m", wrong.id, "--json")
    document = json.loads(out)
    assert code == 1 and document["ok"] is False and document["error"]["type"] == "DeployGateError"
    assert document["gate"]["formats"][0]["checks"]["ok"] is False
    assert files_under(workdir) == before

    code, out, err = run(capsys, "deploy", "-t", TAG, "-m", wrong.id, "--force", "--message", "checks known bad")
    assert code == 0, err
    assert "(forced past the deploy gate)" in out
    code, out, err = run(capsys, "history", "-t", TAG)
    assert "deploy (forced)" in out.splitlines()[1]


def closed_s3(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_loopback_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return ["--store", "s3://models/prod"]


BAD_INPUT = {
    "unknown tag in history": (["history", "-t", "nobody.deployed"], "no such tag"),
    "unknown tag rolled back": (["deploy", "-t", "nobody.deployed", "-b"], "no such tag"),
    "unknown tag's shadow removed": (["deploy", "remove", "-t", "nobody.deployed", "-m", "{first}"], "no such tag"),
    "an id that is not an id": (["deploy", "-t", TAG, "-m", "sha256.Q5NJ"], "expected a package id, sha256."),
    "a shadow that is not an id": (["deploy", "add", "-t", TAG, "-m", "latest"], "expected a package id"),
    "pull of a non-id": (["pull", "first-pkg", "copy"], "expected a package id"),
    "an id never pushed": (["deploy", "-t", TAG, "-m", "{never}"], "not in the store: push the package first"),
    "a tag with spaces": (["deploy", "-t", "txn fraud.production", "-m", "{first}"], "dot-separated lower-case"),
    "an unreachable store on deploy": (["deploy", "-t", TAG, "-m", "{first}", "{s3}"], "cannot reach S3"),
    "an unreachable store on push": (["push", "first-pkg", "{s3}"], "cannot reach S3"),
    "a registry that is not ours": (["deploy", "-t", TAG, "-m", "{first}", "--registry", "notes.txt"], "not an SQLite"),
    "a registry that is not ours, read": (["tags", "--registry", "notes.txt"], "not an SQLite"),
    "a store URL of another kind": (["push", "first-pkg", "--store", "ftp://models"], "file:// or an s3:// URL"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_a_named_error_exit_1_and_nothing_written(capsys, saved, two_packages, workdir, monkeypatch, case):
    first, _ = two_packages
    run(capsys, "push", saved[0])
    run(capsys, "deploy", "-t", "other.tag", "-m", first.id)
    (workdir / "notes.txt").write_text("my notes, not a registry\n")
    argv, reason = BAD_INPUT[case]
    s3 = closed_s3(monkeypatch) if "{s3}" in argv else []
    filled = []
    for part in argv:
        if part == "{s3}":
            filled += s3
        else:
            filled.append(part.format(first=first.id, never=model_id("never pushed")))
    before = files_under(workdir)
    code, out, err = run(capsys, *filled)
    assert code == 1, (out, err)
    assert err.startswith("crossform: error: ") and reason in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert files_under(workdir) == before


@pytest.mark.parametrize(
    "argv, reason",
    [
        (["deploy", "-t", TAG], "either -m ID"),
        (["deploy", "-t", TAG, "-m", "{first}", "-b"], "not both"),
        (["deploy", "add", "-t", TAG], "needs -m ID"),
        (["deploy", "remove", "-t", TAG, "-b"], "not -b"),
        (["deploy", "-t", TAG, "-b", "--expect", "none"], "--expect applies"),
        (["deploy", "-t", TAG, "-b", "--force"], "--force skips the deploy gate"),
    ],
)
def test_contradictory_deploy_options_are_usage_errors(capsys, workdir, two_packages, argv, reason):
    code, out, err = run(capsys, *[a.format(first=two_packages[0].id) for a in argv])
    assert code == 2 and reason in err
    assert list(workdir.iterdir()) == []


def test_reading_commands_create_nothing(capsys, workdir):
    code, out, err = run(capsys, "tags")
    assert (code, out.split()) == (0, ["Tag", "Model", "ID", "Shadows", "Last", "change"])
    assert run(capsys, "models", "--json")[1] == "[]\n"
    assert run(capsys, "history", "-t", TAG)[0] == 1
    assert list(workdir.iterdir()) == []


def test_expect_makes_the_deploy_a_compare_and_set(capsys, saved, two_packages):
    first, second = two_packages
    for path in saved:
        run(capsys, "push", path)
    assert run(capsys, "deploy", "-t", TAG, "-m", first.id, "--expect", "none")[0] == 0
    code, out, err = run(capsys, "deploy", "-t", TAG, "-m", second.id, "--expect", "none")
    assert code == 1 and "another deployer changed it first" in err
    assert run(capsys, "deploy", "-t", TAG, "-m", second.id, "--expect", first.id)[0] == 0


def test_store_and_registry_come_from_the_environment(capsys, saved, two_packages, workdir, monkeypatch):
    first, _ = two_packages
    (workdir / "elsewhere").mkdir()
    monkeypatch.setenv("CROSSFORM_STORE", str(workdir / "elsewhere" / "store"))
    monkeypatch.setenv("CROSSFORM_REGISTRY", f"sqlite:///{workdir / 'elsewhere' / 'registry.sqlite'}")
    monkeypatch.setenv("CROSSFORM_ACTOR", "ci-bot")
    run(capsys, "push", saved[0])
    assert run(capsys, "deploy", "-t", TAG, "-m", first.id)[0] == 0
    assert not (workdir / ".crossform").exists()
    events = json.loads(run(capsys, "history", "-t", TAG, "--json")[1])["events"]
    assert [(e["to_id"], e["actor"]) for e in events] == [(first.id, "ci-bot")]
    # the flags win over the environment
    code, out, err = run(capsys, "tags", "--registry", workdir / "none.sqlite")
    assert code == 0 and len(out.splitlines()) == 1


def test_push_of_a_path_that_does_not_exist_is_a_usage_error(capsys, workdir):
    code, out, err = run(capsys, "push", "no-such-pkg")
    assert code == 2 and "no-such-pkg: no such file or directory" in err
    assert list(workdir.iterdir()) == []
