"""Formats: one module per format, the same few names in each, file handling here.

A format module defines:

``NAME``      the format's name, e.g. "stripe-json"
``VERSION``   its format version, "major.minor" (see docs/FORMATS.md)
``LAYOUT``    "directory" (a folder of files) or "file" (one file)
``EXTENSIONS`` optional: the file name endings that name the format (".onnx"), lower case;
              ``save`` picks the format by them when none is given
``RUNTIMES``  names of the runtimes that execute the format
``dumps(package)``  -> ``{relative path: bytes}`` for a directory, ``bytes`` for a file
``loads(source)``   -> ``Package``, from a :class:`Files` (directory) or ``bytes`` (file);
              a file format's ``loads`` may take ``where=``, the path its errors name
``sniff(source)``   -> bool: does this content look like this format?
``read_version(source)`` -> str, optional: the recorded format version, without reading the rest
``unsupported(package)`` -> str or None, optional: why this format cannot express the package
              (the conformance runner reports it as a named skip)
``OPTIONS``   optional: ``{option: (allowed values, the default first)}`` that ``dumps``
              takes as keyword arguments, e.g. onnx's ``{"precision": ("float64", "float32")}``
``VARIANTS``  optional: ``{name: options}`` the conformance suite runs besides the
              default, reported as ``format[name]``, e.g. ``onnx[float32]``
``stored(package, checks, **options)`` -> (package, checks), for a format with OPTIONS: the
              package a file written with those options holds (a lossy variant rounds) and
              the checks it can be held to (its rows, its declared tolerance)
``written_version(**options)`` -> str, optional: the format version a file written with those
              options records, when it is not VERSION (onnx float64 files still record 1.0)

Formats are registered from the explicit list BUILTIN plus the entry-point
group ``crossform.formats`` (each entry point names such a module).
Readers never import or execute anything a file names.
"""

from __future__ import annotations

import inspect
import os
import shutil
import stat
import tempfile
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Mapping, Union

from .. import ir
from .._registry import load_modules
from ..errors import (
    FormatExtensionError,
    LimitExceededError,
    PackageExistsError,
    PackageNotFoundError,
    UnknownFormatError,
    UnsafePackageError,
)

BUILTIN = ("crossform.exporters.stripe_json", "crossform.exporters.protobuf", "crossform.exporters.onnx", "crossform.exporters.pmml")
ENTRY_POINT_GROUP = "crossform.formats"

MAX_FILE_BYTES = 2 << 30  # 2 GiB, per file
MAX_FILES = 10_000


@lru_cache(maxsize=None)
def registry() -> Mapping[str, ModuleType]:
    return load_modules(BUILTIN, ENTRY_POINT_GROUP)


def formats() -> list:
    """Names of the registered formats."""
    return list(registry())


def get_format(name: str) -> ModuleType:
    try:
        return registry()[name]
    except KeyError:
        raise UnknownFormatError(f"Unknown format {name!r}. Registered formats: {', '.join(formats())}.") from None


DEFAULT_FORMAT = "stripe-json"  # what a path with no format extension is written as


def format_for_path(path: Union[str, Path], format: Union[str, None] = None) -> str:
    """The format to write ``path`` in: ``format`` when given, else the one its extension names
    (``.onnx``, ``.pmml``, ``.pb``), else stripe-json. A format contradicting the extension is
    refused: ``model.onnx`` holding a pmml document would mislead every tool that trusts names."""
    suffix = Path(path).suffix.lower()
    named = next((name for name, fmt in registry().items() if suffix in getattr(fmt, "EXTENSIONS", ())), None)
    if format is None:
        return named or DEFAULT_FORMAT
    if named is not None and named != format:
        raise FormatExtensionError(f"{path}: format {format} asked for, but the extension {suffix} names {named}; "
                                   f"give a path ending as {format} is written, or no format")
    return format


def variant_label(name: str, variant: Union[str, None]) -> str:
    return name if variant is None else f"{name}[{variant}]"


def labels(name: str) -> list:
    """A format's default and its variants, as the conformance report names them."""
    fmt = get_format(name)
    return [name] + [variant_label(name, v) for v in getattr(fmt, "VARIANTS", {})]


def parse_label(label: str) -> tuple:
    """``"onnx[float32]"`` -> (the onnx module, "float32", its options); a bare name -> (module, None, {})."""
    name, bracket, rest = label.partition("[")
    fmt = get_format(name)
    if not bracket:
        return fmt, None, {}
    variant = rest[:-1] if rest.endswith("]") else None
    variants = getattr(fmt, "VARIANTS", {})
    if variant not in variants:
        known = ", ".join(variant_label(name, v) for v in variants) or "none"
        raise UnknownFormatError(f"Unknown variant {label!r}; variants of {name}: {known}.")
    return fmt, variant, dict(variants[variant])


def check_options(fmt: ModuleType, options: Mapping[str, str]) -> None:
    """Refuse an option the format does not take, or a value it does not allow."""
    allowed = getattr(fmt, "OPTIONS", {})
    for key, value in options.items():
        if key not in allowed:
            takes = "; ".join(f"{k}: {', '.join(v)}" for k, v in allowed.items()) or "no options"
            raise UnknownFormatError(f"format {fmt.NAME} has no option {key!r} (it takes {takes})")
        if value not in allowed[key]:
            raise UnknownFormatError(f"format {fmt.NAME}: expected {key} to be one of {', '.join(allowed[key])}, "
                                     f"got {value!r}")


# ---------------------------------------------------------------- files


def check_relative_path(name: str, where: str) -> None:
    """Refuse anything but a plain relative path: no absolute paths, no "." or
    ".." parts, no empty parts, no backslashes or NUL bytes."""
    parts = name.split("/") if isinstance(name, str) else []
    if (not parts or name.startswith("/") or "\\" in name or "\x00" in name
            or any(p in ("", ".", "..") for p in parts)):
        raise UnsafePackageError(where, "expected a plain relative path inside the package")


class Files:
    """Read-only access to the files of a directory package, by relative path.

    Paths must be plain relative paths ("model.json", "trees/0.bin"): no
    absolute paths, no "." or ".." parts, no backslashes. Links are refused,
    and so is any path that resolves outside the package.
    """

    def __init__(self, label: str, root: Union[Path, None] = None, contents: Union[Mapping[str, bytes], None] = None):
        self.label = label
        self._root = root
        self._contents = contents

    @classmethod
    def from_directory(cls, root: Union[str, Path]) -> "Files":
        return cls(str(root), root=Path(root))

    @classmethod
    def from_mapping(cls, contents: Mapping[str, bytes], label: str = "<memory>") -> "Files":
        return cls(label, contents=dict(contents))

    def where(self, name: str) -> str:
        return f"{self.label}/{name}"

    def _check(self, name: str) -> None:
        check_relative_path(name, self.where(str(name)))

    def exists(self, name: str) -> bool:
        self._check(name)
        if self._contents is not None:
            return name in self._contents
        return os.path.lexists(self._root / name)

    def read(self, name: str) -> bytes:
        self._check(name)
        where = self.where(name)
        if self._contents is not None:
            if name not in self._contents:
                raise PackageNotFoundError(where, "the package has no such file")
            data = self._contents[name]
            if len(data) > MAX_FILE_BYTES:
                raise LimitExceededError(where, f"expected at most {MAX_FILE_BYTES} bytes, found {len(data)}")
            return bytes(data)
        full = self._root / name
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            raise PackageNotFoundError(where, "the package has no such file") from None
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePackageError(where, "expected a regular file, found a link or special file")
        if not os.path.realpath(full).startswith(os.path.realpath(self._root) + os.sep):
            raise UnsafePackageError(where, "the path leads outside the package")
        if info.st_size > MAX_FILE_BYTES:
            raise LimitExceededError(where, f"expected at most {MAX_FILE_BYTES} bytes, found {info.st_size}")
        with open(full, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1)


# ---------------------------------------------------------------- save / load


def _permissions(path: Path, base: int) -> None:
    """Give ``path`` the mode a plain open() or mkdir() would (``base`` less the umask):
    mkstemp and mkdtemp create it private, and the rename would keep that."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, base & ~mask)


def _write_directory(files: Mapping[str, bytes], target: Path) -> None:
    if len(files) > MAX_FILES:
        raise LimitExceededError(str(target), f"a package may hold {MAX_FILES} files, this one {len(files)}")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, data in files.items():
            check_relative_path(name, str(target / str(name)))
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _permissions(staging, 0o777)
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_file(data: bytes, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        _permissions(Path(tmp), 0o666)
        _replace(Path(tmp), target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _replace(new: Path, target: Path) -> None:
    """Move ``new`` into place; an old package there goes only once the new one is in."""
    if not os.path.lexists(target):
        os.replace(new, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    os.replace(new, target)
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old)
    else:
        old.unlink()


def save(package: ir.Package, path: Union[str, Path], format: Union[str, None] = None, overwrite: bool = False,
         **options: str) -> Path:
    """Write ``package`` to ``path`` in ``format``; return the path written.

    Without ``format`` the path's extension decides (``.onnx``, ``.pmml``, ``.pb``; anything
    else is a stripe-json directory); a ``format`` the extension contradicts raises
    FormatExtensionError.

    ``options`` are the format's OPTIONS, e.g. ``precision="float32"`` for onnx.

    Writing is atomic: the package appears whole or not at all. An existing
    path is replaced only with ``overwrite=True``, and only when it holds a
    package crossform recognises (so a typo never deletes a folder).
    """
    fmt = get_format(format_for_path(path, format))
    check_options(fmt, options)
    target = Path(path)
    if os.path.lexists(target):
        if not overwrite:
            raise PackageExistsError(str(target), "already exists; pass overwrite=True to replace it")
        try:
            sniff(target)
        except (UnknownFormatError, PackageNotFoundError):
            raise PackageExistsError(str(target), "exists and is not a crossform package; not replacing it") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    content = fmt.dumps(package, **options)
    if fmt.LAYOUT == "directory":
        _write_directory(content, target)
    else:
        _write_file(content, target)
    return target


def _source(path: Path):
    if path.is_dir():
        return Files.from_directory(path)
    info = os.stat(path)
    if info.st_size > MAX_FILE_BYTES:
        raise LimitExceededError(str(path), f"expected at most {MAX_FILE_BYTES} bytes, found {info.st_size}")
    with open(path, "rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1)


def sniff(path: Union[str, Path]) -> str:
    """The name of the format of the package at ``path``, judged by content."""
    path = Path(path)
    if not os.path.lexists(path):
        raise PackageNotFoundError(str(path), "no such file or directory")
    source = _source(path)
    layout = "directory" if isinstance(source, Files) else "file"
    for name, fmt in registry().items():
        if fmt.LAYOUT == layout and fmt.sniff(source):
            return name
    raise UnknownFormatError(f"{path}: no registered format recognises this {layout} "
                             f"(formats: {', '.join(formats())}).")


def load(path: Union[str, Path], format: Union[str, None] = None) -> ir.Package:
    """Read the package at ``path``; the format is sniffed from the content unless given."""
    path = Path(path)
    name = format or sniff(path)
    fmt = get_format(name)
    if not os.path.lexists(path):
        raise PackageNotFoundError(str(path), "no such file or directory")
    source = _source(path)
    layout = "directory" if isinstance(source, Files) else "file"
    if fmt.LAYOUT != layout:
        raise UnknownFormatError(f"{path}: {name} packages are a {fmt.LAYOUT}, this is a {layout}.")
    if layout == "file" and "where" in inspect.signature(fmt.loads).parameters:
        return fmt.loads(source, where=str(path))  # bytes alone cannot say which file they came from
    return fmt.loads(source)
