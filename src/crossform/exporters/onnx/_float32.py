"""The float32 variant: the package a float32 file holds (leaf values rounded to float32), the
absolute tolerance its scores keep (docs/formats/onnx.md derives it) and the checks it carries."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ... import checks as checks_module
from ... import ir
from ...errors import UnsupportedModelError
from ._rules import COLUMNS, FLOAT64, check_option


def float32_package(package: ir.Package) -> ir.Package:
    """``package`` with its leaf and base values rounded to float32: what the
    float32 variant stores (rounding twice changes nothing)."""

    def rounded(a):
        return None if a is None else np.asarray(a, dtype=np.float32).astype(np.float64)

    def rounded_model(model: ir.Model) -> ir.Model:
        if isinstance(model, ir.Composite):
            return dataclasses.replace(model, members=tuple(rounded_model(m) for m in model.members))
        if isinstance(model, ir.LinearModel) or model.aggregation == "weighted-median":
            # computed and written in double in both precisions (a weighted median picks a stored
            # value, which rounding could reorder): nothing to round
            return model
        trees = tuple(dataclasses.replace(t, value=rounded(t.value)) for t in model.trees)
        return dataclasses.replace(model, trees=trees, base_value=rounded(model.base_value))

    model = rounded_model(package.model)
    return package if model is package.model else package.replace(model=model)


UNIT = 2.0**-24  # float32 unit roundoff


def float32_tolerance(package: ir.Package) -> float:
    """An absolute bound on |float32 graph - reference| for any row, from the
    stored values alone (docs/formats/onnx.md derives it).

    Each leaf value is rounded once (u = 2^-24 relative) and the float32 sum of
    m terms, in any order, is within (m - 1) u / (1 - (m - 1) u) of the sum of
    their magnitudes; S bounds that sum over every row: the largest leaf
    magnitude per tree, summed, plus the base value. Averaging divides the
    bound by the tree count (one more rounding). Sigmoid moves an error at
    most by a quarter, softmax by at most twice; each adds its own float32
    rounding, taken as 2^-20 (four times what the kernels we run produce);
    ``1 - p`` for a binary model one more, u. Divisors divide the bound (the graph divides in
    double) and the cast of the quotient adds u times its magnitude. A linear model's graph is double
    throughout (only its inputs are float32), so its bound is 0.0: exact.
    """
    bound = _bound(package.model)
    if bound == 0.0:
        return 0.0
    if not math.isfinite(bound):
        raise UnsupportedModelError(
            "the float32 variant cannot bound this model's error: exp of its largest sum overflows; write float64"
        )
    # two significant digits, rounded up: a number a person can read in the metadata
    exponent = math.floor(math.log10(bound)) - 1
    up = float(f"{math.ceil(bound / 10.0**exponent)}e{exponent}")
    return up if up >= bound else float(f"{math.ceil(bound / 10.0**exponent) + 1}e{exponent}")


def _steepest(model: ir.Composite, params) -> float:
    """The largest slope of a member's calibration: |a| / 4 for a sigmoid, the steepest piece of
    isotonic breakpoints (numpy's interp is continuous; 0.0 for one breakpoint)."""
    if model.calibration_method == "isotonic":
        slopes = [np.abs(np.diff(p[:, 1]) / np.diff(p[:, 0])).max() if len(p) > 1 else 0.0 for p in params]
        return float(max(slopes))
    return float(np.abs(params[:, 0]).max()) / 4


def _bound(model: ir.Model) -> float:
    """float32_tolerance's bound before it is rounded up. A composite's is its members' bounds,
    weighted as the combination weighs their scores (the combination runs in double in both
    graphs; the rounding up covers its own roundings, 2^-29 of the members' bounds)."""
    if isinstance(model, ir.Composite):
        bounds = [_bound(m) for m in model.members]
        if model.combination == "vote" and any(bounds):
            raise UnsupportedModelError(
                "the float32 variant rounds a hard-voting member's leaf values, which can change the member's "
                "class and so a vote by a whole weight: no bound holds; write float64"
            )
        if model.target_steps and any(bounds):
            raise UnsupportedModelError(
                "the float32 variant rounds the regressor's prediction, and the target steps (an exp, or an "
                "offset whose own rounding depends on the prediction's size) have no bound stated yet; write float64"
            )
        if model.combination == "calibrate" and any(bounds):
            if len(model.classes) != 2:
                raise UnsupportedModelError(
                    "the float32 variant rounds a calibrated member's scores, and normalising several calibrated "
                    "probabilities by their sum has no bound where the sum is small; write float64"
                )
            # a sigmoid's slope is at most |a| / 4, a continuous piecewise line's its steepest piece's;
            # 1 - p moves as p does; then the members' mean
            moved = [_steepest(model, p) * b for p, b in zip(model.calibration, bounds)]
            return sum(moved) / model.divisor
        if model.combination == "stack":
            # the final model, in double in both graphs, moves each output by its coefficients
            # times its columns' errors (a member's bound for each of its columns, 0.0 for a feature)
            widths = ir.stack_widths(model.members)
            columns = [b for b, w in zip(bounds, widths) for _ in range(w)]
            columns += [0.0] * (len(model.final.features) - len(columns))
            raw = float((np.abs(model.final.coefficients) @ np.array(columns)).max())
            post = model.final.post_transform
            return raw / 4 if post == "logistic" else 2 * raw if post == "softmax" else raw
        return float(sum(abs(w) * b for w, b in zip(model.weights, bounds)) / abs(model.divisor))
    if isinstance(model, ir.LinearModel) or model.aggregation == "weighted-median":
        return 0.0  # double values in both precisions: a float32 input reaches the same leaves
    if model.accumulate == "float32":
        # XGBoost's rule casts the inputs to float32 and holds float32 values; the graph computes
        # every step of the rule as the double graph does, so float32 inputs lose nothing
        return 0.0
    largest = np.zeros(model.n_outputs)
    for tree in model.trees:
        leaf = tree.value[tree.is_leaf]
        largest += np.abs(leaf).max(axis=0) if len(leaf) else 0.0
    terms = len(model.trees)
    if model.base_value is not None:
        largest += np.abs(model.base_value)
        terms += 1
    total = float(largest.max())
    # the values' own rounding and the sum's: (terms + 1) roundings of at most u * total each
    bound = total * (terms + 1) * UNIT / (1 - (terms + 1) * UNIT)
    if model.aggregation == "average":
        bound = (bound + UNIT * total) / len(model.trees)  # the division rounds once more
    if model.divisors:
        # the graph divides in double (relative error below 2^-50 over a few divisions) and casts
        # the quotient to float32 (one more rounding, u times its magnitude)
        quotient = total / (len(model.trees) if model.aggregation == "average" else 1)
        for divisor in model.divisors:
            bound, quotient = bound / divisor, quotient / divisor
        bound = bound * (1 + 2.0**-50) + UNIT * quotient
    if model.post_transform == "logistic":
        bound = bound / 4 + 2.0**-20 + (UNIT if model.is_binary else 0.0)
    elif model.post_transform == "softmax":
        bound = 2 * bound + 2.0**-20
    elif model.post_transform == "isolation":
        bound = _isolation_bound(model, bound)
    elif model.post_transform == "exp":
        bound = _exp_bound(model, bound)
    return bound


def _exp_bound(model: ir.TreeEnsemble, bound: float) -> float:
    """The float32 sum's bound carried through exp, computed in double, then cast to float once:
    |exp(a) - exp(b)| <= exp(max(a, b)) * expm1(|a - b|), with exp(S) bounding every prediction,
    S the largest raw score (the base value plus each tree's largest leaf, or their average) plus
    the sum's bound; the cast rounds that once more."""
    top = sum(float(t.value[t.is_leaf].max()) for t in model.trees)
    if model.aggregation == "average":
        top /= len(model.trees)
    else:
        top += float(model.base_value[0])
    top += bound
    try:
        largest = math.exp(top)
        return largest * math.expm1(bound) + UNIT * largest
    except OverflowError:
        return math.inf


def _isolation_bound(model: ir.TreeEnsemble, bound: float) -> float:
    """The float32 sum's bound carried through score = -(2 ** -(s / d)), computed in double,
    and decision = score - offset, each cast to float once.

    |2^-a - 2^-b| <= ln 2 |a - b| 2^-min(a, b), and 2^-(s / d) <= M = 2^(max(0, -s_min) / d)
    with s_min the sum of each tree's smallest leaf; twice that covers |a - b| up to 1 and the
    double arithmetic. The casts round |score| <= M and |decision| <= M + |offset| once each.
    """
    denominator, offset = model.isolation
    smallest = sum(float(t.value[t.is_leaf].min()) for t in model.trees)
    largest = 2.0 ** (max(0.0, -smallest) / denominator)
    return 2 * math.log(2) * largest * bound / denominator + UNIT * (largest + abs(offset))


def float32_checks(checks, package: ir.Package):
    """The checks a float32 file carries: the rows whose numeric values are
    float32 (the only rows its inputs take as written), within the bound."""
    if checks is None:
        return None
    return checks_module.restrict(
        checks, checks_module.float32_rows(checks), float32_tolerance(package), "float32 rows"
    )


def stored(package: ir.Package, checks: Any, precision: str = FLOAT64, sets: str = COLUMNS) -> tuple:
    """(the package a file of this precision holds, the checks it can be held
    to): for float32, the rounded package, and the float32 rows of ``checks``
    within the declared tolerance. ``sets`` changes neither: both forms are exact."""
    check_option("sets", sets)
    if check_option("precision", precision) == FLOAT64:
        return package, checks
    rounded = float32_package(package)
    return rounded, float32_checks(checks, rounded)
