"""SimpleImputer, every strategy, as FillMissing.

After fit, every strategy (mean, median, most_frequent, constant, or a
callable) has become one fill value per feature (``statistics_``), which is
all FillMissing needs. A string fill value makes the column categorical.
"""

from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context


def _is_nan_marker(value) -> bool:
    return isinstance(value, float) and value != value


def convert_simple_imputer(imp: SimpleImputer, ctx: Context, cols: list) -> list:
    if imp.add_indicator:
        raise UnsupportedEstimatorError("SimpleImputer(add_indicator=True) is not supported yet; use add_indicator=False.")
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
            raise UnsupportedEstimatorError(f"SimpleImputer fill value {stat!r} for {col.name!r} is neither a number nor a string.")
    kinds = [ir.CATEGORICAL if isinstance(v, str) else ir.NUMERIC for v in values]
    ctx.require(kept, kinds, "SimpleImputer")
    ctx.require(passthrough, ir.NUMERIC, "SimpleImputer")
    filled = {}
    if kept:
        step = ctx.add_step(
            lambda features, outputs: ir.FillMissing(features, tuple(values), outputs),
            kept, [c.name for c in kept], kinds,
        )
        filled = {c.value: out for c, out in zip(kept, step)}
    return [filled.get(c.value, c) for c in cols if c.value in filled or c in passthrough]

CONVERTERS = {SimpleImputer: convert_simple_imputer}
