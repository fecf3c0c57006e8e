"""Column selectors (sklearn.feature_selection): they keep the columns their fitted mask names.

Every selector shares SelectorMixin.transform: it validates its input, then
keeps the columns ``get_support()`` marks. What it computes is nothing; what
it refuses is the one thing to carry over. ``validate_data`` runs with
``ensure_all_finite=not get_tags(selector).input_tags.allow_nan``, so a
selector whose tags refuse NaN (the univariate filters; RFE, SelectFromModel
and SequentialFeatureSelector when their estimator refuses NaN) raises on a
NaN or an infinity in ANY column it receives, the dropped ones included. The
converter states that with a ``refuse-missing`` step over every column it
receives (which refuses NaN and +-inf, SEMANTICS.md), then passes the kept
columns on (none, in a ColumnTransformer branch whose selector kept nothing:
scikit-learn still calls its transform). Under ``set_output(transform="pandas")``
a DataFrame input skips that validation (``skip_check_array``), so nothing is
refused there.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_selection import (
    RFE,
    RFECV,
    GenericUnivariateSelect,
    SelectFdr,
    SelectFpr,
    SelectFromModel,
    SelectFwe,
    SelectKBest,
    SelectPercentile,
    SequentialFeatureSelector,
    VarianceThreshold,
)

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context


def _allows_nan(selector) -> bool:
    """The selector's allow_nan tag: ``get_tags`` from scikit-learn 1.6, the ``_get_tags`` dict before."""
    try:
        from sklearn.utils import get_tags
    except ImportError:
        return bool(selector._get_tags().get("allow_nan", False))
    return get_tags(selector).input_tags.allow_nan


def _refuses_non_finite(selector) -> bool:
    """Whether transform() raises on NaN or +-inf in any column, as SelectorMixin.transform decides it."""
    from sklearn.utils._set_output import _get_output_config

    if _allows_nan(selector):
        return False
    # A pipeline hands a DataFrame on where it was fitted on one; with pandas output
    # configured, transform() then skips check_array (skip_check_array=preserve_X).
    pandas_out = _get_output_config("transform", estimator=selector)["dense"] == "pandas"
    return not (pandas_out and hasattr(selector, "feature_names_in_"))


def convert_selector(selector, ctx: Context, cols: list) -> list:
    name = type(selector).__name__
    if selector.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} was fitted on {selector.n_features_in_} features but receives {len(cols)}."
        )
    mask = np.asarray(selector.get_support(), dtype=bool)
    if mask.shape != (len(cols),):  # pragma: no cover - a scikit-learn internals change
        raise UnsupportedEstimatorError(
            f"{name}.get_support() must give one flag per column ({len(cols)}). Got shape {mask.shape} instead."
        )
    if _refuses_non_finite(selector):
        ctx.require(cols, ir.NUMERIC, name)
        kinds = (ir.NUMERIC,) * len(cols)
        cols = ctx.add_step(
            lambda f, o: ir.RefuseMissing(f, kinds, o), cols, [c.name for c in cols], [ir.NUMERIC] * len(cols)
        )
    # none kept is a ColumnTransformer branch of no columns, whose transform still checks its input
    return [col for col, keep in zip(cols, mask) if keep]


CONVERTERS = {
    GenericUnivariateSelect: convert_selector,
    RFE: convert_selector,
    RFECV: convert_selector,
    SelectFdr: convert_selector,
    SelectFpr: convert_selector,
    SelectFromModel: convert_selector,
    SelectFwe: convert_selector,
    SelectKBest: convert_selector,
    SelectPercentile: convert_selector,
    SequentialFeatureSelector: convert_selector,
    VarianceThreshold: convert_selector,
}
