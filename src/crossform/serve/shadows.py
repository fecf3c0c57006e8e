"""Shadow models: a tag's candidate models scored on the same requests as its model, off the
request path, each result logged beside the primary's (docs/shadows.md).

The server answers a request with the tag's model and then hands a :class:`ShadowJob` to
:meth:`ShadowPool.submit`, which only puts it on a bounded queue and returns: it never waits.
Each shadow model has its own queue and its own worker thread(s), so a shadow that is slow or
hangs holds only its own thread; its queue then fills and its later jobs are dropped and counted,
while the other shadows and the primary go on as before. A worker scores the jobs waiting in its
queue together (one model call and one log write per batch), so that under load a shadow costs
the server one call per batch, not one per request. Every result (or failure) becomes one
record in a :class:`ShadowLog`: an SQLite file in WAL mode, which several server processes append
to at once, or a JSON Lines file, one line per record written with one locked append.

Nothing here imports the web server: the pool takes a ``load`` callable (the server passes its
model cache's ``get``) and scores whatever ``load`` returns through its ``.score(columns)``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

import numpy as np

from crossform.deployer import HOME
from crossform.errors import ShadowLogError, ShadowLogFormatError, ShadowLogNotFoundError, cut, shown
from crossform.registry import SQLITE_MAGIC, check_schema_marker
from crossform.scores import Scores

try:  # POSIX: a lock around each JSON Lines append, so lines from several processes never interleave
    import fcntl
except ImportError:  # pragma: no cover - Windows appends with O_APPEND alone
    fcntl = None

log = logging.getLogger(__name__)

# where `crossform serve` logs shadow results and `crossform shadow-report` reads them, unless told
DEFAULT_SHADOW_LOG = f"{HOME}/shadows.sqlite"
SQLITE_SCHEME = "sqlite:///"
JSONL_SUFFIX = ".jsonl"
SCHEMA_NAME = "crossform-shadow-log"
SCHEMA_VERSION = 1
# how long an append waits for another process's write lock before it fails (counted as failed)
BUSY_TIMEOUT_SECONDS = 30.0
READ_BATCH = 500  # records fetched from SQLite at a time while iterating

# The fields of a record, in the order they are written (docs/shadows.md describes each).
RECORD_FIELDS = (
    "request_id",
    "tag",
    "at",
    "primary_id",
    "shadow_id",
    "outputs",
    "shadow_outputs",
    "primary_classes",
    "shadow_classes",
    "primary_values",
    "shadow_values",
    "primary_errors",
    "shadow_errors",
    "primary_seconds",
    "shadow_seconds",
    "error",
)


@dataclass(frozen=True)
class ShadowJob:
    """One answered tag request, as the shadows of the tag score it again."""

    request_id: str  # the id the server gives the request (also returned in the response)
    tag: str
    primary_id: str  # the model id that answered
    columns: dict  # {input name: list of values}, the parsed batch exactly as the primary scored it
    primary: Scores  # the primary's result (outputs, values, errors)
    primary_seconds: float  # the primary's scoring time
    received_at: float  # time.time() when the request arrived


# --- records --------------------------------------------------------------------------------------


def _number(value: float) -> Union[float, str]:
    # strict JSON has no NaN or infinities: they are written as the strings float() reads back
    if math.isnan(value):
        return "NaN"
    return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")


def _rows(scores: Scores) -> list:
    """``scores.values`` as lists of floats, None for a row in error."""
    values = np.asarray(scores.values, dtype=np.float64)
    rows = values.tolist()
    failed = np.flatnonzero(~scores.ok) if len(scores) else ()
    for i in failed:
        rows[i] = None
    if not np.isfinite(np.delete(values, failed, axis=0)).all():
        rows = [None if row is None else [_number(v) for v in row] for row in rows]
    return rows


def _classes(scores: Scores) -> Union[list, None]:
    # numpy scalars (classes fitted on integer labels) become plain JSON numbers
    return None if scores.classes is None else [c.item() if isinstance(c, np.generic) else c for c in scores.classes]


def make_record(
    job: ShadowJob,
    shadow_id: str,
    shadow: Union[Scores, None],
    shadow_seconds: Union[float, None],
    error: Union[str, None],
) -> dict:
    """The log record of ``shadow_id`` on ``job``: its scores beside the primary's, or the
    ``error`` that kept it from scoring (then its values, errors and outputs are None)."""
    return {
        "request_id": job.request_id,
        "tag": job.tag,
        # when the request arrived, so that every shadow's record of one request has the same time
        "at": datetime.fromtimestamp(job.received_at, timezone.utc).isoformat(),
        "primary_id": job.primary_id,
        "shadow_id": shadow_id,
        "outputs": list(job.primary.outputs),
        "shadow_outputs": None if shadow is None else list(shadow.outputs),
        "primary_classes": _classes(job.primary),
        "shadow_classes": None if shadow is None else _classes(shadow),
        "primary_values": _rows(job.primary),
        "shadow_values": None if shadow is None else _rows(shadow),
        "primary_errors": list(job.primary.errors),
        "shadow_errors": None if shadow is None else list(shadow.errors),
        "primary_seconds": job.primary_seconds,
        "shadow_seconds": shadow_seconds,
        "error": error,
    }


MAX_ERROR_CHARS = 1000  # of a shadow's exception message kept in its record


def _describe(exc: BaseException) -> str:
    # a shadow's exception can say anything at any length; every record of a failing shadow repeats it
    return cut(f"{type(exc).__name__}: {exc}", MAX_ERROR_CHARS)


# --- the pool -------------------------------------------------------------------------------------


class _Lane:
    """One shadow model's bounded queue and the worker threads that empty it."""

    def __init__(self, shadow_id: str, queue_size: int, threads: int, work: Callable):
        self.queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self.threads = [
            threading.Thread(
                target=work, args=(shadow_id, self.queue), name=f"shadow {shadow_id[:20]} {n}", daemon=True
            )
            for n in range(threads)
        ]
        for thread in self.threads:
            thread.start()


_STOP = object()  # put on a lane's queue by close(): the worker that takes it ends
MAX_BATCH_JOBS = 64  # queued jobs of one shadow scored in one call


class ShadowPool:
    """Scores submitted jobs with the tag's shadow models on background threads and logs each result.

    ``load(model_id)`` returns an object whose ``.score(columns)`` gives :class:`Scores`; ``log`` is a
    :class:`ShadowLog`; ``on_result(record)`` is called after each record is written. Each shadow
    id gets ``threads`` worker threads and a queue of ``queue_size`` jobs, made on its first job.
    """

    def __init__(self, load: Callable, log: ShadowLog, *, queue_size: int = 1000, threads: int = 1, on_result=None):
        if queue_size < 1 or threads < 1:
            raise ValueError(f"queue_size and threads must be >= 1; got {queue_size} and {threads}")
        self._load = load
        self._log = log
        self._queue_size = queue_size
        self._threads = threads
        self._on_result = on_result
        self._lanes: dict = {}
        self._lock = threading.Lock()  # guards the lanes and the counts
        self._counts = {"dropped": 0, "scored": 0, "failed": 0}
        self._closed = False

    def submit(self, job: ShadowJob, shadow_ids: Iterable[str]) -> bool:
        """Queue ``job`` for each shadow id and return at once: True when every shadow took it,
        False when a shadow's queue was full (or the pool closed) and the job was dropped for it."""
        taken = True
        for shadow_id in shadow_ids:
            lane = None if self._closed else self._lanes.get(shadow_id) or self._lane(shadow_id)
            try:
                if lane is None:  # closed
                    raise queue.Full
                lane.queue.put_nowait(job)
            except queue.Full:
                taken = False
                with self._lock:
                    self._counts["dropped"] += 1
        return taken

    def _lane(self, shadow_id: str) -> Union[_Lane, None]:
        with self._lock:
            if self._closed:
                return None
            if shadow_id not in self._lanes:
                self._lanes[shadow_id] = _Lane(shadow_id, self._queue_size, self._threads, self._work)
            return self._lanes[shadow_id]

    def stats(self) -> dict:
        """``queued``: jobs waiting now (over every shadow); ``dropped``: jobs a full queue refused;
        ``scored`` and ``failed``: records written with and without the shadow's scores."""
        with self._lock:
            queued = sum(lane.queue.qsize() for lane in self._lanes.values())
            return {"queued": queued, **self._counts}

    def close(self, timeout: float = 5.0) -> None:
        """Refuse new jobs, let the workers finish what is queued for up to ``timeout`` seconds, and
        return. A worker still busy then (a hanging shadow) is a daemon thread left to its fate; the
        log stays open (its owner closes it)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closed = True
            lanes = list(self._lanes.values())
        for lane in lanes:
            for _ in lane.threads:
                try:
                    lane.queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
                except queue.Full:  # a worker that does not take jobs any more; do not wait for it
                    break
        for lane in lanes:
            for thread in lane.threads:
                thread.join(max(0.0, deadline - time.monotonic()))

    def _work(self, shadow_id: str, jobs: queue.Queue) -> None:
        stopping = False
        while not stopping:
            job = jobs.get()
            if job is _STOP:
                return
            batch = [job]
            # the jobs that queued while the last batch scored go together: one call to the model
            # and one write to the log for up to MAX_BATCH_JOBS requests, so that shadows cost the
            # machine little per request and keep up with the traffic they shadow
            while len(batch) < MAX_BATCH_JOBS:
                try:
                    waiting = jobs.get_nowait()
                except queue.Empty:
                    break
                if waiting is _STOP:
                    stopping = True
                    break
                batch.append(waiting)
            records = self._score_batch(batch, shadow_id)
            try:
                self._log.append_many(records)
            except Exception as exc:  # a full disk or a locked file must not end the worker
                log.warning("%d shadow records of %s not written: %s", len(records), shadow_id, _describe(exc))
                with self._lock:
                    self._counts["failed"] += len(records)
                continue
            with self._lock:
                for record in records:
                    self._counts["failed" if record["error"] is not None else "scored"] += 1
            if self._on_result is not None:
                for record in records:
                    try:
                        self._on_result(record)
                    except Exception as exc:
                        log.warning("shadow on_result hook failed: %s", _describe(exc))

    def _score_batch(self, batch: list, shadow_id: str) -> list:
        """One record per job. Jobs with the same columns are scored in one call; each record's
        ``shadow_seconds`` is the call's time shared by rows. A call that raises is retried job by
        job, so that the error lands on the job that caused it."""
        try:
            model = self._load(shadow_id)
        except Exception as exc:
            return [
                make_record(job, shadow_id, None, None, f"cannot load the shadow model: {_describe(exc)}")
                for job in batch
            ]
        names = list(batch[0].columns)
        if len(batch) == 1 or any(list(job.columns) != names for job in batch):
            return [self._score(model, job, shadow_id) for job in batch]
        sizes = [len(job.primary) for job in batch]
        started = time.perf_counter()
        try:
            scores = model.score({name: _joined([job.columns[name] for job in batch]) for name in names})
        except Exception:
            return [self._score(model, job, shadow_id) for job in batch]
        seconds = time.perf_counter() - started
        total = sum(sizes) or 1
        records, start = [], 0
        for job, size in zip(batch, sizes):
            part = _rows_of(scores, start, start + size)
            records.append(make_record(job, shadow_id, part, seconds * size / total, None))
            start += size
        return records

    @staticmethod
    def _score(model, job: ShadowJob, shadow_id: str) -> dict:
        # timed without the load: the first job of a shadow would otherwise carry its loading time
        started = time.perf_counter()
        try:
            scores = model.score(job.columns)
        except Exception as exc:
            return make_record(job, shadow_id, None, time.perf_counter() - started, _describe(exc))
        return make_record(job, shadow_id, scores, time.perf_counter() - started, None)


def _joined(parts: list):
    """One column of several jobs: float64 arrays joined as one, anything else as one list."""
    if all(isinstance(p, np.ndarray) and p.dtype == np.float64 for p in parts):
        return np.concatenate(parts)
    joined: list = []
    for part in parts:
        joined.extend(part.tolist() if isinstance(part, np.ndarray) else part)
    return joined


def _rows_of(scores: Scores, start: int, stop: int) -> Scores:
    leaves = None if scores.leaves is None else scores.leaves[start:stop]
    return Scores(scores.values[start:stop], scores.outputs, scores.errors[start:stop], scores.classes, leaves)


# --- the logs -------------------------------------------------------------------------------------


class ShadowLog:
    """Where shadow records go: :func:`open_shadow_log` opens one."""

    where: str

    def append(self, record: dict) -> None:
        self.append_many([record])

    def append_many(self, records: list) -> None:
        """Append ``records`` in order, all of them or none (one transaction, one locked write)."""
        raise NotImplementedError

    def records(self, tag: Union[str, None] = None, shadow_id: Union[str, None] = None) -> Iterator[dict]:
        """The records in the order they were appended, of ``tag`` and ``shadow_id`` when given."""
        raise NotImplementedError

    def tags(self) -> list:
        """The tags that have records, sorted."""
        return sorted({record["tag"] for record in self.records()})

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> ShadowLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _encode(record: dict) -> str:
    try:
        return json.dumps(record, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ShadowLogError("record", f"a shadow record must be strict JSON; {exc}") from None


def _checked_keys(record: Any, where: str) -> dict:
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("tag"), str)
        or not isinstance(record.get("shadow_id"), str)
    ):
        raise ShadowLogFormatError(where, f"expected a record with a text tag and shadow_id; found {shown(record)}")
    return record


class SQLiteShadowLog(ShadowLog):
    """Records in an SQLite file in WAL mode: appends from several processes wait for each other
    (up to BUSY_TIMEOUT_SECONDS), and a reader sees every committed record without blocking them."""

    def __init__(self, path: Path, create: bool):
        self.where = str(path)
        _check_sqlite_file(path, create)
        self._lock = threading.Lock()  # one connection, shared by the pool's worker threads
        try:
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            self._fail(exc)
        try:
            # an SQLite file without any table is one another process is creating: finish it
            self._open(may_create=create)
            # WAL without an fsync per record: a record is lost only if the machine (not the server)
            # dies within moments of writing it, and appends are ~20x faster, so shadows keep up
            self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            self._db.close()
            self._fail(exc)
        except BaseException:
            self._db.close()
            raise

    def _fail(self, exc: sqlite3.Error):
        if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
            raise ShadowLogFormatError(self.where, f"expected an SQLite shadow log; SQLite says: {exc}") from None
        raise ShadowLogError(self.where, f"SQLite refused the operation: {exc}") from None

    def _open(self, may_create: bool) -> None:
        db = self._db
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables and may_create:
            _switch_to_wal(db)  # persistent: set once, every later connection uses it
            db.execute("BEGIN IMMEDIATE")  # processes racing to create one log create it once
            try:
                db.execute("CREATE TABLE IF NOT EXISTS crossform_shadow_log (key TEXT PRIMARY KEY, value TEXT)")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS shadow_records (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                    "tag TEXT NOT NULL, shadow_id TEXT NOT NULL, record TEXT NOT NULL)"
                )
                db.execute("CREATE INDEX IF NOT EXISTS shadow_records_by_tag ON shadow_records (tag, shadow_id, seq)")
                db.executemany(
                    "INSERT OR IGNORE INTO crossform_shadow_log VALUES (?, ?)",
                    [("schema", SCHEMA_NAME), ("schema_version", str(SCHEMA_VERSION))],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return
        check_schema_marker(
            db,
            tables,
            "crossform_shadow_log",
            SCHEMA_NAME,
            SCHEMA_VERSION,
            where=self.where,
            kind="an SQLite file",
            what="a crossform shadow log",
            error=ShadowLogFormatError,
        )

    def append_many(self, records: list) -> None:
        rows = [(_checked_keys(r, "record")["tag"], r["shadow_id"], _encode(r)) for r in records]
        with self._lock:
            try:  # one transaction: all of the records or none of them
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("INSERT INTO shadow_records (tag, shadow_id, record) VALUES (?, ?, ?)", rows)
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._fail(exc)

    def records(self, tag=None, shadow_id=None) -> Iterator[dict]:
        where = " AND ".join(
            f"{name} = ?" for name, value in (("tag", tag), ("shadow_id", shadow_id)) if value is not None
        )
        query = "SELECT seq, record FROM shadow_records" + (f" WHERE {where}" if where else "") + " ORDER BY seq"
        with self._lock:
            try:
                cursor = self._db.execute(query, [v for v in (tag, shadow_id) if v is not None])
            except sqlite3.Error as exc:
                self._fail(exc)
        while True:
            with self._lock:
                batch = cursor.fetchmany(READ_BATCH)
            if not batch:
                return
            for seq, text in batch:
                yield _decoded(text, f"{self.where}, record {seq}")

    def tags(self) -> list:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT DISTINCT tag FROM shadow_records ORDER BY tag")]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _decoded(text: str, where: str) -> dict:
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise ShadowLogFormatError(where, f"expected one JSON record; {exc}") from None
    return _checked_keys(record, where)


def _check_sqlite_file(path: Path, create: bool) -> None:
    """Refuse a path that cannot be a shadow log without writing anything."""
    if path.is_dir():
        raise ShadowLogFormatError(str(path), "expected a shadow log file; found a directory")
    if not path.exists() or path.stat().st_size == 0:
        if not create:
            raise ShadowLogNotFoundError(str(path), "no shadow log here: `crossform serve --shadow-log` writes one")
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    with open(path, "rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        raise ShadowLogFormatError(
            str(path),
            f"not an SQLite file: expected it to start with {SQLITE_MAGIC!r}; found {shown(head)} "
            f"(a JSON Lines log must be named *{JSONL_SUFFIX})",
        )


class JsonLinesShadowLog(ShadowLog):
    """Records as JSON Lines: each append writes one whole line under an exclusive lock on an
    O_APPEND file, so lines from several threads and processes never interleave. A reader skips
    a last line without its newline (an append still being written)."""

    def __init__(self, path: Path, create: bool):
        self.where = str(path)
        self._path = path
        if path.is_dir():
            raise ShadowLogFormatError(self.where, "expected a JSON Lines shadow log file; found a directory")
        if not path.exists() and not create:
            raise ShadowLogNotFoundError(self.where, "no shadow log here: `crossform serve --shadow-log` writes one")
        self._fd = None
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ShadowLogError(self.where, f"cannot open the log to append: {exc.strerror}") from None
        self._lock = threading.Lock()

    def append_many(self, records: list) -> None:
        for record in records:
            _checked_keys(record, "record")
        if self._fd is None:
            raise ShadowLogError(self.where, "this log was opened to read (create=False); it cannot append")
        data = "".join(_encode(record) + "\n" for record in records).encode()
        with self._lock:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                written = 0
                while written < len(data):  # os.write may write part of a long line; the lock keeps it whole
                    written += os.write(self._fd, data[written:])
            except OSError as exc:
                raise ShadowLogError(self.where, f"cannot append a record: {exc.strerror}") from None
            finally:
                if fcntl is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    def records(self, tag=None, shadow_id=None) -> Iterator[dict]:
        try:
            file = open(self._path, "rb")
        except OSError as exc:
            raise ShadowLogError(self.where, f"cannot read the log: {exc.strerror}") from None
        with file:
            for number, line in enumerate(file, start=1):
                if not line.endswith(b"\n"):
                    return  # an append in progress
                if not line.strip():
                    continue
                try:
                    text = line.decode()
                except UnicodeDecodeError as exc:
                    raise ShadowLogFormatError(f"{self.where}, line {number}", f"expected UTF-8 text; {exc}") from None
                record = _decoded(text, f"{self.where}, line {number}")
                if (tag is None or record["tag"] == tag) and (shadow_id is None or record["shadow_id"] == shadow_id):
                    yield record

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def open_shadow_log(url_or_path, *, create: bool = True) -> ShadowLog:
    """The shadow log at ``url_or_path``: a path ending in ``.jsonl`` is a JSON Lines log; any other
    path, or ``sqlite:///`` followed by one, an SQLite log. A missing log is created (with its
    folder) unless ``create=False``, which reads only and refuses a missing log with
    :class:`ShadowLogNotFoundError`, creating nothing."""
    if isinstance(url_or_path, str) and url_or_path.startswith(SQLITE_SCHEME):
        path = Path(url_or_path[len(SQLITE_SCHEME) - 1 :])
    elif isinstance(url_or_path, (str, Path)) and str(url_or_path) and "://" not in str(url_or_path):
        path = Path(url_or_path)
    else:
        raise ShadowLogError(
            "shadow log",
            f"expected a file path (*{JSONL_SUFFIX} for JSON Lines, else SQLite) or 'sqlite:///' and a path; "
            f"got {shown(url_or_path)}",
        )
    if path.suffix == JSONL_SUFFIX:
        return JsonLinesShadowLog(path, create)
    return SQLiteShadowLog(path, create)


def _switch_to_wal(db: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, waiting for another process that holds the file: SQLite answers
    a journal mode change with "database is locked" at once, without its busy handler, while a
    second process creating the same log is inside its own first statements."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
