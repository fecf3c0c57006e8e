"""The pmml reader: the package rebuilt from the parsed document (its envelope, inputs and
encoders here, the model in model_reader), then written again and compared byte for byte
(:func:`_compare`), so anything but a document crossform writes is refused with a named error.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from typing import Any, Union

import numpy as np

from ... import ir
from ...errors import CrossformError, IRValidationError, UnsupportedModelError, shown
from .. import _envelope, _json
from .model_reader import _read_model
from .parse import _header_json, _number, _parse, _Reader, _Slow, _slow_parse
from .rules import (
    CODES,
    EXTENDER,
    NAME,
    OFF,
    ON,
    ONE_HOT,
    PREFIX,
    WHERE,
    FormatVersionWarning,
    PmmlDecodeError,
    PmmlHeaderError,
    PmmlNumberError,
    PmmlStructureError,
    _attr,
    needs,
    written_version,
)
from .writer import iter_chunks


def _code(value: Any, where: str) -> Union[float, None]:
    if value is None:
        return None
    if value == "NaN":
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise PmmlStructureError(where, f'expected a code (a number, "NaN" or null), found {shown(value)}')


_DERIVED_NAME = re.compile(re.escape(PREFIX) + r"e(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?")
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,9})")
KINDS_OF = {"continuous": ir.NUMERIC, "categorical": ir.CATEGORICAL}


def _integer(text: Any, what: str, where: str) -> int:
    if not isinstance(text, str) or _INTEGER.fullmatch(text) is None:
        raise PmmlNumberError(where, f"expected an integer for {what}, found {shown(text)}")
    return int(text)


def _read_encoders(reader: _Reader, where: str) -> tuple:
    """Encoders from the DerivedFields: crossform:e<i>.<j> for encoder i, feature
    j, and crossform:e<i>.<j>.<c> for column c of a one-hot feature."""
    ir_name = {name: name for name, _ in reader.fields}  # PMML name -> IR column
    optype = dict(reader.fields)
    groups: list = []  # per encoder, per feature: (its DerivedField, a one-hot feature's column fields)
    for d in reader.derived:
        match = _DERIVED_NAME.fullmatch(d["name"] or "")
        if match is None:
            raise PmmlStructureError(where, f"expected DerivedFields named {PREFIX}e<i>.<j>, found {shown(d['name'])}")
        i, j = int(match.group(1)), int(match.group(2))
        if match.group(3) is None:
            if i == len(groups) and j == 0:
                groups.append([])
            if i != len(groups) - 1 or j != len(groups[-1]):
                raise PmmlStructureError(where, f"expected DerivedFields in encoder order, found {shown(d['name'])}")
            groups[-1].append((d, []))
        else:
            if (
                not groups
                or i != len(groups) - 1
                or j != len(groups[-1]) - 1
                or int(match.group(3)) != len(groups[-1][-1][1])
            ):
                raise PmmlStructureError(
                    where, f"expected one-hot columns in order after their feature's field, found {shown(d['name'])}"
                )
            groups[-1][-1][1].append(d)
        optype[d["name"]] = d["optype"]
    encoders = []
    for i, group in enumerate(groups):
        label = f"{where}#TransformationDictionary/DerivedField[{PREFIX}e{i}]"
        one_hot = any(field["policy"] is not None for field, _ in group)
        named = [d for field, columns in group for d in (columns if one_hot else [field])]
        for d in named:
            if d["display"] is None:
                raise PmmlStructureError(
                    label, f"expected DerivedField {d['name']!r} to name its column in displayName"
                )
        fields = [field for field, _ in group]
        for d in fields:
            if d["source"] not in ir_name:
                raise PmmlStructureError(
                    label, f"expected DerivedField {d['name']!r} to read an earlier field, found {shown(d['source'])}"
                )
        features = tuple(ir_name[d["source"]] for d in fields)
        try:
            encoder = _read_encoder(group, fields, features, [optype.get(d["source"]) for d in fields], label)
        except IRValidationError as exc:
            raise PmmlStructureError(label, str(exc)) from None
        encoders.append(encoder)
        for field, columns in group:
            if isinstance(encoder, ir.OneHot):
                ir_name.update((d["name"], d["display"]) for d in columns)
            else:
                ir_name[field["name"]] = field["display"]
    return tuple(encoders), ir_name


def _read_encoder(group: list, fields: list, features: tuple, sources: list, label: str) -> Any:
    """One encoder from its features' DerivedFields (what the first expression element says it is)."""
    kinds = {d["kind"] for d in fields}
    functions = {d["function"] for d in fields}
    outputs = tuple(d["display"] for d in fields)
    if any(d["policy"] is not None for d in fields):
        return _read_one_hot(group, features, label)  # its fields name no column; theirs do
    if any(columns for _, columns in group):
        raise PmmlStructureError(label, "expected columns only after a one-hot feature's field")
    if kinds == {"FieldRef"}:
        filled = {d["missing"] is not None for d in fields}
        if filled == {False}:  # refuse-missing (1.2): the value unchanged
            if any(kind not in KINDS_OF for kind in sources):
                raise PmmlStructureError(
                    label,
                    f"expected a refuse-missing encoder of continuous or categorical fields, found optypes {sources}",
                )
            return ir.RefuseMissing(features, tuple(KINDS_OF[kind] for kind in sources), outputs)
        if len(filled) != 1:
            raise PmmlStructureError(
                label,
                "expected FieldRef@mapMissingTo on every feature (fill-missing) or on "
                "none (refuse-missing), found it on some",
            )
        values = tuple(
            _number(d["missing"], "a fill value", label) if d["type"] == "double" else d["missing"] for d in fields
        )
        return ir.FillMissing(features, values, outputs)
    if kinds == {"Apply"} and len(functions) == 1:
        function = functions.pop()
        if any(len(d["constants"]) != 2 for d in fields):
            raise PmmlStructureError(label, "expected an Apply with two Constants")
        first = [_number(d["constants"][0], "a constant", label) for d in fields]
        second = [_number(d["constants"][1], "a constant", label) for d in fields]
        if function == "/":  # (x - offset) / scale
            return ir.Scale(features, first, second, outputs)
        if function == "+":  # x * scale + offset
            return ir.Affine(features, first, second, outputs)
        if function == "if":  # if isMissing(x) then 1.0 else 0.0
            if any(kind not in KINDS_OF for kind in sources):
                raise PmmlStructureError(
                    label, f"expected a missing indicator of continuous or categorical fields, found optypes {sources}"
                )
            return ir.MissingIndicator(features, tuple(KINDS_OF[kind] for kind in sources), outputs)
        raise PmmlStructureError(label, f'expected an Apply of "/", "+" or "if", found {shown(function)}')
    if kinds == {"MapValues"}:
        return _read_categorical_encoding(fields, features, outputs, label)
    raise PmmlStructureError(label, f"expected a FieldRef, an Apply or a MapValues, found {sorted(map(str, kinds))}")


def _read_categorical_encoding(fields: list, features: tuple, outputs: tuple, label: str) -> ir.CategoricalEncoding:
    """A label-encoder: per feature a MapValues category -> code, its missing and unknown codes in
    Extension crossform.codes."""
    docs = [_json.parse((d["codes"] or "").encode("utf-8"), f"{label}/Extension[{CODES}]") for d in fields]
    if any(not isinstance(doc, dict) for doc in docs):
        raise PmmlStructureError(label, f"expected a JSON object in Extension {CODES!r}")
    unknown = {json.dumps(doc.get("unknown")) for doc in docs}
    if len(unknown) != 1:
        raise PmmlStructureError(label, "expected one unknown code for every feature of the encoder")
    categories = tuple(tuple(c for c, _ in d["rows"]) for d in fields)
    codes = tuple(np.array([_number(v, "a code", label) for _, v in d["rows"]], dtype=np.float64) for d in fields)
    missing = tuple(_code(doc.get("missing"), label) for doc in docs)
    return ir.CategoricalEncoding(features, categories, codes, missing, _code(docs[0].get("unknown"), label), outputs)


def _column(value: Any, what: str, label: str) -> Any:
    """A one-hot column (an int >= -1; the IR checks the width) or None."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PmmlStructureError(label, f"expected {what} to be a column number or null, found {shown(value)}")


def _read_one_hot(group: list, features: tuple, label: str) -> ir.OneHot:
    """Per feature: its column field (MapValues category -> column, the missing and
    unknown columns in Extension crossform.one-hot), then a NormDiscrete per column."""
    categories, columns, widths, missing, unknown, outputs = [], [], [], [], [], []
    for field, fields in group:
        where = f"{label}.{len(categories)}"
        if field["kind"] != "MapValues" or field["policy"] is None:
            raise PmmlStructureError(
                where, f"expected every feature of a one-hot encoder to have a MapValues and an Extension {ONE_HOT!r}"
            )
        doc = _json.parse(field["policy"].encode("utf-8"), f"{where}/Extension[{ONE_HOT}]")
        if not isinstance(doc, dict) or set(doc) != {"missing", "unknown"}:
            raise PmmlStructureError(
                where,
                f'expected a JSON object with "missing" and "unknown" in Extension {ONE_HOT!r}, found {shown(doc)}',
            )
        policy = doc["unknown"]
        if not (isinstance(policy, str) and policy in ir.UNKNOWN_POLICIES):
            policy = _column(policy, "the unknown policy", where)
            if policy is None:
                raise PmmlStructureError(
                    where,
                    f"expected the unknown policy to be one of {ir.UNKNOWN_POLICIES} or a column number, found null",
                )
        categories.append(tuple(c for c, _ in field["rows"]))
        columns.append([_integer(v, "a column", where) for _, v in field["rows"]])
        missing.append(_column(doc["missing"], "the missing column", where))
        unknown.append(policy)
        for c, d in enumerate(fields):
            if d["kind"] != "NormDiscrete" or d["source"] != field["name"] or d["norm"] != str(c):
                raise PmmlStructureError(
                    where,
                    f"expected column {c} to be NormDiscrete field="
                    f'{field["name"]!r} value="{c}", found {shown(d["name"])}',
                )
            outputs.append(d["display"])
        widths.append(len(fields))
    return ir.OneHot(
        features, tuple(categories), tuple(columns), tuple(widths), tuple(missing), tuple(unknown), tuple(outputs)
    )


def _header_map(header: dict, key: str, where: str) -> dict:
    """The metadata or producer map the Header Extension ``key`` holds ({} without it)."""
    value = _header_json(header, key, where, default={})
    return _envelope.string_map(value, f"Extension {shown(key)}", where, PmmlHeaderError)


def _header_checks(header: dict, where: str):
    if _envelope.CHECKS not in header:
        return None
    label = f"{where}#Header/Extension[{_envelope.CHECKS}]"
    return _envelope.read_checks(header[_envelope.CHECKS].encode("utf-8"), label)


def _without_unknown(source: bytes, names: list) -> bytes:
    """A newer minor's Header Extensions this reader does not know, cut out for the comparison."""
    for name in names:
        pattern = (
            rb'<Extension extender="'
            + EXTENDER.encode()
            + rb'" name="'
            + re.escape(_attr(name).encode())
            + rb'"(?:[^>]*/>|[^>]*>.*?</Extension>)\n'
        )
        source = re.sub(pattern, b"", source, count=1, flags=re.S)
    return source


def _compare(package: ir.Package, source: bytes, version: str, recorded_id: str, leaves: str, where: str) -> None:
    """Require the bytes the writer writes for ``package`` (with the recorded
    version, id and leaf outputs): anything else is a document crossform does not write."""
    try:
        chunks = iter_chunks(package, leaves=leaves, version=version, recorded_id=recorded_id)
        offset = 0
        view = memoryview(source)
        for chunk in chunks:
            end = offset + len(chunk)
            if view[offset:end] != chunk:
                k = next(
                    (i for i in range(min(len(chunk), len(source) - offset)) if chunk[i] != source[offset + i]),
                    min(len(chunk), len(source) - offset),
                )
                _differs(source, offset + k, chunk[k : k + 60], where)
            offset = end
        if offset != len(source):
            _differs(source, offset, b"", where)
    except UnsupportedModelError as exc:
        raise PmmlStructureError(where, f"expected a package the PMML writer can write; {exc}") from None


def _differs(source: bytes, at: int, expected: bytes, where: str) -> None:
    line = source.count(b"\n", 0, at) + 1
    column = at - (source.rfind(b"\n", 0, at) + 1) + 1
    found = source[at : at + 60]
    raise PmmlStructureError(
        where,
        f"expected the document crossform writes for the package it describes; it "
        f"differs at line {line}, column {column}: found {shown(found)}, "
        f"expected {expected!r}",
    )


def loads(source: bytes, where: str = WHERE) -> ir.Package:
    try:
        return _load(_parse(source, where), source, where)
    except (_Slow, PmmlStructureError, PmmlNumberError, PmmlDecodeError):
        # read again with expat, which names what the lines held (an element crossform
        # never writes, text that is not XML); a file that passes it fails the same way
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatVersionWarning)  # said once already
        return _load(_slow_parse(source, where), source, where)


def _load(reader: _Reader, source: bytes, where: str) -> ir.Package:
    header = reader.header
    recorded = header.get(_envelope.ID)
    if not recorded:
        raise PmmlHeaderError(where, f"expected the Header Extension {_envelope.ID!r} with the package id, found none")
    if reader.multiple not in ("average", "sum", "modelChain"):
        raise PmmlStructureError(
            where,
            f'expected Segmentation multipleModelMethod "average", "sum" or '
            f'"modelChain", found {shown(reader.multiple)}',
        )
    try:
        inputs = []
        for name, optype in reader.fields:
            kind = KINDS_OF.get(optype)
            if kind is None or name is None:
                raise PmmlStructureError(
                    where,
                    f"expected DataFields of optype continuous or categorical, found "
                    f"{shown(name)} of optype {optype!r}",
                )
            inputs.append(ir.Field(name, kind))
        encoders, ir_name = _read_encoders(reader, where)
        model = _read_model(reader, ir_name, where)
        owner = _header_json(header, _envelope.OWNER, where) if _envelope.OWNER in header else None
        tags = _header_json(header, _envelope.TAGS, where, default=[])
        if not isinstance(tags, list):
            raise PmmlHeaderError(where, f"expected a JSON list in Extension {_envelope.TAGS!r}")
        package = ir.Package(
            inputs=tuple(inputs),
            encoders=encoders,
            model=model,
            owner=owner,
            tags=tuple(tags),
            metadata=_header_map(header, _envelope.METADATA, where),
            producer=_header_map(header, _envelope.PRODUCER, where),
            checks=_header_checks(header, where),
        )
    except IRValidationError as exc:
        raise PmmlStructureError(where, str(exc)) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        if isinstance(exc, CrossformError):
            raise
        raise PmmlStructureError(where, f"expected the PMML crossform writes; {type(exc).__name__}: {exc}") from None
    leaves = ON if reader.leaf_outputs else OFF
    expected = written_version(package, leaves)
    if not reader.newer and reader.version != expected:
        kind = needs(package)
        what = f"with {kind}" if kind is not None else f"{'with' if leaves == ON else 'without'} leaf outputs"
        raise PmmlStructureError(
            where, f"expected a {NAME} file {what} to record version {expected}, found {reader.version}"
        )
    compared = _without_unknown(source, reader.unknown_header) if reader.unknown_header else source
    _compare(package, compared, reader.version, recorded, leaves, where)
    return _envelope.verify_id(recorded, package, where)
