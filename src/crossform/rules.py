"""The encoder and model rules of docs/SEMANTICS.md, each written once.

The reference evaluator scores with them, the probe rows (crossform.vectors)
find values on either side of a threshold with them, and the PMML writer
declares which values a field accepts with them, so the three cannot drift.

Every rule is vectorized over one column: ``rule(encoder, j, column)``
computes the outputs of the encoder's feature ``j`` from ``column`` (float64
for a numeric feature, objects, str or None, for a categorical one) and says
which rows it refuses, with the reason. A single value is a column of one,
but for one case: the probe rows search the doubles one number at a time
through numeric steps (hundreds of thousands of calls, where numpy's cost per
call made generating probe rows 7x slower), so the numeric rules are written
with primitives (:func:`_isnan`, :func:`_where`, comparisons, arithmetic on
Python floats) that take a Python float as well as a column, and
:func:`run_number` runs the same rule functions on one float.

A step is ``(encoder, j, c)``: output ``c`` of feature ``j`` of ``encoder``
(c is 0 but for one-hot, whose feature writes a block). Every column a
package computes comes from one input through a chain of steps
(:func:`derivations`), so a row's errors are the refusals along the chains
of each input it holds (:func:`run_steps`, :func:`model_refuses`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any, Union

import numpy as np

from . import ir
from .errors import shown
from .floats import FLOAT32_OVERFLOW

# A refusal: the rows of a column that are row errors, and why (the text
# after "feature 'f': " for a row index).
Refusal = tuple[np.ndarray, Callable[[int], str]]
Rule = Callable[[Any, int, np.ndarray], tuple[list, list]]

DOUBLE_MAX = float(np.finfo(np.float64).max)
# The numbers each check accepts, both ends included (NaN is each rule's own
# business): every numeric encoder refuses +-inf; a tree that compares in
# float32 refuses |x| >= FLOAT32_OVERFLOW too, where float32(x) is infinite.
FINITE = (-DOUBLE_MAX, DOUBLE_MAX)
FLOAT32_FINITE = (-math.nextafter(FLOAT32_OVERFLOW, 0.0), math.nextafter(FLOAT32_OVERFLOW, 0.0))


def outside(bounds: tuple, x: np.ndarray) -> np.ndarray:
    """Where x is a number outside [low, high] (NaN is not)."""
    return (x < bounds[0]) | (x > bounds[1])


def _isnan(x: Any) -> Any:
    return np.isnan(x) if isinstance(x, np.ndarray) else math.isnan(x)


def _where(condition: Any, a: Any, b: Any) -> Any:
    return np.where(condition, a, b) if isinstance(condition, np.ndarray) else (a if condition else b)


def _not_finite(x: np.ndarray) -> Refusal:
    return outside(FINITE, x), lambda i: f"value {x[i]} is not finite"


def _missing(kind: str, col: np.ndarray) -> np.ndarray:
    """Where a feature is missing: NaN for a numeric one, None for a categorical one."""
    return _isnan(col) if kind == ir.NUMERIC else np.equal(col, None)


def _unknown_refused(col: np.ndarray, unknown: np.ndarray) -> Refusal:
    def why(i: int) -> str:
        if col[i] is None:
            return "missing value, and the encoder knows no missing category"
        return f"unknown category {shown(col[i])}"

    return unknown, why


def _lookup(categories: tuple, missing_target: Any, col: np.ndarray) -> tuple:
    """Per row: the position of its category (-1 where there is none), where
    it is missing, and where it is unknown. A missing value takes
    ``missing_target`` when there is one, else it is unknown too.
    ``categories`` are sorted by code point, as numpy orders unicode, so one
    searchsorted finds them all."""
    n = len(col)
    missing = np.equal(col, None)
    found = np.full(n, -1, dtype=np.int64)
    known = np.zeros(n, dtype=bool)
    if categories and n:
        keys = np.where(missing, "", col).astype(str)
        at = np.minimum(np.searchsorted(np.array(categories, dtype=str), keys), len(categories) - 1)
        known = ~missing & np.equal(np.array(categories, dtype=object)[at], col)
        found[known] = at[known]
    if missing_target is None:
        return found, missing, ~known
    return found, missing, ~known & ~missing


# ---------------------------------------------------------------- encoder rules


def fill_missing(enc: ir.FillMissing, j: int, col: np.ndarray) -> tuple[list, list]:
    value = enc.values[j]
    if isinstance(value, str):
        filled = col.copy()
        filled[np.equal(col, None)] = value
        return [filled], []
    return [_where(_isnan(col), value, col)], [_not_finite(col)]


def categorical_encoding(enc: ir.CategoricalEncoding, j: int, col: np.ndarray) -> tuple[list, list]:
    at, missing, unknown = _lookup(enc.categories[j], enc.missing_codes[j], col)
    code = np.full(len(col), np.nan)
    known = at >= 0
    code[known] = enc.codes[j][at[known]]
    if enc.missing_codes[j] is not None:
        code[missing] = enc.missing_codes[j]
    if enc.unknown_code is None:
        return [code], [_unknown_refused(col, unknown)]
    code[unknown] = enc.unknown_code
    return [code], []


def scale(enc: ir.Scale, j: int, col: np.ndarray) -> tuple[list, list]:
    return [(col - enc.offset.item(j)) / enc.scale.item(j)], [_not_finite(col)]


def affine(enc: ir.Affine, j: int, col: np.ndarray) -> tuple[list, list]:
    return [col * enc.scale.item(j) + enc.offset.item(j)], [_not_finite(col)]


def missing_indicator(enc: ir.MissingIndicator, j: int, col: np.ndarray) -> tuple[list, list]:
    kind = enc.kinds_in[j]
    refused = [_not_finite(col)] if kind == ir.NUMERIC else []
    return [_where(_missing(kind, col), 1.0, 0.0)], refused


def refuse_missing(enc: ir.RefuseMissing, j: int, col: np.ndarray) -> tuple[list, list]:
    kind = enc.kinds_in[j]
    refused = [_not_finite(col)] if kind == ir.NUMERIC else []
    refused.append((_missing(kind, col), lambda i: "missing value, which it had none of at fit"))
    return [col], refused


def one_hot(enc: ir.OneHot, j: int, col: np.ndarray) -> tuple[list, list]:
    at, missing, unknown = _lookup(enc.categories[j], enc.missing_columns[j], col)
    column = np.full(len(col), -1, dtype=np.int64)  # -1: no column set
    known = at >= 0
    column[known] = enc.columns[j][at[known]]
    if enc.missing_columns[j] is not None:
        column[missing] = enc.missing_columns[j]
    refused = []
    policy = enc.unknown[j]
    if policy == "error":
        refused.append(_unknown_refused(col, unknown))
    elif policy != "zeros":  # the infrequent column
        column[unknown] = policy
    return [(column == c).astype(np.float64) for c in range(enc.widths[j])], refused


def number_category(enc: ir.NumberCategory, j: int, col: np.ndarray) -> tuple[list, list]:
    values = enc.values[j]
    col = np.asarray(col, dtype=np.float64)
    out = np.full(len(col), enc.unknown, dtype=object)
    out[np.isnan(col)] = None
    if len(values):
        at = np.minimum(np.searchsorted(values, col), len(values) - 1)  # NaN sorts last: never equal
        known = values[at] == col
        out[known] = np.array(enc.categories[j], dtype=object)[at[known]]
    return [out], [_not_finite(col)]


def binning(enc: ir.Binning, j: int, col: Any) -> tuple[list, list]:
    edges = enc.edges[j]
    refused = [(_isnan(col), lambda i: "missing value, which a binner cannot bin"), _not_finite(col)]
    if isinstance(col, np.ndarray):
        out = np.searchsorted(edges, col, side="right").astype(np.float64)
        out[np.isnan(col)] = np.nan
        return [out], refused
    # one number (the probe rows' searches): the same count of edges at most x
    return [math.nan if math.isnan(col) else float(bisect.bisect_right(edges.tolist(), col))], refused


def product(enc: ir.Product, j: int, col: Any) -> tuple[list, list]:
    """What a product step refuses in feature ``j`` (NaN and +-inf); the feature passes
    unchanged, as refuse-missing's does. Its outputs read several features: :func:`combine`."""
    return [col], [(_isnan(col), lambda i: "missing value, which a product refuses"), _not_finite(col)]


def products(enc: ir.Product, cols: list) -> list:
    """A product step's outputs from its feature columns: each a left fold of its factors, in order."""
    n = len(cols[0]) if cols else 0
    out = []
    for term in enc.factors:
        value = np.ones(n) if not term else np.array(cols[term[0]], dtype=np.float64)
        for i in term[1:]:
            value = value * cols[i]
        out.append(value)
    return out


def projection(enc: ir.Projection, j: int, col: Any) -> tuple[list, list]:
    """What a projection step refuses in feature ``j`` (NaN and +-inf); the feature passes
    unchanged. Its outputs read every feature: :func:`projections`."""
    return [col], [(_isnan(col), lambda i: "missing value, which a projection refuses"), _not_finite(col)]


def projection_offsets(enc: ir.Projection) -> np.ndarray:
    """Per component, the left fold of ``mean[j] * components[k, j]`` over the features in order
    (what centring ``after`` subtracts)."""
    offsets = enc.mean[0] * enc.components[:, 0]
    for j in range(1, len(enc.features)):
        offsets = offsets + enc.mean[j] * enc.components[:, j]
    return offsets


def projections(enc: ir.Projection, cols: list) -> list:
    """A projection step's outputs from its feature columns: per component a left fold over the
    features in order, then the centring's subtraction (``after``) and the divisor (docs/SEMANTICS.md)."""
    before = enc.centring == "before"
    acc = None
    for j, col in enumerate(cols):
        x = np.asarray(col, dtype=np.float64)[:, None]
        if before:
            x = x - enc.mean[j]
        term = x * enc.components[:, j][None, :]
        acc = term if acc is None else acc + term
    if not before:
        acc = acc - projection_offsets(enc)[None, :]
    if enc.divisors is not None:
        acc = acc / enc.divisors[None, :]
    return [acc[:, k] for k in range(acc.shape[1])]


INT_END = 2.0**31  # the first double a C int cannot hold


def integer_code(enc: ir.IntegerCode, j: int, col: Any) -> tuple[list, list]:
    # -1 < x < 2^31 is false for NaN and +-inf; trunc(-0.5) is -0.0, which equals the code 0.0
    inside = (col > -1.0) & (col < INT_END)
    if isinstance(col, np.ndarray):
        return [np.where(inside, np.trunc(np.where(inside, col, 0.0)), np.nan)], []
    return [float(math.trunc(col)) if inside else math.nan], []


def missing_band(enc: ir.MissingBand, j: int, col: Any) -> tuple[list, list]:
    return [_where((col >= enc.low.item(j)) & (col <= enc.high.item(j)), math.nan, col)], []


ENCODERS: dict[type, Rule] = {
    ir.FillMissing: fill_missing,
    ir.CategoricalEncoding: categorical_encoding,
    ir.Scale: scale,
    ir.Affine: affine,
    ir.MissingIndicator: missing_indicator,
    ir.OneHot: one_hot,
    ir.RefuseMissing: refuse_missing,
    ir.NumberCategory: number_category,
    ir.Binning: binning,
    ir.Product: product,
    ir.IntegerCode: integer_code,
    ir.MissingBand: missing_band,
    ir.Projection: projection,
}

# Kinds whose outputs read several features at once: (encoder, columns) -> outputs. Their
# ENCODERS rule gives each feature's refusals and passes it unchanged.
COMBINED: dict[type, Callable[[Any, list], list]] = {ir.Product: products, ir.Projection: projections}

# Kinds whose library computes them through BLAS, whose last bits depend on the CPU's kernel
# (docs/SEMANTICS.md note 25): a value at a threshold of a column derived from one may go either
# way in the library itself, so no probe row is aimed at such a threshold.
KERNEL_DEPENDENT = (ir.Projection,)


def kernel_dependent_columns(package: ir.Package) -> set:
    """The names of the columns computed from an output of a ``KERNEL_DEPENDENT`` kind."""
    found: set = set()
    for enc in package.encoders:
        if isinstance(enc, KERNEL_DEPENDENT):
            found.update(enc.outputs)
        elif type(enc) in COMBINED:
            if found.intersection(enc.features):
                found.update(enc.outputs)
        else:
            for j, name in enumerate(enc.features):
                if name in found:
                    found.update(_block(enc, j))
    return found


def apply(enc: ir.Encoder, j: int, col: np.ndarray) -> tuple[list, list]:
    """The outputs of feature ``j`` of ``enc`` (one column, or one-hot's block) and its refusals."""
    with np.errstate(over="ignore", invalid="ignore"):
        return ENCODERS[type(enc)](enc, j, col)


def combine(enc: ir.Encoder, cols: list) -> list:
    """The outputs of a kind of ``COMBINED`` from all its feature columns, in ``enc.outputs`` order."""
    with np.errstate(over="ignore", invalid="ignore"):
        return COMBINED[type(enc)](enc, cols)


# ---------------------------------------------------------------- model rules


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's weighted median of ``values`` (rows x trees), as AdaBoostRegressor's
    ``_get_median_predict`` takes it: the values sorted ascending (ties in tree order), the running
    float64 sum of their weights in that order, and the first value whose running sum is >= half
    the last running sum (docs/SEMANTICS.md, note 21)."""
    order = np.argsort(values, axis=1, kind="stable")
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64)[order], axis=1)  # a left fold per row
    pick = np.argmax(cdf >= 0.5 * cdf[:, -1:], axis=1)
    rows = np.arange(len(values))
    return values[rows, order[rows, pick]]


def number_bounds(model: ir.Model) -> Union[tuple, None]:
    """The numbers a model accepts as input (NaN aside), or None for all. A composite accepts
    what every member (and a final model reading the features) accepts: the narrowest bounds."""
    if isinstance(model, ir.Composite):
        readers = model.members + ((model.final,) if model.passthrough else ())
        found = [b for b in map(number_bounds, readers) if b is not None]
        return (max(b[0] for b in found), min(b[1] for b in found)) if found else None
    if isinstance(model, ir.LinearModel):
        return FINITE
    return FLOAT32_FINITE if model.infinite == "error" else None


def model_refusals(model: ir.Model, x: np.ndarray) -> list:
    """The rows of model input ``x`` the model refuses, in the order its errors are reported."""
    if isinstance(model, ir.Composite):  # a row any member refuses, in member order
        refused = [refusal for member in model.members for refusal in model_refusals(member, x)]
        if model.passthrough:  # the final linear model reads the features too
            refused += model_refusals(model.final, x)
        return refused
    if isinstance(model, ir.LinearModel):
        return [(np.isnan(x), lambda i: "missing value, which a linear model cannot score"), _not_finite(x)]
    refused = []
    if model.missing == "error":
        refused.append((np.isnan(x), lambda i: "missing value, which this model refuses"))
    if model.infinite == "error":
        refused.append(_not_finite(x))
        refused.append(
            (outside(FLOAT32_FINITE, x), lambda i: f"value {x[i]!r} is too large for float32, which trees compare")
        )
    return refused


def model_refuses(model: ir.Model, x: np.ndarray) -> np.ndarray:
    """Where the model refuses its input ``x``."""
    refused = np.zeros(len(x), dtype=bool)
    for rows, _ in model_refusals(model, x):
        refused |= rows
    return refused


# ---------------------------------------------------------------- chains of steps


def _block(enc: ir.Encoder, j: int) -> tuple:
    """The output names feature ``j`` writes (a one-hot feature writes a block)."""
    return enc.blocks()[j] if isinstance(enc, ir.OneHot) else (enc.outputs[j],)


def derivations(package: ir.Package) -> tuple:
    """Every column as (the package input it comes from, the steps from that
    input to it): the columns the model reads, in its feature order, and
    every column (each input with no steps, then each column an encoder
    writes, in order: an encoder whose output the model ignores can still
    refuse a row).

    A column of a ``COMBINED`` kind (a product) comes from several inputs:
    its source is None and its steps are empty. Each feature such a step
    reads still appears in ``every`` as a chain ending in the step (its
    refusals; the value passes unchanged)."""
    current = {f.name: (f.name, ()) for f in package.inputs}
    every = list(current.values())
    for enc in package.encoders:
        read = [current[name] for name in enc.features]  # the features as they were before it ran
        if type(enc) in COMBINED:
            every.extend((source, (*steps, (enc, j, 0))) for j, (source, steps) in enumerate(read) if source)
            written = {out: (None, ()) for out in enc.outputs}
        else:
            written = {}
            for j, (source, steps) in enumerate(read):
                for c, out in enumerate(_block(enc, j)):
                    written[out] = (source, (*steps, (enc, j, c)))
        current.update(written)
        every.extend(written.values())
    return [current[name] for name in package.model.features], every


def run_steps(steps: tuple, col: np.ndarray) -> tuple:
    """(values, ok) after ``steps`` from an input column; ok is False where a step refuses the row."""
    ok = np.ones(len(col), dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for enc, j, c in steps:
            outputs, refused = ENCODERS[type(enc)](enc, j, col)
            for rows, _ in refused:
                ok &= ~rows
            col = outputs[c]
    return col, ok


def run_number(steps: tuple, x: float) -> tuple:
    """:func:`run_steps` for one number through numeric steps, as (value, ok),
    by the same rule functions on a Python float (see the module's note)."""
    ok = True
    for enc, j, c in steps:
        outputs, refused = ENCODERS[type(enc)](enc, j, x)
        for rows, _ in refused:
            ok = ok and not rows
        x = outputs[c]
    return float(x), ok


def accepted(package: ir.Package, field: str, col: np.ndarray, derived: Union[tuple, None] = None) -> np.ndarray:
    """Where a row scores (is no row error) for each value of ``field`` in ``col``,
    whatever the other fields hold: the refusals on every column that comes from it.
    ``derived``: ``derivations(package)`` when the caller has it already."""
    model_chains, every = derivations(package) if derived is None else derived
    ok = np.ones(len(col), dtype=bool)
    for source, steps in every:
        if source == field and steps:
            ok &= run_steps(steps, col)[1]
    for source, steps in model_chains:
        if source == field:
            ok &= ~model_refuses(package.model, run_steps(steps, col)[0])
    return ok


def reverses(steps: tuple) -> bool:
    """Whether numeric steps reverse the order of the doubles (an odd count of
    negative scales); each step is monotone, a missing indicator constant."""
    flips = sum(isinstance(enc, (ir.Scale, ir.Affine)) and enc.scale[j] < 0 for enc, j, _ in steps)
    return flips % 2 == 1
