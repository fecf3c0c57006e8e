"""OrdinalEncoder on string categories, and StandardScaler."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context


def _plain(value):
    """A numpy scalar as the Python value it holds, for messages."""
    return value.item() if isinstance(value, np.generic) else value


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and value != value)


def _codes(enc: OrdinalEncoder, columns: list) -> np.ndarray:
    """Ask the fitted encoder itself for the code of each known category, so
    that infrequent-category grouping comes out as scikit-learn does it."""
    rows = max(len(c) for c in columns)
    table = np.empty((rows, len(columns)), dtype=object)
    for j, values in enumerate(columns):
        table[:, j] = list(values) + [values[0]] * (rows - len(values))
    if hasattr(enc, "feature_names_in_"):
        import pandas as pd

        table = pd.DataFrame(table, columns=enc.feature_names_in_)
    return np.asarray(enc.transform(table), dtype=np.float64)


def convert_ordinal_encoder(enc: OrdinalEncoder, ctx: Context, cols: list) -> list:
    if np.dtype(enc.dtype) != np.float64:
        raise UnsupportedEstimatorError(f"OrdinalEncoder(dtype={np.dtype(enc.dtype).name}) is not supported; use the default float64.")
    if len(enc.categories_) != len(cols):
        raise UnsupportedEstimatorError(f"OrdinalEncoder was fitted on {len(enc.categories_)} features but receives {len(cols)}.")
    ctx.require(cols, ir.CATEGORICAL, "OrdinalEncoder")
    probes, strings, has_missing = [], [], []
    for col, cats in zip(cols, enc.categories_):
        known = [c for c in cats if not _is_missing(c)]
        for c in known:
            if not isinstance(c, (str, np.str_)):
                raise UnsupportedEstimatorError(
                    f"OrdinalEncoder learned the non-string category {_plain(c)!r} for "
                    f"{col.name!r}; crossform encodes "
                    "string categories (convert the column to strings before fitting)."
                )
        strings.append([str(c) for c in known])
        has_missing.append(len(known) < len(cats))
        probes.append(list(known) + ([np.nan] if len(known) < len(cats) else []))
    codes = _codes(enc, probes)
    categories, code_lists, missing_codes = [], [], []
    for j, (known, missing) in enumerate(zip(strings, has_missing)):
        categories.append(tuple(known))
        code_lists.append(codes[: len(known), j])
        missing_codes.append(float(codes[len(known), j]) if missing else None)
    unknown = None if enc.handle_unknown == "error" else float(enc.unknown_value)

    def build(features, outputs):
        return ir.CategoricalEncoding(features, tuple(categories), tuple(code_lists), tuple(missing_codes), unknown, outputs)

    return ctx.add_step(build, cols, [c.name for c in cols], [ir.NUMERIC] * len(cols))


def convert_standard_scaler(scaler: StandardScaler, ctx: Context, cols: list) -> list:
    n = len(cols)
    if scaler.n_features_in_ != n:
        raise UnsupportedEstimatorError(f"StandardScaler was fitted on {scaler.n_features_in_} features but receives {n}.")
    ctx.require(cols, ir.NUMERIC, "StandardScaler")
    # mean_ is learned even with with_mean=False; only the flags say what transform() does
    offset = np.asarray(scaler.mean_, dtype=np.float64) if scaler.with_mean else np.zeros(n)
    scale = np.asarray(scaler.scale_, dtype=np.float64) if scaler.with_std else np.ones(n)
    return ctx.add_step(lambda f, o: ir.Scale(f, offset, scale, o), cols, [c.name for c in cols], [ir.NUMERIC] * n)


CONVERTERS = {
    OrdinalEncoder: convert_ordinal_encoder,
    StandardScaler: convert_standard_scaler,
}
