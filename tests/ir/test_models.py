"""The model kinds (TreeEnsemble, LinearModel): what each refuses, by field and whole message.

Each expected message is the IR's one template, "The 'field' of Owner must be <the rule>. Got
<what was given> instead.", with the rule as the kind's docstring states it.
"""

from __future__ import annotations

import numpy as np
import pytest

from crossform import ir
from crossform.errors import IRValidationError
from helpers.packages import regression_tree, small_tree


def ensemble(**changes) -> ir.TreeEnsemble:
    """A two-class forest over features a and b, with ``changes``."""
    parts = dict(features=("a", "b"), trees=(small_tree(),), classes=("no", "yes"))
    parts.update(changes)
    return ir.TreeEnsemble(**parts)


def one_output(**changes) -> ir.TreeEnsemble:
    """A one-output sum of trees (a regressor unless ``changes`` say otherwise)."""
    parts = dict(trees=(regression_tree(),), aggregation="sum", classes=None)
    parts.update(changes)
    return ensemble(**parts)


def isolation(**changes) -> ir.TreeEnsemble:
    parts = dict(post_transform="isolation", isolation=(4.0, -0.5), infinite="compare")
    parts.update(changes)
    return one_output(**parts)


REFUSED_ENSEMBLES = {
    "no trees": (
        dict(trees=()),
        "The 'trees' field of TreeEnsemble must be a non-empty sequence of Tree. Got () instead.",
    ),
    "a tree that is not a Tree": (
        dict(trees=(small_tree(), "tree")),
        "The 'trees' field of TreeEnsemble must be Tree objects. Got str at index 1 instead.",
    ),
    "trees of different widths": (
        dict(trees=(small_tree(), regression_tree())),
        "The 'trees' field of TreeEnsemble must be trees with 2 outputs each. Got 1 in tree 1 instead.",
    ),
    "a split on a feature beyond the features": (
        dict(features=("a",)),
        "The 'trees' field of TreeEnsemble must be feature indices below 1 (the number of features). "
        "Got feature 1 in tree 0 instead.",
    ),
    "no features": (
        dict(features=()),
        "The 'features' field of TreeEnsemble must be a non-empty sequence of names. Got an empty sequence instead.",
    ),
    "unknown aggregation": (
        dict(aggregation="median"),
        "The 'aggregation' field of TreeEnsemble must be one of ('average', 'sum', 'weighted-median'). Got 'median' instead.",
    ),
    "unknown post transform": (
        dict(post_transform="tanh"),
        "The 'post_transform' field of TreeEnsemble must be one of ('none', 'logistic', 'softmax', 'isolation', "
        "'exp'). "
        "Got 'tanh' instead.",
    ),
    "unknown missing rule": (
        dict(missing="impute"),
        "The 'missing' field of TreeEnsemble must be one of ('route', 'error'). Got 'impute' instead.",
    ),
    "unknown infinite rule": (
        dict(infinite="clip"),
        "The 'infinite' field of TreeEnsemble must be one of ('error', 'compare'). Got 'clip' instead.",
    ),
    "base value under average": (
        dict(base_value=[0.0, 0.0]),
        "The 'base_value' field of TreeEnsemble must be None when aggregation is 'average'. Got [0.0, 0.0] instead.",
    ),
    "base value of the wrong width": (
        dict(aggregation="sum", base_value=[0.0]),
        "The 'base_value' field of TreeEnsemble must be 2 numbers, one per output. "
        "Got an array of dtype float64 and shape (1,) instead.",
    ),
    "NaN base value": (
        dict(aggregation="sum", base_value=[np.nan, 0.0]),
        "The 'base_value' field of TreeEnsemble must be finite numbers. Got nan at index (0,) instead.",
    ),
    "more classes than outputs": (
        dict(classes=("a", "b", "c")),
        "The 'classes' field of TreeEnsemble must be 2 labels, one per tree output. Got 3 labels instead.",
    ),
    "one class": (
        dict(classes=("a",)),
        "The 'classes' field of TreeEnsemble must be two or more labels. Got ['a'] instead.",
    ),
    "repeated class": (
        dict(classes=("a", "a")),
        "The 'classes' field of TreeEnsemble must be distinct labels (also as text). Got ['a', 'a'] instead.",
    ),
    "classes equal as text": (
        dict(classes=(1, "1")),
        "The 'classes' field of TreeEnsemble must be distinct labels (also as text). Got [1, '1'] instead.",
    ),
    "classes as one string": (
        dict(classes="ab"),
        "The 'classes' field of TreeEnsemble must be a sequence of class labels. Got 'ab' instead.",
    ),
    "NaN class": (
        dict(classes=(float("nan"), 1.0)),
        "The 'classes' field of TreeEnsemble must be strings, integers, finite floats or booleans. Got nan instead.",
    ),
    "class beyond 64 bits": (
        dict(classes=(2**63, 0)),
        "The 'classes' field of TreeEnsemble must be integers that fit in 64 bits. Got 9223372036854775808 instead.",
    ),
    "regressor with two outputs": (
        dict(classes=None),
        "The 'classes' field of TreeEnsemble must be class labels for 2 outputs (a regressor has one). "
        "Got None instead.",
    ),
}


@pytest.mark.parametrize("name", REFUSED_ENSEMBLES)
def test_tree_ensemble_refusals(name):
    changes, message = REFUSED_ENSEMBLES[name]
    with pytest.raises(IRValidationError) as info:
        ensemble(**changes)
    assert str(info.value) == message


REFUSED_ONE_OUTPUT = {
    "softmax over one output": (
        lambda: one_output(post_transform="softmax"),
        "The 'post_transform' field of TreeEnsemble must be 'softmax' only with two or more outputs. "
        "Got 'softmax' with 1 output instead.",
    ),
    "two classes from one output without the logistic": (
        lambda: one_output(classes=("n", "y")),
        "The 'post_transform' field of TreeEnsemble must be one of ('logistic',) for two classes from one tree "
        "output. Got 'none' instead.",
    ),
    "isolation without its parameters": (
        lambda: isolation(isolation=None),
        "The 'isolation' field of TreeEnsemble must be (denominator, offset) for post transform 'isolation'. "
        "Got None instead.",
    ),
    "isolation denominator zero": (
        lambda: isolation(isolation=(0.0, -0.5)),
        "The 'isolation' field of TreeEnsemble must be a denominator > 0. Got 0.0 instead.",
    ),
    "isolation offset infinite": (
        lambda: isolation(isolation=(4.0, np.inf)),
        "The 'isolation' field of TreeEnsemble must be a finite number. Got inf instead.",
    ),
    "isolation for a classifier": (
        lambda: isolation(classes=("n", "y")),
        "The 'post_transform' field of TreeEnsemble must be 'isolation' only for a regressor with aggregation "
        "'sum'. Got classes=('n', 'y'), aggregation='sum' instead.",
    ),
    "isolation under average": (
        lambda: isolation(aggregation="average"),
        "The 'post_transform' field of TreeEnsemble must be 'isolation' only for a regressor with aggregation "
        "'sum'. Got classes=None, aggregation='average' instead.",
    ),
    "exp for a classifier": (
        lambda: one_output(post_transform="exp", classes=("n", "y")),
        "The 'post_transform' field of TreeEnsemble must be 'exp' only for a regressor (one output, no classes). "
        "Got classes=('n', 'y') with 1 outputs instead.",
    ),
    "isolation parameters without the isolation transform": (
        lambda: one_output(isolation=(4.0, -0.5)),
        "The 'isolation' field of TreeEnsemble must be None unless post transform is 'isolation'. "
        "Got (4.0, -0.5) instead.",
    ),
}


@pytest.mark.parametrize("name", REFUSED_ONE_OUTPUT)
def test_one_output_ensemble_refusals(name):
    build, message = REFUSED_ONE_OUTPUT[name]
    with pytest.raises(IRValidationError) as info:
        build()
    assert str(info.value) == message


def test_sum_aggregation_defaults_base_value_to_zero():
    model = ensemble(aggregation="sum")
    assert model.base_value.tolist() == [0.0, 0.0]
    assert model.model_type == "classification-boosted-trees"


def test_isolation_forest_outputs_its_two_scores():
    model = isolation()
    assert model.isolation == (4.0, -0.5)
    assert model.outputs == ("score", "decision") and model.model_type == "isolation-forest"


def test_binary_logistic_ensemble_names_both_classes():
    model = one_output(post_transform="logistic", classes=("n", "y"))
    assert model.is_binary and model.outputs == ("probability(n)", "probability(y)")


def test_class_labels_become_plain_python_values():
    labels = ir.class_labels([np.str_("a"), np.int64(3), np.float32(0.5), np.bool_(True)])
    assert labels == ("a", 3, 0.5, True)
    assert [type(label) for label in labels] == [str, int, float, bool]


def linear(**changes) -> ir.LinearModel:
    """One output over features a and b, with ``changes``."""
    parts = dict(features=("a", "b"), coefficients=[[1.0, 2.0]], intercepts=[0.5])
    parts.update(changes)
    return ir.LinearModel(**parts)


TWO_OUTPUTS = dict(coefficients=[[1.0, 2.0], [3.0, 4.0]], intercepts=[0.5, -0.5])

REFUSED_LINEAR = {
    "coefficients for other features": (
        dict(coefficients=[[1.0]]),
        "The 'coefficients' field of LinearModel must be an array of shape (outputs, 2). "
        "Got an array of dtype float64 and shape (1, 1) instead.",
    ),
    "no outputs": (
        dict(coefficients=np.zeros((0, 2)), intercepts=[]),
        "The 'coefficients' field of LinearModel must be an array of shape (outputs, 2). "
        "Got an array of dtype float64 and shape (0, 2) instead.",
    ),
    "one-dimensional coefficients": (
        dict(coefficients=[1.0, 2.0]),
        "The 'coefficients' field of LinearModel must be a 2-dimensional array. "
        "Got an array of dtype float64 and shape (2,) instead.",
    ),
    "text coefficients": (
        dict(coefficients=[["1", "2"]]),
        "The 'coefficients' field of LinearModel must be an array of float64 values. "
        "Got an array of dtype <U1 and shape (1, 2) instead.",
    ),
    "an intercept per feature": (
        dict(intercepts=[0.5, 0.5]),
        "The 'intercepts' field of LinearModel must be 1 numbers, one per output. "
        "Got an array of dtype float64 and shape (2,) instead.",
    ),
    "infinite coefficient": (
        dict(coefficients=[[1.0, np.inf]]),
        "The 'coefficients' field of LinearModel must be finite numbers. Got inf at index (0, 1) instead.",
    ),
    "NaN intercept": (
        dict(intercepts=[np.nan]),
        "The 'intercepts' field of LinearModel must be finite numbers. Got nan at index (0,) instead.",
    ),
    "the isolation transform": (
        dict(post_transform="isolation"),
        "The 'post_transform' field of LinearModel must be one of ('none', 'logistic', 'softmax'). "
        "Got 'isolation' instead.",
    ),
    "softmax over one output": (
        dict(post_transform="softmax", classes=(0, 1)),
        "The 'post_transform' field of LinearModel must be 'softmax' only with two or more outputs. "
        "Got 'softmax' with 1 output instead.",
    ),
    "more classes than outputs": (
        dict(TWO_OUTPUTS, post_transform="softmax", classes=(0, 1, 2)),
        "The 'classes' field of LinearModel must be 2 labels, one per output. Got 3 labels instead.",
    ),
    "regressor with two outputs": (
        TWO_OUTPUTS,
        "The 'classes' field of LinearModel must be class labels for 2 outputs (a regressor has one). "
        "Got None instead.",
    ),
    "a class label the IR cannot carry": (
        dict(classes=(None, 1)),
        "The 'classes' field of LinearModel must be strings, integers, finite floats or booleans. Got None instead.",
    ),
}


@pytest.mark.parametrize("name", REFUSED_LINEAR)
def test_linear_model_refusals(name):
    changes, message = REFUSED_LINEAR[name]
    with pytest.raises(IRValidationError) as info:
        linear(**changes)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "post_transform, outputs",
    [("none", ("decision",)), ("logistic", ("probability(0)", "probability(1)"))],
)
def test_binary_linear_model_decides_or_gives_a_probability(post_transform, outputs):
    model = linear(post_transform=post_transform, classes=(0, 1))
    assert model.is_binary and model.outputs == outputs and model.model_type == "classification-linear"


def test_multiclass_linear_decisions_name_each_class():
    model = linear(**TWO_OUTPUTS, classes=("x", "y"))
    assert model.outputs == ("decision(x)", "decision(y)") and not model.is_binary


def test_linear_regressor_has_one_prediction():
    model = linear()
    assert model.outputs == ("prediction",) and model.model_type == "regression-linear"
