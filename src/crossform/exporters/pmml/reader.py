"""The pmml reader: the package rebuilt from the parsed document (its envelope and inputs
here, the encoders in encoders, the model in model_reader), then written again and compared byte for byte
(:func:`_compare`), so anything but a document crossform writes is refused with a named error.
"""

from __future__ import annotations

import re
import warnings

from ... import ir
from ...errors import CrossformError, IRValidationError, UnsupportedModelError, shown
from .. import _envelope
from .encoders import _read_encoders
from .model_reader import _read_model
from .parse import _header_json, _parse, _Reader, _Slow, _slow_parse
from .rules import (
    EXTENDER,
    KINDS_OF,
    NAME,
    OFF,
    ON,
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
    if reader.multiple not in ("average", "sum", "weightedMedian", "modelChain"):
        raise PmmlStructureError(
            where,
            f'expected Segmentation multipleModelMethod "average", "sum", "weightedMedian" or '
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
