"""The Composite model's refusals, message by message, and what it answers."""

from __future__ import annotations

import numpy as np
import pytest

from crossform import ir
from crossform.errors import IRValidationError
from helpers.packages import small_tree

FEATURES = ("a", "b")
CLASSES = ("no", "yes")


def _forest(features=FEATURES, classes=CLASSES) -> ir.TreeEnsemble:
    return ir.TreeEnsemble(features, (small_tree(),), classes=classes)


def _linear(classes=CLASSES, post="logistic") -> ir.LinearModel:
    return ir.LinearModel(FEATURES, [[1.0, -1.0]], [0.5], post, classes)


def _regressor() -> ir.LinearModel:
    return ir.LinearModel(FEATURES, [[1.0, 2.0]], [0.0])


def test_a_composite_answers_from_its_members():
    model = ir.Composite((_forest(), _linear()), weights=[1.0, 3.0], divisor=4.0, classes=CLASSES)
    assert model.features == FEATURES and model.outputs == ("probability(no)", "probability(yes)")
    assert model.model_type == "classification-composite" and model.is_classifier and not model.is_binary
    assert len(model.member_trees) == 1
    plain = ir.Composite((_regressor(), _regressor()))
    assert plain.weights.tolist() == [1.0, 1.0] and plain.divisor == 2.0  # no weights: the mean
    assert plain.outputs == ("prediction",) and plain.model_type == "regression-composite"
    assert not plain.weights.flags.writeable


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: ir.Composite(()),
            "The 'members' field of Composite must be a non-empty sequence of TreeEnsemble or LinearModel. "
            "Got () instead.",
        ),
        (
            lambda: ir.Composite((ir.Composite((_regressor(),)),)),
            "The 'members' field of Composite must be TreeEnsemble or LinearModel members (a composite is never "
            "a member). Got Composite at index 0 instead.",
        ),
        (
            lambda: ir.Composite((_forest(), _forest(("b", "a"))), classes=CLASSES),
            "The 'members' field of Composite must be members over the same features ['a', 'b']. "
            "Got ['b', 'a'] in member 1 instead.",
        ),
        (
            lambda: ir.Composite((_regressor(),), "majority"),
            "The 'combination' field of Composite must be one of ('average', 'vote', 'stack', 'calibrate', 'target'). "
            "Got 'majority' instead.",
        ),
        (
            lambda: ir.Composite((_regressor(),), "vote"),
            "The 'classes' field of Composite must be class labels under 'vote'. Got None instead.",
        ),
        (
            lambda: ir.Composite((_forest(), _linear()), "vote", weights=[1.0, -0.5], classes=CLASSES),
            "The 'weights' field of Composite must be weights >= 0 under 'vote'. Got [1.0, -0.5] instead.",
        ),
        (
            lambda: ir.Composite((_forest(),), "vote", divisor=2.0, classes=CLASSES),
            "The 'divisor' field of Composite must be None or 1.0 under 'vote' (votes are not divided). "
            "Got 2.0 instead.",
        ),
        (
            lambda: ir.Composite((_forest(), _forest(classes=("n", "y"))), "vote", classes=CLASSES),
            "The 'members' field of Composite must be classifiers of the classes ['no', 'yes'] under 'vote'. "
            "Got TreeEnsemble with classes ('n', 'y') at index 1 instead.",
        ),
        (
            lambda: ir.Composite((_regressor(), _regressor()), weights=[1.0]),
            "The 'weights' field of Composite must be 2 numbers, one per member. Got an array of dtype float64 and shape (1,) instead.",
        ),
        (
            lambda: ir.Composite((_regressor(),), weights=[np.inf]),
            None,
        ),
        (
            lambda: ir.Composite((_regressor(),), divisor=0.0),
            "The 'divisor' field of Composite must be a number other than 0. Got 0.0 instead.",
        ),
        (
            lambda: ir.Composite((_forest(),)),
            "The 'members' field of Composite must be regressors (one prediction each) in a regressor. "
            "Got TreeEnsemble with outputs ['probability(no)', 'probability(yes)'] at index 0 instead.",
        ),
        (
            lambda: ir.Composite((_forest(), _linear(post="none")), classes=CLASSES),
            "The 'members' field of Composite must be classifiers giving the probabilities "
            "['probability(no)', 'probability(yes)']. Got LinearModel with outputs ['decision'] at index 1 instead.",
        ),
        (
            lambda: ir.Composite((_forest(classes=("n", "y")),), classes=CLASSES),
            "The 'members' field of Composite must be classifiers giving the probabilities "
            "['probability(no)', 'probability(yes)']. Got TreeEnsemble with outputs ['probability(n)', "
            "'probability(y)'] at index 0 instead.",
        ),
    ],
)
def test_composite_refusals(build, message):
    with pytest.raises(IRValidationError) as info:
        build()
    if message is None:  # a non-finite weight: the shared finite-number check's own message
        assert "'weights' field of Composite" in str(info.value)
    else:
        assert str(info.value) == message


def test_a_vote_takes_decision_members_and_gives_votes():
    model = ir.Composite((_forest(), _linear(post="none")), "vote", weights=[2.0, 1.0], classes=CLASSES)
    assert model.outputs == ("votes(no)", "votes(yes)") and model.divisor == 1.0


def test_a_stack_reads_the_members_columns_then_the_features():
    final = ir.LinearModel(("stack(0)", "stack(1)", "a", "b"), [[1.0, 2.0, 3.0, 4.0]], [0.0], "logistic", CLASSES)
    model = ir.Composite((_forest(), _linear(post="none")), "stack", final=final, passthrough=True)
    assert model.classes == CLASSES and model.outputs == final.outputs
    assert ir.stack_columns(model.members, False) == ("stack(0)", "stack(1)")


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"final": None},
            "The 'final' field of Composite must be a LinearModel under 'stack'. Got None instead.",
        ),
        (
            {"passthrough": False},
            "The 'final' field of Composite must be a final model over ['stack(0)', 'stack(1)']. "
            "Got ['stack(0)', 'stack(1)', 'a', 'b'] instead.",
        ),
        (
            {"weights": [2.0, 1.0]},
            "The 'weights' field of Composite must be weights and divisor 1.0 under 'stack' (unused). "
            "Got [2.0, 1.0] instead.",
        ),
        (
            {"combination": "average"},
            "The 'final' field of Composite must be no final model and passthrough False unless combination is "
            "'stack'. Got final=LinearModel(",
        ),
    ],
)
def test_stack_refusals(changes, message):
    final = ir.LinearModel(("stack(0)", "stack(1)", "a", "b"), [[1.0, 2.0, 3.0, 4.0]], [0.0], "logistic", CLASSES)
    fields = dict(members=(_forest(), _linear(post="none")), combination="stack", final=final, passthrough=True)
    fields.update(changes)
    with pytest.raises(IRValidationError) as info:
        ir.Composite(**fields)
    if message.endswith("instead."):
        assert str(info.value) == message
    else:  # the final model's repr, cut by describe()
        assert str(info.value).startswith(message) and str(info.value).endswith(", passthrough=True instead.")


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"calibration": None},
            "The 'calibration' field of Composite must be 2 arrays of (a, b) rows, one per member. Got None instead.",
        ),
        (
            {"calibration": ([[1.0, 2.0]], [[1.0, 2.0], [3.0, 4.0]])},
            "The 'calibration' field of Composite must be an array of shape (1, 2) for member 1. "
            "Got an array of dtype float64 and shape (2, 2) instead.",
        ),
        (
            {"weights": [1.0, 2.0]},
            "The 'weights' field of Composite must be weights 1.0 and the member count as divisor under "
            "'calibrate'. Got [1.0, 2.0] instead.",
        ),
        (
            {"combination": "average"},
            "The 'calibration' field of Composite must be None unless combination is 'calibrate'. "
            "Got ([[1.0, 2.0]], [[-1.0, 0.5]]) instead.",
        ),
    ],
)
def test_calibration_refusals(changes, message):
    fields = dict(
        members=(_forest(), _linear(post="none")),
        combination="calibrate",
        classes=CLASSES,
        calibration=([[1.0, 2.0]], [[-1.0, 0.5]]),
    )
    fields.update(changes)
    with pytest.raises(IRValidationError) as info:
        ir.Composite(**fields)
    assert str(info.value) == message


def test_a_package_takes_a_composite_over_its_columns():
    model = ir.Composite((_regressor(),))
    package = ir.Package(inputs=(ir.Field("a", ir.NUMERIC), ir.Field("b", ir.NUMERIC)), encoders=(), model=model)
    assert package.outputs == ("prediction",)
    with pytest.raises(IRValidationError, match="names of inputs or encoder outputs"):
        ir.Package(inputs=(ir.Field("a", ir.NUMERIC),), encoders=(), model=model)
