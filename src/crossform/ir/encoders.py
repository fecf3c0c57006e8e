"""The encoder kinds: steps that map some named columns of a row to named output columns.

Each kind has an ``encoder_type`` (its name on disk, which never changes) and
``kinds()``, the column kinds it reads and writes, which Package checks
against the columns before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Union

import numpy as np

from ._validation import check_finite, describe, frozen_array, invalid, is_text, name_tuple, valid_number, valid_text
from .fields import CATEGORICAL, KINDS, NUMERIC


def _outputs(owner: str, features: tuple, outputs: Any) -> tuple:
    """Output names default to the inputs (an in-place update).

    Output ``i`` may overwrite input ``i`` but no other input of the same
    step, so that evaluating the features one at a time, in place, is
    equivalent to evaluating them all at once.
    """
    if len(set(features)) != len(features):
        raise invalid(owner, "features", "distinct names", list(features))
    if outputs is None or (isinstance(outputs, Sequence) and not isinstance(outputs, str) and len(outputs) == 0):
        return features
    outs = name_tuple(owner, "outputs", outputs)
    if len(outs) != len(features):
        raise invalid(owner, "outputs", f"{len(features)} names, one per feature", f"{len(outs)} names")
    if len(set(outs)) != len(outs):
        raise invalid(owner, "outputs", "distinct names", list(outs))
    position = {name: i for i, name in enumerate(features)}
    for i, out in enumerate(outs):
        if position.get(out, i) != i:
            raise invalid(
                owner, "outputs", f"names that overwrite no other input than their own (output {i})", repr(out)
            )
    return outs


def _kinds_per_feature(owner: str, features: tuple, kinds_in: object) -> tuple:
    """``kinds_in`` as a tuple: one kind from KINDS per feature, the kind each feature is read as."""
    kinds = tuple(kinds_in) if isinstance(kinds_in, Sequence) and not isinstance(kinds_in, str) else None
    if kinds is None or len(kinds) != len(features) or any(k not in KINDS for k in kinds):
        raise invalid(owner, "kinds_in", f"{len(features)} kinds from {KINDS}, one per feature", describe(kinds_in))
    return kinds


@dataclass(frozen=True)
class FillMissing:
    """Replace a missing value of each feature by a fixed value.

    A number fills a numeric feature, a string fills a categorical one.
    """

    encoder_type: ClassVar[str] = "fill-missing"
    features: tuple
    values: tuple
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "FillMissing"
        features = name_tuple(owner, "features", self.features)
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Sequence):
            raise invalid(owner, "values", "a sequence of fill values", describe(self.values))
        if len(self.values) != len(features):
            raise invalid(owner, "values", f"{len(features)} values, one per feature", f"{len(self.values)} values")
        values = tuple(
            valid_text(owner, "values", v) if isinstance(v, str) else valid_number(owner, "values", v, allow_nan=False)
            for v in self.values
        )
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "outputs", _outputs(owner, features, self.outputs))

    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        kinds = tuple(CATEGORICAL if isinstance(v, str) else NUMERIC for v in self.values)
        return kinds, kinds


@dataclass(frozen=True, eq=False)
class CategoricalEncoding:
    """Map each categorical feature's string categories to numeric codes.

    ``categories[i]`` and ``codes[i]`` pair feature i's known categories with
    their codes (several categories may share a code). A missing value
    becomes ``missing_codes[i]``, or, when that is None, is treated like an
    unknown category. An unknown category is a row error when
    ``unknown_code`` is None, else it becomes ``unknown_code`` (NaN allowed).
    Categories are kept sorted, so equal encodings compare and hash equal.
    """

    encoder_type: ClassVar[str] = "label-encoder"
    features: tuple
    categories: tuple
    codes: tuple
    missing_codes: tuple
    unknown_code: Union[float, None] = None
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "CategoricalEncoding"
        features = name_tuple(owner, "features", self.features)
        n = len(features)
        for name in ("categories", "codes", "missing_codes"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != n:
                raise invalid(owner, name, f"a sequence of {n} entries, one per feature", describe(value))
        categories, codes = [], []
        for i, (cats, vals) in enumerate(zip(self.categories, self.codes)):
            cats = _categories(owner, cats, i)
            vals = frozen_array(owner, "codes", vals, np.float64, 1)
            if len(vals) != len(cats):
                raise invalid(owner, "codes", f"{len(cats)} codes for feature {features[i]!r}", f"{len(vals)} codes")
            check_finite(owner, "codes", vals)
            order = sorted(range(len(cats)), key=cats.__getitem__)
            sorted_codes = vals[order]
            sorted_codes.setflags(write=False)
            categories.append(tuple(cats[j] for j in order))
            codes.append(sorted_codes)
        missing = tuple(
            None if m is None else valid_number(owner, "missing_codes", m, allow_nan=True) for m in self.missing_codes
        )
        unknown = (
            None
            if self.unknown_code is None
            else valid_number(owner, "unknown_code", self.unknown_code, allow_nan=True)
        )
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "categories", tuple(categories))
        object.__setattr__(self, "codes", tuple(codes))
        object.__setattr__(self, "missing_codes", missing)
        object.__setattr__(self, "unknown_code", unknown)
        object.__setattr__(self, "outputs", _outputs(owner, features, self.outputs))

    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        n = len(self.features)
        return (CATEGORICAL,) * n, (NUMERIC,) * n


def _categories(owner: str, cats: Any, i: int) -> tuple:
    if isinstance(cats, (str, bytes)) or not isinstance(cats, (Sequence, np.ndarray)):
        raise invalid(owner, "categories", "a sequence of strings per feature", describe(cats))
    cats = tuple(cats)
    for cat in cats:
        if not is_text(cat):
            raise invalid(owner, "categories", f"strings (feature {i})", describe(cat))
    if len(set(cats)) != len(cats):
        raise invalid(owner, "categories", f"distinct strings (feature {i})", "a repeated category")
    return cats


def _numeric_step(step: Any, owner: str, names: tuple) -> tuple:
    """Validate and freeze a per-feature numeric step: its features, one finite
    float64 per feature in each array named, and its outputs."""
    features = name_tuple(owner, "features", step.features)
    arrays = {}
    for name in names:
        arr = frozen_array(owner, name, getattr(step, name), np.float64, 1)
        if len(arr) != len(features):
            raise invalid(owner, name, f"{len(features)} numbers, one per feature", f"{len(arr)} numbers")
        check_finite(owner, name, arr)
        arrays[name] = arr
    object.__setattr__(step, "features", features)
    for name, arr in arrays.items():
        object.__setattr__(step, name, arr)
    object.__setattr__(step, "outputs", _outputs(owner, features, step.outputs))
    return features, arrays


def _numeric_kinds(step: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    n = len(step.features)
    return (NUMERIC,) * n, (NUMERIC,) * n


@dataclass(frozen=True, eq=False)
class Scale:
    """Standardise numeric features: ``(x - offset) / scale`` in float64."""

    encoder_type: ClassVar[str] = "standard-scaler"
    features: tuple
    offset: np.ndarray
    scale: np.ndarray
    outputs: tuple = ()

    def __post_init__(self) -> None:
        features, arrays = _numeric_step(self, "Scale", ("offset", "scale"))
        scale = arrays["scale"]
        if (scale == 0).any():
            raise invalid(
                "Scale", "scale", "non-zero numbers", f"0.0 for feature {features[int(np.argmax(scale == 0))]!r}"
            )

    kinds = _numeric_kinds


@dataclass(frozen=True, eq=False)
class Affine:
    """Rescale numeric features: ``x * scale + offset`` in float64, multiply first.

    scikit-learn's MinMaxScaler computes exactly this (``X *= scale_; X += min_``),
    which is not bit-equal to :class:`Scale`'s ``(x - offset) / scale``.
    """

    encoder_type: ClassVar[str] = "affine"
    features: tuple
    scale: np.ndarray
    offset: np.ndarray
    outputs: tuple = ()

    def __post_init__(self) -> None:
        _numeric_step(self, "Affine", ("scale", "offset"))

    kinds = _numeric_kinds


@dataclass(frozen=True)
class MissingIndicator:
    """1.0 where a feature is missing (NaN, or None for a categorical one), else 0.0.

    ``kinds_in`` records each feature's kind, so the step reads the same
    columns in every format.
    """

    encoder_type: ClassVar[str] = "missing-indicator"
    features: tuple
    kinds_in: tuple
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "MissingIndicator"
        features = name_tuple(owner, "features", self.features)
        kinds = _kinds_per_feature(owner, features, self.kinds_in)
        outputs = _outputs(owner, features, self.outputs)
        for i, (name, out) in enumerate(zip(features, outputs)):
            if out == name and kinds[i] == CATEGORICAL:
                raise invalid(
                    owner,
                    "outputs",
                    "new names for categorical features (a numeric indicator cannot overwrite a categorical column)",
                    repr(out),
                )
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "kinds_in", kinds)
        object.__setattr__(self, "outputs", outputs)

    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.kinds_in, (NUMERIC,) * len(self.features)


@dataclass(frozen=True)
class RefuseMissing:
    """A missing value of any of these features is a row error; values pass unchanged.

    scikit-learn's ``MissingIndicator(error_on_new=True)`` refuses a row with a
    missing value in a column that had none at fit. ``kinds_in`` records each
    feature's kind (numeric NaN, categorical None); a numeric +-inf is a row
    error too, as in every numeric encoder.
    """

    encoder_type: ClassVar[str] = "refuse-missing"
    features: tuple
    kinds_in: tuple
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "RefuseMissing"
        features = name_tuple(owner, "features", self.features)
        kinds = _kinds_per_feature(owner, features, self.kinds_in)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "kinds_in", kinds)
        object.__setattr__(self, "outputs", _outputs(owner, features, self.outputs))

    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.kinds_in, self.kinds_in


UNKNOWN_POLICIES = ("error", "zeros")


@dataclass(frozen=True, eq=False)
class OneHot:
    """Expand each categorical feature into indicator columns (1.0 or 0.0).

    Feature i writes ``widths[i]`` consecutive outputs. Its known category
    ``categories[i][j]`` sets output ``columns[i][j]`` of its block to 1.0
    (-1: a dropped category, all zeros). A missing value is the category
    ``missing_columns[i]`` (same convention), or, when None, unknown. An
    unknown category is a row error under ``unknown[i] == "error"``, all
    zeros under ``"zeros"``, or sets the given column (the infrequent one).
    Categories are kept sorted, so equal encodings compare and hash equal.
    """

    encoder_type: ClassVar[str] = "one-hot"
    features: tuple
    categories: tuple
    columns: tuple
    widths: tuple
    missing_columns: tuple
    unknown: tuple
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "OneHot"
        features = name_tuple(owner, "features", self.features)
        if len(set(features)) != len(features):
            raise invalid(owner, "features", "distinct names", list(features))
        n = len(features)
        for name in ("categories", "columns", "widths", "missing_columns", "unknown"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != n:
                raise invalid(owner, name, f"a sequence of {n} entries, one per feature", describe(value))
        widths = []
        for i, w in enumerate(self.widths):
            if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, np.integer)) or not 0 <= int(w) <= 1_000_000:
                raise invalid(
                    owner, "widths", f"a number of columns from 0 to 1000000 (feature {features[i]!r})", describe(w)
                )
            widths.append(int(w))

        def column(i: int, name: str, value: Any) -> int:
            if (
                isinstance(value, (bool, np.bool_))
                or not isinstance(value, (int, np.integer))
                or not -1 <= int(value) < widths[i]
            ):
                raise invalid(
                    owner,
                    name,
                    f"a column index from -1 to {widths[i] - 1} (feature {features[i]!r})",
                    describe(value),
                )
            return int(value)

        categories, columns, missing, unknown = [], [], [], []
        for i in range(n):
            cats = _categories(owner, self.categories[i], i)
            cols = frozen_array(owner, "columns", self.columns[i], np.int32, 1)
            if len(cols) != len(cats):
                raise invalid(
                    owner, "columns", f"{len(cats)} column indices for feature {features[i]!r}", f"{len(cols)}"
                )
            cols = [column(i, "columns", c) for c in cols.tolist()]
            order = sorted(range(len(cats)), key=cats.__getitem__)
            categories.append(tuple(cats[j] for j in order))
            sorted_cols = np.array([cols[j] for j in order], dtype=np.int32)
            sorted_cols.setflags(write=False)
            columns.append(sorted_cols)
            m = self.missing_columns[i]
            missing.append(None if m is None else column(i, "missing_columns", m))
            u = self.unknown[i]
            if isinstance(u, str):
                if u not in UNKNOWN_POLICIES:
                    raise invalid(owner, "unknown", f"one of {UNKNOWN_POLICIES} or a column index", describe(u))
                unknown.append(u)
            else:
                unknown.append(column(i, "unknown", u))
        width = sum(widths)
        if width == 0:
            raise invalid(owner, "widths", "at least one output column in all", "0 columns")
        outs = name_tuple(owner, "outputs", self.outputs)
        if len(outs) != width:
            raise invalid(owner, "outputs", f"{width} names, one per column", f"{len(outs)} names")
        if len(set(outs)) != len(outs) or set(outs) & set(features):
            raise invalid(owner, "outputs", "distinct names that overwrite no input", list(outs)[:10])
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "categories", tuple(categories))
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "widths", tuple(widths))
        object.__setattr__(self, "missing_columns", tuple(missing))
        object.__setattr__(self, "unknown", tuple(unknown))
        object.__setattr__(self, "outputs", outs)

    def blocks(self) -> tuple:
        """The output names of each feature's block."""
        ends = np.cumsum(self.widths).tolist()
        return tuple(self.outputs[e - w : e] for e, w in zip(ends, self.widths))

    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (CATEGORICAL,) * len(self.features), (NUMERIC,) * len(self.outputs)


@dataclass(frozen=True, eq=False)
class NumberCategory:
    """Name each numeric feature's value by the category it stands for (a string).

    A number equal in float64 to ``values[i][k]`` (``-0.0`` equals ``0.0``) becomes
    ``categories[i][k]``; NaN becomes missing; any other finite number becomes ``unknown``, a
    string none of the categories is, so the categorical encoder after it finds it unknown;
    +-inf is a row error, as in every numeric encoder. scikit-learn's OrdinalEncoder and
    OneHotEncoder match numeric categories this way (exact equality, NaN the missing one).
    Values are kept sorted, so equal steps compare and hash equal.
    """

    encoder_type: ClassVar[str] = "number-category"
    features: tuple
    values: tuple
    categories: tuple
    unknown: str
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "NumberCategory"
        features = name_tuple(owner, "features", self.features)
        n = len(features)
        for name in ("values", "categories"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != n:
                raise invalid(owner, name, f"a sequence of {n} entries, one per feature", describe(value))
        unknown = valid_text(owner, "unknown", self.unknown) if isinstance(self.unknown, str) else None
        if unknown is None:
            raise invalid(owner, "unknown", "a string", describe(self.unknown))
        values, categories = [], []
        for i, (vals, cats) in enumerate(zip(self.values, self.categories)):
            vals = np.array(frozen_array(owner, "values", vals, np.float64, 1))
            check_finite(owner, "values", vals)
            vals[vals == 0.0] = 0.0  # -0.0 equals 0.0: one spelling
            cats = _categories(owner, cats, i)
            if len(cats) != len(vals):
                raise invalid(owner, "categories", f"{len(vals)} categories for feature {features[i]!r}", len(cats))
            if len(np.unique(vals)) != len(vals):
                raise invalid(owner, "values", f"distinct numbers (feature {features[i]!r})", "a repeated number")
            if unknown in cats:
                raise invalid(owner, "unknown", f"a string no category of feature {features[i]!r} is", repr(unknown))
            order = np.argsort(vals, kind="stable")
            sorted_vals = vals[order]
            sorted_vals.setflags(write=False)
            values.append(sorted_vals)
            categories.append(tuple(cats[k] for k in order.tolist()))
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "values", tuple(values))
        object.__setattr__(self, "categories", tuple(categories))
        object.__setattr__(self, "unknown", unknown)
        object.__setattr__(self, "outputs", _outputs(owner, features, self.outputs))

    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        n = len(self.features)
        return (NUMERIC,) * n, (CATEGORICAL,) * n


@dataclass(frozen=True, eq=False)
class Binning:
    """Give each numeric feature's value the number of its bin: how many of ``edges[i]`` are at
    most x (0 below the first edge, ``len(edges[i])`` from the last one on), in float64.

    scikit-learn's KBinsDiscretizer computes ``np.searchsorted(bin_edges_[i][1:-1], x,
    side="right")``: the inner edges, so the outer bins take every number beyond them. NaN and
    +-inf are row errors (its input check refuses them). Edges are finite and non-decreasing;
    ``-0.0`` is kept as ``0.0`` (they compare equal).
    """

    encoder_type: ClassVar[str] = "binning"
    features: tuple
    edges: tuple
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "Binning"
        features = name_tuple(owner, "features", self.features)
        n = len(features)
        if isinstance(self.edges, (str, bytes)) or not isinstance(self.edges, Sequence) or len(self.edges) != n:
            raise invalid(owner, "edges", f"a sequence of {n} entries, one per feature", describe(self.edges))
        edges = []
        for i, values in enumerate(self.edges):
            values = np.array(frozen_array(owner, "edges", values, np.float64, 1))
            check_finite(owner, "edges", values)
            if (np.diff(values) < 0).any():
                raise invalid(owner, "edges", f"non-decreasing numbers (feature {features[i]!r})", values.tolist())
            values[values == 0.0] = 0.0
            values.setflags(write=False)
            edges.append(values)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "edges", tuple(edges))
        object.__setattr__(self, "outputs", _outputs(owner, features, self.outputs))

    kinds = _numeric_kinds


MAX_FACTORS = 64  # factors of one product: PolynomialFeatures' degree, far above any real one


@dataclass(frozen=True)
class Product:
    """Columns computed from several numeric features: output k is the product of the features
    ``factors[k]`` names (indices into ``features``), multiplied in that order as a left fold in
    float64, ``((a * b) * c) * ...``; one factor copies it, none gives 1.0.

    The order is part of the kind, since float64 multiplication is not associative: scikit-learn's
    PolynomialFeatures computes each degree-d term as a degree-(d-1) term times one input column,
    which a left fold in that order reproduces bit for bit. NaN and +-inf in any feature are row
    errors (its input check refuses them), in every feature, read by a product or not; a product
    that overflows is +-inf, as in scikit-learn. Outputs are new columns: they overwrite no feature.
    """

    encoder_type: ClassVar[str] = "product"
    features: tuple
    factors: tuple
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "Product"
        features = name_tuple(owner, "features", self.features)
        if len(set(features)) != len(features):
            raise invalid(owner, "features", "distinct names", list(features))
        if isinstance(self.factors, (str, bytes)) or not isinstance(self.factors, Sequence) or not self.factors:
            raise invalid(
                owner, "factors", "a non-empty sequence of factor lists, one per output", describe(self.factors)
            )
        factors = []
        n = len(features)
        for k, term in enumerate(self.factors):
            if (
                isinstance(term, (str, bytes))
                or not isinstance(term, (Sequence, np.ndarray))
                or len(term) > MAX_FACTORS
            ):
                raise invalid(
                    owner,
                    "factors",
                    f"a sequence of at most {MAX_FACTORS} feature indices (output {k})",
                    describe(term),
                )
            for i in term:
                if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n:
                    raise invalid(owner, "factors", f"feature indices from 0 to {n - 1} (output {k})", describe(i))
            factors.append(tuple(int(i) for i in term))
        outs = name_tuple(owner, "outputs", self.outputs)
        if len(outs) != len(factors):
            raise invalid(owner, "outputs", f"{len(factors)} names, one per product", f"{len(outs)} names")
        if len(set(outs)) != len(outs) or set(outs) & set(features):
            raise invalid(owner, "outputs", "distinct names that overwrite no feature", list(outs)[:10])
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "factors", tuple(factors))
        object.__setattr__(self, "outputs", outs)

    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (NUMERIC,) * len(self.features), (NUMERIC,) * len(self.outputs)


MAX_PROJECTION_INPUTS = 100_000  # inputs of one projection: far above any real PCA
CENTRINGS = ("after", "before")


@dataclass(frozen=True, eq=False)
class Projection:
    """Columns projected from several numeric features (scikit-learn's PCA transform): output k
    is a float64 left fold over the features in order (``features`` order, the first term first,
    then each next one added), then divided by ``divisors[k]`` when there are divisors (whiten).

    ``centring`` says where the mean goes, as the fitting release wrote it: ``"after"`` (1.5 and
    later, ``X @ components_.T - mean_ @ components_.T``): the fold of ``x_j * c_kj`` minus the
    fold of ``m_j * c_kj``; ``"before"`` (1.4, ``(X - mean_) @ components_.T``): the fold of
    ``(x_j - m_j) * c_kj``. NaN and +-inf in any feature are row errors (the input check refuses
    them); a projection that overflows is +-inf, as in scikit-learn. Outputs are new columns.
    """

    encoder_type: ClassVar[str] = "projection"
    features: tuple
    mean: Any
    components: Any
    outputs: tuple = ()
    divisors: Any = None
    centring: str = "after"

    def __post_init__(self) -> None:
        owner = "Projection"
        features = name_tuple(owner, "features", self.features)
        n = len(features)
        if len(set(features)) != n:
            raise invalid(owner, "features", "distinct names", list(features))
        if n > MAX_PROJECTION_INPUTS:
            raise invalid(owner, "features", f"at most {MAX_PROJECTION_INPUTS} names", f"{n} names")
        mean = frozen_array(owner, "mean", self.mean, np.float64, 1)
        if len(mean) != n:
            raise invalid(owner, "mean", f"{n} numbers, one per feature", f"{len(mean)} numbers")
        check_finite(owner, "mean", mean)
        components = frozen_array(owner, "components", self.components, np.float64, 2)
        if components.shape[0] == 0 or components.shape[1] != n:
            raise invalid(
                owner, "components", f"a matrix of one row per output and {n} columns", f"shape {components.shape}"
            )
        check_finite(owner, "components", components)
        k = components.shape[0]
        outs = name_tuple(owner, "outputs", self.outputs)
        if len(outs) != k:
            raise invalid(owner, "outputs", f"{k} names, one per component", f"{len(outs)} names")
        if len(set(outs)) != k or set(outs) & set(features):
            raise invalid(owner, "outputs", "distinct names that overwrite no feature", list(outs)[:10])
        divisors = None
        if self.divisors is not None:
            divisors = frozen_array(owner, "divisors", self.divisors, np.float64, 1)
            if len(divisors) != k:
                raise invalid(owner, "divisors", f"{k} numbers, one per component", f"{len(divisors)} numbers")
            check_finite(owner, "divisors", divisors)
            if not (divisors > 0).all():
                raise invalid(owner, "divisors", "positive numbers", divisors.tolist()[:10])
        if self.centring not in CENTRINGS:
            raise invalid(owner, "centring", f"one of {CENTRINGS}", describe(self.centring))
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "components", components)
        object.__setattr__(self, "outputs", outs)
        object.__setattr__(self, "divisors", divisors)

    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (NUMERIC,) * len(self.features), (NUMERIC,) * len(self.outputs)


@dataclass(frozen=True)
class IntegerCode:
    """Give each numeric feature's value the category code a C ``static_cast<int>`` makes of it:
    ``trunc(x)`` where ``-1 < x < 2^31`` (``-0.5`` and ``-0.0`` are code 0), NaN elsewhere (NaN,
    ``x <= -1``, ``x >= 2^31``, +-inf): what LightGBM's CategoricalDecision reads, where a
    negative int, and the INT_MIN x86-64 gives for a value beyond the int range, go the way NaN
    does. It refuses nothing, infinities included (LightGBM accepts them).
    """

    encoder_type: ClassVar[str] = "integer-code"
    features: tuple
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "IntegerCode"
        features = name_tuple(owner, "features", self.features)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "outputs", _outputs(owner, features, self.outputs))

    kinds = _numeric_kinds


@dataclass(frozen=True, eq=False)
class MissingBand:
    """Make each numeric feature's value missing (NaN) where ``low[i] <= x <= high[i]``, in float64;
    any other value, NaN and +-inf included, passes unchanged. It refuses nothing.

    LightGBM's ``zero_as_missing`` (missing_type Zero): NumericalDecision sends a value with
    ``IsZero`` (``-kZeroThreshold <= x <= kZeroThreshold``) the node's default way, as it sends NaN.
    """

    encoder_type: ClassVar[str] = "missing-band"
    features: tuple
    low: Any
    high: Any
    outputs: tuple = ()

    def __post_init__(self) -> None:
        owner = "MissingBand"
        features = name_tuple(owner, "features", self.features)
        n = len(features)
        ends = []
        for field in ("low", "high"):
            values = frozen_array(owner, field, getattr(self, field), np.float64, 1)
            if len(values) != n:
                raise invalid(owner, field, f"{n} numbers, one per feature", describe(getattr(self, field)))
            check_finite(owner, field, values)
            ends.append(values)
        if (ends[0] > ends[1]).any():
            raise invalid(owner, "high", "numbers at least low, feature by feature", ends[1].tolist())
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "low", ends[0])
        object.__setattr__(self, "high", ends[1])
        object.__setattr__(self, "outputs", _outputs(owner, features, self.outputs))

    kinds = _numeric_kinds


ENCODER_TYPES = (
    FillMissing,
    CategoricalEncoding,
    Scale,
    Affine,
    MissingIndicator,
    OneHot,
    RefuseMissing,
    NumberCategory,
    Binning,
    Product,
    IntegerCode,
    MissingBand,
    Projection,
)
Encoder = Union[ENCODER_TYPES]  # one of the kinds above
