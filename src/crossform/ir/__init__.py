"""The crossform intermediate representation (IR).

Every frontend produces these objects and every format reads and writes
them; nothing else crosses that boundary. The objects are small frozen
dataclasses holding read-only numpy arrays, validated on construction, so
an IR object that exists is one every evaluator can score. The rules for
scoring them are in docs/SEMANTICS.md; how they are hashed into a package
id is in docs/IDENTITY.md.

A package reads named input fields, runs its encoders in order over a row
(each encoder maps some named columns to named output columns), and feeds
the model the columns named by ``model.features``, in that order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, ClassVar, Union

import numpy as np

from ..errors import IRValidationError, shown

NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)
AGGREGATIONS = ("average", "sum")
POST_TRANSFORMS = ("none", "logistic", "softmax", "isolation")
MISSING_RULES = ("route", "error")
INFINITE_RULES = ("error", "compare")

_INT32 = np.iinfo(np.int32)


def invalid(owner: str, name: str, expected: str, got: Any) -> IRValidationError:
    """The one error template of the IR: what was expected, what was found."""
    return IRValidationError(f"The {name!r} field of {owner} must be {expected}. Got {got} instead.")


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return shown(value)


def _is_text(value: Any) -> bool:
    """A str that is valid Unicode (no lone surrogates), so it has a UTF-8 form."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _name_tuple(owner: str, name: str, value: Any, *, allow_empty: bool = False) -> tuple:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise invalid(owner, name, "a sequence of names", _describe(value))
    items = tuple(value)
    if not items and not allow_empty:
        raise invalid(owner, name, "a non-empty sequence of names", "an empty sequence")
    for item in items:
        if not _is_text(item) or not item:
            raise invalid(owner, name, "non-empty strings", _describe(item))
    return items


def _text(owner: str, name: str, value: str) -> str:
    if not _is_text(value):
        raise invalid(owner, name, "valid Unicode text", _describe(value))
    return value


def _array(owner: str, name: str, value: Any, dtype: type, ndim: int) -> np.ndarray:
    """A read-only copy of ``value`` as ``dtype``, refusing lossy conversions."""
    arr = np.asarray(value)
    if arr.ndim != ndim:
        raise invalid(owner, name, f"a {ndim}-dimensional array", _describe(arr))
    want = np.dtype(dtype)
    kinds = {"f": "fiu", "i": "iu", "b": "b"}[want.kind]
    if arr.size and arr.dtype.kind not in kinds:
        raise invalid(owner, name, f"an array of {want.name} values", _describe(arr))
    if want.kind == "i" and arr.size and (arr.min() < _INT32.min or arr.max() > _INT32.max):
        raise invalid(owner, name, "int32 values", f"values up to {arr.max()}")
    out = np.array(arr, dtype=want, copy=True)
    out.setflags(write=False)
    return out


def _finite(owner: str, name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        pos = np.argwhere(bad)[0]
        raise invalid(owner, name, "finite numbers", f"{arr[tuple(pos)]} at index {tuple(int(p) for p in pos)}")


def _number(owner: str, name: str, value: Any, *, allow_nan: bool) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise invalid(owner, name, "a number", _describe(value))
    number = float(value)
    if np.isinf(number) or (np.isnan(number) and not allow_nan):
        raise invalid(owner, name, "a finite number" + (" or NaN" if allow_nan else ""), number)
    return number


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Field:
    """One named input of a package: numbers (missing = NaN) or strings (missing = None)."""

    name: str
    kind: str

    def __post_init__(self) -> None:
        if not _is_text(self.name) or not self.name:
            raise invalid("Field", "name", "a non-empty string", _describe(self.name))
        if self.kind not in KINDS:
            raise invalid("Field", "kind", f"one of {KINDS}", _describe(self.kind))


# ---------------------------------------------------------------- encoders


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
    outs = _name_tuple(owner, "outputs", outputs)
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
        features = _name_tuple(owner, "features", self.features)
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Sequence):
            raise invalid(owner, "values", "a sequence of fill values", _describe(self.values))
        if len(self.values) != len(features):
            raise invalid(owner, "values", f"{len(features)} values, one per feature", f"{len(self.values)} values")
        values = tuple(
            _text(owner, "values", v) if isinstance(v, str) else _number(owner, "values", v, allow_nan=False)
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
        features = _name_tuple(owner, "features", self.features)
        n = len(features)
        for name in ("categories", "codes", "missing_codes"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != n:
                raise invalid(owner, name, f"a sequence of {n} entries, one per feature", _describe(value))
        categories, codes = [], []
        for i, (cats, vals) in enumerate(zip(self.categories, self.codes)):
            cats = _categories(owner, cats, i)
            vals = _array(owner, "codes", vals, np.float64, 1)
            if len(vals) != len(cats):
                raise invalid(owner, "codes", f"{len(cats)} codes for feature {features[i]!r}", f"{len(vals)} codes")
            _finite(owner, "codes", vals)
            order = sorted(range(len(cats)), key=cats.__getitem__)
            sorted_codes = vals[order]
            sorted_codes.setflags(write=False)
            categories.append(tuple(cats[j] for j in order))
            codes.append(sorted_codes)
        missing = tuple(
            None if m is None else _number(owner, "missing_codes", m, allow_nan=True) for m in self.missing_codes
        )
        unknown = (
            None if self.unknown_code is None else _number(owner, "unknown_code", self.unknown_code, allow_nan=True)
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
        raise invalid(owner, "categories", "a sequence of strings per feature", _describe(cats))
    cats = tuple(cats)
    for cat in cats:
        if not _is_text(cat):
            raise invalid(owner, "categories", f"strings (feature {i})", _describe(cat))
    if len(set(cats)) != len(cats):
        raise invalid(owner, "categories", f"distinct strings (feature {i})", "a repeated category")
    return cats


def _numeric_step(step: Any, owner: str, names: tuple) -> tuple:
    """Validate and freeze a per-feature numeric step: its features, one finite
    float64 per feature in each array named, and its outputs."""
    features = _name_tuple(owner, "features", step.features)
    arrays = {}
    for name in names:
        arr = _array(owner, name, getattr(step, name), np.float64, 1)
        if len(arr) != len(features):
            raise invalid(owner, name, f"{len(features)} numbers, one per feature", f"{len(arr)} numbers")
        _finite(owner, name, arr)
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
        features = _name_tuple(owner, "features", self.features)
        kinds = (
            tuple(self.kinds_in) if isinstance(self.kinds_in, Sequence) and not isinstance(self.kinds_in, str) else None
        )
        if kinds is None or len(kinds) != len(features) or any(k not in KINDS for k in kinds):
            raise invalid(
                owner, "kinds_in", f"{len(features)} kinds from {KINDS}, one per feature", _describe(self.kinds_in)
            )
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
        features = _name_tuple(owner, "features", self.features)
        kinds = (
            tuple(self.kinds_in) if isinstance(self.kinds_in, Sequence) and not isinstance(self.kinds_in, str) else None
        )
        if kinds is None or len(kinds) != len(features) or any(k not in KINDS for k in kinds):
            raise invalid(
                owner, "kinds_in", f"{len(features)} kinds from {KINDS}, one per feature", _describe(self.kinds_in)
            )
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
        features = _name_tuple(owner, "features", self.features)
        if len(set(features)) != len(features):
            raise invalid(owner, "features", "distinct names", list(features))
        n = len(features)
        for name in ("categories", "columns", "widths", "missing_columns", "unknown"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != n:
                raise invalid(owner, name, f"a sequence of {n} entries, one per feature", _describe(value))
        widths = []
        for i, w in enumerate(self.widths):
            if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, np.integer)) or not 0 <= int(w) <= 1_000_000:
                raise invalid(
                    owner, "widths", f"a number of columns from 0 to 1000000 (feature {features[i]!r})", _describe(w)
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
                    _describe(value),
                )
            return int(value)

        categories, columns, missing, unknown = [], [], [], []
        for i in range(n):
            cats = _categories(owner, self.categories[i], i)
            cols = _array(owner, "columns", self.columns[i], np.int32, 1)
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
                    raise invalid(owner, "unknown", f"one of {UNKNOWN_POLICIES} or a column index", _describe(u))
                unknown.append(u)
            else:
                unknown.append(column(i, "unknown", u))
        width = sum(widths)
        if width == 0:
            raise invalid(owner, "widths", "at least one output column in all", "0 columns")
        outs = _name_tuple(owner, "outputs", self.outputs)
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


Encoder = Union[FillMissing, CategoricalEncoding, Scale, Affine, MissingIndicator, OneHot, RefuseMissing]
ENCODER_TYPES = (FillMissing, CategoricalEncoding, Scale, Affine, MissingIndicator, OneHot, RefuseMissing)


# ---------------------------------------------------------------- trees


@dataclass(frozen=True, eq=False)
class Tree:
    """One binary decision tree as struct-of-arrays; node 0 is the root.

    A split node n sends a row left iff ``x[feature[n]] <= threshold[n]``,
    and a missing (NaN) value left iff ``missing_left[n]``. Leaves have
    ``feature == left == right == -1``, threshold 0.0 and missing_left
    False; ``value[n]`` is the leaf's output vector and is 0.0 at split
    nodes (which no evaluator reads). Any node numbering is allowed; the
    package id hashes the tree in preorder, so numbering never changes it.

    ``sets`` (empty: none) makes some split nodes "category in set" splits:
    ``sets[n]`` is None for a threshold node, or the sorted values S of a
    set node (threshold 0.0). A value in S goes to the side away from the
    missing side (right when ``missing_left``, else left); everything else,
    NaN and any value not in S, goes the missing side. That is histogram
    boosting's three-way categorical split (left set, right set, unknown
    categories with missing values) as one membership test.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    sets: tuple = ()

    def __post_init__(self) -> None:
        owner = "Tree"
        feature = _array(owner, "feature", self.feature, np.int32, 1)
        n = len(feature)
        if n == 0:
            raise invalid(owner, "feature", "an array of at least one node", "an empty array")
        arrays = {
            "feature": feature,
            "threshold": _array(owner, "threshold", self.threshold, np.float64, 1),
            "left": _array(owner, "left", self.left, np.int32, 1),
            "right": _array(owner, "right", self.right, np.int32, 1),
            "missing_left": _array(owner, "missing_left", self.missing_left, np.bool_, 1),
            "value": _array(owner, "value", self.value, np.float64, 2),
        }
        for name, arr in arrays.items():
            if len(arr) != n:
                raise invalid(owner, name, f"{n} entries, one per node", f"{len(arr)} entries")
        if arrays["value"].shape[1] == 0:
            raise invalid(owner, "value", "at least one output per node", _describe(arrays["value"]))
        _check_structure(**arrays)
        for name, arr in arrays.items():
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "sets", _sets(self.sets, arrays["left"] < 0, arrays["threshold"]))

    @property
    def n_nodes(self) -> int:
        return len(self.feature)

    @property
    def has_sets(self) -> bool:
        return bool(self.sets)

    @cached_property
    def is_set(self) -> np.ndarray:
        """Which nodes are set splits."""
        out = np.zeros(self.n_nodes, dtype=bool)
        if self.sets:
            out[[i for i, s in enumerate(self.sets) if s is not None]] = True
        out.setflags(write=False)
        return out

    @property
    def n_outputs(self) -> int:
        return self.value.shape[1]

    @cached_property
    def is_leaf(self) -> np.ndarray:
        leaf = self.left < 0
        leaf.setflags(write=False)
        return leaf

    @property
    def n_leaves(self) -> int:
        return int(self.is_leaf.sum())

    @cached_property
    def depth(self) -> int:
        """Edges on the longest root-to-leaf path."""
        return _levels(self.left, self.right)[1]

    @cached_property
    def preorder(self) -> np.ndarray:
        """Node indices in preorder (root, left subtree, right subtree)."""
        return _preorder(self.left, self.right)


MAX_SET_SIZE = 65_536


def _sets(value: Any, leaf: np.ndarray, threshold: np.ndarray) -> tuple:
    """Tree.sets validated: () or one entry per node, None or a sorted tuple of distinct finite floats."""
    owner = "Tree"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise invalid(owner, "sets", "a sequence with one entry per node (or empty)", _describe(value))
    if len(value) == 0:
        return ()
    if len(value) != len(leaf):
        raise invalid(owner, "sets", f"{len(leaf)} entries, one per node (or none)", f"{len(value)} entries")
    out = []
    for n, entry in enumerate(value):
        if entry is None:
            out.append(None)
            continue
        if leaf[n]:
            raise invalid(owner, "sets", "None at leaves (only split nodes test a set)", f"a set at leaf {n}")
        if threshold[n] != 0.0:
            raise invalid(owner, "threshold", "0.0 at set nodes", f"{threshold[n]} at node {n}")
        if (
            isinstance(entry, (str, bytes))
            or not isinstance(entry, (Sequence, np.ndarray))
            or len(entry) > MAX_SET_SIZE
        ):
            raise invalid(owner, "sets", f"a sequence of at most {MAX_SET_SIZE} numbers per set node", _describe(entry))
        values = [_number(owner, "sets", v, allow_nan=False) for v in entry]
        if len(set(values)) != len(values):
            raise invalid(owner, "sets", f"distinct values (node {n})", sorted(values))
        out.append(tuple(sorted(values)))
    if all(entry is None for entry in out):
        return ()  # no set node: the same tree as without sets
    return tuple(out)


def _levels(left: np.ndarray, right: np.ndarray) -> tuple[int, int]:
    """Breadth-first walk from the root: (nodes reached, depth)."""
    frontier = np.zeros(1, dtype=np.int64)
    reached, depth = 1, 0
    while True:
        split = frontier[left[frontier] >= 0]
        if split.size == 0:
            return reached, depth
        frontier = np.concatenate([left[split], right[split]])
        reached += frontier.size
        depth += 1
        if reached > len(left):  # a cycle; the caller reports it
            return reached, depth


def _check_structure(feature, threshold, left, right, missing_left, value) -> None:
    owner = "Tree"
    n = len(feature)
    leaf = left < 0
    nodes = np.arange(n)

    def first(mask: np.ndarray) -> int:
        return int(nodes[mask][0])

    bad = leaf != (right < 0)
    if bad.any():
        i = first(bad)
        raise invalid(
            owner, "right", "-1 exactly where 'left' is -1 (leaves)", f"left={left[i]}, right={right[i]} at node {i}"
        )
    bad = leaf & ((left != -1) | (right != -1))
    if bad.any():
        i = first(bad)
        raise invalid(owner, "left", "-1 at leaves (no other negative value)", f"{left[i]} at node {i}")
    bad = ~leaf & ((left >= n) | (right >= n) | (left == 0) | (right == 0))
    if bad.any():
        i = first(bad)
        raise invalid(
            owner, "left", f"child indices in [1, {n}) at split nodes", f"left={left[i]}, right={right[i]} at node {i}"
        )
    bad = ~leaf & (feature < 0)
    if bad.any():
        raise invalid(
            owner, "feature", "a feature index >= 0 at split nodes", f"{feature[first(bad)]} at node {first(bad)}"
        )
    bad = leaf & ((feature != -1) | (threshold != 0.0) | missing_left)
    if bad.any():
        i = first(bad)
        raise invalid(
            owner,
            "feature",
            "-1, with threshold 0.0 and missing_left False, at leaves",
            f"feature={feature[i]}, threshold={threshold[i]}, missing_left={missing_left[i]} at leaf {i}",
        )
    # +inf is a threshold (histogram boosting's "every number left, NaN right"), NaN and -inf are not
    bad = np.isnan(threshold) | (threshold == -np.inf)
    if bad.any():
        raise invalid(owner, "threshold", "numbers or +inf", f"{threshold[first(bad)]} at node {first(bad)}")
    _finite(owner, "value", value)
    bad = ~leaf & (value != 0.0).any(axis=1)
    if bad.any():
        raise invalid(
            owner,
            "value",
            "0.0 at split nodes (only leaves carry values)",
            f"{value[first(bad)].tolist()} at node {first(bad)}",
        )
    # Every node but the root has exactly one parent, and all are reachable
    # from the root: a tree, with no cycles and no orphans.
    parents = np.bincount(np.concatenate([left[~leaf], right[~leaf]]), minlength=n)
    if parents[0] != 0 or (parents[1:] != 1).any():
        i = first(np.concatenate([[parents[0] != 0], parents[1:] != 1]))
        raise invalid(
            owner,
            "left",
            "child links forming one tree (each node but the root has one parent)",
            f"node {i} with {parents[i]} parents",
        )
    reached, _ = _levels(left, right)
    if reached != n:
        raise invalid(
            owner,
            "left",
            "child links forming one tree (every node reachable from the root)",
            f"{n - reached} unreachable nodes" if reached < n else "a cycle",
        )


def preorder_positions(left: np.ndarray, right: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Each node's position in its own tree's preorder (root 0, then the left
    subtree, then the right subtree).

    ``left``/``right`` may hold several trees concatenated, with child
    indices into the concatenation and ``roots`` the index of each root, so a
    whole forest is done in one pass per level, not one per tree.
    """
    n = len(left)
    levels = [np.asarray(roots, dtype=np.int64)]
    while True:
        split = levels[-1][left[levels[-1]] >= 0]
        if split.size == 0:
            break
        levels.append(np.concatenate([left[split], right[split]]))
    size = np.ones(n, dtype=np.int64)
    for level in reversed(levels[:-1]):
        split = level[left[level] >= 0]
        size[split] += size[left[split]] + size[right[split]]
    position = np.zeros(n, dtype=np.int64)
    for level in levels[:-1]:
        split = level[left[level] >= 0]
        position[left[split]] = position[split] + 1
        position[right[split]] = position[split] + 1 + size[left[split]]
    return position


def _preorder(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    position = preorder_positions(left, right, np.zeros(1, dtype=np.int64))
    order = np.empty(len(left), dtype=np.int64)
    order[position] = np.arange(len(left))
    order.setflags(write=False)
    return order


class _Model:
    """What every model kind answers from its ``classes`` and ``n_outputs`` (raw scores)."""

    @property
    def is_classifier(self) -> bool:
        return self.classes is not None

    @property
    def is_binary(self) -> bool:
        """Two classes from one raw score (see docs/SEMANTICS.md): its probability gives
        ``[1 - p, p]``, or its sign the class."""
        return self.classes is not None and self.n_outputs == 1


@dataclass(frozen=True, eq=False)
class TreeEnsemble(_Model):
    """Trees over a feature vector, aggregated and post-transformed.

    ``aggregation`` is "average" (left fold of the tree values in tree order,
    then divide by the tree count) or "sum" (``base_value`` first, then each
    tree's value, in tree order). ``classes`` names the outputs of a
    classifier (one probability per class, or two classes from one logistic
    score); None means a regressor.

    Post transform "isolation" (an isolation forest; ``isolation`` is
    ``(denominator, offset)``) turns the summed path length s into two
    outputs: ``score = -(2 ** -(s / denominator))`` (scikit-learn's
    ``score_samples``) and ``decision = score - offset``.

    ``missing`` and ``infinite`` say which inputs the model refuses, as the
    scikit-learn estimator does: a missing value follows the nodes'
    ``missing_left`` ("route") or is a row error ("error", gradient
    boosting); an infinite or float32-overflowing value is a row error
    ("error", scikit-learn's float32 trees) or compared like any number
    ("compare": histogram gradient boosting, isolation forests).
    """

    features: tuple
    trees: tuple
    aggregation: str = "average"
    post_transform: str = "none"
    classes: Union[tuple, None] = None
    base_value: Union[np.ndarray, None] = None
    missing: str = "route"
    infinite: str = "error"
    isolation: Union[tuple, None] = None

    def __post_init__(self) -> None:
        owner = "TreeEnsemble"
        isolation = None
        if self.post_transform == "isolation":
            if (
                isinstance(self.isolation, (str, bytes))
                or not isinstance(self.isolation, Sequence)
                or len(self.isolation) != 2
            ):
                raise invalid(
                    owner,
                    "isolation",
                    "(denominator, offset) for post transform 'isolation'",
                    _describe(self.isolation),
                )
            isolation = (
                _number(owner, "isolation", self.isolation[0], allow_nan=False),
                _number(owner, "isolation", self.isolation[1], allow_nan=False),
            )
            if isolation[0] <= 0:
                raise invalid(owner, "isolation", "a denominator > 0", isolation[0])
            if self.classes is not None or self.aggregation != "sum":
                raise invalid(
                    owner,
                    "post_transform",
                    "'isolation' only for a regressor with aggregation 'sum'",
                    f"classes={self.classes!r}, aggregation={self.aggregation!r}",
                )
        elif self.isolation is not None:
            raise invalid(owner, "isolation", "None unless post transform is 'isolation'", _describe(self.isolation))
        object.__setattr__(self, "isolation", isolation)
        if self.missing not in MISSING_RULES:
            raise invalid(owner, "missing", f"one of {MISSING_RULES}", _describe(self.missing))
        if self.infinite not in INFINITE_RULES:
            raise invalid(owner, "infinite", f"one of {INFINITE_RULES}", _describe(self.infinite))
        features = _name_tuple(owner, "features", self.features)
        if isinstance(self.trees, Tree) or not isinstance(self.trees, Sequence) or not self.trees:
            raise invalid(owner, "trees", "a non-empty sequence of Tree", _describe(self.trees))
        trees = tuple(self.trees)
        for i, tree in enumerate(trees):
            if not isinstance(tree, Tree):
                raise invalid(owner, "trees", "Tree objects", f"{type(tree).__name__} at index {i}")
        width = trees[0].n_outputs
        for i, tree in enumerate(trees):
            if tree.n_outputs != width:
                raise invalid(owner, "trees", f"trees with {width} outputs each", f"{tree.n_outputs} in tree {i}")
            top = int(tree.feature.max())
            if top >= len(features):
                raise invalid(
                    owner,
                    "trees",
                    f"feature indices below {len(features)} (the number of features)",
                    f"feature {top} in tree {i}",
                )
        if self.aggregation not in AGGREGATIONS:
            raise invalid(owner, "aggregation", f"one of {AGGREGATIONS}", _describe(self.aggregation))
        if self.post_transform not in POST_TRANSFORMS:
            raise invalid(owner, "post_transform", f"one of {POST_TRANSFORMS}", _describe(self.post_transform))
        if self.post_transform == "softmax" and width < 2:
            raise invalid(owner, "post_transform", "'softmax' only with two or more outputs", "'softmax' with 1 output")
        base = None
        if self.aggregation == "sum":
            base = (
                np.zeros(width)
                if self.base_value is None
                else _array(owner, "base_value", self.base_value, np.float64, 1)
            )
            if base.shape != (width,):
                raise invalid(owner, "base_value", f"{width} numbers, one per output", _describe(base))
            _finite(owner, "base_value", base)
            base.setflags(write=False)
        elif self.base_value is not None:
            raise invalid(owner, "base_value", "None when aggregation is 'average'", _describe(self.base_value))
        classes = _classes(owner, self.classes, width, self.post_transform, ("logistic",), "tree output")
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "trees", trees)
        object.__setattr__(self, "base_value", base)
        object.__setattr__(self, "classes", classes)

    @property
    def n_outputs(self) -> int:
        """The width of the trees' leaf vectors (1 for a binary logistic model)."""
        return self.trees[0].n_outputs

    @property
    def model_type(self) -> str:
        if self.post_transform == "isolation":
            return "isolation-forest"
        task = "classification" if self.is_classifier else "regression"
        return f"{task}-forest" if self.aggregation == "average" else f"{task}-boosted-trees"

    @property
    def outputs(self) -> tuple:
        if self.post_transform == "isolation":
            return ISOLATION_OUTPUTS
        if self.classes is None:
            return ("prediction",)
        return tuple(f"probability({c})" for c in self.classes)

    @property
    def n_nodes(self) -> int:
        return sum(t.n_nodes for t in self.trees)

    @property
    def has_sets(self) -> bool:
        return any(t.has_sets for t in self.trees)


# an isolation forest's scikit-learn score_samples and decision_function
ISOLATION_OUTPUTS = ("score", "decision")


def _classes(
    owner: str, value: Any, width: int, post_transform: str, binary_transforms: tuple, what: str
) -> Union[tuple, None]:
    """Validated class labels: one per output, or two for one output (a binary
    model) under one of ``binary_transforms``; None (a regressor) needs one output."""
    if value is None:
        if width != 1:
            raise invalid(owner, "classes", f"class labels for {width} outputs (a regressor has one)", "None")
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise invalid(owner, "classes", "a sequence of class labels", _describe(value))
    classes = class_labels(value)
    if len(set(classes)) != len(classes) or len({str(c) for c in classes}) != len(classes):
        raise invalid(owner, "classes", "distinct labels (also as text)", list(classes))
    if len(classes) < 2:
        raise invalid(owner, "classes", "two or more labels", list(classes))
    if width == 1 and len(classes) == 2:
        if post_transform not in binary_transforms:
            raise invalid(
                owner,
                "post_transform",
                f"one of {binary_transforms} for two classes from one {what}",
                _describe(post_transform),
            )
    elif len(classes) != width:
        raise invalid(owner, "classes", f"{width} labels, one per {what}", f"{len(classes)} labels")
    return classes


def class_labels(values: Sequence) -> tuple:
    """Class labels as the IR keeps them (plain str, int, float or bool), or IRValidationError."""
    return tuple(_label(v) for v in values)


def _label(value: Any) -> Union[str, int, float, bool]:
    owner, expected = "TreeEnsemble", "strings, integers, finite floats or booleans"
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return _text(owner, "classes", str(value))  # str(): a numpy str_ becomes a plain str
    if isinstance(value, (int, np.integer)):
        if not -(2**63) <= int(value) < 2**63:
            raise invalid(owner, "classes", "integers that fit in 64 bits", int(value))
        return int(value)
    if isinstance(value, (float, np.floating)) and np.isfinite(value):
        return float(value)
    raise invalid(owner, "classes", expected, _describe(value))


LINEAR_POST_TRANSFORMS = ("none", "logistic", "softmax")
MISSING_RULES = ("route", "error")
INFINITE_RULES = ("error", "compare")


@dataclass(frozen=True, eq=False)
class LinearModel(_Model):
    """Linear scores over a feature vector, post-transformed.

    Output k's raw score is ``sum_j coefficients[k, j] * x[j]`` (feature
    order) plus ``intercepts[k]``. A regressor has one output. A classifier
    names one class per output, or two classes for one output: then the
    score decides class 1 (``decision``, post transform "none": class 1 iff
    the score > 0) or gives its probability p (``logistic``: outputs
    ``[1 - p, p]``).
    """

    features: tuple
    coefficients: np.ndarray
    intercepts: np.ndarray
    post_transform: str = "none"
    classes: Union[tuple, None] = None

    def __post_init__(self) -> None:
        owner = "LinearModel"
        features = _name_tuple(owner, "features", self.features)
        coefficients = _array(owner, "coefficients", self.coefficients, np.float64, 2)
        intercepts = _array(owner, "intercepts", self.intercepts, np.float64, 1)
        if coefficients.shape[1] != len(features) or coefficients.shape[0] == 0:
            raise invalid(
                owner, "coefficients", f"an array of shape (outputs, {len(features)})", _describe(coefficients)
            )
        if intercepts.shape != (coefficients.shape[0],):
            raise invalid(
                owner, "intercepts", f"{coefficients.shape[0]} numbers, one per output", _describe(intercepts)
            )
        _finite(owner, "coefficients", coefficients)
        _finite(owner, "intercepts", intercepts)
        if self.post_transform not in LINEAR_POST_TRANSFORMS:
            raise invalid(owner, "post_transform", f"one of {LINEAR_POST_TRANSFORMS}", _describe(self.post_transform))
        width = coefficients.shape[0]
        if self.post_transform == "softmax" and width < 2:
            raise invalid(owner, "post_transform", "'softmax' only with two or more outputs", "'softmax' with 1 output")
        classes = _classes(owner, self.classes, width, self.post_transform, ("none", "logistic"), "output")
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "coefficients", coefficients)
        object.__setattr__(self, "intercepts", intercepts)
        object.__setattr__(self, "classes", classes)

    @property
    def n_outputs(self) -> int:
        """The number of raw scores (1 for a binary classifier)."""
        return self.coefficients.shape[0]

    @property
    def model_type(self) -> str:
        return "classification-linear" if self.is_classifier else "regression-linear"

    @property
    def outputs(self) -> tuple:
        if self.classes is None:
            return ("prediction",)
        if self.post_transform == "none":
            return ("decision",) if self.is_binary else tuple(f"decision({c})" for c in self.classes)
        return tuple(f"probability({c})" for c in self.classes)


Model = Union[TreeEnsemble, LinearModel]
MODEL_TYPES = (TreeEnsemble, LinearModel)


# ---------------------------------------------------------------- package


def _string_map(owner: str, name: str, value: Any) -> Mapping[str, str]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise invalid(owner, name, "a mapping of strings to strings", _describe(value))
    for k, v in value.items():
        if not _is_text(k) or not _is_text(v):
            raise invalid(owner, name, "a mapping of strings to strings", f"{k!r}: {_describe(v)}")
    return MappingProxyType(dict(sorted(value.items())))


class ChecksBase:
    """The base of :class:`crossform.checks.Checks`, what ``Package.checks`` holds.

    The checks (rows and outputs, their JSON, the comparison rule) live in a
    layer above the IR; this base lets Package check the field's type without
    importing that layer (docs/ARCHITECTURE.md).
    """

    __slots__ = ()


# Package.id is the hash of docs/IDENTITY.md, computed by crossform.identity, a layer above
# the IR: identity reads every IR type, and the IR knows nothing of how it is hashed.
# crossform/__init__.py hands identity's function over through identify_packages_with; it runs
# before any crossform module, so every Package sees it.
_package_id: Union[Callable[[Package], str], None] = None


def identify_packages_with(package_id: Callable[[Package], str]) -> None:
    """Make ``package_id`` compute ``Package.id`` (crossform/__init__.py passes crossform.identity's)."""
    global _package_id
    _package_id = package_id


@dataclass(frozen=True, eq=False)
class Package:
    """A whole model: inputs, encoders, one model, and what its author declared.

    ``owner``, ``tags`` and ``metadata`` are part of the package id;
    ``producer`` (the library versions that wrote it) is not, so exporting
    the same fit again, later or to another format, gives the same id.
    Nor is ``checks`` (a :class:`crossform.checks.Checks`: rows with the
    outputs scikit-learn gave at export), which tests the package and is
    not part of the model.
    """

    inputs: tuple
    encoders: tuple
    model: Model
    owner: Union[str, None] = None
    tags: tuple = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    producer: Mapping[str, str] = field(default_factory=dict)
    checks: Any = None

    def __post_init__(self) -> None:
        owner = "Package"
        if isinstance(self.inputs, (str, bytes)) or not isinstance(self.inputs, Sequence) or not self.inputs:
            raise invalid(owner, "inputs", "a non-empty sequence of Field", _describe(self.inputs))
        inputs = tuple(self.inputs)
        for f in inputs:
            if not isinstance(f, Field):
                raise invalid(owner, "inputs", "Field objects", _describe(f))
        if len({f.name for f in inputs}) != len(inputs):
            raise invalid(owner, "inputs", "fields with distinct names", [f.name for f in inputs])
        if isinstance(self.encoders, (str, bytes)) or not isinstance(self.encoders, Sequence):
            raise invalid(owner, "encoders", "a sequence of encoders", _describe(self.encoders))
        encoders = tuple(self.encoders)
        for e in encoders:
            if not isinstance(e, ENCODER_TYPES):
                raise invalid(
                    owner, "encoders", f"encoders ({', '.join(t.__name__ for t in ENCODER_TYPES)})", _describe(e)
                )
        if not isinstance(self.model, MODEL_TYPES):
            raise invalid(owner, "model", "a TreeEnsemble or LinearModel", _describe(self.model))
        if self.owner is not None and not _is_text(self.owner):
            raise invalid(owner, "owner", "a string or None", _describe(self.owner))
        tags = _name_tuple(owner, "tags", self.tags, allow_empty=True)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "encoders", encoders)
        object.__setattr__(self, "tags", tuple(sorted(set(tags))))
        object.__setattr__(self, "metadata", _string_map(owner, "metadata", self.metadata))
        object.__setattr__(self, "producer", _string_map(owner, "producer", self.producer))
        if self.checks is not None and not isinstance(self.checks, ChecksBase):
            raise invalid(owner, "checks", "a crossform.checks.Checks or None", _describe(self.checks))
        _check_dataflow(self)

    @cached_property
    def id(self) -> str:
        """``sha256.`` + base32 of the canonical bytes (docs/IDENTITY.md), from crossform.identity."""
        return _package_id(self)

    def to_content_hash(self) -> str:
        """The package id (the seed's name for it)."""
        return self.id

    @property
    def outputs(self) -> tuple:
        return self.model.outputs

    @property
    def model_type(self) -> str:
        return self.model.model_type

    def replace(self, **changes: Any) -> Package:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _check_dataflow(package: Package) -> None:
    """Every name an encoder or the model reads exists, with the right kind."""
    kinds = {f.name: f.kind for f in package.inputs}
    for position, encoder in enumerate(package.encoders):
        owner = f"{type(encoder).__name__} (encoder {position})"
        wanted, produced = encoder.kinds()
        for name, kind in zip(encoder.features, wanted):
            if name not in kinds:
                raise invalid(owner, "features", "names of inputs or of earlier encoder outputs", repr(name))
            if kinds[name] != kind:
                raise invalid(owner, "features", f"a {kind} column for {name!r}", f"a {kinds[name]} column")
        kinds.update(zip(encoder.outputs, produced))
    for name in package.model.features:
        if name not in kinds:
            raise invalid(type(package.model).__name__, "features", "names of inputs or encoder outputs", repr(name))
        if kinds[name] != NUMERIC:
            raise invalid(
                type(package.model).__name__,
                "features",
                f"numeric columns (encode {name!r} first)",
                "a categorical column",
            )
