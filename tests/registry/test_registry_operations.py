"""Every registry operation: deploy, rollback, shadows, and what current, shadows, history and tags read back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crossform.errors import NothingToRollBackError
from crossform.registry import open_registry
from helpers.model_ids import model_id

A, B, C, D = (model_id(seed) for seed in "abcd")
TAG = "txn_fraud.production"


def test_deploy_points_the_tag_and_records_the_event(registry):
    before = datetime.now(timezone.utc)
    registry.deploy(TAG, A, actor="ana", message="first model")
    after = datetime.now(timezone.utc)

    assert registry.current(TAG) == A
    assert registry.tags() == (TAG,)
    (event,) = registry.history(TAG)
    assert (event.kind, event.tag, event.actor, event.from_id, event.to_id) == ("deploy", TAG, "ana", None, A)
    assert (event.message, event.forced) == ("first model", False)
    assert event.at.tzinfo is not None and event.at.utcoffset() == timedelta(0)
    assert before <= event.at <= after


def test_a_second_deploy_records_where_it_came_from_and_a_forced_one_says_so(registry):
    registry.deploy(TAG, A, actor="ana")
    registry.deploy(TAG, B, actor="bo", force=True, expect=A)

    assert registry.current(TAG) == B
    first, second = registry.history(TAG)
    assert (first.from_id, first.to_id, first.forced) == (None, A, False)
    assert (second.from_id, second.to_id, second.forced, second.actor) == (A, B, True, "bo")
    assert second.message is None


def test_expect_none_deploys_a_new_tag(registry):
    registry.deploy(TAG, A, actor="ana", expect=None)
    assert registry.current(TAG) == A


def test_a_rollback_chain_three_deep_walks_back_to_the_first_deploy(registry):
    for model in (A, B, C, D):
        registry.deploy(TAG, model, actor="ana")

    seen = []
    for _ in range(3):
        registry.rollback(TAG, actor="bo", message="bad scores")
        seen.append(registry.current(TAG))
    assert seen == [C, B, A]

    rollbacks = registry.history(TAG)[4:]
    assert [(e.kind, e.from_id, e.to_id, e.actor, e.message) for e in rollbacks] == [
        ("rollback", D, C, "bo", "bad scores"),
        ("rollback", C, B, "bo", "bad scores"),
        ("rollback", B, A, "bo", "bad scores"),
    ]
    with pytest.raises(NothingToRollBackError, match="first deploy"):
        registry.rollback(TAG, actor="bo")
    assert registry.current(TAG) == A
    assert len(registry.history(TAG)) == 7


def test_a_rollback_goes_back_past_rolled_back_deploys_never_to_them(registry):
    # deploy A, B; roll back to A; deploy C: rolling back from C goes to A (B was undone), then no further
    registry.deploy(TAG, A, actor="ana")
    registry.deploy(TAG, B, actor="ana")
    registry.rollback(TAG, actor="ana")
    registry.deploy(TAG, C, actor="ana")
    registry.rollback(TAG, actor="ana")
    assert registry.current(TAG) == A
    with pytest.raises(NothingToRollBackError):
        registry.rollback(TAG, actor="ana")


def test_shadows_are_added_and_removed_as_events_beside_the_current_model(registry):
    shadow_tag = "merchant_fraud.shadow"
    registry.deploy(shadow_tag, A, actor="ana")
    registry.add_shadow(shadow_tag, C, actor="ana", message="try the new forest")
    registry.add_shadow(shadow_tag, B, actor="bo")
    assert registry.shadows(shadow_tag) == tuple(sorted((B, C)))
    assert registry.current(shadow_tag) == A

    registry.remove_shadow(shadow_tag, C, actor="bo")
    assert registry.shadows(shadow_tag) == (B,)
    kinds = [(e.kind, e.from_id, e.to_id, e.actor) for e in registry.history(shadow_tag)]
    assert kinds == [
        ("deploy", None, A, "ana"),
        ("shadow-add", None, C, "ana"),
        ("shadow-add", None, B, "bo"),
        ("shadow-remove", C, None, "bo"),
    ]


def test_adding_a_shadow_already_in_the_set_changes_nothing(registry):
    registry.add_shadow(TAG, A, actor="ana")
    registry.add_shadow(TAG, A, actor="ana")
    assert registry.shadows(TAG) == (A,)
    assert len(registry.history(TAG)) == 1


def test_a_tag_with_only_shadows_has_no_current_model(registry):
    registry.add_shadow(TAG, A, actor="ana")
    assert registry.current(TAG) is None
    assert registry.tags() == (TAG,)


def test_tags_are_listed_sorted_and_each_keeps_its_own_history(registry):
    registry.deploy("b.prod", A, actor="ana")
    registry.deploy("a.prod", B, actor="ana")
    registry.deploy("a.prod", C, actor="ana")
    assert registry.tags() == ("a.prod", "b.prod")
    assert [e.to_id for e in registry.history("b.prod")] == [A]
    assert [e.to_id for e in registry.history("a.prod")] == [B, C]


def test_the_registry_reopens_with_everything_in_it(registry_path):
    with open_registry(registry_path) as registry:
        registry.deploy(TAG, A, actor="ana")
        registry.add_shadow(TAG, B, actor="ana")
    for url in (registry_path, str(registry_path), f"sqlite:///{registry_path}"):
        with open_registry(url) as reopened:
            assert reopened.current(TAG) == A
            assert reopened.shadows(TAG) == (B,)
            assert [e.kind for e in reopened.history(TAG)] == ["deploy", "shadow-add"]


@pytest.mark.parametrize("tag", ["prod", "txn_fraud.production", "a-b.c_d.0", "x" * 200])
def test_dotted_lower_case_tags_are_accepted(registry, tag):
    registry.deploy(tag, A, actor="ana")
    assert registry.current(tag) == A


def test_opening_a_missing_file_creates_an_empty_registry(tmp_path):
    path = tmp_path / "fresh.sqlite"
    with open_registry(path) as registry:
        assert registry.tags() == ()
    assert path.exists()


def test_states_give_each_tag_its_current_id_shadows_and_latest_event(registry):
    a, b, c = model_id("a"), model_id("b"), model_id("c")
    registry.deploy("fraud.production", a, actor="ana")
    registry.deploy("fraud.production", b, actor="bo", message="retrain")
    registry.add_shadow("fraud.production", c, actor="ana")
    registry.add_shadow("churn.shadow-only", a, actor="cy")
    registry.rollback("fraud.production", actor="bo")
    states = registry.states()
    assert [s[0] for s in states] == ["churn.shadow-only", "fraud.production"]
    for tag, current, shadows, last in states:
        assert (current, shadows, last) == (registry.current(tag), registry.shadows(tag), registry.history(tag)[-1])
    assert states[1][3].kind == "rollback" and states[1][1] == a
