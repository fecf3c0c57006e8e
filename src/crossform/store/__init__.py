"""The content-addressed model store: packages kept by id, in the bytes they were written in.

``open_store(url)`` gives a :class:`Store` over a local directory (a path or ``file://``
URL, the embedded default) or S3 (``s3://bucket/prefix``, through boto3 from the ``store``
extra). docs/store.md states the object layout and the guarantees; in short:

- one object per id and format, ``<id>/<format>/``: the package's files under ``files/``
  (a file format's one file as ``files/package``) and ``manifest.json``, which lists each
  file's size and SHA-256 and is written last, so an object without it does not exist;
- ``put`` computes the id by reading the bytes back; ``get`` checks the manifest's digests
  and recomputes the id from the bytes it fetched, refusing anything that does not match;
- an id that is not ``sha256.<base32>`` is refused before any I/O.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Union

from .. import exporters, ir
from ..errors import (
    CrossformError,
    LimitExceededError,
    ObjectNotFoundError,
    PackageExistsError,
    StoreIntegrityError,
    StoreUnreachableError,
    UnsafePackageError,
    shown,
)
from ..exporters._json import dumps as json_dumps
from ..exporters._json import parse as json_parse
from ..exporters._limits import MAX_FILE_BYTES, MAX_FILES
from ..identity import check_id, is_package_id

LAYOUT_VERSION = 1  # the "crossform-store" number every manifest records
MANIFEST = "manifest.json"
FILES = "files/"
FILE_NAME = "package"  # the one file of a file-layout format, under files/
MAX_MANIFEST_BYTES = 4 << 20  # 10 000 files' names and digests fit many times over


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Store:
    """Packages by id over a backend (local directory or S3) that moves named objects."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.url = backend.url

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # ------------------------------------------------------------ writing

    def put(self, package_or_path: Union[ir.Package, str, Path], format: Union[str, None] = None) -> str:
        """Store a package; return its id.

        A :class:`crossform.ir.Package` is written in ``format`` (default stripe-json). A path is
        stored as the bytes it holds, in the format it is in (``format``, when given, must be
        that format). Either way the id is computed by reading the bytes back, and putting what
        is already stored writes nothing.
        """
        if isinstance(package_or_path, ir.Package):
            fmt = exporters.get_format(format or exporters.DEFAULT_FORMAT)
            content = fmt.dumps(package_or_path)
            where = f"<{fmt.NAME} written for the store>"
        else:
            content, where = read_content(exporters.package_path(package_or_path))
        source = exporters.Files.from_mapping(content, where) if isinstance(content, dict) else content
        package, name = exporters.read_source(source, where, format)
        files = content if isinstance(content, dict) else {FILE_NAME: content}
        prefix = f"{package.id}/{name}/"
        if self._backend.exists(prefix + MANIFEST):
            return package.id
        manifest = {
            "crossform-store": LAYOUT_VERSION,
            "id": package.id,
            "format": name,
            "layout": "directory" if isinstance(content, dict) else "file",
            "files": {n: {"bytes": len(data), "sha256": _digest(data)} for n, data in sorted(files.items())},
        }
        self._backend.write_object(prefix, {FILES + n: data for n, data in files.items()}, json_dumps(manifest))
        return package.id

    # ------------------------------------------------------------ reading

    def exists(self, package_id: str, format: Union[str, None] = None) -> bool:
        """Whether a complete object for the id (in ``format``, or in any format) is stored."""
        check_id(package_id)
        if format is not None:
            return self._backend.exists(f"{package_id}/{exporters.get_format(format).NAME}/{MANIFEST}")
        return bool(self.formats(package_id))

    def formats(self, package_id: str) -> list:
        """The formats the id is stored in, sorted."""
        check_id(package_id)
        return sorted(fmt for pid, fmt in self._backend.manifests(package_id) if pid == package_id)

    def list(self) -> list:
        """Every stored id (with at least one complete object), sorted."""
        return sorted({pid for pid, _ in self._backend.manifests(None) if is_package_id(pid)})

    def get(self, package_id: str, format: Union[str, None] = None) -> ir.Package:
        """The package stored under the id, read from ``format`` (default: stripe-json when
        stored so, else the first stored format), its bytes checked against the id."""
        package, _ = self.fetch(package_id, format)
        return package

    def pull(self, package_id: str, dest: Union[str, Path], format: Union[str, None] = None) -> Path:
        """Write the stored bytes of the id (in ``format``) to ``dest``, a new path, as they were
        put: a file, or a directory for a directory format. They are checked against the id
        first, and the write is atomic. Returns ``dest``."""
        _, content = self.fetch(package_id, format)
        target = exporters.package_path(dest)
        if os.path.lexists(target):
            raise PackageExistsError(str(target), "already exists; pull writes only a new path")
        target.parent.mkdir(parents=True, exist_ok=True)
        exporters.write_content(content, target)
        return target

    def fetch(self, package_id: str, format: Union[str, None] = None) -> tuple:
        """(package, content) of the id's object, verified: content is a file's bytes or a
        directory's {relative path: bytes}, as exporters.write_content takes (and as
        crossform.spark ships to its executors)."""
        check_id(package_id)
        name = exporters.get_format(format).NAME if format is not None else self.default_format(package_id)
        prefix = f"{package_id}/{name}/"
        where = f"{self.url}/{prefix.rstrip('/')}"
        manifest = self._manifest(prefix, package_id, name, where)
        files = {}
        for file_name, entry in manifest["files"].items():
            data = self._backend.read(prefix + FILES + file_name, entry["bytes"])
            if len(data) != entry["bytes"] or _digest(data) != entry["sha256"]:
                raise StoreIntegrityError(
                    f"{where}/{FILES}{file_name}",
                    f"expected {entry['bytes']} bytes with SHA-256 {entry['sha256'][:16]}..., found {len(data)} "
                    f"bytes with SHA-256 {_digest(data)[:16]}...: the stored object was changed",
                )
            files[file_name] = data
        content = files if manifest["layout"] == "directory" else files[FILE_NAME]
        source = exporters.Files.from_mapping(content, where) if isinstance(content, dict) else content
        try:
            package, _ = exporters.read_source(source, where, name)
        except CrossformError as exc:
            raise StoreIntegrityError(
                where, f"expected the stored package, found bytes that no longer read ({exc})"
            ) from None
        if package.id != package_id:
            raise StoreIntegrityError(where, f"expected bytes that hash to {package_id}, found {package.id}")
        return package, content

    def default_format(self, package_id: str) -> str:
        """The format ``get`` and ``pull`` read without one: stripe-json when stored, else the first stored."""
        stored = self.formats(package_id)
        if not stored:
            raise ObjectNotFoundError(f"{self.url}/{package_id}", "no package with this id is stored")
        return exporters.DEFAULT_FORMAT if exporters.DEFAULT_FORMAT in stored else stored[0]

    def _manifest(self, prefix: str, package_id: str, name: str, where: str) -> dict:
        data = self._backend.read(prefix + MANIFEST, MAX_MANIFEST_BYTES)
        if len(data) > MAX_MANIFEST_BYTES:
            raise LimitExceededError(f"{where}/{MANIFEST}", f"expected at most {MAX_MANIFEST_BYTES} bytes")
        try:
            manifest = json_parse(data, f"{where}/{MANIFEST}")
        except CrossformError as exc:
            raise StoreIntegrityError(f"{where}/{MANIFEST}", f"expected the store's manifest, found {exc}") from None
        _check_manifest(manifest, package_id, name, f"{where}/{MANIFEST}")
        return manifest


def _check_manifest(manifest, package_id: str, name: str, where: str) -> None:
    """Refuse a manifest that is not one put writes for this id and format (parse, then audit)."""

    def refuse(reason: str):
        raise StoreIntegrityError(where, reason)

    if not isinstance(manifest, dict) or manifest.get("crossform-store") != LAYOUT_VERSION:
        refuse(f"expected a manifest with crossform-store {LAYOUT_VERSION}, found {shown(manifest, 60)}")
    if manifest.get("id") != package_id or manifest.get("format") != name:
        refuse(
            f"expected id {package_id} and format {name}, found {shown(manifest.get('id'))}, "
            f"{shown(manifest.get('format'))}"
        )
    files, layout = manifest.get("files"), manifest.get("layout")
    if layout not in ("file", "directory") or not isinstance(files, dict):
        refuse(f"expected layout file or directory and a files object, found {shown(layout)}")
    if len(files) > MAX_FILES:
        raise LimitExceededError(where, f"expected at most {MAX_FILES} files, found {len(files)}")
    if layout == "file" and list(files) != [FILE_NAME]:
        refuse(f"expected one file named {FILE_NAME}, found {shown(list(files))}")
    for file_name, entry in files.items():
        exporters.check_relative_path(file_name, f"{where}: {shown(file_name)}")
        size, digest = (entry.get("bytes"), entry.get("sha256")) if isinstance(entry, dict) else (None, None)
        if not (type(size) is int and 0 <= size <= MAX_FILE_BYTES and isinstance(digest, str) and len(digest) == 64):
            refuse(f"expected {shown(file_name)}: a size up to {MAX_FILE_BYTES} and a SHA-256, found {shown(entry)}")


def read_content(path: Path) -> tuple:
    """(content, where) for the package at ``path``: a file's bytes, or a directory's
    {relative path: bytes} with every regular file in it (links and special files refused)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise exporters.PackageNotFoundError(str(path), "no such file or directory") from None
    if not stat.S_ISDIR(info.st_mode):
        return exporters.read_regular_file(path, str(path)), str(path)
    files = {}
    for folder, dirs, names in os.walk(path):
        for entry in dirs + names:
            full = Path(folder) / entry
            if os.path.islink(full):
                raise UnsafePackageError(str(full), "expected a regular file or directory, found a link")
        for entry in names:
            full = Path(folder) / entry
            if len(files) >= MAX_FILES:
                raise LimitExceededError(str(path), f"a package may hold {MAX_FILES} files, this one more")
            files[full.relative_to(path).as_posix()] = exporters.read_regular_file(full, str(full), follow_links=False)
    return files, str(path)


def open_store(url: Union[str, Path], **options) -> Store:
    """The store at ``url``: a path or ``file://`` URL (a local directory, made on the first
    put), or ``s3://bucket/prefix``. ``options`` go to the backend (S3: ``endpoint_url``,
    ``connect_timeout``)."""
    text = os.fspath(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        from .local import LocalBackend

        return Store(LocalBackend(Path(text), **options))
    if scheme == "file":
        from .local import LocalBackend

        return Store(LocalBackend(Path(rest), **options))
    if scheme == "s3":
        from .s3 import S3Backend

        return Store(S3Backend(rest, **options))
    raise StoreUnreachableError(shown(text), f"expected a path, a file:// or an s3:// URL, found the scheme {scheme!r}")


__all__ = ["Store", "open_store", "read_content", "check_id", "ObjectNotFoundError"]
