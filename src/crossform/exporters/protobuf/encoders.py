"""protobuf's encoder messages: for each encoder kind, the member of the Encoder oneof it is
written to and read from. A new encoder kind is one writer, one reader and an entry in each
table here (with its message and oneof member in proto/crossform/v1/package.proto)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ... import ir
from ...errors import LimitExceededError
from ...v1 import package_pb2 as pb
from ._messages import _array, _enum, _numbers, _which
from .rules import KINDS, UNKNOWN_POLICIES, ProtobufCountError, ProtobufIndexError

MAX_BLOCK_WIDTH = 1_000_000  # columns of one one-hot feature, a limit beside the shared ones (_limits)

# ---------------------------------------------------------------- written


def _fill_missing(enc: ir.FillMissing, msg: pb.Encoder) -> None:
    out = msg.fill_missing
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for value in enc.values:
        if isinstance(value, str):
            out.values.add(text=value)
        else:
            out.values.add(number=value)


def _categorical_encoding(enc: ir.CategoricalEncoding, msg: pb.Encoder) -> None:
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


# ---------------------------------------------------------------- read


def _read_fill_missing(msg: pb.FillMissing, path: str) -> ir.FillMissing:
    values = []
    for i, value in enumerate(msg.values):
        values.append(_which(value, "value", f"{path}.values[{i}]")[1])
    return ir.FillMissing(tuple(msg.features), tuple(values), tuple(msg.outputs))


def _read_categorical_encoding(msg: pb.CategoricalEncoding, path: str) -> ir.CategoricalEncoding:
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


def _number_category(enc: ir.NumberCategory, msg: pb.Encoder) -> None:
    out = msg.number_category
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for values, categories in zip(enc.values, enc.categories):
        out.per_feature.add(values=values.tolist(), categories=categories)
    out.unknown = enc.unknown


def _read_number_category(msg: pb.NumberCategory, path: str) -> ir.NumberCategory:
    _per_feature(msg, path, "per_feature")
    for i, entry in enumerate(msg.per_feature):
        if len(entry.categories) != len(entry.values):
            raise ProtobufCountError(
                f"{path}.per_feature[{i}]",
                f"expected {len(entry.values)} categories, one per value, found {len(entry.categories)}",
            )
    return ir.NumberCategory(
        tuple(msg.features),
        tuple(_numbers(e.values) for e in msg.per_feature),
        tuple(tuple(e.categories) for e in msg.per_feature),
        msg.unknown,
        tuple(msg.outputs),
    )


def _binning(enc: ir.Binning, msg: pb.Encoder) -> None:
    out = msg.binning
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for edges in enc.edges:
        out.per_feature.add(edges=edges.tolist())


def _read_binning(msg: pb.Binning, path: str) -> ir.Binning:
    _per_feature(msg, path, "per_feature")
    return ir.Binning(tuple(msg.features), tuple(_numbers(e.edges) for e in msg.per_feature), tuple(msg.outputs))


def _product(enc: ir.Product, msg: pb.Encoder) -> None:
    out = msg.product
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for term in enc.factors:
        out.products.add(factors=term)


def _read_product(msg: pb.Product, path: str) -> ir.Product:
    if len(msg.products) != len(msg.outputs):
        raise ProtobufCountError(
            f"{path}.products", f"expected {len(msg.outputs)} products, one per output, found {len(msg.products)}"
        )
    return ir.Product(tuple(msg.features), tuple(tuple(p.factors) for p in msg.products), tuple(msg.outputs))


def _integer_code(enc: ir.IntegerCode, msg: pb.Encoder) -> None:
    msg.integer_code.features.extend(enc.features)
    msg.integer_code.outputs.extend(enc.outputs)


def _read_integer_code(msg: pb.IntegerCode, path: str) -> ir.IntegerCode:
    return ir.IntegerCode(tuple(msg.features), tuple(msg.outputs))


def _missing_band(enc: ir.MissingBand, msg: pb.Encoder) -> None:
    out = msg.missing_band
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    out.low.extend(enc.low.tolist())
    out.high.extend(enc.high.tolist())


def _read_missing_band(msg: pb.MissingBand, path: str) -> ir.MissingBand:
    return ir.MissingBand(tuple(msg.features), tuple(msg.low), tuple(msg.high), tuple(msg.outputs))


CENTRINGS = {"after": pb.Projection.CENTRING_AFTER, "before": pb.Projection.CENTRING_BEFORE}


def _projection(enc: ir.Projection, msg: pb.Encoder) -> None:
    out = msg.projection
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    out.mean.extend(enc.mean.tolist())
    out.components.extend(enc.components.ravel().tolist())
    if enc.divisors is not None:
        out.divisors.extend(enc.divisors.tolist())
    out.centring = CENTRINGS[enc.centring]


def _read_projection(msg: pb.Projection, path: str) -> ir.Projection:
    k, n = len(msg.outputs), len(msg.features)
    if len(msg.components) != k * n:
        raise ProtobufCountError(
            f"{path}.components",
            f"expected {k * n} components, {k} outputs times {n} features, found {len(msg.components)}",
        )
    if len(msg.divisors) not in (0, k):
        raise ProtobufCountError(
            f"{path}.divisors", f"expected no divisors or {k}, one per output, found {len(msg.divisors)}"
        )
    centring = _enum(msg.centring, CENTRINGS, pb.Projection.Centring, f"{path}.centring")
    return ir.Projection(
        tuple(msg.features),
        _numbers(msg.mean),
        _numbers(msg.components).reshape(k, n),
        tuple(msg.outputs),
        _numbers(msg.divisors) if len(msg.divisors) else None,
        centring,
    )


# IR encoder class -> the function that fills its Encoder message
ENCODER_WRITERS: dict[type, Callable] = {
    ir.FillMissing: _fill_missing,
    ir.CategoricalEncoding: _categorical_encoding,
    ir.Scale: _scale,
    ir.Affine: _affine,
    ir.MissingIndicator: _missing_indicator,
    ir.OneHot: _one_hot,
    ir.RefuseMissing: _refuse_missing,
    ir.NumberCategory: _number_category,
    ir.Binning: _binning,
    ir.Product: _product,
    ir.IntegerCode: _integer_code,
    ir.MissingBand: _missing_band,
    ir.Projection: _projection,
}

# member of the Encoder oneof -> the function that reads it back
ENCODER_READERS: dict[str, Callable] = {
    "fill_missing": _read_fill_missing,
    "categorical_encoding": _read_categorical_encoding,
    "scale": _read_scale,
    "affine": _read_affine,
    "missing_indicator": _read_missing_indicator,
    "one_hot": _read_one_hot,
    "refuse_missing": _read_refuse_missing,
    "number_category": _read_number_category,
    "binning": _read_binning,
    "product": _read_product,
    "integer_code": _read_integer_code,
    "missing_band": _read_missing_band,
    "projection": _read_projection,
}
