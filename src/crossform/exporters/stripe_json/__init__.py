"""stripe-json: a directory with a MODEL manifest, one JSON file per encoder, and the model.

Every file has a JSON Schema in schemas/ (checked on write and on read), and the reader
recomputes the package id and refuses a package whose content does not hash to the id its
manifest records. The format's own rules and names are in :mod:`.rules`, the writer in
:mod:`.writer`, the reader in :mod:`.reader`, the trees' binary encoding in :mod:`.bonsai`
and the frozen reader of 1.x trees in :mod:`.reader_1`; the spec is
docs/formats/stripe-json.md. :data:`FORMAT` is the format the registry sees.
"""

from __future__ import annotations

from typing import Any

from ... import ir
from .._format import Format
from . import bonsai, encoders, reader, reader_1, rules, writer
from .encoders import ENCODERS
from .reader import MODEL_READERS, loads, read_version, sniff
from .rules import (
    CHECKS_FILE,
    FIRST_VERSION,
    LAYOUT,
    LAYOUT_VERSION,
    LINEAR_MODEL_TYPES,
    MAJOR,
    MANIFEST,
    MODEL_FILE,
    NAME,
    OLDER,
    RUNTIMES,
    TREES_FILE,
    VERSION,
    VERSION_SCHEMAS,
    FormatVersionWarning,
    model_type,
    needs,
    recorded_version,
)
from .writer import MODEL_WRITERS, dumps


class StripeJsonFormat(Format):
    NAME = NAME
    VERSION = VERSION
    LAYOUT = LAYOUT
    RUNTIMES = RUNTIMES
    OLDER = OLDER
    MANIFEST = MANIFEST  # the file that marks a directory as a package (validate finds it from a file inside)
    TELLS_VERSION = True

    def dumps(self, package: ir.Package, **options: str) -> dict:
        return writer.dumps(package, **options)

    def loads(self, source: Any, where: str | None = None) -> ir.Package:
        return reader.loads(source)  # a directory's files name themselves (Files.where)

    def sniff(self, source: Any) -> bool:
        return reader.sniff(source)

    def read_version(self, source: Any, where: str | None = None) -> str:
        return reader.read_version(source)

    def written_version(self, package: ir.Package | None = None, **options: str) -> str:
        return VERSION if package is None else rules.recorded_version(package)

    def needs(self, package: ir.Package) -> str | None:
        return rules.needs(package)


FORMAT = StripeJsonFormat()

__all__ = [
    "CHECKS_FILE",
    "ENCODERS",
    "FIRST_VERSION",
    "FORMAT",
    "LAYOUT",
    "LAYOUT_VERSION",
    "LINEAR_MODEL_TYPES",
    "MAJOR",
    "MANIFEST",
    "MODEL_FILE",
    "MODEL_READERS",
    "MODEL_WRITERS",
    "NAME",
    "OLDER",
    "RUNTIMES",
    "TREES_FILE",
    "VERSION",
    "VERSION_SCHEMAS",
    "FormatVersionWarning",
    "StripeJsonFormat",
    "bonsai",
    "dumps",
    "encoders",
    "loads",
    "model_type",
    "needs",
    "read_version",
    "reader",
    "reader_1",
    "recorded_version",
    "rules",
    "sniff",
    "writer",
]
