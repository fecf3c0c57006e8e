"""Package identity: ``sha256.`` + base32 of the SHA-256 of the IR's canonical bytes.

The canonical bytes are specified byte for byte in docs/IDENTITY.md, so that
a reader in another language can recompute an id. They cover what the
package computes and what its author declared (owner, tags, metadata), and
nothing about when or by which library versions it was written. Trees are
hashed in preorder, so a format that renumbers nodes reads back the same id.

Changing anything here changes every id: bump CANONICAL_VERSION and say so
in docs/IDENTITY.md, and expect the golden-id test to fail until you do.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable

import numpy as np

from . import ir
from .errors import InvalidIdError, shown

CANONICAL_VERSION = 1
MAGIC = b"crossform-ir/%d\n" % CANONICAL_VERSION
PREFIX = "sha256."

_KIND_CODES = {ir.NUMERIC: 0, ir.CATEGORICAL: 1}


class _Writer:
    """Feeds big-endian primitives straight into the hash (no byte buffer)."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256(MAGIC)

    def u8(self, value: int) -> None:
        self.hash.update(struct.pack(">B", value))

    def u32(self, value: int) -> None:
        self.hash.update(struct.pack(">I", value))

    def f64(self, value: float) -> None:
        self.hash.update(struct.pack(">d", float("nan") if value != value else value))

    def text(self, value: str) -> None:
        data = value.encode("utf-8")
        self.u32(len(data))
        self.hash.update(data)

    def texts(self, values: Iterable[str]) -> None:
        values = list(values)
        self.u32(len(values))
        for v in values:
            self.text(v)

    def optional_f64(self, value: float | None) -> None:
        if value is None:
            self.u8(0)
        else:
            self.u8(1)
            self.f64(value)

    def array(self, values: np.ndarray, dtype: str) -> None:
        """Length, then raw big-endian items; NaN written as the one quiet NaN."""
        values = np.asarray(values)
        if values.dtype.kind == "f":
            values = np.where(np.isnan(values), np.nan, values)
        self.u32(values.size)
        self.hash.update(np.ascontiguousarray(values, dtype=dtype).tobytes())


def _fill_missing(w: _Writer, encoder: ir.FillMissing) -> None:
    for value in encoder.values:
        if isinstance(value, str):
            w.u8(1)
            w.text(value)
        else:
            w.u8(0)
            w.f64(value)


def _categorical_encoding(w: _Writer, encoder: ir.CategoricalEncoding) -> None:
    for categories, codes, missing in zip(encoder.categories, encoder.codes, encoder.missing_codes):
        w.texts(categories)
        w.array(codes, ">f8")
        w.optional_f64(missing)
    w.optional_f64(encoder.unknown_code)


def _scale(w: _Writer, encoder: ir.Scale) -> None:
    w.array(encoder.offset, ">f8")
    w.array(encoder.scale, ">f8")


def _affine(w: _Writer, encoder: ir.Affine) -> None:
    w.array(encoder.scale, ">f8")
    w.array(encoder.offset, ">f8")


def _missing_indicator(w: _Writer, encoder: ir.MissingIndicator) -> None:
    for kind in encoder.kinds_in:
        w.u8(_KIND_CODES[kind])


def _column(w: _Writer, column) -> None:
    """A one-hot column: u8 0 (none: unknown), u8 1 + i32 index, u8 2 (error), u8 3 (zeros)."""
    if column is None:
        w.u8(0)
    elif isinstance(column, str):
        w.u8(2 if column == "error" else 3)
    else:
        w.u8(1)
        w.hash.update(struct.pack(">i", column))


def _one_hot(w: _Writer, encoder: ir.OneHot) -> None:
    for categories, columns, width, missing, unknown in zip(
        encoder.categories, encoder.columns, encoder.widths, encoder.missing_columns, encoder.unknown
    ):
        w.texts(categories)
        w.array(columns, ">i4")
        w.u32(width)
        _column(w, missing)
        _column(w, unknown)


def _number_category(w: _Writer, encoder: ir.NumberCategory) -> None:
    for values, categories in zip(encoder.values, encoder.categories):
        w.array(values, ">f8")
        w.texts(categories)
    w.text(encoder.unknown)


def _binning(w: _Writer, encoder: ir.Binning) -> None:
    for edges in encoder.edges:
        w.array(edges, ">f8")


def _product(w: _Writer, encoder: ir.Product) -> None:
    w.u32(len(encoder.factors))
    for term in encoder.factors:
        w.array(np.array(term, dtype=np.int64), ">u4")


def _projection(w: _Writer, encoder: ir.Projection) -> None:
    w.text(encoder.centring)
    w.array(encoder.mean, ">f8")
    w.u32(encoder.components.shape[0])
    for row in encoder.components:
        w.array(row, ">f8")
    if encoder.divisors is None:
        w.u8(0)
    else:
        w.u8(1)
        w.array(encoder.divisors, ">f8")


ENCODERS = {
    ir.FillMissing: _fill_missing,
    ir.CategoricalEncoding: _categorical_encoding,
    ir.Scale: _scale,
    ir.Affine: _affine,
    ir.MissingIndicator: _missing_indicator,
    ir.OneHot: _one_hot,
    ir.RefuseMissing: _missing_indicator,
    ir.NumberCategory: _number_category,
    ir.Binning: _binning,
    ir.Product: _product,
    ir.Projection: _projection,
    ir.IntegerCode: lambda w, encoder: None,
    ir.MissingBand: lambda w, encoder: (
        w.array(encoder.low, ">f8"),
        w.array(encoder.high, ">f8"),
    ),  # no parameters: the kind and its features say it all
}  # the same parameters: one kind per feature


def _encoder(w: _Writer, encoder: ir.Encoder) -> None:
    w.text(encoder.encoder_type)
    w.texts(encoder.features)
    w.texts(encoder.outputs)
    ENCODERS[type(encoder)](w, encoder)


def _trees(w: _Writer, trees: tuple) -> None:
    """Each tree in preorder, children renumbered to preorder positions."""
    sizes = np.array([t.n_nodes for t in trees], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.repeat(offsets, sizes)
    local_left = np.concatenate([t.left for t in trees])
    local_right = np.concatenate([t.right for t in trees])
    leaf = local_left < 0
    left = np.where(leaf, -1, local_left + owner)
    right = np.where(leaf, -1, local_right + owner)
    position = ir.preorder_positions(left, right, offsets)
    feature = np.concatenate([t.feature for t in trees])
    threshold = np.concatenate([t.threshold for t in trees])
    missing_left = np.concatenate([t.missing_left for t in trees])
    value = np.concatenate([t.value for t in trees])
    global_position = owner + position
    if np.array_equal(global_position, np.arange(len(left))):
        left, right = local_left, local_right  # already preorder, as scikit-learn builds trees
    else:
        order = np.empty(len(left), dtype=np.int64)
        order[global_position] = np.arange(len(left))
        left = np.where(leaf, -1, position[np.where(leaf, 0, left)])[order]
        right = np.where(leaf, -1, position[np.where(leaf, 0, right)])[order]
        feature, threshold = feature[order], threshold[order]
        missing_left, value = missing_left[order], value[order]
    for start, n in zip(offsets.tolist(), sizes.tolist()):
        part = slice(start, start + n)
        w.u32(n)
        w.array(feature[part], ">i4")
        w.array(threshold[part], ">f8")
        w.array(left[part], ">i4")
        w.array(right[part], ">i4")
        w.array(missing_left[part], ">u1")
        w.array(value[part], ">f8")


def _classes(w: _Writer, model: ir.Model) -> None:
    if model.classes is None:
        w.u8(0)
    else:
        w.u8(1)
        w.u32(len(model.classes))
        for label in model.classes:
            if isinstance(label, bool):
                w.u8(3)
                w.u8(int(label))
            elif isinstance(label, str):
                w.u8(0)
                w.text(label)
            elif isinstance(label, int):
                w.u8(1)
                w.hash.update(struct.pack(">q", label))
            else:
                w.u8(2)
                w.f64(label)


def _linear(w: _Writer, model: ir.LinearModel) -> None:
    w.text("linear")
    w.texts(model.features)
    w.text(model.post_transform)
    _classes(w, model)
    w.u32(model.n_outputs)
    w.array(model.coefficients, ">f8")
    w.array(model.intercepts, ">f8")


def _tree_ensemble(w: _Writer, model: ir.TreeEnsemble) -> None:
    w.text("tree-ensemble")
    w.texts(model.features)
    w.text(model.aggregation)
    w.text(model.post_transform)
    if model.base_value is None:
        w.u8(0)
    else:
        w.u8(1)
        w.array(model.base_value, ">f8")
    _classes(w, model)
    w.u32(len(model.trees))
    w.u32(model.n_outputs)
    _trees(w, model.trees)
    # Optional sections, each only when used, so ids from before them stay; in
    # this fixed order, with markers the owner's u8 0/1 that follows cannot be.
    if model.has_sets:
        w.u8(3)
        for tree in model.trees:
            nodes = [int(n) for n in tree.preorder if tree.sets and tree.sets[n] is not None]
            position = np.empty(tree.n_nodes, dtype=np.int64)
            position[tree.preorder] = np.arange(tree.n_nodes)
            w.u32(len(nodes))
            for n in nodes:
                w.u32(int(position[n]))
                w.array(np.asarray(tree.sets[n], dtype=np.float64), ">f8")
    if model.isolation is not None:
        w.u8(4)
        w.f64(model.isolation[0])
        w.f64(model.isolation[1])
    if (model.missing, model.infinite) != ("route", "error"):
        # only when not the defaults, so ids from before these rules stay; the
        # owner that follows starts with u8 0 or 1, so the bytes stay unambiguous
        w.u8(2)
        w.text(model.missing)
        w.text(model.infinite)
    if model.accumulate != "float64":
        # only when not the default, so ids from before the rule stay
        w.u8(6)
        w.text(model.accumulate)
    if model.divisors:
        # only when there are some, so ids from before the rule stay (marker 20: kept apart from
        # the small markers other optional sections take)
        w.u8(20)
        w.u32(len(model.divisors))
        for d in model.divisors:
            w.f64(d)
    if model.tree_weights:
        # only under aggregation "weighted-median" (marker 21, beside the divisors' 20)
        w.u8(21)
        w.u32(len(model.tree_weights))
        for weight in model.tree_weights:
            w.f64(weight)


def _composite(w: _Writer, model: ir.Composite) -> None:
    w.text("composite")
    w.text(model.combination)
    _classes(w, model)
    w.u32(len(model.members))
    for member in model.members:
        MEMBERS[type(member)](w, member)
    w.array(model.weights, ">f8")
    w.f64(model.divisor)
    if model.final is not None:  # "stack"
        _linear(w, model.final)
        w.u8(int(model.passthrough))
    if model.calibration_method == "isotonic":  # only then, so sigmoid ids stay as they were
        w.text("isotonic")
        for columns in model.calibration:  # per member, per response column, its (x, y) rows
            w.u32(len(columns))
            for points in columns:
                w.array(points, ">f8")
        return
    for params in model.calibration or ():  # "calibrate": per member its (a, b) rows
        w.array(params, ">f8")
    if model.target_steps:  # "target": each step's operation, then its number if it has one
        w.u32(len(model.target_steps))
        for op, number in model.target_steps:
            w.text(op)
            if number is not None:
                w.f64(number)


MEMBERS = {ir.TreeEnsemble: _tree_ensemble, ir.LinearModel: _linear}
MODELS = {**MEMBERS, ir.Composite: _composite}


def canonical_digest(package: ir.Package) -> bytes:
    """SHA-256 of the canonical bytes of ``package`` (docs/IDENTITY.md)."""
    w = _Writer()
    w.u32(len(package.inputs))
    for f in package.inputs:
        w.text(f.name)
        w.u8(_KIND_CODES[f.kind])
    w.u32(len(package.encoders))
    for encoder in package.encoders:
        _encoder(w, encoder)
    MODELS[type(package.model)](w, package.model)
    if package.owner is None:
        w.u8(0)
    else:
        w.u8(1)
        w.text(package.owner)
    w.texts(package.tags)
    w.u32(len(package.metadata))
    for key, value in package.metadata.items():  # sorted by key in the IR
        w.text(key)
        w.text(value)
    return w.hash.digest()


def package_id(package: ir.Package) -> str:
    digest = canonical_digest(package)
    return PREFIX + base64.b32encode(digest).decode("ascii").rstrip("=")


def is_package_id(text: str) -> bool:
    body = text[len(PREFIX) :] if isinstance(text, str) and text.startswith(PREFIX) else ""
    return len(body) == 52 and set(body) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def check_id(value, where: str = "model id") -> str:
    """``value`` if it has the shape of a package id; :class:`InvalidIdError` naming ``where`` if not.

    The one check the store, the registry and the deployer share, so a malformed id reads the
    same wherever it is refused."""
    if not is_package_id(value):
        raise InvalidIdError(
            where, f"expected a package id, sha256. followed by 52 base32 characters (A-Z, 2-7); got {shown(value)}"
        )
    return value
