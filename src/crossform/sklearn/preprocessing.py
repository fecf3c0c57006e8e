"""Encoders on string categories (OrdinalEncoder, OneHotEncoder) and the scalers."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

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
        raise UnsupportedEstimatorError(
            f"OrdinalEncoder(dtype={np.dtype(enc.dtype).name}) is not supported; use the default float64."
        )
    if len(enc.categories_) != len(cols):
        raise UnsupportedEstimatorError(
            f"OrdinalEncoder was fitted on {len(enc.categories_)} features but receives {len(cols)}."
        )
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
        return ir.CategoricalEncoding(
            features, tuple(categories), tuple(code_lists), tuple(missing_codes), unknown, outputs
        )

    return ctx.add_step(build, cols, [c.name for c in cols], [ir.NUMERIC] * len(cols))


def convert_standard_scaler(scaler: StandardScaler, ctx: Context, cols: list) -> list:
    n = len(cols)
    if scaler.n_features_in_ != n:
        raise UnsupportedEstimatorError(
            f"StandardScaler was fitted on {scaler.n_features_in_} features but receives {n}."
        )
    ctx.require(cols, ir.NUMERIC, "StandardScaler")
    # mean_ is learned even with with_mean=False; only the flags say what transform() does
    offset = np.asarray(scaler.mean_, dtype=np.float64) if scaler.with_mean else np.zeros(n)
    scale = np.asarray(scaler.scale_, dtype=np.float64) if scaler.with_std else np.ones(n)
    return ctx.add_step(lambda f, o: ir.Scale(f, offset, scale, o), cols, [c.name for c in cols], [ir.NUMERIC] * n)


def _numeric(scaler, ctx: Context, cols: list) -> int:
    name, n = type(scaler).__name__, len(cols)
    if scaler.n_features_in_ != n:
        raise UnsupportedEstimatorError(f"{name} was fitted on {scaler.n_features_in_} features but receives {n}.")
    ctx.require(cols, ir.NUMERIC, name)
    return n


def _scale_step(ctx: Context, cols: list, offset: np.ndarray, scale: np.ndarray) -> list:
    return ctx.add_step(
        lambda f, o: ir.Scale(f, offset, scale, o), cols, [c.name for c in cols], [ir.NUMERIC] * len(cols)
    )


def convert_robust_scaler(scaler: RobustScaler, ctx: Context, cols: list) -> list:
    # transform(): X -= center_ (with_centering), then X /= scale_ (with_scaling)
    n = _numeric(scaler, ctx, cols)
    offset = np.asarray(scaler.center_, dtype=np.float64) if scaler.with_centering else np.zeros(n)
    scale = np.asarray(scaler.scale_, dtype=np.float64) if scaler.with_scaling else np.ones(n)
    return _scale_step(ctx, cols, offset, scale)


def convert_max_abs_scaler(scaler: MaxAbsScaler, ctx: Context, cols: list) -> list:
    # transform(): X /= scale_; x - 0.0 is x, so Scale with offset 0 is bit-equal
    n = _numeric(scaler, ctx, cols)
    return _scale_step(ctx, cols, np.zeros(n), np.asarray(scaler.scale_, dtype=np.float64))


def convert_min_max_scaler(scaler: MinMaxScaler, ctx: Context, cols: list) -> list:
    # transform(): X *= scale_; X += min_ (then clip, when asked)
    n = _numeric(scaler, ctx, cols)
    if scaler.clip:
        raise UnsupportedEstimatorError(
            "MinMaxScaler(clip=True) is not supported yet: crossform has no clipping encoder; use clip=False, or "
            "add a converter through the plugin API (docs/plugins.md)."
        )
    scale = np.asarray(scaler.scale_, dtype=np.float64)
    offset = np.asarray(scaler.min_, dtype=np.float64)
    return ctx.add_step(lambda f, o: ir.Affine(f, scale, offset, o), cols, [c.name for c in cols], [ir.NUMERIC] * n)


def _string_categories(name: str, col, cats) -> tuple:
    known = [c for c in cats if not _is_missing(c)]
    for c in known:
        if not isinstance(c, (str, np.str_)):
            raise UnsupportedEstimatorError(
                f"{name} learned the non-string category {_plain(c)!r} for {col.name!r}; crossform encodes "
                "string categories (convert the column to strings before fitting)."
            )
    return [str(c) for c in known], len(known) < len(cats)


def convert_one_hot_encoder(enc: OneHotEncoder, ctx: Context, cols: list) -> list:
    """Ask the fitted encoder which column each known category, missing and an
    unknown category set, so dropping and infrequent grouping come out as
    scikit-learn does them."""
    if np.dtype(enc.dtype) != np.float64:
        raise UnsupportedEstimatorError(
            f"OneHotEncoder(dtype={np.dtype(enc.dtype).name}) is not supported; use the default float64."
        )
    if len(enc.categories_) != len(cols):
        raise UnsupportedEstimatorError(
            f"OneHotEncoder was fitted on {len(enc.categories_)} features but receives {len(cols)}."
        )
    ctx.require(cols, ir.CATEGORICAL, "OneHotEncoder")
    names = [str(n) for n in enc.get_feature_names_out([c.name for c in cols])]
    widths = [int(w) for w in enc._n_features_outs]  # scikit-learn's own per-feature block sizes
    if sum(widths) != len(names):  # pragma: no cover - a scikit-learn internals change
        raise UnsupportedEstimatorError("OneHotEncoder's output blocks do not add up to its output names.")
    strings, has_missing = zip(
        *(_string_categories("OneHotEncoder", col, cats) for col, cats in zip(cols, enc.categories_))
    )
    unknown_token = "\u00abcrossform unknown\u00bb"
    while any(unknown_token in s for s in strings):
        unknown_token += "?"
    # per feature: its known categories, NaN when it learned one, an unknown category unless that is an error
    probes = [
        list(known) + ([np.nan] if missing else []) + ([unknown_token] if enc.handle_unknown != "error" else [])
        for known, missing in zip(strings, has_missing)
    ]
    ends = np.cumsum(widths)
    categories, columns, missing_columns, unknown = [], [], [], []
    rows = max(len(p) for p in probes)
    table = np.empty((rows, len(cols)), dtype=object)
    for j, values in enumerate(probes):
        table[:, j] = list(values) + [values[0] if values else np.nan] * (rows - len(values))
    for j, (known, missing) in enumerate(zip(strings, has_missing)):
        one = table.copy()
        for k in range(len(cols)):  # the other features hold a known category (or NaN when they have none)
            if k != j:
                one[:, k] = strings[k][0] if strings[k] else np.nan
        block = _transform_block(enc, one, ends[j] - widths[j], ends[j])

        def column(r: int) -> int:
            hot = np.flatnonzero(block[r] == 1.0)
            return int(hot[0]) if hot.size else -1

        categories.append(tuple(known))
        columns.append([column(r) for r in range(len(known))])
        missing_columns.append(column(len(known)) if missing else None)
        if enc.handle_unknown == "error":
            unknown.append("error")
        else:
            c = column(len(known) + int(missing))
            unknown.append("zeros" if c < 0 else c)

    def build(features, outputs):
        return ir.OneHot(
            features, tuple(categories), tuple(columns), tuple(widths), tuple(missing_columns), tuple(unknown), outputs
        )

    return ctx.add_step(build, cols, names, [ir.NUMERIC] * len(names))


def _transform_block(enc: OneHotEncoder, table: np.ndarray, start: int, end: int) -> np.ndarray:
    import warnings

    data = table
    if hasattr(enc, "feature_names_in_"):
        import pandas as pd

        data = pd.DataFrame(table, columns=enc.feature_names_in_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # handle_unknown="warn" warns about the probe
        out = enc.transform(data)
    out = out.toarray() if hasattr(out, "toarray") else np.asarray(out)
    return np.asarray(out, dtype=np.float64)[:, start:end]


CONVERTERS = {
    OrdinalEncoder: convert_ordinal_encoder,
    OneHotEncoder: convert_one_hot_encoder,
    StandardScaler: convert_standard_scaler,
    RobustScaler: convert_robust_scaler,
    MaxAbsScaler: convert_max_abs_scaler,
    MinMaxScaler: convert_min_max_scaler,
}
