"""pmml: which values of each input field the reference refuses (docs/formats/pmml.md, note 3).

Every column a package computes comes from one input field, so the rows in
error are exactly the rows with a refused value in some field. The PMML
writer declares each field's refused values on its DataField (an Interval,
Values) and MiningField (missingValueTreatment), and JPMML refuses a row
holding one. This module decides what to declare:

- :func:`accepts` runs the reference's rules on the columns that come from
  one field, for one value of it (the concrete rules, table ``STEPS``);
- :func:`interval` finds a numeric field's accepted doubles: each check on
  the way accepts an interval of the value it sees, and every step before
  it (``(x - m) / s``, ``x * s + o``, a missing indicator's 0.0, refuse-missing's
  x unchanged) is monotone
  (or constant) in float64, so the field accepts one interval, found by
  bisection over the doubles in order and checked against :func:`accepts`
  at both ends and one double beyond;
- :func:`validity` puts both together per field.
"""

from __future__ import annotations

import math
from typing import Any, Union

import numpy as np

from .. import ir
from ..errors import CrossformError
from ..floats import FLOAT32_OVERFLOW, first_double

DOUBLE_MAX = float(np.finfo(np.float64).max)
BELOW_OVERFLOW = math.nextafter(FLOAT32_OVERFLOW, 0.0)  # the largest |x| a float32 tree accepts


class Refused(Exception):
    """The value is a row error (raised inside :func:`accepts`)."""


def _finite(v: float) -> float:
    if math.isinf(v):
        raise Refused()
    return v


def _category(categories: tuple, value: str) -> Union[int, None]:
    """The position of ``value`` in sorted ``categories``, or None."""
    lo, hi = 0, len(categories)
    while lo < hi:  # categories are sorted by code point, as str compares
        mid = (lo + hi) // 2
        if categories[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < len(categories) and categories[lo] == value else None


# ---------------------------------------------------------------- the concrete rules, one value at a time
# each takes (encoder, feature index, value) and returns that feature's output values, or raises Refused


def _fill(enc: ir.FillMissing, j: int, v: Any) -> tuple:
    fill = enc.values[j]
    if isinstance(fill, str):
        return (fill if v is None else v,)
    return (fill if math.isnan(_finite(v)) else v,)


def _codes(enc: ir.CategoricalEncoding, j: int, v: Any) -> tuple:
    code = None
    if v is None:
        code = enc.missing_codes[j]
    else:
        at = _category(enc.categories[j], v)
        if at is not None:
            code = float(enc.codes[j][at])
    if code is None:
        code = enc.unknown_code
        if code is None:
            raise Refused()
    return (float(code),)


def _scale(enc: ir.Scale, j: int, v: float) -> tuple:
    return ((_finite(v) - float(enc.offset[j])) / float(enc.scale[j]),)


def _affine(enc: ir.Affine, j: int, v: float) -> tuple:
    return (_finite(v) * float(enc.scale[j]) + float(enc.offset[j]),)


def _indicator(enc: ir.MissingIndicator, j: int, v: Any) -> tuple:
    if enc.kinds_in[j] == ir.CATEGORICAL:
        return (1.0 if v is None else 0.0,)
    return (1.0 if math.isnan(_finite(v)) else 0.0,)


def _refuse(enc: ir.RefuseMissing, j: int, v: Any) -> tuple:
    if v is None or (enc.kinds_in[j] == ir.NUMERIC and math.isnan(_finite(v))):
        raise Refused()
    return (v,)


def _one_hot(enc: ir.OneHot, j: int, v: Any) -> tuple:
    column = None
    if v is None:
        column = enc.missing_columns[j]
    else:
        at = _category(enc.categories[j], v)
        if at is not None:
            column = int(enc.columns[j][at])
    if column is None:
        column = enc.unknown[j]
        if column == "error":
            raise Refused()
        if column == "zeros":
            column = -1
    return tuple(1.0 if c == column else 0.0 for c in range(enc.widths[j]))


STEPS = {
    ir.FillMissing: _fill,
    ir.CategoricalEncoding: _codes,
    ir.Scale: _scale,
    ir.Affine: _affine,
    ir.MissingIndicator: _indicator,
    ir.OneHot: _one_hot,
    ir.RefuseMissing: _refuse,
}


def _outputs_of(enc: Any) -> tuple:
    """Each feature's output names (a one-hot feature has a block of them)."""
    if isinstance(enc, ir.OneHot):
        return enc.blocks()
    return tuple((out,) for out in enc.outputs)


def _model_accepts(model: ir.Model, v: float) -> bool:
    if isinstance(model, ir.LinearModel):
        return math.isfinite(v)
    if math.isnan(v):
        return model.missing == "route"
    return model.infinite == "compare" or abs(v) < FLOAT32_OVERFLOW


def accepts(package: ir.Package, field: str, value: Any) -> bool:
    """Whether a row scores (is no row error) when ``field`` holds ``value``
    (a float, NaN for missing numbers, a str, or None for a missing category):
    the reference's rules on the columns that come from ``field`` alone."""
    cols = {field: value}
    try:
        for enc in package.encoders:
            new, gone = {}, []
            for j, (name, outs) in enumerate(zip(enc.features, _outputs_of(enc))):
                if name not in cols:
                    gone.extend(outs)
                    continue
                new.update(zip(outs, STEPS[type(enc)](enc, j, cols[name])))
            for out in gone:
                cols.pop(out, None)
            cols.update(new)
    except Refused:
        return False
    return all(_model_accepts(package.model, cols[name]) for name in package.model.features if name in cols)


# ---------------------------------------------------------------- numeric fields: one interval
# a step is ("scale", m, s): (x - m) / s; ("affine", s, o): x * s + o; ("constant", c)


def _apply(steps: tuple, x: float) -> float:
    for kind, a, b in steps:
        if kind == "scale":
            x = (x - a) / b
        elif kind == "affine":
            x = x * a + b
        else:
            x = a
    return x


def _rising(steps: tuple) -> bool:
    """Whether the steps are non-decreasing (a constant step makes them constant: either will do)."""
    flips = sum(1 for kind, a, b in steps if (kind == "scale" and b < 0) or (kind == "affine" and a < 0))
    return flips % 2 == 0


def _numeric_checks(package: ir.Package, field: str) -> list:
    """The checks a numeric field's value meets on its way: (steps applied
    before the check, lowest and highest value the check accepts). Every
    numeric encoder refuses +-inf; a float32 tree also refuses |x| >=
    FLOAT32_OVERFLOW, a linear model +-inf. Fill-missing and refuse-missing
    leave a number alone, a missing indicator makes it 0.0; categorical
    encoders read no numbers."""
    cols = {field: ()}
    checks = []
    for enc in package.encoders:
        new, gone = {}, []
        for j, (name, outs) in enumerate(zip(enc.features, _outputs_of(enc))):
            if name not in cols:
                gone.extend(outs)
                continue
            steps = cols[name]
            checks.append((steps, -DOUBLE_MAX, DOUBLE_MAX))  # every numeric encoder refuses +-inf
            if isinstance(enc, ir.FillMissing):
                new[outs[0]] = steps
            elif isinstance(enc, ir.Scale):
                new[outs[0]] = steps + (("scale", float(enc.offset[j]), float(enc.scale[j])),)
            elif isinstance(enc, ir.Affine):
                new[outs[0]] = steps + (("affine", float(enc.scale[j]), float(enc.offset[j])),)
            elif isinstance(enc, ir.RefuseMissing):  # the number unchanged (NaN is accept()'s business)
                new[outs[0]] = steps
            else:  # a missing indicator: 0.0 for every number (NaN is accept()'s business)
                new[outs[0]] = steps + (("constant", 0.0, None),)
        for out in gone:
            cols.pop(out, None)
        cols.update(new)
    model = package.model
    if isinstance(model, ir.LinearModel):
        bounds = (-DOUBLE_MAX, DOUBLE_MAX)
    elif model.infinite == "error":
        bounds = (-BELOW_OVERFLOW, BELOW_OVERFLOW)
    else:
        bounds = None  # compared like any number
    if bounds is not None:
        for name in model.features:
            if name in cols:
                checks.append((cols[name], *bounds))
    return checks


def interval(package: ir.Package, field: str) -> Union[tuple, None, bool]:
    """(lowest, highest) accepted value of a numeric field, None when every
    value is accepted, False when none is. A check after a step only sees
    finite values (the step's encoder refused +-inf), so it is searched over
    the finite doubles, where every step is monotone or constant."""
    checks = _numeric_checks(package, field)
    if not checks:
        return None
    low, high = -math.inf, math.inf
    for steps, bottom, top in checks:
        first, last = (-DOUBLE_MAX, DOUBLE_MAX) if steps else (-math.inf, math.inf)

        def at_most(x, steps=steps, top=top):
            return _apply(steps, x) <= top

        def at_least(x, steps=steps, bottom=bottom):
            return _apply(steps, x) >= bottom

        # rising steps keep a prefix of the doubles at most top and a suffix at least bottom; falling ones the reverse
        prefix, suffix = (at_most, at_least) if _rising(steps) else (at_least, at_most)
        beyond = first_double(lambda x, f=prefix: not f(x), first, last)
        start = first_double(suffix, first, last)
        if beyond == first or start is None:
            return False
        high = min(high, last if beyond is None else math.nextafter(beyond, -math.inf))
        low = max(low, start)
    if low > high:
        return False
    # the concrete rules agree at both ends and just beyond them
    if not (
        accepts(package, field, low)
        and accepts(package, field, high)
        and (low == -math.inf or not accepts(package, field, math.nextafter(low, -math.inf)))
        and (high == math.inf or not accepts(package, field, math.nextafter(high, math.inf)))
    ):
        raise CrossformError(f"pmml: the accepted values of {field!r} are not [{low!r}, {high!r}]")  # pragma: no cover
    return low, high


# ---------------------------------------------------------------- per field


def strings(package: ir.Package) -> list:
    """Every category and string fill value the package names, sorted."""
    found = set()
    for enc in package.encoders:
        if isinstance(enc, (ir.CategoricalEncoding, ir.OneHot)):
            for cats in enc.categories:
                found.update(cats)
        elif isinstance(enc, ir.FillMissing):
            found.update(v for v in enc.values if isinstance(v, str))
    return sorted(found)


class Validity:
    """What a field accepts: an interval (numeric), a list of valid or of
    invalid categories (categorical), and whether a missing value is refused."""

    def __init__(self, interval=None, valid=None, invalid=(), missing_invalid=False, empty=False):
        self.interval = interval
        self.valid = valid
        self.invalid = invalid
        self.missing_invalid = missing_invalid
        self.empty = empty

    @property
    def checked(self) -> bool:
        return self.interval is not None or self.valid is not None or bool(self.invalid) or self.missing_invalid


def validity(package: ir.Package, field: ir.Field, names: list, other: str) -> Validity:
    """What ``field`` accepts; ``names`` are :func:`strings`, ``other`` a category the package does not name."""
    if field.kind == ir.NUMERIC:
        found = interval(package, field.name)
        missing_invalid = not accepts(package, field.name, math.nan)
        if found is False:
            return Validity(empty=True, missing_invalid=missing_invalid)
        return Validity(interval=found, missing_invalid=missing_invalid)
    missing_invalid = not accepts(package, field.name, None)
    if accepts(package, field.name, other):
        return Validity(
            invalid=tuple(s for s in names if not accepts(package, field.name, s)), missing_invalid=missing_invalid
        )
    valid = tuple(s for s in names if accepts(package, field.name, s))
    return Validity(valid=valid, missing_invalid=missing_invalid, empty=not valid)
