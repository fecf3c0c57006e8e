"""The package envelope every format carries: format version, id, owner, tags, metadata,
producer and checks, with the id verified on read.

Each format lays the envelope out its own way (stripe-json's MODEL manifest, protobuf's
Package fields, ONNX metadata_props, PMML Header Extensions); what they share is here: the
key names the two key/value formats use, the checks document written and read alike, the
shape a metadata or producer map must have, and the one id comparison that tells a changed
package from an intact one.
"""

from __future__ import annotations

from typing import Any

from .. import checks as checks_module
from .. import ir
from ..errors import IdMismatchError, PackageError
from . import _json

# The keys of the envelope in the key/value formats (ONNX metadata_props, PMML Header Extensions).
PREFIX = "crossform."
FORMAT_VERSION = PREFIX + "format_version"
ID = PREFIX + "id"
OWNER = PREFIX + "owner"
TAGS = PREFIX + "tags"
METADATA = PREFIX + "metadata"
PRODUCER = PREFIX + "producer"
CHECKS = PREFIX + "checks"
CLASSES = PREFIX + "classes"


def checks_document(package: ir.Package, label: str) -> dict | None:
    """The checks of ``package`` as the JSON document every format stores (None without checks),
    validated against the checks schema so a writer never stores what its reader refuses."""
    if package.checks is None:
        return None
    doc = checks_module.to_document(package.checks)
    _json.validate(doc, checks_module.SCHEMA, label)
    return doc


def read_checks(data: bytes, label: str) -> checks_module.Checks:
    """Checks from the bytes of a stored checks document; ``label`` names where they were read."""
    doc = _json.parse(data, label)
    _json.validate(doc, checks_module.SCHEMA, label)
    return checks_module.from_document(doc, label)


def string_map(value: Any, what: str, where: str, error: type[PackageError]) -> dict:
    """``value`` when it is a JSON object (metadata and producer are maps of strings), else ``error``
    naming ``what`` (the key or field it came from)."""
    if not isinstance(value, dict):
        raise error(where, f"expected a JSON object in {what}, found {type(value).__name__}")
    return value


def verify_id(recorded: Any, package: ir.Package, where: str, holder: str = "the file") -> ir.Package:
    """``package`` when ``recorded`` (the id its envelope records) is the id of its content;
    otherwise IdMismatchError, carrying the package read so a checker can still score it."""
    if recorded != package.id:
        raise IdMismatchError(
            where,
            f"{holder} records id {recorded or 'none'} but the content hashes to "
            f"{package.id}: the content changed after the package was written",
            package=package,
        )
    return package
