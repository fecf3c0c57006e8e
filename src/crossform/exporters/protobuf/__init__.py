"""protobuf: one file, a serialized ``crossform.v1.Package`` message.

The format's own rules and names are in :mod:`.rules`, the writer in :mod:`.writer`, the
reader in :mod:`.reader`; the spec is proto/crossform/v1/package.proto and
docs/formats/protobuf.md. :data:`FORMAT` is the format the registry sees.
"""

from __future__ import annotations

from typing import Any

from ... import ir
from .._format import Format
from . import encoders, reader, rules, writer
from .encoders import MAX_BLOCK_WIDTH
from .reader import MAX_OUTPUTS, loads, read_version, sniff
from .rules import (
    AGGREGATIONS,
    EXTENSIONS,
    INFINITE_RULES,
    KINDS,
    LAYOUT,
    LAYOUT_VERSION,
    MAGIC,
    MEMBER_FEATURES,
    MISSING_RULES,
    NAME,
    PLAIN_POST_TRANSFORMS,
    POST_TRANSFORMS,
    PREFIX,
    RUNTIMES,
    UNKNOWN_POLICIES,
    VERSION,
    WHERE,
    FormatVersionWarning,
    ProtobufCountError,
    ProtobufDecodeError,
    ProtobufEnumError,
    ProtobufIndexError,
    ProtobufMagicError,
    ProtobufMissingError,
    ProtobufOrderError,
    ProtobufUnexpectedError,
    ProtobufUnknownFieldError,
    ProtobufValueError,
    member_version,
    needs,
    recorded_version,
)
from .writer import dumps


class ProtobufFormat(Format):
    NAME = NAME
    VERSION = VERSION
    LAYOUT = LAYOUT
    RUNTIMES = RUNTIMES
    EXTENSIONS = EXTENSIONS
    TELLS_VERSION = True

    def dumps(self, package: ir.Package, **options: str) -> bytes:
        return writer.dumps(package, **options)

    def loads(self, source: Any, where: str | None = None) -> ir.Package:
        return reader.loads(source, WHERE if where is None else where)

    def sniff(self, source: Any) -> bool:
        return reader.sniff(source)

    def read_version(self, source: Any, where: str | None = None) -> str:
        return reader.read_version(source, WHERE if where is None else where)

    def written_version(self, package: ir.Package | None = None, **options: str) -> str:
        return VERSION if package is None else rules.recorded_version(package)

    def needs(self, package: ir.Package) -> str | None:
        return rules.needs(package)


FORMAT = ProtobufFormat()

__all__ = [
    "AGGREGATIONS",
    "EXTENSIONS",
    "FORMAT",
    "INFINITE_RULES",
    "KINDS",
    "LAYOUT",
    "LAYOUT_VERSION",
    "MAGIC",
    "MAX_BLOCK_WIDTH",
    "MAX_OUTPUTS",
    "MEMBER_FEATURES",
    "MISSING_RULES",
    "NAME",
    "PLAIN_POST_TRANSFORMS",
    "POST_TRANSFORMS",
    "PREFIX",
    "RUNTIMES",
    "UNKNOWN_POLICIES",
    "VERSION",
    "WHERE",
    "FormatVersionWarning",
    "ProtobufCountError",
    "ProtobufDecodeError",
    "ProtobufEnumError",
    "ProtobufIndexError",
    "ProtobufMagicError",
    "ProtobufMissingError",
    "ProtobufOrderError",
    "ProtobufUnexpectedError",
    "ProtobufUnknownFieldError",
    "ProtobufValueError",
    "ProtobufFormat",
    "dumps",
    "encoders",
    "loads",
    "member_version",
    "needs",
    "read_version",
    "recorded_version",
    "sniff",
]
