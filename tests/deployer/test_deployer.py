"""The deployer: the store and the registry behind one API, with the deploy gate between them.

Expected scores come from scikit-learn (the checks ``from_sklearn`` records at export); the gate
is tested by giving it packages whose checks disagree with the model, and stored bytes that were
changed, and by asserting that every refusal leaves the store and the registry as they were.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

import crossform
from crossform.deployer import DEFAULT_REGISTRY, DEFAULT_STORE, Deployer, default_actor
from crossform.errors import (
    DeployConflictError,
    DeployGateError,
    InvalidIdError,
    InvalidTagError,
    ObjectNotFoundError,
    StoreIntegrityError,
    StoreUnreachableError,
    UnknownTagError,
)
from crossform.registry import open_registry
from helpers.fits import fit_pipeline
from helpers.model_ids import model_id
from helpers.net import free_loopback_port

TAG = "txn_fraud.production"


@pytest.fixture(scope="module")
def packages():
    """Two fitted models' packages, with the checks scikit-learn's outputs give them."""
    first = crossform.from_sklearn(fit_pipeline("classifier"), owner="fraud", checks=60)
    second = crossform.from_sklearn(fit_pipeline("regressor"), owner="fraud", checks=60)
    return first, second


def wrong_checks(package):
    """The package with expected values that are not what the model computes (same id: checks
    are not part of what a package computes)."""
    checks = package.checks
    wrong = dataclasses.replace(package, checks=dataclasses.replace(checks, values=checks.values + 0.25))
    assert wrong.id == package.id
    return wrong


@pytest.fixture
def deployer(tmp_path):
    return Deployer(store=tmp_path / "store", registry=tmp_path / "registry.sqlite", actor="ana")


def files_under(folder):
    return sorted((p.relative_to(folder).as_posix(), p.read_bytes()) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def s3_store(s3_environment):
    bucket = f"deploy-{uuid.uuid4().hex[:16]}"
    s3_environment.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/models"


@pytest.mark.parametrize("store_kind", ["local", "s3"])
@pytest.mark.parametrize("registry_kind", ["sqlite", "postgresql"])
def test_push_deploy_second_and_roll_back_on_every_backend(request, tmp_path, packages, store_kind, registry_kind):
    store = str(tmp_path / "store") if store_kind == "local" else request.getfixturevalue("s3_store")
    registry = str(tmp_path / "r.sqlite") if registry_kind == "sqlite" else request.getfixturevalue("postgresql_url")
    deployer = Deployer(store=store, registry=registry, actor="ana")
    first, second = packages
    first_id = deployer.push(crossform.save(first, tmp_path / "first"))
    second_id = deployer.push(second, format="onnx")
    assert (first_id, second_id) == (first.id, second.id)

    event, gate = deployer.deploy(TAG, first_id, message="first")
    assert gate.ok and [r["format"] for r in gate.results] == ["stripe-json"]
    assert gate.results[0]["checks"]["rows"] == 60
    assert event.from_id is None and event.to_id == first_id and not event.forced
    _, gate = deployer.deploy(TAG, second_id)
    assert gate.ok and [r["format"] for r in gate.results] == ["onnx"]
    back = deployer.rollback(TAG, message="precision dropped")
    assert (back.from_id, back.to_id) == (second_id, first_id)
    assert deployer.current(TAG) == first_id
    assert [(e.kind, e.to_id, e.actor) for e in deployer.history(TAG)] == [
        ("deploy", first_id, "ana"),
        ("deploy", second_id, "ana"),
        ("rollback", first_id, "ana"),
    ]
    assert deployer.get(second_id, format="onnx").id == second_id


def test_the_gate_validates_every_stored_format(deployer, packages):
    first, _ = packages
    for fmt in ("stripe-json", "onnx", "pmml", "protobuf"):
        assert deployer.push(first, format=fmt) == first.id
    gate = deployer.gate(first.id)
    assert gate.ok
    assert [r["format"] for r in gate.results] == ["onnx", "pmml", "protobuf", "stripe-json"]
    for result in gate.results:
        assert result["id"] == first.id and result["path"].endswith(f"{first.id}/{result['format']}")
        ran = [entry["name"] for entry in result["checks"]["runtimes"]]
        assert ran[0] == "reference" and all(entry["ok"] for entry in result["checks"]["runtimes"])
    onnx_runtimes = [e["name"] for e in gate.results[0]["checks"]["runtimes"]]
    assert "onnxruntime" in onnx_runtimes  # the ONNX file itself scored, not only the package read from it


def test_an_id_not_in_the_store_is_refused_and_nothing_is_written(deployer, tmp_path):
    missing = model_id("never pushed")
    with pytest.raises(ObjectNotFoundError, match="push the package first"):
        deployer.deploy(TAG, missing)
    with pytest.raises(ObjectNotFoundError):
        deployer.add_shadow(TAG, missing)
    assert list(tmp_path.iterdir()) == []


def test_a_package_whose_checks_fail_is_refused_unless_forced(deployer, tmp_path, packages):
    first, _ = packages
    bad = wrong_checks(first)
    deployer.push(bad)
    before = files_under(tmp_path)
    with pytest.raises(DeployGateError, match=f"refused for {TAG}: the package fails validate") as refused:
        deployer.deploy(TAG, bad.id)
    assert "stripe-json: 60 check rows" in str(refused.value) and "--force" in str(refused.value)
    assert not refused.value.gate.ok
    assert files_under(tmp_path) == before  # no registry written

    event, gate = deployer.deploy(TAG, bad.id, force=True, message="known: checks recorded wrong")
    assert gate is None and event.forced
    assert deployer.history(TAG)[-1].forced


def test_a_changed_stored_object_is_refused_by_the_gate(deployer, tmp_path, packages):
    first, _ = packages
    deployer.push(first)
    (trees,) = (tmp_path / "store").glob(f"{first.id}/stripe-json/files/trees.bonsai")
    data = bytearray(trees.read_bytes())
    data[len(data) // 2] ^= 0x01
    trees.write_bytes(bytes(data))
    with pytest.raises(StoreIntegrityError, match="changed"):
        deployer.deploy(TAG, first.id)
    assert not (tmp_path / "registry.sqlite").exists()


def test_shadows_pass_the_gate_and_models_lists_who_uses_what(deployer, packages):
    first, second = packages
    deployer.push(first)
    deployer.push(second)
    deployer.deploy(TAG, first.id)
    event, gate = deployer.add_shadow(TAG, second.id, message="try it on live traffic")
    assert gate.ok and event.kind == "shadow-add" and event.to_id == second.id
    again, _ = deployer.add_shadow(TAG, second.id)
    assert again is None
    assert deployer.shadows(TAG) == (second.id,)
    by_id = {m["id"]: m for m in deployer.models()}
    assert by_id[first.id]["tags"] == [TAG] and by_id[first.id]["shadow_of"] == []
    assert by_id[second.id]["tags"] == [] and by_id[second.id]["shadow_of"] == [TAG]
    (state,) = deployer.tags()
    assert (state.tag, state.current, state.shadows, state.last.kind) == (TAG, first.id, (second.id,), "shadow-add")
    removed = deployer.remove_shadow(TAG, second.id)
    assert removed.kind == "shadow-remove" and deployer.shadows(TAG) == ()


def test_reading_creates_nothing(deployer, tmp_path):
    assert deployer.tags() == []
    assert deployer.models() == []
    for read in (deployer.history, deployer.current, deployer.shadows, deployer.rollback):
        with pytest.raises(UnknownTagError, match="has no tags yet"):
            read(TAG)
    with pytest.raises(UnknownTagError):
        deployer.remove_shadow(TAG, model_id("a"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.deploy("txn fraud", model_id("a")),
        lambda d: d.deploy(TAG, "sha256.nope"),
        lambda d: d.add_shadow(TAG, "latest"),
        lambda d: d.remove_shadow("Prod", model_id("a")),
        lambda d: d.pull("nope", "dest"),
    ],
    ids=["tag with a space", "short id", "shadow not an id", "upper-case tag", "pull not an id"],
)
def test_malformed_tags_and_ids_are_refused_before_any_io(tmp_path, change):
    deployer = Deployer(store="s3://no-such-bucket/x", registry=tmp_path / "r.sqlite")
    with pytest.raises((InvalidTagError, InvalidIdError)):
        change(deployer)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_store_refuses_a_deploy_but_not_a_rollback(tmp_path, packages, monkeypatch):
    first, second = packages
    registry = tmp_path / "r.sqlite"
    local = Deployer(store=tmp_path / "store", registry=registry)
    for package in (first, second):
        local.deploy(TAG, local.push(package))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_loopback_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    remote = Deployer(store="s3://models/prod", registry=registry)
    before = registry.read_bytes()
    with pytest.raises(StoreUnreachableError, match="cannot reach S3"):
        remote.deploy(TAG, first.id)
    assert registry.read_bytes() == before
    assert remote.rollback(TAG).to_id == first.id  # an emergency rollback needs only the registry


def test_a_compare_and_set_deploy_reports_the_conflict(deployer, packages):
    first, second = packages
    deployer.push(first)
    deployer.push(second)
    deployer.deploy(TAG, first.id)
    with pytest.raises(DeployConflictError) as conflict:
        deployer.deploy(TAG, second.id, expect=None)
    assert (conflict.value.expected, conflict.value.found) == (None, first.id)
    event, _ = deployer.deploy(TAG, second.id, expect=first.id)
    assert event.from_id == first.id


def test_places_and_actor_come_from_arguments_then_environment_then_defaults(tmp_path, monkeypatch):
    for name in ("CROSSFORM_STORE", "CROSSFORM_REGISTRY", "CROSSFORM_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    plain = Deployer()
    assert (plain.store_url, plain.registry_url) == (DEFAULT_STORE, DEFAULT_REGISTRY)
    assert plain.actor == default_actor() and plain.actor
    monkeypatch.setenv("CROSSFORM_STORE", "s3://models/prod")
    monkeypatch.setenv("CROSSFORM_REGISTRY", "postgresql://registry.internal/models")
    monkeypatch.setenv("CROSSFORM_ACTOR", "ci-bot")
    configured = Deployer()
    assert (configured.store_url, configured.registry_url, configured.actor) == (
        "s3://models/prod",
        "postgresql://registry.internal/models",
        "ci-bot",
    )
    given = Deployer(store=tmp_path / "s", registry=tmp_path / "r.sqlite", actor="ana")
    assert (given.store_url, given.registry_url, given.actor) == (
        str(tmp_path / "s"),
        str(tmp_path / "r.sqlite"),
        "ana",
    )


def test_the_default_places_are_made_under_the_working_directory(tmp_path, monkeypatch, packages):
    for name in ("CROSSFORM_STORE", "CROSSFORM_REGISTRY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    deployer = Deployer(actor="ana")
    deployer.deploy(TAG, deployer.push(packages[0]))
    assert (tmp_path / ".crossform" / "store" / packages[0].id / "stripe-json" / "manifest.json").is_file()
    with open_registry(tmp_path / ".crossform" / "registry.sqlite", create=False) as registry:
        assert registry.current(TAG) == packages[0].id
