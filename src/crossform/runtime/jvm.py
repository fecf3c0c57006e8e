"""jvm: score stripe-json and protobuf packages with crossform's own Java scorer (jvm/), a
second implementation of docs/SEMANTICS.md.

One JVM per Python process: ``java -cp ... dev.crossform.cli.Serve`` started on first use and
stopped at exit, speaking the length-prefixed binary protocol its class comment describes over
its stdin and stdout (load a package directory, score typed columns, get values, row errors and
each tree's leaf back). Never a JVM per batch or per row. The package is handed over as the
directory (stripe-json) or the file (protobuf) the format writes; the Java reader reads and
verifies it by itself (its own id, CRCs and refusals), and a kind it does not read yet is a
named skip (``unsupported``).

The trees are held in the layout ``LAYOUT`` names when a package is loaded: "expanded"
(per-node arrays, the default) or "compact" (scored straight from the bonsai encoding, about
the file's size in memory); the environment variable CROSSFORM_JVM_LAYOUT sets its start value.
Both give the same bits.

Without java, or without the built scorer (``./dev jvm`` builds it with Debian's javac and
jars, nothing downloaded), this runtime is a named skip.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..chunks import CHUNK_ROWS, chunked
from ..errors import CrossformError
from ..exporters import Files, Format
from ..rows import read_batch
from ..scores import Scores

NAME = "jvm"
BUILD = "./dev jvm"
# the repository's jvm/ folder: this file is src/crossform/runtime/jvm.py
JVM_DIR = Path(__file__).resolve().parents[3] / "jvm"
JAR = JVM_DIR / "build" / "crossform-jvm.jar"
# Debian's jars (libjackson2-databind-java, libprotobuf-java), as jvm/build.sh links them
DEPENDENCIES = tuple(
    Path("/usr/share/java") / name
    for name in ("jackson-databind.jar", "jackson-core.jar", "jackson-annotations.jar", "protobuf.jar")
)
MAIN = "dev.crossform.cli.Serve"
# where a crossform without jvm/ beside it (a wheel) finds the scorer: its jar and dependencies
CLASSPATH_VARIABLE = "CROSSFORM_JVM_CLASSPATH"
FILE_FORMATS = ("protobuf",)  # the file formats the Java reader reads (CrossformPackage.load of a file)
LOAD, SCORE, UNLOAD, VERSION = 1, 2, 3, 4
# Serve's protocol (its VERSION answer names it): checked when the process starts, so that a jar
# built from older sources is a named error instead of requests read out of step
PROTOCOL = 2
LAYOUTS = {"expanded": 0, "compact": 1}  # the LOAD request's layout byte
LAYOUT = os.environ.get("CROSSFORM_JVM_LAYOUT", "expanded")


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def classpath() -> list[str]:
    """The scorer's classpath: CROSSFORM_JVM_CLASSPATH when set (the jar built anywhere, and its
    dependencies, joined by os.pathsep), else the checkout's jar and Debian's jars."""
    given = os.environ.get(CLASSPATH_VARIABLE)
    if given:
        return [entry for entry in given.split(os.pathsep) if entry]
    return [str(JAR), *map(str, DEPENDENCIES)]


def unavailable() -> str | None:
    if _java() is None:
        return "no java found; install a JDK 17 (Debian: default-jdk-headless; ./dev setup does this) or set JAVA_HOME"
    if os.environ.get(CLASSPATH_VARIABLE):
        missing = [entry for entry in classpath() if not Path(entry).exists()]
        if missing:
            return f"{CLASSPATH_VARIABLE} names what does not exist: {', '.join(missing)}"
        return None
    missing = [str(p) for p in DEPENDENCIES if not p.exists()]
    if missing:
        return (
            f"the jvm scorer's libraries are missing ({', '.join(missing)}); install Debian's "
            f"libjackson2-databind-java and libprotobuf-java ({BUILD} does this)"
        )
    if not JVM_DIR.is_dir():
        return (
            f"this crossform is installed without the jvm/ sources ({JVM_DIR} does not exist): build the "
            f"scorer in a crossform checkout ({BUILD}, or mvn package with jvm/pom.xml) and set "
            f"{CLASSPATH_VARIABLE} to its jar and dependencies (jvm/build.sh classpath prints them)"
        )
    if not JAR.exists():
        return f"the jvm scorer is not built ({JAR} is missing); build it with {BUILD}"
    return None


class _Refused(CrossformError):
    """The Java reader refused a package: its exception name, the kind (UnsupportedKind), the message."""

    def __init__(self, name: str, kind: str, message: str):
        super().__init__(f"jvm: {name}: {message}")
        self.name, self.kind = name, kind


class _Jvm:
    """The one Serve process of this Python process, used under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.process is None or self.process.poll() is not None:
            path = os.pathsep.join(classpath())
            self.process = subprocess.Popen(
                [_java(), "-Djava.awt.headless=true", "-cp", path, MAIN],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            atexit.register(self.stop)
            self._check_protocol(path)
        return self.process

    def _check_protocol(self, path: str) -> None:
        """Asks the new process its VERSION and stops it unless it speaks PROTOCOL."""
        process = self.process
        try:
            process.stdin.write(bytes([VERSION]))
            process.stdin.flush()
            stream = _Stream(process.stdout)
            answer = stream.text() if stream.u8() == 0 else ""
        except (BrokenPipeError, EOFError):
            self.stop()
            raise CrossformError(
                f"jvm: the scorer process ended as it started (classpath {path}); run it by hand to see why: "
                f"java -cp {path} {MAIN}"
            ) from None
        found = re.search(r"\bprotocol (\d+)\b", answer)
        if found is None or int(found.group(1)) != PROTOCOL:
            self.stop()
            speaks = f"protocol {found.group(1)}" if found else "an older protocol (its version names none)"
            raise CrossformError(
                f"jvm: the scorer on the classpath ({path}) speaks {speaks}, this crossform protocol "
                f"{PROTOCOL}: its jar was built from other sources; rebuild it with {BUILD} "
                f"(jvm/build.sh) or point {CLASSPATH_VARIABLE} at a matching one"
            )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.stdin.close()  # Serve ends when its input does
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def call(self, request: bytes, answer: Callable[[Any], Any]) -> Any:
        with self.lock:
            # a process that ended since the last call shows as a broken pipe or an early end below
            process = self.process if self.process is not None else self._start()
            try:
                process.stdin.write(request)
                process.stdin.flush()
                stream = _Stream(process.stdout)
                if stream.u8() != 0:
                    raise _Refused(stream.text(), stream.text(), stream.text())
                return answer(stream)
            except (BrokenPipeError, EOFError) as exc:
                self.stop()
                raise CrossformError(f"jvm: the scorer process ended unexpectedly ({type(exc).__name__})") from None


class _Stream:
    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def take(self, n: int) -> bytes:
        data = self.raw.read(n)
        if len(data) != n:
            raise EOFError
        return data

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def text(self) -> str:
        return self.take(self.u32()).decode("utf-8")


_JVM = _Jvm()


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def version() -> str:
    return _JVM.call(bytes([VERSION]), lambda s: s.text())


class _Loaded:
    def __init__(self, handle: int, outputs: int, trees: int, package_id: str) -> None:
        self.handle, self.outputs, self.trees, self.id = handle, outputs, trees, package_id


PACKAGE_FILE = "package.pb"  # the name a file package (protobuf) is written to for the JVM


def _load(content: Mapping | bytes, layout: str) -> _Loaded:
    """Write the package to a scratch directory (its files, or the one file of a file package)
    and have the JVM read it: a directory is stripe-json to the Java reader, a file protobuf."""
    with tempfile.TemporaryDirectory(prefix="crossform-jvm-") as folder:
        if isinstance(content, bytes):
            target = Path(folder, PACKAGE_FILE)
            target.write_bytes(content)
        else:
            target = Path(folder)
            for name, data in content.items():
                path = Path(folder, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        return _JVM.call(
            bytes([LOAD]) + _text(str(target)) + bytes([LAYOUTS[layout]]),
            lambda s: _Loaded(s.u32(), s.u32(), s.u32(), s.text()),
        )


_CACHE: dict = {}  # the last package loaded, by the digest of its files: unsupported() then prepare()


def _loaded(content: Mapping | bytes) -> _Loaded:
    if LAYOUT not in LAYOUTS:
        raise CrossformError(f"jvm: expected LAYOUT one of {', '.join(LAYOUTS)}, found {LAYOUT!r}")
    digest = hashlib.sha256(LAYOUT.encode())
    if isinstance(content, bytes):
        digest.update(b"file" + content)
    else:
        for name in sorted(content):
            digest.update(_text(name) + struct.pack(">Q", len(content[name])) + content[name])
    key = digest.digest()
    if key not in _CACHE:
        for old in _CACHE.values():
            _JVM.call(bytes([UNLOAD]) + struct.pack(">I", old.handle), lambda s: None)
        _CACHE.clear()
        _CACHE[key] = _load(content, LAYOUT)
    return _CACHE[key]


def unsupported(content: Any) -> str | None:
    """Why the jvm runtime skips this package: a kind its reader does not read yet."""
    if not isinstance(content, (Mapping, bytes)):
        return "the jvm runtime reads stripe-json directories and protobuf files only"
    try:
        _loaded(content)
    except _Refused as exc:
        if exc.name == "UnsupportedKind":
            return f"the jvm runtime does not read {exc.kind} yet"
        return None  # any other refusal fails the case in prepare, with its message
    return None


def _columns(fields: tuple, batch: Any, n: int) -> bytes:
    numeric = [f.kind == "numeric" for f in fields]
    if all(numeric) and fields:
        # one block: per input its kind byte 0 then its n big-endian float64s (one copy, not one per column)
        block = np.zeros((len(fields), 1 + 8 * n), dtype=np.uint8)
        values = np.empty((len(fields), n), dtype=">f8")
        for i, f in enumerate(fields):
            values[i] = batch.columns[f.name]
        block[:, 1:] = values.view(np.uint8).reshape(len(fields), 8 * n)
        return struct.pack(">I", len(fields)) + block.tobytes()
    parts = [struct.pack(">I", len(fields))]
    for f, is_number in zip(fields, numeric):
        col = batch.columns[f.name]
        if is_number:
            parts.append(b"\x00" + np.asarray(col, dtype=">f8").tobytes())
        else:
            parts.append(b"\x01")
            for value in col:
                parts.append(struct.pack(">i", -1) if value is None else _text(value))
    return b"".join(parts)


def prepare(content: Any, fmt: Format) -> Callable[[Any], Scores]:
    reason = unavailable()
    if reason is not None:
        raise CrossformError(reason)
    if fmt.LAYOUT == "directory" and isinstance(content, Mapping):
        package = fmt.loads(Files.from_mapping(content, label=f"<{fmt.NAME}>"))
    elif fmt.NAME in FILE_FORMATS and isinstance(content, bytes):
        package = fmt.loads(content)
    else:
        raise CrossformError(f"the jvm runtime reads stripe-json directories and protobuf files, not {fmt.NAME}")
    loaded = _loaded(content)
    if loaded.id != package.id:
        raise CrossformError(
            f"jvm: the Java reader hashes the package to {loaded.id}, the Python reader to {package.id}"
        )
    fields, outputs, classes = package.inputs, package.outputs, package.model.classes
    trees = getattr(package.model, "trees", ())
    # every tree's preorder-to-node map in one array: tree j's position p is node_at[start[j] + p]
    node_at = np.concatenate([np.asarray(tree.preorder, dtype=np.int64) for tree in trees]) if trees else None
    start = np.cumsum([0] + [len(tree.preorder) for tree in trees[:-1]], dtype=np.int64) if trees else None
    k, t = loaded.outputs, loaded.trees
    if k != len(outputs):
        raise CrossformError(f"jvm: the Java reader scores {k} outputs, the package has {len(outputs)}")
    if trees and t != len(trees):
        raise CrossformError(f"jvm: the Java reader reports {t} trees' leaves, the package has {len(trees)} trees")
    head = bytes([SCORE]) + struct.pack(">I", loaded.handle)

    def score(data: Any) -> Scores:
        batch = read_batch(fields, data)
        n = batch.n_rows
        request = head + struct.pack(">I", n) + _columns(fields, batch, n)

        def answer(s: _Stream) -> tuple:
            values = np.frombuffer(s.take(8 * n * k), dtype=">f8").astype(np.float64).reshape(n, k)
            errors = []
            for _ in range(n):
                size = struct.unpack(">i", s.take(4))[0]
                errors.append(None if size < 0 else s.take(size).decode("utf-8"))
            leaves = np.frombuffer(s.take(4 * n * t), dtype=">i4").astype(np.int64).reshape(n, t)
            return values, errors, leaves

        values, jvm_errors, positions = _JVM.call(request, answer)
        before = batch.errors.tolist()
        errors = [b if b is not None else j for b, j in zip(before, jvm_errors)]
        bad = np.fromiter((e is not None for e in errors), dtype=bool, count=n)
        if not bad.any():
            leaves = node_at[positions + start] if trees else None
        else:
            values[bad] = np.nan
            leaves = None
            if trees:
                leaves = np.full((n, t), -1, dtype=np.int64)
                leaves[~bad] = node_at[positions[~bad] + start]
        return Scores(values, outputs, errors, classes, leaves)

    return chunked(fields, score, CHUNK_ROWS)
