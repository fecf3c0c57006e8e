"""Encoders on string and numeric categories (OrdinalEncoder, OneHotEncoder) and the scalers."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import (
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
    TargetEncoder,
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
    kinds = _require(ctx, cols, enc.categories_, "OrdinalEncoder")
    probes, strings, has_missing = [], [], []
    for col, cats, kind in zip(cols, enc.categories_, kinds):
        known, missing, names = _known_categories("OrdinalEncoder", col, cats, kind)
        strings.append(names)
        has_missing.append(missing)
        probes.append(list(known) + ([np.nan] if missing else []))
    cols = _number_categories(ctx, cols, enc.categories_, kinds)
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


UNKNOWN_NUMBER = "\u00abunknown number\u00bb"  # what a number-category step names an unknown number


def _numeric_kind(cats) -> bool:
    """Whether scikit-learn learned numbers for this feature (integer, boolean or float categories,
    also as the objects of a pandas object column)."""
    cats = np.asarray(cats)
    if cats.dtype.kind in "biuf":
        return True
    known = [c for c in cats.tolist() if not _is_missing(c)]
    return bool(known) and all(isinstance(c, (bool, int, float, np.bool_, np.number)) for c in known)


def _require(ctx: Context, cols: list, categories: list, by: str) -> list:
    """Each feature's kind: numeric where scikit-learn learned numbers, else categorical."""
    kinds = [ir.NUMERIC if _numeric_kind(cats) else ir.CATEGORICAL for cats in categories]
    ctx.require(cols, kinds, by)
    return kinds


def _category_name(value) -> str:
    """The category a number stands for, as text: what the encoder after a number-category step
    matches (True, 3, 2.5: scikit-learn's own spelling of the category)."""
    return str(_plain(value))


def _known_categories(name: str, col, cats, kind: str) -> tuple:
    """(the known categories as scikit-learn holds them, whether it learned a missing one,
    their names in the package). Numbers must be exact in float64."""
    known = [c for c in cats if not _is_missing(c)]
    if kind == ir.NUMERIC:
        for c in known:
            if float(c) != c or (isinstance(_plain(c), int) and int(float(c)) != c):
                raise UnsupportedEstimatorError(
                    f"{name} learned the category {_plain(c)!r} for {col.name!r}, which float64 cannot hold "
                    "exactly; crossform compares numeric categories as float64 values."
                )
        if len({float(c) for c in known}) != len(known):  # pragma: no cover - scikit-learn's categories are unique
            raise UnsupportedEstimatorError(f"{name} learned categories for {col.name!r} that are equal in float64.")
        return known, len(known) < len(cats), [_category_name(c) for c in known]
    for c in known:
        if not isinstance(c, (str, np.str_)):
            raise UnsupportedEstimatorError(
                f"{name} learned the category {_plain(c)!r} ({type(_plain(c)).__name__}) for {col.name!r} among "
                "strings; crossform encodes string categories or numeric ones (integers, booleans, floats), "
                "not a mixture."
            )
    return known, len(known) < len(cats), [str(c) for c in known]


def _unknown_probe(known: list, kind: str, token: str):
    """A value scikit-learn has not seen: a number past the known ones, or a string."""
    if kind != ir.NUMERIC:
        return token
    return max((float(c) for c in known), default=0.0) + 0.5


def _number_categories(ctx: Context, cols: list, categories: list, kinds: list) -> list:
    """The columns as categories: a number-category step names each numeric feature's value
    by its category (``_category_name``); string features pass as they are."""
    numeric = [j for j, kind in enumerate(kinds) if kind == ir.NUMERIC]
    if not numeric:
        return cols
    values, names = [], []
    for j in numeric:
        known = [c for c in categories[j] if not _is_missing(c)]
        values.append(np.array([float(c) for c in known], dtype=np.float64))
        names.append(tuple(_category_name(c) for c in known))
    inputs = [cols[j] for j in numeric]
    outs = ctx.add_step(
        lambda f, o: ir.NumberCategory(f, tuple(values), tuple(names), UNKNOWN_NUMBER, o),
        inputs,
        [c.name for c in inputs],
        [ir.CATEGORICAL] * len(inputs),
    )
    out = list(cols)
    for j, col in zip(numeric, outs):
        out[j] = col
    return out


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
    kinds = _require(ctx, cols, enc.categories_, "OneHotEncoder")
    names = [str(n) for n in enc.get_feature_names_out([c.name for c in cols])]
    widths = [int(w) for w in enc._n_features_outs]  # scikit-learn's own per-feature block sizes
    if sum(widths) != len(names):  # pragma: no cover - a scikit-learn internals change
        raise UnsupportedEstimatorError("OneHotEncoder's output blocks do not add up to its output names.")
    known_values, has_missing, strings = zip(
        *(_known_categories("OneHotEncoder", col, cats, kind) for col, cats, kind in zip(cols, enc.categories_, kinds))
    )
    unknown_token = "\u00abcrossform unknown\u00bb"
    while any(unknown_token in s for s in strings):
        unknown_token += "?"
    # per feature: its known categories, NaN when it learned one, an unknown category unless that is an error
    probes = [
        list(known)
        + ([np.nan] if missing else [])
        + ([_unknown_probe(known, kind, unknown_token)] if enc.handle_unknown != "error" else [])
        for known, missing, kind in zip(known_values, has_missing, kinds)
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
                one[:, k] = known_values[k][0] if known_values[k] else np.nan
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

    cols = _number_categories(ctx, cols, enc.categories_, kinds)
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


def convert_kbins_discretizer(kb: KBinsDiscretizer, ctx: Context, cols: list) -> list:
    """transform(): ``np.searchsorted(bin_edges_[j][1:-1], x, side="right")`` on the float64
    column (every strategy only chose the edges), after an input check that refuses NaN and
    +-inf; then, for encode="onehot"/"onehot-dense", a OneHotEncoder over the bin numbers
    0..n_bins_[j]-1 (all known, no drop)."""
    n = _numeric(kb, ctx, cols)
    if kb.dtype is not None and np.dtype(kb.dtype) != np.float64:
        raise UnsupportedEstimatorError(
            f"KBinsDiscretizer(dtype={np.dtype(kb.dtype).name}) bins float32 values; crossform bins float64 ones "
            "(use the default dtype=None, or np.float64)."
        )
    edges = tuple(np.asarray(e, dtype=np.float64)[1:-1] for e in kb.bin_edges_)
    binned = ctx.add_step(lambda f, o: ir.Binning(f, edges, o), cols, [c.name for c in cols], [ir.NUMERIC] * n)
    if kb.encode == "ordinal":
        return binned
    counts = [len(e) + 1 for e in edges]
    numbers = [np.arange(k, dtype=np.float64) for k in counts]
    names = [tuple(str(k) for k in range(c)) for c in counts]
    named = ctx.add_step(
        lambda f, o: ir.NumberCategory(f, tuple(numbers), tuple(names), UNKNOWN_NUMBER, o),
        binned,
        [c.name for c in binned],
        [ir.CATEGORICAL] * n,
    )
    outputs = [str(name) for name in kb.get_feature_names_out([c.name for c in cols])]
    if len(outputs) != sum(counts):  # pragma: no cover - a scikit-learn internals change
        raise UnsupportedEstimatorError("KBinsDiscretizer's one-hot columns do not add up to its bins.")

    def build(features, outs):
        return ir.OneHot(
            features,
            tuple(names),
            tuple(list(range(c)) for c in counts),
            tuple(counts),
            (None,) * n,
            ("error",) * n,
            outs,
        )

    return ctx.add_step(build, named, outputs, [ir.NUMERIC] * len(outputs))


def convert_target_encoder(enc: TargetEncoder, ctx: Context, cols: list) -> list:
    """transform() (not fit_transform's cross fitting): a known category takes its learned
    encoding, an unknown one, or NaN when no NaN was seen at fit, ``target_mean_``; +-inf is
    refused (``ensure_all_finite="allow-nan"``). A label-encoder with float codes per class
    (one for a binary or continuous target), the codes asked of the fitted encoder itself."""
    if len(enc.categories_) != len(cols):
        raise UnsupportedEstimatorError(
            f"TargetEncoder was fitted on {len(enc.categories_)} features but receives {len(cols)}."
        )
    kinds = _require(ctx, cols, enc.categories_, "TargetEncoder")
    known, has_missing, strings = zip(
        *(_known_categories("TargetEncoder", col, cats, kind) for col, cats, kind in zip(cols, enc.categories_, kinds))
    )
    codes = _codes(enc, [list(k) + ([np.nan] if m else []) for k, m in zip(known, has_missing)])
    means = np.atleast_1d(np.asarray(enc.target_mean_, dtype=np.float64))
    n_classes = len(enc.classes_) if enc.target_type_ == "multiclass" else 1
    if codes.shape[1] != len(cols) * n_classes or len(means) != n_classes:  # pragma: no cover - internals
        raise UnsupportedEstimatorError("TargetEncoder's outputs do not match its features and classes.")
    names = [str(n) for n in enc.get_feature_names_out([c.name for c in cols])]
    categorical = _number_categories(ctx, cols, enc.categories_, kinds)
    out: list = [None] * len(names)
    for c in range(n_classes):
        columns = [j * n_classes + c for j in range(len(cols))]
        code_lists = tuple(codes[: len(known[j]), k] for j, k in enumerate(columns))
        missing = tuple(float(codes[len(known[j]), k]) if has_missing[j] else None for j, k in enumerate(columns))
        mean = float(means[c])

        def build(features, outputs, code_lists=code_lists, missing=missing, mean=mean):
            return ir.CategoricalEncoding(features, tuple(map(tuple, strings)), code_lists, missing, mean, outputs)

        made = ctx.add_step(build, categorical, [names[k] for k in columns], [ir.NUMERIC] * len(cols))
        for k, col in zip(columns, made):
            out[k] = col
    return out


CONVERTERS = {
    OrdinalEncoder: convert_ordinal_encoder,
    OneHotEncoder: convert_one_hot_encoder,
    StandardScaler: convert_standard_scaler,
    RobustScaler: convert_robust_scaler,
    MaxAbsScaler: convert_max_abs_scaler,
    MinMaxScaler: convert_min_max_scaler,
    KBinsDiscretizer: convert_kbins_discretizer,
    TargetEncoder: convert_target_encoder,
}
