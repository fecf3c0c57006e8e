"""The registry: tags that point at model ids, each with a shadow set and an append-only history.

A tag (``txn_fraud.production``) has a current model id, a set of shadow ids,
and a history of events (deploy, rollback, shadow-add, shadow-remove), each
recording when (UTC), who, from which id to which, an optional message and
whether it was forced. Nothing is ever updated in the history; the current id
and the shadow set are kept beside it in the same transaction.

Storage is an SQLite file (the embedded default), named by a path or
``sqlite:///path``, or a PostgreSQL database (``postgresql://...``, psycopg 3,
the ``postgresql`` extra). Every change is one transaction that takes the
registry's write lock first (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a
transaction-scoped advisory lock), reads the current id and writes the event
and the new id under it, so concurrent deployers never lose an update; ``deploy(expect=...)``
turns that read into a compare-and-set the caller can retry. The registry
checks that ids have the shape of a crossform id; whether a store holds them
is the deploy gate's concern, not this module's. docs/registry.md is the
user's page.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import (
    DeployConflictError,
    InvalidTagError,
    NothingToRollBackError,
    RegistryError,
    RegistryFormatError,
    RegistryNotFoundError,
    RegistryTextError,
    UnknownShadowError,
    UnknownTagError,
    cut,
    shown,
)
from .identity import check_id

SCHEMA_NAME = "crossform-registry"
# Bump when the tables change; a reader refuses a version it does not know rather than guess.
SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SCHEME = "sqlite:///"
POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")
# How long a change waits for another process's write lock before it is an error.
BUSY_TIMEOUT_SECONDS = 30.0
MAX_TAG_LENGTH = 200

TAG_PATTERN = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")

DEPLOY, ROLLBACK, SHADOW_ADD, SHADOW_REMOVE = "deploy", "rollback", "shadow-add", "shadow-remove"


class _Unchecked:
    def __repr__(self) -> str:
        return "UNCHECKED"


# deploy()'s default ``expect``: deploy over whatever is current (still recorded as the event's from-id).
UNCHECKED = _Unchecked()

_SCHEMA = """
CREATE TABLE crossform_registry (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO crossform_registry VALUES ('schema', '{name}'), ('schema_version', '{version}');
CREATE TABLE tags (name TEXT PRIMARY KEY, current_id TEXT);
CREATE TABLE shadows (tag TEXT NOT NULL REFERENCES tags(name), model_id TEXT NOT NULL, PRIMARY KEY (tag, model_id));
CREATE TABLE events (
    seq {sequence},
    tag TEXT NOT NULL REFERENCES tags(name),
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    from_id TEXT,
    to_id TEXT,
    message TEXT,
    forced INTEGER NOT NULL
);
CREATE INDEX events_by_tag ON events (tag, seq);
"""


@dataclass(frozen=True)
class Event:
    """One entry of a tag's history. ``from_id``/``to_id`` are None where there is none
    (the first deploy comes from no id; a shadow-add goes to the added id, a shadow-remove from the removed one)."""

    tag: str
    kind: str
    at: datetime
    actor: str
    from_id: str | None
    to_id: str | None
    message: str | None
    forced: bool


def check_tag(tag) -> str:
    """``tag`` if it is dot-separated lower-case words; :class:`InvalidTagError` if not."""
    if not (isinstance(tag, str) and len(tag) <= MAX_TAG_LENGTH and TAG_PATTERN.fullmatch(tag)):
        raise InvalidTagError(
            "tag",
            f"a tag must be dot-separated lower-case words (letters a-z, digits, '_', '-'), like "
            f"'txn_fraud.production', at most {MAX_TAG_LENGTH} characters; got {shown(tag)}",
        )
    return tag


def _check_text(actor, message) -> None:
    if not (isinstance(actor, str) and actor.strip() and actor.isprintable()):
        raise RegistryTextError("actor", f"the actor must be non-empty printable text; got {shown(actor)}")
    if message is not None and not isinstance(message, str):
        raise RegistryTextError("message", f"a message must be text or None; got {shown(message)}")


def _sqlite_path(url) -> Path:
    """The file an ``open_registry`` URL names: a path, or ``sqlite:///`` followed by one."""
    if isinstance(url, Path):
        return url
    if isinstance(url, str) and url.startswith(SQLITE_SCHEME) and len(url) > len(SQLITE_SCHEME):
        return Path(url[len(SQLITE_SCHEME) - 1 :])
    if isinstance(url, str) and url and "://" not in url:
        return Path(url)
    raise RegistryFormatError(
        "registry URL",
        f"expected a file path, 'sqlite:///' followed by an absolute path, or a 'postgresql://' URL; got {shown(url)}",
    )


def _check_file(path: Path) -> bool:
    """Refuse a path that cannot be a registry file without writing anything; True when the file is new or empty."""
    if path.is_dir():
        raise RegistryFormatError(str(path), "expected a registry file; found a directory")
    if not path.parent.is_dir():
        raise RegistryError(str(path), f"the folder {str(path.parent)!r} does not exist")
    if not path.exists() or path.stat().st_size == 0:
        return True
    with open(path, "rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        raise RegistryFormatError(
            str(path), f"not an SQLite file: expected it to start with {SQLITE_MAGIC!r}; found {shown(head)}"
        )
    return False


def check_schema_marker(db, tables, table: str, name: str, version: int, *, where: str, kind: str, what: str, error):
    """Refuse a database of ours that is not ``name`` at ``version``: the marker ``table`` (key,
    value rows "schema" and "schema_version") missing, or naming another schema or version.
    The registry and the shadow log keep their schema marker alike; ``error`` is theirs."""
    if table not in tables:
        raise error(where, f"{kind} but not {what}: expected a '{table}' table; found tables {shown(sorted(tables))}")
    marker = dict(db.execute(f"SELECT key, value FROM {table}"))
    if marker.get("schema") != name or marker.get("schema_version") != str(version):
        raise error(
            where,
            f"expected a {name} schema version {version}; found schema "
            f"{shown(marker.get('schema'))} version {cut(str(marker.get('schema_version')))}",
        )


class _SQLite:
    """What is SQLite's own: its lock statement, placeholders, table listing and errors."""

    name = "SQLite"
    begin_change = ("BEGIN IMMEDIATE",)
    # a read is a transaction too: current, shadows and history of one call come from one snapshot
    begin_read = ("BEGIN",)
    sequence = "INTEGER PRIMARY KEY AUTOINCREMENT"
    list_tables = "SELECT name FROM sqlite_master WHERE type = 'table'"
    errors = (sqlite3.Error,)

    @staticmethod
    def sql(text: str) -> str:
        return text

    @staticmethod
    def in_transaction(connection) -> bool:
        return connection.in_transaction

    @staticmethod
    def named(where: str, error: Exception) -> RegistryError:
        if isinstance(error, sqlite3.DatabaseError) and "not a database" in str(error):
            return RegistryFormatError(where, f"expected an SQLite registry; SQLite says: {error}")
        return RegistryError(where, f"SQLite refused the operation: {error}")


class _PostgreSQL:
    """What is PostgreSQL's own. Its write lock is an advisory lock held to the end of the transaction:
    one lock for the whole registry, as SQLite's file lock is, so both serialise changes alike."""

    name = "PostgreSQL"
    begin_change = ("BEGIN", "SELECT pg_advisory_xact_lock(hashtext('crossform-registry'))")
    begin_read = ("BEGIN ISOLATION LEVEL REPEATABLE READ",)
    sequence = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    list_tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"

    def __init__(self, psycopg):
        self.psycopg = psycopg
        self.errors = (psycopg.Error,)

    @staticmethod
    def sql(text: str) -> str:
        return text.replace("?", "%s")

    def in_transaction(self, connection) -> bool:
        return connection.info.transaction_status != self.psycopg.pq.TransactionStatus.IDLE

    @staticmethod
    def named(where: str, error: Exception) -> RegistryError:
        return RegistryError(where, f"PostgreSQL refused the operation: {cut(str(error).strip(), 300)}")


def _without_password(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _open_postgresql(url: str, create: bool) -> Registry:
    where = _without_password(url)
    try:
        import psycopg
    except ImportError:
        raise RegistryError(
            where, "a PostgreSQL registry needs psycopg 3: pip install 'crossform[postgresql]'"
        ) from None
    try:
        connection = psycopg.connect(url, autocommit=True, connect_timeout=10)
        connection.execute(f"SET lock_timeout = '{int(BUSY_TIMEOUT_SECONDS)}s'")
    except psycopg.Error as error:
        raise RegistryError(where, f"cannot connect to PostgreSQL: {cut(str(error).strip(), 300)}") from error
    return _opened(Registry(where, connection, _PostgreSQL(psycopg)), may_create=create, empty_is_missing=True)


def _opened(registry: Registry, may_create: bool, empty_is_missing: bool) -> Registry:
    try:
        registry._open(may_create, empty_is_missing)
    except BaseException:
        registry.close()
        raise
    return registry


def open_registry(url, *, create: bool = True) -> Registry:
    """The registry at ``url``: a path or ``sqlite:///path`` (a missing or empty file becomes a new
    registry) or ``postgresql://...`` (an empty database becomes one).

    With ``create=False`` (to read, or to change only what exists) a registry that does not exist
    yet is a :class:`RegistryNotFoundError` and nothing is created: no file, no tables.
    A file or database that is not a crossform registry is a :class:`RegistryFormatError` and is left as it was.
    """
    if isinstance(url, str) and url.startswith(POSTGRESQL_SCHEMES):
        return _open_postgresql(url, create)
    path = _sqlite_path(url)
    if not create and not path.is_dir() and (not path.exists() or path.stat().st_size == 0):
        raise RegistryNotFoundError(str(path), "no registry here yet: a deploy or a shadow add creates it")
    new = _check_file(path)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    return _opened(Registry(str(path), connection, _SQLite()), may_create=new, empty_is_missing=False)


class Registry:
    """Tags, their current model ids, shadow sets and histories in one SQLite file. Use :func:`open_registry`."""

    def __init__(self, where: str, connection, dialect):
        self.where = where  # the file, or the URL without its password
        self._connection = connection
        self._dialect = dialect

    # --- opening ---------------------------------------------------------------------------------

    def _open(self, may_create: bool, empty_is_missing: bool) -> None:
        with self._transaction() as db:
            tables = {row[0] for row in db.execute(self._dialect.list_tables)}
            if not tables and may_create:
                # created under the write lock, so processes racing to create one registry create it once
                db.create_schema()
                return
            if not tables and empty_is_missing:
                raise RegistryNotFoundError(
                    self.where, "no registry here yet (a schema without tables): a deploy or a shadow add creates it"
                )
            check_schema_marker(
                db,
                tables,
                "crossform_registry",
                SCHEMA_NAME,
                SCHEMA_VERSION,
                where=self.where,
                kind=f"an {self._dialect.name} database",
                what="a crossform registry",
                error=RegistryFormatError,
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self, self._dialect.begin_change)

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading ---------------------------------------------------------------------------------

    def tags(self) -> tuple[str, ...]:
        """Every tag the registry has seen, sorted."""
        with self._reading() as db:
            return tuple(row[0] for row in db.execute("SELECT name FROM tags ORDER BY name"))

    def current(self, tag: str) -> str | None:
        """The model id ``tag`` points at (None for a tag that only has shadows)."""
        check_tag(tag)
        with self._reading() as db:
            return _current(db, tag)

    def shadows(self, tag: str) -> tuple[str, ...]:
        """The shadow ids of ``tag``, sorted."""
        check_tag(tag)
        with self._reading() as db:
            _current(db, tag)
            return _shadows(db, tag)

    def history(self, tag: str) -> tuple[Event, ...]:
        """The events of ``tag``, oldest first."""
        check_tag(tag)
        with self._reading() as db:
            _current(db, tag)
            rows = db.execute(
                "SELECT kind, at, actor, from_id, to_id, message, forced FROM events WHERE tag = ? ORDER BY seq",
                (tag,),
            )
            return tuple(
                Event(tag, kind, datetime.fromisoformat(at), actor, from_id, to_id, message, bool(forced))
                for kind, at, actor, from_id, to_id, message, forced in rows
            )

    def states(self) -> tuple[tuple, ...]:
        """Every tag as (tag, current id, shadow ids, its latest event), sorted by tag, from one
        snapshot and three queries, whatever the length of the histories."""
        with self._reading() as db:
            shadows: dict = {}
            for tag, model_id in db.execute("SELECT tag, model_id FROM shadows ORDER BY tag, model_id"):
                shadows.setdefault(tag, []).append(model_id)
            last = {
                tag: Event(tag, kind, datetime.fromisoformat(at), actor, from_id, to_id, message, bool(forced))
                for tag, kind, at, actor, from_id, to_id, message, forced in db.execute(
                    "SELECT tag, kind, at, actor, from_id, to_id, message, forced FROM events "
                    "WHERE seq IN (SELECT MAX(seq) FROM events GROUP BY tag)"
                )
            }
            return tuple(
                (tag, current, tuple(shadows.get(tag, ())), last[tag])
                for tag, current in db.execute("SELECT name, current_id FROM tags ORDER BY name")
            )

    def _reading(self) -> _Transaction:
        return _Transaction(self, self._dialect.begin_read)

    # --- changing --------------------------------------------------------------------------------

    def deploy(
        self,
        tag: str,
        model_id: str,
        *,
        actor: str,
        message: str | None = None,
        force: bool = False,
        expect=UNCHECKED,
    ) -> Event:
        """Point ``tag`` at ``model_id``. With ``expect`` (the id the caller believes current, None for a
        tag with no model yet) the deploy is a compare-and-set: if another deployer changed the tag first,
        :class:`DeployConflictError` and nothing written. ``force`` is recorded in the event."""
        check_tag(tag)
        check_id(model_id)
        if expect is not UNCHECKED and expect is not None:
            check_id(expect, "expected id")
        _check_text(actor, message)
        with self._transaction() as db:
            found = _current(db, tag, missing=None)
            if expect is not UNCHECKED and found != expect:
                raise DeployConflictError(
                    tag,
                    f"deploy of {model_id} expected the tag at {_named(expect)}; found it at {_named(found)} "
                    f"(another deployer changed it first: read the tag again and retry)",
                    expected=expect,
                    found=found,
                )
            return db.record(tag, DEPLOY, actor, found, model_id, message, force)

    def rollback(self, tag: str, *, actor: str, message: str | None = None) -> Event:
        """Point ``tag`` back at the model deployed before the current one (deploys already rolled back
        are skipped). Rolling back past the first deploy is :class:`NothingToRollBackError`."""
        check_tag(tag)
        _check_text(actor, message)
        with self._transaction() as db:
            found = _current(db, tag)
            stack = _deploy_stack(db, tag)
            if len(stack) < 2:
                raise NothingToRollBackError(
                    tag,
                    f"nothing to roll back to: expected a deploy before the current one; "
                    f"found {'only the first deploy' if stack else 'no deploy'}",
                )
            return db.record(tag, ROLLBACK, actor, found, stack[-2], message, False)

    def add_shadow(
        self, tag: str, model_id: str, *, actor: str, message: str | None = None, force: bool = False
    ) -> Event | None:
        """Add ``model_id`` to the shadow set of ``tag`` (creating the tag); None when it is already there.
        ``force`` (the deploy gate was skipped) is recorded in the event."""
        check_tag(tag)
        check_id(model_id)
        _check_text(actor, message)
        with self._transaction() as db:
            if model_id in _shadows(db, tag):
                return None
            event = db.record(tag, SHADOW_ADD, actor, None, model_id, message, force)
            db.execute("INSERT INTO shadows (tag, model_id) VALUES (?, ?)", (tag, model_id))
            return event

    def remove_shadow(self, tag: str, model_id: str, *, actor: str, message: str | None = None) -> Event:
        """Remove ``model_id`` from the shadow set of ``tag``."""
        check_tag(tag)
        check_id(model_id)
        _check_text(actor, message)
        with self._transaction() as db:
            _current(db, tag)
            if model_id not in _shadows(db, tag):
                raise UnknownShadowError(
                    tag, f"expected {model_id} in the shadow set; found {shown(_shadows(db, tag), 200)}"
                )
            db.execute("DELETE FROM shadows WHERE tag = ? AND model_id = ?", (tag, model_id))
            return db.record(tag, SHADOW_REMOVE, actor, model_id, None, message, False)


_MISSING = object()


def _named(model_id) -> str:
    return "no model" if model_id is None else model_id


def _current(db, tag: str, missing=_MISSING):
    """The current id of ``tag``; an unknown tag is :class:`UnknownTagError` unless ``missing`` is given."""
    row = db.execute("SELECT current_id FROM tags WHERE name = ?", (tag,)).fetchone()
    if row is not None:
        return row[0]
    if missing is _MISSING:
        raise UnknownTagError(tag, "no such tag in the registry: expected a tag that was deployed or given a shadow")
    return missing


def _shadows(db, tag: str) -> tuple[str, ...]:
    return tuple(row[0] for row in db.execute("SELECT model_id FROM shadows WHERE tag = ? ORDER BY model_id", (tag,)))


def _deploy_stack(db, tag: str) -> list[str]:
    """The ids a rollback walks back through: each deploy pushes its id, each rollback pops one."""
    stack: list[str] = []
    for kind, to_id in db.execute(
        "SELECT kind, to_id FROM events WHERE tag = ? AND kind IN (?, ?) ORDER BY seq", (tag, DEPLOY, ROLLBACK)
    ):
        if kind == DEPLOY:
            stack.append(to_id)
        else:
            stack.pop()
    return stack


class _Transaction:
    """One transaction: ``begin`` (for a change, the registry's write lock, waiting up to the busy
    timeout), committed when the block ends and rolled back on any error; the database's own
    errors become :class:`RegistryError` naming the registry."""

    def __init__(self, registry: Registry, begin: tuple[str, ...]):
        self.where = registry.where
        self.connection = registry._connection
        self.dialect = registry._dialect
        self.begin = begin

    def __enter__(self) -> _Transaction:
        try:
            for statement in self.begin:
                self.connection.execute(statement)
        except self.dialect.errors as error:
            self._end()
            raise self.dialect.named(self.where, error) from error
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            try:
                self.connection.execute("COMMIT")
                return
            except self.dialect.errors as failed:  # e.g. readers held the file past the busy timeout
                error = failed
        self._end()
        if isinstance(error, self.dialect.errors):
            raise self.dialect.named(self.where, error) from error

    def _end(self) -> None:
        if self.dialect.in_transaction(self.connection):
            self.connection.execute("ROLLBACK")

    def execute(self, sql: str, parameters=()):
        return self.connection.execute(self.dialect.sql(sql), parameters)

    def create_schema(self) -> None:
        script = _SCHEMA.format(sequence=self.dialect.sequence, name=SCHEMA_NAME, version=SCHEMA_VERSION)
        for statement in script.split(";"):
            if statement.strip():
                self.connection.execute(statement)

    def record(self, tag, kind, actor, from_id, to_id, message, forced) -> Event:
        at = datetime.now(timezone.utc)
        self.execute("INSERT INTO tags (name, current_id) VALUES (?, NULL) ON CONFLICT (name) DO NOTHING", (tag,))
        self.execute(
            "INSERT INTO events (tag, kind, at, actor, from_id, to_id, message, forced) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (tag, kind, at.isoformat(), actor, from_id, to_id, message, int(forced)),
        )
        if kind in (DEPLOY, ROLLBACK):
            self.execute("UPDATE tags SET current_id = ? WHERE name = ?", (to_id, tag))
        return Event(tag, kind, at, actor, from_id, to_id, message, bool(forced))
