"""SimpleImputer, every strategy, as FillMissing; MissingIndicator.

After fit, every strategy (mean, median, most_frequent, constant, or a
callable) has become one fill value per feature (``statistics_``), which is
all FillMissing needs. A string fill value makes the column categorical.
``add_indicator=True`` appends the indicator columns of the features that
had missing values at fit, computed before filling, as scikit-learn does.
"""

from __future__ import annotations

import numpy as np
from sklearn.impute import MissingIndicator, SimpleImputer

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context


def _is_nan_marker(value) -> bool:
    return isinstance(value, float) and value != value


def _check_nan_marker(est) -> None:
    if not _is_nan_marker(est.missing_values):
        raise UnsupportedEstimatorError(
            f"{type(est).__name__}(missing_values={est.missing_values!r}) is not supported; crossform treats NaN "
            "and None as missing (missing_values=np.nan)."
        )


def _indicator(ind: MissingIndicator, ctx: Context, cols: list, by: str, kinds: list | None = None) -> list:
    """The indicator columns of ``ind`` (fitted) over ``cols`` (of ``kinds``, when known)."""
    _check_nan_marker(ind)
    if ind.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(f"{by} was fitted on {ind.n_features_in_} features but receives {len(cols)}.")
    index = np.asarray(ind.features_).tolist()
    if ind.error_on_new and ind.features == "missing-only" and len(index) < len(cols):
        # scikit-learn refuses a row with a missing value in a column that had none at fit
        strict = [c for i, c in enumerate(cols) if i not in set(index)]
        strict_kinds = [kinds[cols.index(c)] if kinds else (ctx.kind(c) or ir.NUMERIC) for c in strict]
        ctx.require(strict, strict_kinds, by)
        ctx.add_step(
            lambda f, o: ir.RefuseMissing(f, tuple(strict_kinds), o), strict, [c.name for c in strict], strict_kinds
        )
    chosen = [cols[i] for i in index]
    if not chosen:
        return []
    kinds = [kinds[i] if kinds else (ctx.kind(cols[i]) or ir.NUMERIC) for i in index]
    ctx.require(chosen, kinds, by)
    names = [str(n) for n in ind.get_feature_names_out([c.name for c in cols])]
    return ctx.add_step(lambda f, o: ir.MissingIndicator(f, tuple(kinds), o), chosen, names, [ir.NUMERIC] * len(chosen))


def convert_missing_indicator(ind: MissingIndicator, ctx: Context, cols: list) -> list:
    return _indicator(ind, ctx, cols, "MissingIndicator")


def convert_simple_imputer(imp: SimpleImputer, ctx: Context, cols: list) -> list:
    indicators = []
    if imp.add_indicator:
        # computed on the columns before filling; error_on_new is False inside SimpleImputer
        kinds = [
            ir.CATEGORICAL if isinstance(v, (str, np.str_)) else ir.NUMERIC
            for v in np.asarray(imp.statistics_, dtype=object)
        ]
        indicators = _indicator(imp.indicator_, ctx, cols, "SimpleImputer(add_indicator=True)", kinds)
    if not _is_nan_marker(imp.missing_values):
        raise UnsupportedEstimatorError(
            f"SimpleImputer(missing_values={imp.missing_values!r}) is not supported; crossform treats NaN and None "
            "as missing (missing_values=np.nan)."
        )
    stats = np.asarray(imp.statistics_, dtype=object)
    if len(stats) != len(cols):
        raise UnsupportedEstimatorError(f"SimpleImputer was fitted on {len(stats)} features but receives {len(cols)}.")
    kept, values = [], []
    passthrough = []
    for col, stat in zip(cols, stats):
        if isinstance(stat, (float, np.floating)) and stat != stat:
            if not imp.keep_empty_features:
                continue  # scikit-learn drops features it saw no value of
            passthrough.append(col)  # filled with NaN: a no-op
        elif isinstance(stat, (str, np.str_)):
            kept.append(col)
            values.append(str(stat))
        elif isinstance(stat, (int, float, np.integer, np.floating)) and not isinstance(stat, (bool, np.bool_)):
            kept.append(col)
            values.append(float(stat))
        else:
            raise UnsupportedEstimatorError(
                f"SimpleImputer fill value {stat!r} for {col.name!r} is neither a number nor a string."
            )
    kinds = [ir.CATEGORICAL if isinstance(v, str) else ir.NUMERIC for v in values]
    ctx.require(kept, kinds, "SimpleImputer")
    ctx.require(passthrough, ir.NUMERIC, "SimpleImputer")
    filled = {}
    if kept:
        step = ctx.add_step(
            lambda features, outputs: ir.FillMissing(features, tuple(values), outputs),
            kept,
            [c.name for c in kept],
            kinds,
        )
        filled = {c.value: out for c, out in zip(kept, step)}
    return [filled.get(c.value, c) for c in cols if c.value in filled or c in passthrough] + indicators


CONVERTERS = {SimpleImputer: convert_simple_imputer, MissingIndicator: convert_missing_indicator}
