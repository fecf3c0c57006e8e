"""Formats: the registry, file handling, save and load; one subpackage per format.

A format is a :class:`~crossform.exporters._format.Format` (its name, version, layout,
runtimes, options; dumps, loads, sniff, read_version, ...). Formats are registered from the
explicit list BUILTIN (modules whose ``FORMAT`` is the format) plus the entry-point group
``crossform.formats``. Readers never import or execute anything a file names.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Union

from .. import ir
from .._registry import load_modules
from ..errors import (
    FormatExtensionError,
    LimitExceededError,
    PackageExistsError,
    PackageNotFoundError,
    SpecialFileError,
    UnknownFormatError,
    UnsafePackageError,
    shown,
)
from ._format import Format, as_format
from ._format import ModuleFormat as ModuleFormat  # re-exported: plug-ins and tests name it here
from ._limits import MAX_FILE_BYTES, MAX_FILES

BUILTIN = (
    "crossform.exporters.stripe_json",
    "crossform.exporters.protobuf",
    "crossform.exporters.onnx",
    "crossform.exporters.pmml",
)
ENTRY_POINT_GROUP = "crossform.formats"

_READ_CHUNK = 1 << 20  # once past the size a file reported, read on in chunks of this size
_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a link",
    stat.S_IFDIR: "a directory",
}


@cache
def registry() -> Mapping[str, Format]:
    return {name: as_format(entry) for name, entry in load_modules(BUILTIN, ENTRY_POINT_GROUP).items()}


def formats() -> list:
    """Names of the registered formats."""
    return list(registry())


def get_format(name: str) -> Format:
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
    named = next((name for name, fmt in registry().items() if suffix in fmt.EXTENSIONS), None)
    if format is None:
        return named or DEFAULT_FORMAT
    if named is not None and named != format:
        raise FormatExtensionError(
            f"{path}: format {format} asked for, but the extension {suffix} names {named}; "
            f"give a path ending as {format} is written, or no format"
        )
    return format


def variant_label(name: str, variant: Union[str, None]) -> str:
    return name if variant is None else f"{name}[{variant}]"


def labels(name: str) -> list:
    """A format's default and its variants, as the conformance report names them."""
    fmt = get_format(name)
    return [name] + [variant_label(name, v) for v in fmt.VARIANTS]


def parse_label(label: str) -> tuple:
    """``"onnx[float32]"`` -> (the onnx module, "float32", its options); a bare name -> (module, None, {})."""
    name, bracket, rest = label.partition("[")
    fmt = get_format(name)
    if not bracket:
        return fmt, None, {}
    variant = rest[:-1] if rest.endswith("]") else None
    variants = fmt.VARIANTS
    if variant not in variants:
        known = ", ".join(variant_label(name, v) for v in variants) or "none"
        raise UnknownFormatError(f"Unknown variant {label!r}; variants of {name}: {known}.")
    return fmt, variant, dict(variants[variant])


def check_options(fmt: Format, options: Mapping[str, str]) -> None:
    """Refuse an option the format does not take, or a value it does not allow."""
    allowed = fmt.OPTIONS
    for key, value in options.items():
        if key not in allowed:
            takes = "; ".join(f"{k}: {', '.join(v)}" for k, v in allowed.items()) or "no options"
            raise UnknownFormatError(f"format {fmt.NAME} has no option {key!r} (it takes {takes})")
        if value not in allowed[key]:
            raise UnknownFormatError(
                f"format {fmt.NAME}: expected {key} to be one of {', '.join(allowed[key])}, got {shown(value)}"
            )


# ---------------------------------------------------------------- files


def check_relative_path(name: str, where: str) -> None:
    """Refuse anything but a plain relative path: no absolute paths, no "." or
    ".." parts, no empty parts, no backslashes or NUL bytes."""
    parts = name.split("/") if isinstance(name, str) else []
    if not parts or name.startswith("/") or "\\" in name or "\x00" in name or any(p in ("", ".", "..") for p in parts):
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
    def from_directory(cls, root: Union[str, Path]) -> Files:
        return cls(str(root), root=Path(root))

    @classmethod
    def from_mapping(cls, contents: Mapping[str, bytes], label: str = "<memory>") -> Files:
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
        if stat.S_ISLNK(info.st_mode):
            raise UnsafePackageError(where, "expected a regular file, found a link")
        if not os.path.realpath(full).startswith(os.path.realpath(self._root) + os.sep):
            raise UnsafePackageError(where, "the path leads outside the package")
        return read_regular_file(full, where, follow_links=False)


def _refuse_special(info: os.stat_result, where: str, directory_too: bool = False) -> None:
    """SpecialFileError unless ``info`` is a regular file (or, with ``directory_too``, a directory)."""
    if stat.S_ISREG(info.st_mode) or (directory_too and stat.S_ISDIR(info.st_mode)):
        return
    kind = _KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
    raise SpecialFileError(where, f"expected a regular file{' or a directory' if directory_too else ''}, found {kind}")


def read_regular_file(path: Union[str, Path], where: str, follow_links: bool = True) -> bytes:
    """The bytes of the regular file at ``path``, at most MAX_FILE_BYTES.

    Anything else (a device, FIFO or socket) is refused before it is opened:
    /dev/zero reports size 0 and never ends, a FIFO blocks the open. The read
    asks for the size the file reports plus one byte, then reads on in chunks
    up to the cap, so memory follows the bytes actually there, never the cap.
    """
    info = os.stat(path) if follow_links else os.lstat(path)
    _refuse_special(info, where)
    # O_NONBLOCK: should a FIFO be swapped in after the check, the open still returns
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError:
        if not follow_links and os.path.islink(path):  # a link swapped in after the check
            raise UnsafePackageError(where, "expected a regular file, found a link") from None
        raise
    with os.fdopen(fd, "rb", buffering=0) as fh:
        info = os.fstat(fd)
        _refuse_special(info, where)
        if info.st_size > MAX_FILE_BYTES:
            raise LimitExceededError(where, f"expected at most {MAX_FILE_BYTES} bytes, found {info.st_size}")
        chunks, total, want = [], 0, info.st_size + 1
        while True:
            chunk = fh.read(min(want, MAX_FILE_BYTES + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise LimitExceededError(where, f"expected at most {MAX_FILE_BYTES} bytes, found more")
            want = _READ_CHUNK
    return b"".join(chunks)


def package_path(path: Union[str, Path]) -> Path:
    """``path`` as a Path; a NUL character, which no file system allows, is refused by name."""
    if "\x00" in os.fspath(path):
        raise UnsafePackageError(repr(os.fspath(path)), "expected a path without NUL characters, found one")
    return Path(path)


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


def save(
    package: ir.Package,
    path: Union[str, Path],
    format: Union[str, None] = None,
    overwrite: bool = False,
    **options: str,
) -> Path:
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
    target = package_path(path)
    if os.path.lexists(target):
        if not overwrite:
            raise PackageExistsError(str(target), "already exists; pass overwrite=True to replace it")
        try:
            sniff(target)
        except (UnknownFormatError, PackageNotFoundError):
            raise PackageExistsError(str(target), "exists and is not a crossform package; not replacing it") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    write_content(fmt.dumps(package, **options), target)
    return target


def write_content(content, target: Path) -> None:
    """Write a format's content (a file's bytes, or a directory's {relative path: bytes})
    to ``target`` atomically: it appears whole or not at all."""
    if isinstance(content, Mapping):
        _write_directory(content, target)
    else:
        _write_file(content, target)


def _source(path: Path):
    """The package at ``path``: :class:`Files` for a directory, the bytes of a
    regular file; anything else is refused before it is opened."""
    path = package_path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise PackageNotFoundError(str(path), "no such file or directory") from None
    _refuse_special(info, str(path), directory_too=True)
    if stat.S_ISDIR(info.st_mode):
        return Files.from_directory(path)
    return read_regular_file(path, str(path))


def _layout(source) -> str:
    return "directory" if isinstance(source, Files) else "file"


def _sniffed(source, path: Union[str, Path]) -> str:
    layout = _layout(source)
    for name, fmt in registry().items():
        if fmt.LAYOUT == layout and fmt.sniff(source):
            return name
    raise UnknownFormatError(
        f"{path}: no registered format recognises this {layout} (formats: {', '.join(formats())})."
    )


def sniff(path: Union[str, Path]) -> str:
    """The name of the format of the package at ``path``, judged by content."""
    path = package_path(path)
    return _sniffed(_source(path), path)


def load(path: Union[str, Path], format: Union[str, None] = None) -> ir.Package:
    """Read the package at ``path``; the format is sniffed from the content unless given."""
    return read_package(path, format)[0]


def read_package(path: Union[str, Path], format: Union[str, None] = None) -> tuple:
    """(package, format name, source) for the package at ``path``, reading it once: the
    source (a file's bytes, or a directory's :class:`Files`) is what the package was
    checked from, so a runtime given it scores those very bytes, even should the file
    be replaced meanwhile."""
    path = package_path(path)
    if format is not None:
        get_format(format)
    source = _source(path)  # read once: sniffing and loading see the same bytes
    package, name = read_source(source, str(path), format)
    return package, name, source


def read_source(source, where: str, format: Union[str, None] = None) -> tuple:
    """(package, format name) for ``source``, a file's bytes or a directory's :class:`Files`
    already read (from disk, or from a model store); the format is sniffed unless given."""
    name = format or _sniffed(source, where)
    fmt = get_format(name)
    layout = _layout(source)
    if fmt.LAYOUT != layout:
        raise UnknownFormatError(f"{where}: {name} packages are a {fmt.LAYOUT}, this is a {layout}.")
    # bytes alone cannot say which file they came from
    return fmt.loads(source, where=where if layout == "file" else None), name
