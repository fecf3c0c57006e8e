"""protobuf: one file, a serialized ``crossform.v1.Package`` message.

The schema is proto/crossform/v1/package.proto, and its comments are the
spec (docs/formats/protobuf.md summarises it). The generated code is
committed as crossform.v1.package_pb2; this module only converts between it
and the IR. The reader parses, then audits every count, index and enum,
and only then constructs the IR (STYLE.md 4): nothing is indexed by a
number from the file before that number is checked.

Version 1.1 adds oneof members (Encoder 4-7, Model 2-3, listed in SINCE);
a file records 1.1 only when it sets one of them, so every other package
is written byte for byte as 1.0 wrote it. A 1.0 reader drops those members
as unknown fields of a newer minor and then refuses the encoder or model
left with no member set (ProtobufMissingError); it never misreads them.
Whatever else 1.1 adds to tree ensembles (set splits, +inf thresholds, the
isolation transform) lives inside the 1.1 member tree_ensemble_with_rules,
so a tree_ensemble is always exactly what 1.0 could state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from google.protobuf import unknown_fields
from google.protobuf.message import DecodeError

from .. import checks as checks_module
from .. import ir
from ..errors import (
    IdMismatchError,
    IRValidationError,
    LimitExceededError,
    MalformedPackageError,
    SchemaError,
    shown,
)
from ..v1 import package_pb2 as pb
from . import MAX_FILE_BYTES, _json, _versions

NAME = "protobuf"
VERSION = "1.1"
FIRST = "1.0"  # what a package using no member of SINCE records, as 1.0 wrote it
LAYOUT = "file"
EXTENSIONS = (".pb",)  # the file name ending that names this format (save picks it)
RUNTIMES = ("reference",)

MAGIC = "crossform.package"
# Field 1, wire type 2, then the length: deterministic serialization writes field 1 first.
PREFIX = b"\x0a" + bytes([len(MAGIC)]) + MAGIC.encode("ascii")
WHERE = f"<{NAME}>"

MAX_TREES = 2**17
MAX_OUTPUTS = 2**16
MAX_NODES = 2**31 - 1  # over all trees of a model: node indices stay int32 everywhere
MAX_BLOCK_WIDTH = 1_000_000  # columns of one one-hot feature, as the IR allows

FormatVersionWarning = _versions.FormatVersionWarning


class ProtobufDecodeError(MalformedPackageError):
    """Bytes that protobuf cannot parse as a crossform.v1.Package."""


class ProtobufMagicError(MalformedPackageError):
    """The file does not start with the crossform.package magic."""


class ProtobufUnknownFieldError(SchemaError):
    """Fields this reader does not know, in a package of its own or an older minor."""


class ProtobufMissingError(MalformedPackageError):
    """A required field, or a oneof, that is not set."""


class ProtobufEnumError(MalformedPackageError):
    """An enum left UNSPECIFIED, or a value this reader does not know."""


class ProtobufCountError(MalformedPackageError):
    """Arrays whose lengths disagree with each other or with the model."""


class ProtobufIndexError(MalformedPackageError):
    """A child, feature, column or set-node index outside its range, or a set on a leaf."""


class ProtobufOrderError(MalformedPackageError):
    """Entries that must be strictly ascending (set nodes, a set's values) and are not."""


class ProtobufValueError(MalformedPackageError):
    """A number its field does not allow: a NaN or infinite set value, a threshold that is NaN,
    -inf, +inf outside tree_ensemble_with_rules or not 0.0 at a set node."""


class ProtobufUnexpectedError(MalformedPackageError):
    """A field set where the rules require it absent (isolation without its post transform,
    tree_sets that hold no set node)."""


KINDS = {ir.NUMERIC: pb.Field.KIND_NUMERIC, ir.CATEGORICAL: pb.Field.KIND_CATEGORICAL}
AGGREGATIONS = {"average": pb.TreeEnsemble.AGGREGATION_AVERAGE, "sum": pb.TreeEnsemble.AGGREGATION_SUM}
POST_TRANSFORMS = {
    "none": pb.TreeEnsemble.POST_TRANSFORM_NONE,
    "logistic": pb.TreeEnsemble.POST_TRANSFORM_LOGISTIC,
    "softmax": pb.TreeEnsemble.POST_TRANSFORM_SOFTMAX,
    "isolation": pb.TreeEnsemble.POST_TRANSFORM_ISOLATION,
}
# tree_ensemble and linear_model: the values 1.0 has; isolation needs its parameters, which
# only tree_ensemble_with_rules holds
PLAIN_POST_TRANSFORMS = {k: v for k, v in POST_TRANSFORMS.items() if k != "isolation"}
UNKNOWN_POLICIES = {"error": pb.OneHotBlock.UNKNOWN_POLICY_ERROR, "zeros": pb.OneHotBlock.UNKNOWN_POLICY_ZEROS}
MISSING_RULES = {"route": pb.TreeEnsembleWithRules.MISSING_ROUTE, "error": pb.TreeEnsembleWithRules.MISSING_ERROR}
INFINITE_RULES = {
    "error": pb.TreeEnsembleWithRules.INFINITE_ERROR,
    "compare": pb.TreeEnsembleWithRules.INFINITE_COMPARE,
}

# The oneof members added after 1.0, by full field name -> the version that added them. Only
# members of Encoder's and Model's oneofs: whatever a 1.x reader does not know must sit where
# dropping it leaves a oneof unset, which every 1.x reader refuses.
SINCE = {
    "crossform.v1.Encoder.affine": "1.1",
    "crossform.v1.Encoder.missing_indicator": "1.1",
    "crossform.v1.Encoder.one_hot": "1.1",
    "crossform.v1.Encoder.refuse_missing": "1.1",
    "crossform.v1.Model.linear_model": "1.1",
    "crossform.v1.Model.tree_ensemble_with_rules": "1.1",
}


# ---------------------------------------------------------------- write


def _fill_missing(enc: ir.FillMissing, msg: pb.Encoder) -> None:
    out = msg.fill_missing
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for value in enc.values:
        if isinstance(value, str):
            out.values.add(text=value)
        else:
            out.values.add(number=value)


def _categorical(enc: ir.CategoricalEncoding, msg: pb.Encoder) -> None:
    out = msg.categorical_encoding
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for categories, codes, missing in zip(enc.categories, enc.codes, enc.missing_codes):
        entry = out.encodings.add(categories=categories, codes=codes.tolist())
        if missing is not None:
            entry.missing_code = missing
    if enc.unknown_code is not None:
        out.unknown_code = enc.unknown_code


def _scale(enc: ir.Scale, msg: pb.Encoder) -> None:
    msg.scale.features.extend(enc.features)
    msg.scale.outputs.extend(enc.outputs)
    msg.scale.offset.extend(enc.offset.tolist())
    msg.scale.scale.extend(enc.scale.tolist())


def _affine(enc: ir.Affine, msg: pb.Encoder) -> None:
    msg.affine.features.extend(enc.features)
    msg.affine.outputs.extend(enc.outputs)
    msg.affine.scale.extend(enc.scale.tolist())
    msg.affine.offset.extend(enc.offset.tolist())


def _missing_indicator(enc: ir.MissingIndicator, msg: pb.Encoder) -> None:
    out = msg.missing_indicator
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    out.kinds.extend(KINDS[kind] for kind in enc.kinds_in)


def _refuse_missing(enc: ir.RefuseMissing, msg: pb.Encoder) -> None:
    out = msg.refuse_missing
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    out.kinds.extend(KINDS[kind] for kind in enc.kinds_in)


def _one_hot(enc: ir.OneHot, msg: pb.Encoder) -> None:
    out = msg.one_hot
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for categories, columns, width, missing, unknown in zip(
        enc.categories, enc.columns, enc.widths, enc.missing_columns, enc.unknown
    ):
        block = out.blocks.add(categories=categories, columns=columns.tolist(), width=width)
        if missing is not None:
            block.missing_column = missing
        if isinstance(unknown, str):
            block.unknown_policy = UNKNOWN_POLICIES[unknown]
        else:
            block.unknown_column = unknown  # a oneof member: set even when 0


def _label(label: Any, msg: pb.ClassLabel) -> None:
    # bool before int: True is an int to Python, and the label's type is part of the id
    if isinstance(label, bool):
        msg.boolean = label
    elif isinstance(label, int):
        msg.integer = label
    elif isinstance(label, float):
        msg.number = label
    else:
        msg.text = label


def _tree(tree: ir.Tree, msg: pb.Tree) -> None:
    split = ~tree.is_leaf
    msg.feature.extend(tree.feature.tolist())
    msg.left.extend(tree.left.tolist())
    msg.right.extend(tree.right.tolist())
    msg.threshold.extend(tree.threshold[split].tolist())
    msg.missing_left.extend(tree.missing_left[split].tolist())
    msg.leaf_value.extend(tree.value[tree.is_leaf].ravel().tolist())


def _ensemble_body(model: ir.TreeEnsemble, out: pb.TreeEnsemble) -> None:
    out.features.extend(model.features)
    out.aggregation = AGGREGATIONS[model.aggregation]
    out.post_transform = POST_TRANSFORMS[model.post_transform]
    for label in model.classes or ():
        _label(label, out.classes.add())
    if model.base_value is not None:
        out.base_value.extend(model.base_value.tolist())
    for tree in model.trees:
        _tree(tree, out.trees.add())


def _plain(model: ir.TreeEnsemble) -> bool:
    """Whether 1.0's tree_ensemble states ``model``: a leaf value per class (one for a
    regressor), missing "route", infinite "error", finite thresholds, no set splits and no
    isolation. Any other ensemble needs the 1.1 member, which 1.0 readers refuse."""
    return _versions.version_needed(NAME, _versions.model_features(model), FIRST) == FIRST


def new_kind(package: ir.Package) -> str | None:
    """What in ``package`` needs format version 1.1 (a few words), or None (crossform compat says it)."""
    return _versions.first_feature_after(NAME, _versions.features_used(package), FIRST)


def _tree_sets(tree: ir.Tree, msg: pb.TreeSets) -> None:
    nodes = np.flatnonzero(tree.is_set).tolist()
    msg.nodes.extend(nodes)
    msg.sizes.extend(len(tree.sets[n]) for n in nodes)
    msg.values.extend(v for n in nodes for v in tree.sets[n])  # the IR keeps each set sorted


def _ensemble(model: ir.TreeEnsemble, msg: pb.Model) -> None:
    if _plain(model):
        _ensemble_body(model, msg.tree_ensemble)
        return
    out = msg.tree_ensemble_with_rules
    _ensemble_body(model, out.ensemble)
    out.leaf_width = model.n_outputs
    out.missing = MISSING_RULES[model.missing]
    out.infinite = INFINITE_RULES[model.infinite]
    if model.has_sets:
        for tree in model.trees:
            _tree_sets(tree, out.tree_sets.add())
    if model.isolation is not None:
        out.isolation.denominator, out.isolation.offset = model.isolation


def _linear(model: ir.LinearModel, msg: pb.Model) -> None:
    out = msg.linear_model
    out.features.extend(model.features)
    out.coefficients.extend(model.coefficients.ravel().tolist())  # row-major: output by output
    out.intercepts.extend(model.intercepts.tolist())
    out.post_transform = POST_TRANSFORMS[model.post_transform]
    for label in model.classes or ():
        _label(label, out.classes.add())


WRITERS: dict[type, Callable] = {
    ir.FillMissing: _fill_missing,
    ir.CategoricalEncoding: _categorical,
    ir.Scale: _scale,
    ir.Affine: _affine,
    ir.MissingIndicator: _missing_indicator,
    ir.OneHot: _one_hot,
    ir.RefuseMissing: _refuse_missing,
}
MODEL_WRITERS: dict[type, Callable] = {
    ir.TreeEnsemble: _ensemble,
    ir.LinearModel: _linear,
}


def _members(msg: pb.Package):
    """The full names of the Encoder and Model oneof members that ``msg`` sets."""
    for encoder in msg.encoders:
        member = encoder.WhichOneof("encoder")
        if member is not None:
            yield encoder.DESCRIPTOR.fields_by_name[member].full_name
    member = msg.model.WhichOneof("model")
    if member is not None:
        yield msg.model.DESCRIPTOR.fields_by_name[member].full_name


def _written_version(msg: pb.Package) -> str:
    """The oldest version that has every member ``msg`` sets (strict minor: docs/FORMATS.md)."""
    return max((SINCE.get(name, FIRST) for name in _members(msg)), key=_versions_key, default=FIRST)


def _versions_key(version: str) -> tuple:
    return _versions.parse_version(version, f"{NAME} SINCE")


def dumps(package: ir.Package) -> bytes:
    msg = pb.Package(
        magic=MAGIC, id=package.id, tags=package.tags, metadata=dict(package.metadata), producer=dict(package.producer)
    )
    if package.owner is not None:
        msg.owner = package.owner
    for field in package.inputs:
        msg.inputs.add(name=field.name, kind=KINDS[field.kind])
    for encoder in package.encoders:
        WRITERS[type(encoder)](encoder, msg.encoders.add())
    MODEL_WRITERS[type(package.model)](package.model, msg.model)
    msg.format_version = _written_version(msg)  # field 2 whatever the order it is set in
    if package.checks is not None:
        doc = checks_module.to_document(package.checks)
        _json.validate(doc, checks_module.SCHEMA, "checks_json")
        msg.checks_json = _json.dumps(doc, compact=True)
    return msg.SerializeToString(deterministic=True)


# ---------------------------------------------------------------- read


def sniff(source: Any) -> bool:
    return isinstance(source, bytes) and source.startswith(PREFIX)


def _check_size(data: bytes, where: str) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise LimitExceededError(where, f"expected at most {MAX_FILE_BYTES} bytes, found {len(data)}")


def _check_magic(data: bytes, where: str) -> None:
    if not data.startswith(PREFIX):
        raise ProtobufMagicError(
            where,
            f"expected a crossform protobuf package, starting with {PREFIX!r}; "
            f"found {shown(bytes(data[: len(PREFIX)]))}",
        )


def _varint(data: bytes, pos: int) -> tuple:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None, pos


def read_version(source: bytes, where: str = WHERE) -> str:
    """The recorded format_version, from the field right after the magic; the
    whole file is parsed only when a foreign writer put it elsewhere."""
    _check_size(source, where)
    _check_magic(source, where)
    pos = len(PREFIX)
    if source[pos : pos + 1] == b"\x12":
        length, start = _varint(source, pos + 1)
        if length is not None and start + length <= len(source):
            try:
                found = bytes(source[start : start + length]).decode("utf-8")
            except UnicodeDecodeError:
                found = None
            _versions.parse_version(found, where)
            return found
    found = _parse(source, where).format_version
    _versions.parse_version(found, where)
    return found


def _parse(data: bytes, where: str) -> pb.Package:
    msg = pb.Package()
    try:
        msg.ParseFromString(data)
    except DecodeError as exc:
        raise ProtobufDecodeError(where, f"expected a serialized crossform.v1.Package; protobuf says: {exc}") from None
    return msg


def _unknown(msg: Any, path: str, found: list, recorded: tuple) -> None:
    """Every unknown field under ``msg``, as "path: field N", and every field
    added after the ``recorded`` (major, minor) (SINCE), which no file of that
    version holds."""
    numbers = sorted({f.field_number for f in unknown_fields.UnknownFieldSet(msg)})
    found.extend(f"{path}: field {n}" for n in numbers)
    for field, value in msg.ListFields():
        since = SINCE.get(field.full_name)
        if since is not None and _versions_key(since) > recorded:
            found.append(f"{path}: field {field.number} ({field.name}, added in {NAME} {since})")
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        if field.is_repeated:
            for i, item in enumerate(value):
                _unknown(item, f"{path}.{field.name}[{i}]", found, recorded)
        else:
            _unknown(value, f"{path}.{field.name}", found, recorded)


def _which(msg: Any, oneof: str, path: str) -> Any:
    member = msg.WhichOneof(oneof)
    if member is None:
        raise ProtobufMissingError(path, f"expected one member of the oneof {oneof!r} to be set, found none")
    return member, getattr(msg, member)


def _enum(value: int, table: dict, enum: Any, path: str) -> str:
    for name, number in table.items():
        if number == value:
            return name
    shown = enum.Name(value) if value in enum.values() else str(value)
    known = ", ".join(enum.Name(v) for v in table.values())
    raise ProtobufEnumError(path, f"expected one of {known}, found {shown}")


def _array(values: Any, dtype: type) -> np.ndarray:
    # np.array reads upb's repeated scalars as a buffer: 50x faster than np.fromiter
    return np.array(values, dtype=dtype)


def _numbers(values: Any) -> np.ndarray:
    return _array(values, np.float64)


def _read_fill_missing(msg: pb.FillMissing, path: str) -> ir.FillMissing:
    values = []
    for i, value in enumerate(msg.values):
        values.append(_which(value, "value", f"{path}.values[{i}]")[1])
    return ir.FillMissing(tuple(msg.features), tuple(values), tuple(msg.outputs))


def _read_categorical(msg: pb.CategoricalEncoding, path: str) -> ir.CategoricalEncoding:
    if len(msg.encodings) != len(msg.features):
        raise ProtobufCountError(
            path, f"expected {len(msg.features)} encodings, one per feature, found {len(msg.encodings)}"
        )
    for i, entry in enumerate(msg.encodings):
        if len(entry.codes) != len(entry.categories):
            raise ProtobufCountError(
                f"{path}.encodings[{i}]",
                f"expected {len(entry.categories)} codes, one per category, found {len(entry.codes)}",
            )
    return ir.CategoricalEncoding(
        tuple(msg.features),
        tuple(tuple(e.categories) for e in msg.encodings),
        tuple(_numbers(e.codes) for e in msg.encodings),
        tuple(e.missing_code if e.HasField("missing_code") else None for e in msg.encodings),
        msg.unknown_code if msg.HasField("unknown_code") else None,
        tuple(msg.outputs),
    )


def _read_scale(msg: pb.Scale, path: str) -> ir.Scale:
    return ir.Scale(tuple(msg.features), _numbers(msg.offset), _numbers(msg.scale), tuple(msg.outputs))


def _per_feature(msg: Any, path: str, *names: str) -> None:
    n = len(msg.features)
    for name in names:
        found = len(getattr(msg, name))
        if found != n:
            raise ProtobufCountError(path, f"expected {n} {name} entries, one per feature, found {found}")


def _read_affine(msg: pb.Affine, path: str) -> ir.Affine:
    _per_feature(msg, path, "scale", "offset")
    return ir.Affine(tuple(msg.features), _numbers(msg.scale), _numbers(msg.offset), tuple(msg.outputs))


def _read_missing_indicator(msg: pb.MissingIndicator, path: str) -> ir.MissingIndicator:
    _per_feature(msg, path, "kinds")
    kinds = tuple(_enum(k, KINDS, pb.Field.Kind, f"{path}.kinds[{i}]") for i, k in enumerate(msg.kinds))
    return ir.MissingIndicator(tuple(msg.features), kinds, tuple(msg.outputs))


def _read_refuse_missing(msg: pb.RefuseMissing, path: str) -> ir.RefuseMissing:
    _per_feature(msg, path, "kinds")
    kinds = tuple(_enum(k, KINDS, pb.Field.Kind, f"{path}.kinds[{i}]") for i, k in enumerate(msg.kinds))
    return ir.RefuseMissing(tuple(msg.features), kinds, tuple(msg.outputs))


def _column(value: int, width: int, path: str, what: str) -> int:
    if not -1 <= value < width:
        raise ProtobufIndexError(path, f"expected {what} in [-1, {width}) (the block's width), found {value}")
    return value


def _read_block(block: pb.OneHotBlock, path: str) -> tuple:
    width = block.width
    if width > MAX_BLOCK_WIDTH:
        raise LimitExceededError(path, f"expected at most {MAX_BLOCK_WIDTH} columns in a block, found {width}")
    if len(block.columns) != len(block.categories):
        raise ProtobufCountError(
            path, f"expected {len(block.categories)} columns, one per category, found {len(block.columns)}"
        )
    columns = _array(block.columns, np.int64)
    bad = np.flatnonzero((columns < -1) | (columns >= width))
    if bad.size:
        j = int(bad[0])
        _column(int(columns[j]), width, f"{path}.columns[{j}]", "a column")
    missing = (
        _column(block.missing_column, width, f"{path}.missing_column", "a column")
        if block.HasField("missing_column")
        else None
    )
    member, value = _which(block, "unknown", path)
    if member == "unknown_policy":
        unknown = _enum(value, UNKNOWN_POLICIES, pb.OneHotBlock.UnknownPolicy, f"{path}.unknown_policy")
    else:
        unknown = _column(value, width, f"{path}.unknown_column", "a column")
    return tuple(block.categories), columns, width, missing, unknown


def _read_one_hot(msg: pb.OneHot, path: str) -> ir.OneHot:
    _per_feature(msg, path, "blocks")
    blocks = [_read_block(b, f"{path}.blocks[{i}]") for i, b in enumerate(msg.blocks)]
    categories, columns, widths, missing, unknown = (tuple(part) for part in zip(*blocks)) if blocks else ((),) * 5
    if len(msg.outputs) != sum(widths):
        raise ProtobufCountError(
            path,
            f"expected {sum(widths)} outputs, one per column of the blocks "
            f"(widths {list(widths)}), found {len(msg.outputs)}",
        )
    return ir.OneHot(tuple(msg.features), categories, columns, widths, missing, unknown, tuple(msg.outputs))


READERS: dict[str, Callable] = {
    "fill_missing": _read_fill_missing,
    "categorical_encoding": _read_categorical,
    "scale": _read_scale,
    "affine": _read_affine,
    "missing_indicator": _read_missing_indicator,
    "one_hot": _read_one_hot,
    "refuse_missing": _read_refuse_missing,
}


def _read_tree(
    msg: pb.Tree, width: int, n_features: int, path: str, plain: bool = True, sets: Any = None, sets_path: str = ""
) -> ir.Tree:
    """One tree; ``plain`` in a tree_ensemble (finite thresholds only); ``sets`` is its
    TreeSets, None when the ensemble has no set splits."""
    n = len(msg.feature)
    if n == 0:
        raise ProtobufCountError(path, "expected at least one node, found none")
    if len(msg.left) != n or len(msg.right) != n:
        raise ProtobufCountError(
            path,
            f"expected feature, left and right of one length (one per node), "
            f"found {n}, {len(msg.left)} and {len(msg.right)}",
        )
    feature, left, right = (_array(a, np.int64) for a in (msg.feature, msg.left, msg.right))
    leaf = left == -1
    split = ~leaf
    n_leaves = int(leaf.sum())
    n_splits = n - n_leaves
    nodes = np.arange(n)
    for name, arr, lo, hi, expected_leaf in (
        ("left", left, 1, n, -1),
        ("right", right, 1, n, -1),
        ("feature", feature, 0, n_features, -1),
    ):
        bad = (split & ((arr < lo) | (arr >= hi))) | (leaf & (arr != expected_leaf))
        if bad.any():
            i = int(nodes[bad][0])
            kind = "split node" if split[i] else "leaf"
            wanted = f"in [{lo}, {hi})" if split[i] else f"{expected_leaf}"
            raise ProtobufIndexError(path, f"expected {name} {wanted} at {kind} {i}, found {int(arr[i])}")
    if n_leaves != n_splits + 1:
        # checked before the (nodes x outputs) leaf values are allocated: without leaves a
        # small file could ask for gigabytes of them
        raise ProtobufCountError(
            path,
            f"expected {n_splits + 1} leaves (left -1) for {n_splits} split nodes, as "
            f"every binary tree has, found {n_leaves}",
        )
    for name, count, want in (
        ("threshold", len(msg.threshold), n_splits),
        ("missing_left", len(msg.missing_left), n_splits),
        ("leaf_value", len(msg.leaf_value), n_leaves * width),
    ):
        if count != want:
            raise ProtobufCountError(
                path,
                f"expected {want} {name} entries for {n_splits} split nodes, "
                f"{n_leaves} leaves and {width} outputs; found {count}",
            )
    threshold = np.zeros(n)
    threshold[split] = _numbers(msg.threshold)
    missing_left = np.zeros(n, dtype=bool)
    missing_left[split] = _array(msg.missing_left, bool)
    value = np.zeros((n, width))
    value[leaf] = _numbers(msg.leaf_value).reshape(n_leaves, width)
    node_sets = () if sets is None else _read_sets(sets, leaf, sets_path)
    _check_thresholds(threshold, split, node_sets, path, plain)
    return ir.Tree(feature, threshold, left, right, missing_left, value, node_sets)


def _check_thresholds(threshold: np.ndarray, split: np.ndarray, sets: tuple, path: str, plain: bool) -> None:
    """NaN and -inf never; +inf only outside tree_ensemble (1.0 has none); 0.0 at set nodes."""
    bad = split & (np.isnan(threshold) | (threshold == -np.inf) | (plain & (threshold == np.inf)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        allowed = "finite" if plain else "finite or +inf"
        where = " (+inf only in tree_ensemble_with_rules, since 1.1)" if plain and threshold[i] == np.inf else ""
        raise ProtobufValueError(path, f"expected a {allowed} threshold at split node {i}{where}, found {threshold[i]}")
    for i, entry in enumerate(sets):
        if entry is not None and threshold[i] != 0.0:
            raise ProtobufValueError(path, f"expected threshold 0.0 at set node {i}, found {threshold[i]}")


def _read_sets(msg: pb.TreeSets, leaf: np.ndarray, path: str) -> tuple:
    """A tree's TreeSets as Tree.sets: () or one entry per node, None or the node's set."""
    n = len(leaf)
    if len(msg.sizes) != len(msg.nodes):
        raise ProtobufCountError(path, f"expected {len(msg.nodes)} sizes, one per set node, found {len(msg.sizes)}")
    nodes, sizes = _array(msg.nodes, np.int64), _array(msg.sizes, np.int64)
    if nodes.size:
        bad = np.flatnonzero(nodes >= n)
        if bad.size:
            raise ProtobufIndexError(f"{path}.nodes[{bad[0]}]", f"expected a node in [0, {n}), found {nodes[bad[0]]}")
        bad = np.flatnonzero(leaf[nodes])
        if bad.size:
            raise ProtobufIndexError(
                f"{path}.nodes[{bad[0]}]",
                f"expected a split node (a set is tested at split nodes only), found leaf {nodes[bad[0]]}",
            )
        bad = np.flatnonzero(np.diff(nodes) <= 0)
        if bad.size:
            raise ProtobufOrderError(
                f"{path}.nodes[{bad[0] + 1}]",
                f"expected set nodes strictly ascending, found {nodes[bad[0] + 1]} after {nodes[bad[0]]}",
            )
        bad = np.flatnonzero(sizes > ir.MAX_SET_SIZE)
        if bad.size:
            raise LimitExceededError(
                f"{path}.sizes[{bad[0]}]", f"expected at most {ir.MAX_SET_SIZE} values in a set, found {sizes[bad[0]]}"
            )
    if len(msg.values) != int(sizes.sum()):
        raise ProtobufCountError(
            path, f"expected {int(sizes.sum())} values (the sum of sizes), found {len(msg.values)}"
        )
    values = _numbers(msg.values)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ProtobufValueError(f"{path}.values[{bad[0]}]", f"expected finite set values, found {values[bad[0]]}")
    ends = np.cumsum(sizes)
    starts = ends - sizes
    # a value must exceed the one before it, except where a set starts
    rising = np.ones(len(values), dtype=bool)
    rising[1:] = values[1:] > values[:-1]
    rising[starts[starts < len(values)]] = True
    bad = np.flatnonzero(~rising)
    if bad.size:
        j = int(bad[0])
        raise ProtobufOrderError(
            f"{path}.values[{j}]",
            f"expected each set's values strictly ascending (distinct), found {values[j]} after {values[j - 1]}",
        )
    if not nodes.size:
        return ()
    out = [None] * n
    for node, start, end in zip(nodes.tolist(), starts.tolist(), ends.tolist()):
        out[node] = tuple(values[start:end].tolist())
    return tuple(out)


def _read_classes(msg: Any, path: str) -> tuple:
    if len(msg.classes) > MAX_OUTPUTS:
        raise LimitExceededError(path, f"expected at most {MAX_OUTPUTS} outputs, found {len(msg.classes)} classes")
    return tuple(_which(label, "label", f"{path}.classes[{i}]")[1] for i, label in enumerate(msg.classes))


def _check_width(classes: tuple, width: int, path: str, what: str) -> None:
    """``width`` scores: one per class, or one for a regressor or for two classes (binary)."""
    if width > MAX_OUTPUTS:
        raise LimitExceededError(path, f"expected at most {MAX_OUTPUTS} outputs, found {width}")
    if (width == 1 and len(classes) in (0, 2)) or (classes and width == len(classes)):
        return
    wanted = (
        f"{len(classes)} (one per class)" + (" or 1 (two classes from one score)" if len(classes) == 2 else "")
        if classes
        else "1 (a regressor, no classes)"
    )
    raise ProtobufCountError(path, f"expected {what} to be {wanted}, found {width}")


def _read_ensemble(msg: pb.TreeEnsemble, path: str, rules: Any = None, rules_path: str = "") -> ir.TreeEnsemble:
    """A TreeEnsemble. With ``rules`` (the TreeEnsembleWithRules around it) the leaf width, the
    missing/infinite rules, set splits, isolation and +inf thresholds come from there; without,
    1.0's: a leaf value per class, missing "route", infinite "error", finite thresholds."""
    aggregation = _enum(msg.aggregation, AGGREGATIONS, pb.TreeEnsemble.Aggregation, f"{path}.aggregation")
    posts = PLAIN_POST_TRANSFORMS if rules is None else POST_TRANSFORMS
    post = _enum(msg.post_transform, posts, pb.TreeEnsemble.PostTransform, f"{path}.post_transform")
    classes = _read_classes(msg, path)
    missing, infinite, isolation, tree_sets = "route", "error", None, None
    if rules is None:
        width = len(classes) or 1
    else:
        width = rules.leaf_width
        _check_width(classes, width, path, "leaf_width")
        missing = _enum(rules.missing, MISSING_RULES, pb.TreeEnsembleWithRules.Missing, f"{rules_path}.missing")
        infinite = _enum(rules.infinite, INFINITE_RULES, pb.TreeEnsembleWithRules.Infinite, f"{rules_path}.infinite")
        isolation = _read_isolation(rules, post, rules_path)
        tree_sets = _read_tree_sets(rules, len(msg.trees), rules_path)
    if len(msg.trees) > MAX_TREES:
        raise LimitExceededError(path, f"expected at most {MAX_TREES} trees, found {len(msg.trees)}")
    nodes = sum(len(t.feature) for t in msg.trees)
    if nodes > MAX_NODES:
        raise LimitExceededError(path, f"expected at most {MAX_NODES} nodes over all trees, found {nodes}")
    trees = tuple(
        _read_tree(
            t,
            width,
            len(msg.features),
            f"{path}.trees[{i}]",
            rules is None,
            None if tree_sets is None else tree_sets[i],
            f"{rules_path}.tree_sets[{i}]",
        )
        for i, t in enumerate(msg.trees)
    )
    if tree_sets is not None and not any(t.has_sets for t in trees):
        raise ProtobufUnexpectedError(
            f"{rules_path}.tree_sets", "expected tree_sets only when a tree has a set node, found no set node in any"
        )
    base = _numbers(msg.base_value) if aggregation == "sum" or len(msg.base_value) else None
    return ir.TreeEnsemble(
        tuple(msg.features), trees, aggregation, post, classes or None, base, missing, infinite, isolation
    )


def _read_isolation(rules: pb.TreeEnsembleWithRules, post: str, path: str) -> tuple | None:
    if post != "isolation":
        if rules.HasField("isolation"):
            raise ProtobufUnexpectedError(
                f"{path}.isolation", f"expected no isolation with post transform {post!r}, found one"
            )
        return None
    if not rules.HasField("isolation"):
        raise ProtobufMissingError(f"{path}.isolation", "expected isolation with POST_TRANSFORM_ISOLATION, found none")
    msg = rules.isolation
    for name in ("denominator", "offset"):
        if not msg.HasField(name):
            raise ProtobufMissingError(f"{path}.isolation", f"expected the field {name!r} to be set, found none")
    if not (math.isfinite(msg.denominator) and msg.denominator > 0):
        raise ProtobufValueError(
            f"{path}.isolation.denominator", f"expected a finite number > 0, found {msg.denominator}"
        )
    if not math.isfinite(msg.offset):
        raise ProtobufValueError(f"{path}.isolation.offset", f"expected a finite number, found {msg.offset}")
    return msg.denominator, msg.offset


def _read_tree_sets(rules: pb.TreeEnsembleWithRules, n_trees: int, path: str) -> Any:
    """The TreeSets of each tree, or None when the ensemble has no set splits."""
    if not len(rules.tree_sets):
        return None
    if len(rules.tree_sets) != n_trees:
        raise ProtobufCountError(
            path, f"expected {n_trees} tree_sets, one per tree (or none), found {len(rules.tree_sets)}"
        )
    return rules.tree_sets


def _read_ensemble_with_rules(msg: pb.TreeEnsembleWithRules, path: str) -> ir.TreeEnsemble:
    if not msg.HasField("ensemble"):
        raise ProtobufMissingError(path, "expected the field 'ensemble' to be set, found none")
    return _read_ensemble(msg.ensemble, f"{path}.ensemble", msg, path)


def _read_linear(msg: pb.LinearModel, path: str) -> ir.LinearModel:
    post = _enum(msg.post_transform, PLAIN_POST_TRANSFORMS, pb.TreeEnsemble.PostTransform, f"{path}.post_transform")
    classes = _read_classes(msg, path)
    k, n = len(msg.intercepts), len(msg.features)
    if k == 0:
        raise ProtobufCountError(path, "expected at least one intercept (one per output), found none")
    _check_width(classes, k, path, "the number of intercepts (outputs)")
    if len(msg.coefficients) != k * n:
        raise ProtobufCountError(
            path, f"expected {k * n} coefficients ({k} outputs x {n} features), found {len(msg.coefficients)}"
        )
    coefficients = _numbers(msg.coefficients).reshape(k, n)
    return ir.LinearModel(tuple(msg.features), coefficients, _numbers(msg.intercepts), post, classes or None)


MODEL_READERS: dict[str, Callable] = {
    "tree_ensemble": _read_ensemble,
    "linear_model": _read_linear,
    "tree_ensemble_with_rules": _read_ensemble_with_rules,
}


def _construct(build: Callable, msg: Any, path: str):
    try:
        return build(msg, path)
    except IRValidationError as exc:
        raise MalformedPackageError(path, str(exc)) from None


def loads(source: bytes, where: str = WHERE) -> ir.Package:
    _check_size(source, where)
    _check_magic(source, where)
    msg = _parse(source, where)
    if msg.magic != MAGIC:  # a later duplicate field 1 overrides the first
        raise ProtobufMagicError(where, f"expected magic {MAGIC!r}, found {shown(msg.magic)}")
    root = f"{where}#Package"  # errors name the file, then the message path inside it
    recorded = _versions.parse_version(msg.format_version, where)
    unknown: list = []
    _unknown(msg, "Package", unknown, recorded)
    if _versions.check_version(NAME, VERSION, msg.format_version, where, unknown):
        msg.DiscardUnknownFields()  # a newer minor only adds fields an older reader may drop
    elif unknown:
        raise ProtobufUnknownFieldError(
            where, f"expected only the fields of {NAME} {msg.format_version}, found unknown {', '.join(unknown)}"
        )
    inputs = []
    for i, field in enumerate(msg.inputs):
        path = f"{root}.inputs[{i}]"
        kind = _enum(field.kind, KINDS, pb.Field.Kind, f"{path}.kind")
        inputs.append(_construct(lambda f, _, kind=kind: ir.Field(f.name, kind), field, path))
    encoders = []
    for i, encoder in enumerate(msg.encoders):
        path = f"{root}.encoders[{i}]"
        member, body = _which(encoder, "encoder", path)
        encoders.append(_construct(READERS[member], body, f"{path}.{member}"))
    member, body = _which(msg.model, "model", f"{root}.model")
    model = _construct(MODEL_READERS[member], body, f"{root}.model.{member}")
    checks = None
    if msg.HasField("checks_json"):
        label = f"{where}#checks_json"
        doc = _json.parse(msg.checks_json, label)
        _json.validate(doc, checks_module.SCHEMA, label)
        checks = checks_module.from_document(doc, label)
    package = _construct(
        lambda m, _: ir.Package(
            inputs=tuple(inputs),
            encoders=tuple(encoders),
            model=model,
            owner=m.owner if m.HasField("owner") else None,
            tags=tuple(m.tags),
            metadata=dict(m.metadata),
            producer=dict(m.producer),
            checks=checks,
        ),
        msg,
        root,
    )
    if msg.id != package.id:
        raise IdMismatchError(
            where,
            f"the file records id {msg.id or 'none'} but the content hashes to "
            f"{package.id}: the content changed after the package was written",
            package=package,
        )
    return package
