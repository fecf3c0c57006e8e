"""Every error crossform raises on purpose, one class per failure mode.

Callers catch :class:`CrossformError` for "crossform refused this"; the
subclasses say why. Errors about a file carry the path and the reason, and
their text says what was expected and what was found.
"""

from __future__ import annotations

from typing import Any

MAX_SHOWN = 80  # characters of a value an error message echoes


def cut(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters: an error names a value, it never echoes a huge one whole."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """The repr of ``value`` as an error message echoes it, cut to ``limit`` characters."""
    return cut(repr(value), limit)


class CrossformError(Exception):
    """Base class of every error crossform raises on purpose."""


class IRValidationError(CrossformError, ValueError):
    """An IR object was constructed with a value that breaks its contract."""


class UnsupportedEstimatorError(CrossformError, TypeError):
    """The scikit-learn frontend has no converter for an estimator or option."""


class NotFittedError(CrossformError, ValueError):
    """An estimator was exported before it was fitted."""


class InputNamesError(CrossformError, ValueError):
    """Input names given at export that do not fit the estimator's input columns."""


class InputError(CrossformError, ValueError):
    """Scoring input that cannot be read as rows (not a per-row problem)."""


class UnknownFormatError(CrossformError, ValueError):
    """A format name that is not registered, or a path no format recognises."""


class FormatExtensionError(CrossformError, ValueError):
    """A format asked for that contradicts the format the path's extension names (``m.onnx`` as pmml)."""


class UnknownRuntimeError(CrossformError, ValueError):
    """A runtime name that is not available."""


class PackageError(CrossformError):
    """A package on disk (or in memory) that cannot be read.

    ``path`` names the file inside the package (or the package itself) and
    ``reason`` says what was expected and what was found.
    """

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class PackageNotFoundError(PackageError, FileNotFoundError):
    """The package path, or a file the manifest names, does not exist."""


class MalformedPackageError(PackageError):
    """Bytes that do not parse: truncated, not UTF-8, not JSON, bad structure."""


class SchemaError(PackageError):
    """A JSON file that parses but violates its JSON Schema."""


class UnsafePackageError(PackageError):
    """A package that tries to reach outside itself (absolute paths, '..', links)."""


class SpecialFileError(UnsafePackageError):
    """A device, FIFO or socket where a package file or directory was expected: refused
    before it is opened, since reading one may never end."""


class LimitExceededError(PackageError):
    """A file, count or nesting depth beyond the reader's limits."""


class FormatVersionError(PackageError):
    """A package written in a format major version this reader does not know."""


class BonsaiError(MalformedPackageError):
    """A bonsai tree file that is not what docs/formats/bonsai.md allows."""


class BonsaiMagicError(BonsaiError):
    """The file does not start with the bonsai magic bytes."""


class BonsaiTruncatedError(BonsaiError):
    """The file ends before a section its header promises."""


class BonsaiChecksumError(BonsaiError):
    """The CRC-32 at the end does not match the content."""


class BonsaiTrailingBytesError(BonsaiError):
    """Bytes between the last section and the checksum."""


class BonsaiStructureError(BonsaiError):
    """Tree offsets, structure bitset or rank directory that do not form trees."""


class BonsaiIndexError(BonsaiError):
    """A dictionary index or feature index out of its range."""


class BonsaiEncodingError(BonsaiError):
    """An unknown column encoding, bad index width, non-zero padding or flags, a non-finite number."""


class IdMismatchError(PackageError):
    """The id recorded in a package differs from the id of its content.

    ``package`` is what was read (its ``id`` is the content's), so a checker
    can still score it and say which rows the change affects.
    """

    def __init__(self, path: str, reason: str, package=None):
        super().__init__(path, reason)
        self.package = package


class PackageExistsError(PackageError, FileExistsError):
    """Saving would replace an existing file or directory without overwrite=True."""


class UnsupportedModelError(CrossformError, ValueError):
    """A model that uses something a reader does not support (an ONNX op it never writes)."""


class TabularInputError(InputError):
    """CSV or JSON Lines scoring rows that cannot be read.

    ``source`` names the file ("<stdin>" for standard input) and ``line`` the
    line where the problem starts (None when it concerns the whole file).
    """

    def __init__(self, source: str, line, reason: str):
        self.source = str(source)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.source}: {reason}" if line is None else f"{self.source}, line {line}: {reason}")


class InvalidIdError(CrossformError, ValueError):
    """A value given as a package id that is not ``sha256.`` + 52 base32 characters. The store,
    the registry and the deployer all refuse it with this one error, before any I/O.

    ``where`` says which argument held it (``model id``, ``expected id``, ...).
    """

    def __init__(self, where: str, reason: str):
        self.where = str(where)
        self.reason = reason
        super().__init__(f"{self.where}: {reason}")


class RegistryError(CrossformError):
    """A registry (tags, their deploy history and shadow sets) refused an operation.

    ``where`` names the registry file or the tag concerned and ``reason`` says
    what was expected and what was found.
    """

    def __init__(self, where: str, reason: str):
        self.where = str(where)
        self.reason = reason
        super().__init__(f"{self.where}: {reason}")


class RegistryFormatError(RegistryError):
    """A registry URL or file that is not a crossform registry: not SQLite, or SQLite without
    the crossform schema marker, or a schema version this reader does not know."""


class InvalidTagError(RegistryError, ValueError):
    """A tag name that is not dotted lower-case words (``txn_fraud.production``)."""


class RegistryTextError(RegistryError, ValueError):
    """An actor that is not non-empty text, or a message that is not text."""


class RegistryNotFoundError(RegistryError, LookupError):
    """A registry opened only to read (``open_registry(url, create=False)``) that does not exist
    yet: no file, an empty file, or a PostgreSQL schema without tables. Nothing was created."""


class UnknownTagError(RegistryError, LookupError):
    """A tag the registry has never seen."""


class UnknownShadowError(RegistryError, LookupError):
    """Removing a model id that is not in the tag's shadow set."""


class DeployConflictError(RegistryError):
    """A deploy whose ``expect`` no longer holds: another deployer changed the tag first.

    ``expected`` and ``found`` are the current ids; the caller may read the tag again and retry.
    """

    def __init__(self, where: str, reason: str, expected=None, found=None):
        super().__init__(where, reason)
        self.expected = expected
        self.found = found


class NothingToRollBackError(RegistryError):
    """A rollback with no earlier deploy to go back to."""


class DeployGateError(CrossformError):
    """The deploy gate refused an id: a stored format of it fails ``crossform validate``.

    ``where`` is the id, ``reason`` names the tag and what failed; ``gate`` is the
    :class:`crossform.deployer.GateResult` with every format's validate result.
    """

    def __init__(self, where: str, reason: str, gate=None):
        self.where = str(where)
        self.reason = reason
        self.gate = gate
        super().__init__(f"{self.where}: {reason}")


class StoreError(CrossformError):
    """A model store that refused a request. ``where`` names the store object (or the store's
    URL) and ``reason`` says what was expected and what was found."""

    def __init__(self, where: str, reason: str):
        self.where = str(where)
        self.reason = reason
        super().__init__(f"{self.where}: {reason}")


class ObjectNotFoundError(StoreError, LookupError):
    """No complete object for the id (and format) asked for."""


class StoreIntegrityError(StoreError):
    """Stored bytes that do not hash to the id they are stored under, or that no longer read."""


class StoreUnreachableError(StoreError, ConnectionError):
    """The store's URL cannot be opened or its server cannot be reached."""


class StoreDependencyError(StoreError, ImportError):
    """A store URL whose backend needs an optional extra that is not installed."""


class RequestRefusedError(CrossformError):
    """A request ``crossform serve`` refuses as a whole (bad JSON, a body or row count over a limit,
    an unknown id or tag). ``status`` is the HTTP status it answers with, ``where`` the part of the
    request concerned (``body``, ``rows``, ``model id``...) and ``reason`` what was expected and found.
    """

    def __init__(self, status: int, where: str, reason: str):
        self.status = int(status)
        self.where = str(where)
        self.reason = reason
        super().__init__(f"{self.where}: {reason}")
