"""pmml: which values of each input field the reference refuses (docs/formats/pmml.md, note 3).

Every column a package computes comes from one input field, except a product's
(several), so the rows in error are exactly the rows with a refused value in
some field, or a product its next step refuses (:func:`product_intervals`,
which the writer checks in the product's own field). The PMML
writer declares each field's refused values on its DataField (an Interval,
Values) and MiningField (missingValueTreatment), and JPMML refuses a row
holding one. This module decides what to declare, from the rules the
reference scores with (crossform.rules):

- :func:`accepts` runs the rules on the columns that come from one field,
  for one value of it;
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

import dataclasses
import math
from typing import Any, Union

import numpy as np

from ... import ir, rules
from ...errors import CrossformError
from ...floats import first_double

DOUBLE_MAX = rules.DOUBLE_MAX
BELOW_OVERFLOW = rules.FLOAT32_FINITE[1]  # the largest |x| a float32 tree accepts


_last: tuple = (None, None)  # the package rules.derivations last ran on, and its result


def _derivations(package: ir.Package) -> tuple:
    """rules.derivations, kept for the last package (one tuple, rebound at once, so threads
    writing two packages never mix them): a product step's outputs ask for it once per output
    (:func:`product_intervals`), and it walks every column each time."""
    global _last
    last = _last
    if last[0] is not package:
        last = (package, rules.derivations(package))
        _last = last
    return last[1]


def _accepted(package: ir.Package, field: str, values: list) -> list:
    """Per value of ``field``: whether a row holding it scores (is no row error)."""
    numeric = all(isinstance(v, float) for v in values)
    col = np.array(values, dtype=np.float64 if numeric else object)
    return rules.accepted(package, field, col, _derivations(package)).tolist()


def accepts(package: ir.Package, field: str, value: Any) -> bool:
    """Whether a row scores (is no row error) when ``field`` holds ``value``
    (a float, NaN for missing numbers, a str, or None for a missing category):
    the reference's rules on the columns that come from ``field`` alone."""
    return _accepted(package, field, [value])[0]


# ---------------------------------------------------------------- numeric fields: one interval


_ACCEPT_ALL = (ir.IntegerCode, ir.MissingBand)  # the numeric encoders that refuse nothing


def _numeric_checks(package: ir.Package, field: str) -> list:
    """The checks a numeric field's value meets on its way: (the steps applied
    before the check, the numbers the check accepts). Every numeric encoder but
    integer-code accepts the finite numbers, the model its rules.number_bounds; NaN is
    accept()'s business."""
    model_chains, every = _derivations(package)
    # a number-category step ends the numbers: what comes after it checks categories, not numbers;
    # an integer-code step accepts every number (rules.integer_code refuses nothing)
    checks = [
        (steps[:-1], rules.FINITE)
        for source, steps in every
        if source == field and steps and _numbers(steps[:-1]) and not isinstance(steps[-1][0], _ACCEPT_ALL)
    ]
    bounds = rules.number_bounds(package.model)
    if bounds is not None:
        checks += [(steps, bounds) for source, steps in model_chains if source == field and _numbers(steps)]
    return checks


def _numbers(steps: tuple) -> bool:
    return not any(isinstance(enc, ir.NumberCategory) for enc, _, _ in steps)


def unknown_number_refused(package: ir.Package, field: ir.Field) -> Union[float, None]:
    """A finite number unknown to the numeric categories ``field`` feeds that a row error
    refuses (an encoder after them whose unknown policy is an error), or None."""
    if field.kind != ir.NUMERIC:
        return None
    known = [
        v
        for enc in package.encoders
        if isinstance(enc, ir.NumberCategory)
        for values in enc.values
        for v in values.tolist()
    ]
    _, every = _derivations(package)
    if not known or _numbers(tuple(step for source, steps in every if source == field.name for step in steps)):
        return None
    unknown = max(known) + 0.5
    while unknown in known:  # pragma: no cover - max + 0.5 is a known number only past 2^53
        unknown = math.nextafter(unknown, math.inf)
    return None if accepts(package, field.name, unknown) else unknown


def interval(package: ir.Package, field: str) -> Union[tuple, None, bool]:
    """(lowest, highest) accepted value of a numeric field, None when every
    value is accepted, False when none is. A check after a step only sees
    finite values (the step's encoder refused +-inf), so it is searched over
    the finite doubles, where every step is monotone or constant."""
    checks = _numeric_checks(package, field)
    if not checks:
        return None
    low, high = -math.inf, math.inf
    for steps, (bottom, top) in checks:
        first, last = (-DOUBLE_MAX, DOUBLE_MAX) if steps else (-math.inf, math.inf)

        def at_most(x, steps=steps, top=top):
            return rules.run_number(steps, x)[0] <= top

        def at_least(x, steps=steps, bottom=bottom):
            return rules.run_number(steps, x)[0] >= bottom

        # rising steps keep a prefix of the doubles at most top and a suffix at least bottom; falling ones the
        # reverse (a constant step, a missing indicator's, either way)
        prefix, suffix = (at_least, at_most) if rules.reverses(steps) else (at_most, at_least)
        beyond = first_double(lambda x, f=prefix: not f(x), first, last)
        start = first_double(suffix, first, last)
        if beyond == first or start is None:
            return False
        high = min(high, last if beyond is None else math.nextafter(beyond, -math.inf))
        low = max(low, start)
    if low > high:
        return False
    # the rules agree at both ends and just beyond them
    ends = _accepted(package, field, [math.nextafter(low, -math.inf), low, high, math.nextafter(high, math.inf)])
    if ends[1:3] != [True, True] or (low != -math.inf and ends[0]) or (high != math.inf and ends[3]):
        raise CrossformError(f"pmml: the accepted values of {field!r} are not [{low!r}, {high!r}]")  # pragma: no cover
    return low, high


def product_intervals(package: ir.Package, index: int) -> list:
    """Per output of the product step ``package.encoders[index]``: the values the steps after it
    accept, as :func:`interval` gives them (None: every value, nothing after it refuses one).
    A product reads several fields, so no one field's valid values can declare an overflowing
    product's row error; the PMML writer checks each product against its interval instead. It is
    the interval of the same package with the step's outputs made input fields."""
    enc = package.encoders[index]
    outputs = [ir.Field(out, ir.NUMERIC) for out in enc.outputs]
    rest = package.encoders[:index] + package.encoders[index + 1 :]
    alone = dataclasses.replace(package, inputs=(*package.inputs, *outputs), encoders=rest, checks=None)
    return [interval(alone, out) for out in enc.outputs]


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
    *named, other_ok, missing_ok = _accepted(package, field.name, [*names, other, None])
    if other_ok:
        invalid = tuple(s for s, ok in zip(names, named) if not ok)
        return Validity(invalid=invalid, missing_invalid=not missing_ok)
    valid = tuple(s for s, ok in zip(names, named) if ok)
    return Validity(valid=valid, missing_invalid=not missing_ok, empty=not valid)
