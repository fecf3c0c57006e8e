"""What a format is to crossform: the typed protocol every format implements.

``save``, ``load``, ``sniff``, ``crossform compat`` and the conformance runner see a format
only through :class:`Format`. A built-in format is a subpackage of ``crossform.exporters``
whose ``FORMAT`` is an instance of a subclass; a plug-in names such an object (or a class,
or a module with ``FORMAT``) in the ``crossform.formats`` entry-point group. Modules written
to the older plug-in convention (the format's names at module level) are wrapped by
:class:`ModuleFormat`, the one place that reads a module's optional names.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

from .. import ir


class Format:
    """A package format. Subclasses set the class attributes and implement dumps, loads and sniff;
    everything else has a default that suits a format with one version and no options."""

    NAME: ClassVar[str]  # e.g. "stripe-json"
    VERSION: ClassVar[str]  # the newest format version this crossform writes, "major.minor" (docs/FORMATS.md)
    LAYOUT: ClassVar[str]  # "directory" (a folder of files) or "file" (one file)
    RUNTIMES: ClassVar[tuple[str, ...]]  # the runtimes that execute the format
    EXTENSIONS: ClassVar[tuple[str, ...]] = ()
    # a directory format's marker file (stripe-json's MODEL): a file inside a directory holding it is in a package
    MANIFEST: ClassVar[str | None] = None  # file name endings that name the format (".onnx"), lower case
    OLDER: ClassVar[tuple[str, ...]] = ()  # the last version of each older major a frozen reader reads
    # {option: allowed values, the default first}, taken by dumps as keyword arguments
    OPTIONS: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    # {variant: options} the conformance suite runs besides the default, reported as format[variant]
    VARIANTS: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    # whether read_version tells the recorded version without reading the rest of the package;
    # without it, `crossform compat` judges a package by loading it
    TELLS_VERSION: ClassVar[bool] = False

    def dumps(self, package: ir.Package, **options: str) -> Any:
        """``{relative path: bytes}`` for a directory format, ``bytes`` for a file format."""
        raise NotImplementedError

    def loads(self, source: Any, where: str | None = None) -> ir.Package:
        """The package in ``source`` (a :class:`~crossform.exporters.Files` for a directory format,
        ``bytes`` for a file format); ``where`` is the path errors name."""
        raise NotImplementedError

    def sniff(self, source: Any) -> bool:
        """Whether ``source`` looks like this format (cheap; no full read)."""
        raise NotImplementedError

    def read_version(self, source: Any, where: str | None = None) -> str:
        """The format version ``source`` records, read without trusting the rest (a format that
        implements it sets TELLS_VERSION)."""
        raise NotImplementedError

    def unsupported(self, package: ir.Package) -> str | None:
        """Why this format cannot express ``package`` (the conformance runner reports it as a
        named skip), or None."""
        return None

    def written_version(self, package: ir.Package | None = None, **options: str) -> str:
        """The format version a file of ``package`` written with ``options`` records; without a
        package, the newest this writer writes with those options."""
        return self.VERSION

    def stored(self, package: ir.Package, checks: Any, **options: str) -> tuple:
        """(package, checks) as a file written with ``options`` holds them: a lossy option rounds
        the package, and the checks carry the tolerance it is held to."""
        return package, checks

    def needs(self, package: ir.Package) -> str | None:
        """What in ``package`` makes older releases of the major refuse its file (a few words), or None."""
        return None

    def runtime_versions(self, version: str) -> dict:
        """``{runtime: releases}`` that run a package of ``version``, for runtimes outside crossform."""
        return {}

    def properties(self, source: Any) -> dict:
        """What a file records beyond the package, for people (``crossform info``): onnx's
        precision, declared tolerance and source id. Keys are words ("source id")."""
        return {}


class ModuleFormat(Format):
    """A plug-in module written to the module convention, seen as a :class:`Format`."""

    def __init__(self, module: ModuleType):
        self.module = module
        for name in ("NAME", "VERSION", "LAYOUT", "RUNTIMES"):
            setattr(self, name, getattr(module, name))
        for name in ("EXTENSIONS", "MANIFEST", "OLDER", "OPTIONS", "VARIANTS"):
            if hasattr(module, name):
                setattr(self, name, getattr(module, name))
        self.TELLS_VERSION = hasattr(module, "read_version")

    def _call(self, name: str, *args: Any, default: Any = None, **kwargs: Any) -> Any:
        function = getattr(self.module, name, None)
        return default if function is None else function(*args, **kwargs)

    def dumps(self, package: ir.Package, **options: str) -> Any:
        return self.module.dumps(package, **options)

    def loads(self, source: Any, where: str | None = None) -> ir.Package:
        return self.module.loads(*_with_where(self.module.loads, source, where))

    def sniff(self, source: Any) -> bool:
        return self.module.sniff(source)

    def read_version(self, source: Any, where: str | None = None) -> str:
        return self.module.read_version(*_with_where(self.module.read_version, source, where))

    def unsupported(self, package: ir.Package) -> str | None:
        return self._call("unsupported", package)

    def written_version(self, package: ir.Package | None = None, **options: str) -> str:
        if hasattr(self.module, "written_version"):
            return self.module.written_version(package=package, **options)
        return self.VERSION

    def stored(self, package: ir.Package, checks: Any, **options: str) -> tuple:
        return self._call("stored", package, checks, default=(package, checks), **options)

    def needs(self, package: ir.Package) -> str | None:
        return self._call("needs", package)

    def runtime_versions(self, version: str) -> dict:
        return self._call("runtime_versions", version, default={})

    def properties(self, source: Any) -> dict:
        return self._call("properties", source, default={})


def _with_where(function: Any, source: Any, where: str | None) -> tuple:
    """The arguments for a module function that may or may not take ``where``."""
    if where is not None and "where" in inspect.signature(function).parameters:
        return (source, where)
    return (source,)


def as_format(entry: Any) -> Format:
    """The :class:`Format` a registry entry stands for: a Format, a Format class, a module with
    ``FORMAT``, or a module written to the module convention."""
    if isinstance(entry, Format):
        return entry
    if isinstance(entry, type) and issubclass(entry, Format):
        return entry()
    if isinstance(getattr(entry, "FORMAT", None), Format):
        return entry.FORMAT
    return ModuleFormat(entry)
