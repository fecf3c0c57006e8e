"""The deployer: the store and the registry together, with the deploy gate between them.

``Deployer`` is the Python API of ``crossform push``, ``pull``, ``deploy``, ``history``,
``tags`` and ``models``: packages go into the content-addressed store by id, and tags in the
registry point at ids. A deploy (or a shadow add) passes the **deploy gate** first: the id
must be in the store, and every stored format of it must pass ``crossform validate`` (read back
to the same id, its check rows scored by every runtime of the format installed here as
scikit-learn scored them at export). ``force=True`` skips the gate and the registry records
that it did. Rollback is not gated: it returns to a model that was deployed before, and it
must work when the store cannot be reached.

Where things live, for the CLI and for ``Deployer()`` alike: the ``store`` and ``registry``
arguments, else ``CROSSFORM_STORE`` and ``CROSSFORM_REGISTRY``, else ``.crossform/store`` and
``.crossform/registry.sqlite`` under the working directory. Commands that only read never create
anything. docs/deploying.md is the user's page.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from . import exporters, ir
from .errors import DeployGateError, ObjectNotFoundError, RegistryNotFoundError, UnknownTagError
from .identity import check_id
from .registry import UNCHECKED, Event, Registry, check_tag, open_registry
from .store import Store, open_store
from .validation import check

HOME = ".crossform"
STORE_VARIABLE, REGISTRY_VARIABLE, ACTOR_VARIABLE = "CROSSFORM_STORE", "CROSSFORM_REGISTRY", "CROSSFORM_ACTOR"
DEFAULT_STORE = f"{HOME}/store"
DEFAULT_REGISTRY = f"{HOME}/registry.sqlite"


def store_url(given: Union[str, Path, None] = None) -> str:
    """The store to use: ``given``, else $CROSSFORM_STORE, else .crossform/store."""
    return os.fspath(given) if given else os.environ.get(STORE_VARIABLE) or DEFAULT_STORE


def registry_url(given: Union[str, Path, None] = None) -> str:
    """The registry to use: ``given``, else $CROSSFORM_REGISTRY, else .crossform/registry.sqlite."""
    return os.fspath(given) if given else os.environ.get(REGISTRY_VARIABLE) or DEFAULT_REGISTRY


def default_actor() -> str:
    """Who a change is recorded as: $CROSSFORM_ACTOR, else the login name."""
    named = os.environ.get(ACTOR_VARIABLE, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return f"uid {os.getuid()}"


@dataclass(frozen=True)
class TagState:
    """A tag as ``tags()`` lists it: its current id, shadow set and latest event."""

    tag: str
    current: Union[str, None]
    shadows: tuple
    last: Event


@dataclass(frozen=True)
class GateResult:
    """What the deploy gate found for an id: ``ok``, and per stored format the validate result
    (``crossform validate --json``'s object for the package pulled from the store)."""

    id: str
    ok: bool
    results: tuple

    def summary(self) -> str:
        parts = []
        for result in self.results:
            checks = result["checks"]
            if result["error"] is not None:
                parts.append(f"{result['format']}: {result['error']['message']}")
            elif checks is None:
                parts.append(f"{result['format']}: reads back to the id (no check rows)")
            else:
                ran = ", ".join(f"{r['name']} {r['summary']}" for r in checks["runtimes"])
                parts.append(f"{result['format']}: {checks['rows']} check rows, {ran}")
        return "; ".join(parts)

    def to_json(self) -> dict:
        return {"id": self.id, "ok": self.ok, "formats": [dict(r) for r in self.results]}


class Deployer:
    """Push, pull, deploy (through the gate), roll back, shadow and read history.

    ``store`` is a :class:`crossform.store.Store` or its URL, ``registry`` the registry's URL
    (defaults above); ``actor`` is who changes are recorded as (default :func:`default_actor`).
    The store and registry are opened on first use, so a command touches only what it needs.
    """

    def __init__(
        self,
        store: Union[Store, str, Path, None] = None,
        registry: Union[str, Path, None] = None,
        actor: Union[str, None] = None,
        quiet: bool = True,
    ) -> None:
        self._store = store if isinstance(store, Store) else None
        self.store_url = store.url if isinstance(store, Store) else store_url(store)
        self.registry_url = registry_url(registry)
        self.actor = actor if actor is not None else default_actor()
        self.quiet = quiet

    def __repr__(self) -> str:
        return f"Deployer(store={self.store_url!r}, registry={self.registry_url!r})"

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.store_url)
        return self._store

    # --- the store ------------------------------------------------------------------------------

    def push(self, package_or_path: Union[ir.Package, str, Path], format: Union[str, None] = None) -> str:
        """Store a package (a :class:`crossform.ir.Package` or a saved path); return its id."""
        return self.store.put(package_or_path, format=format)

    def pull(self, model_id: str, dest: Union[str, Path], format: Union[str, None] = None) -> Path:
        """Write the stored bytes of ``model_id`` (in ``format``) to the new path ``dest``."""
        return self.store.pull(check_id(model_id), dest, format=format)

    def get(self, model_id: str, format: Union[str, None] = None) -> ir.Package:
        """The stored package of ``model_id``, checked against the id."""
        return self.store.get(check_id(model_id), format=format)

    def models(self) -> list:
        """Every stored id with its formats and the tags whose current id or shadow set holds it:
        [{"id", "formats", "tags", "shadow_of"}], sorted by id."""
        current, shadowing = {}, {}
        for state in self.tags():
            if state.current is not None:
                current.setdefault(state.current, []).append(state.tag)
            for shadow in state.shadows:
                shadowing.setdefault(shadow, []).append(state.tag)
        return [
            {
                "id": model_id,
                "formats": self.store.formats(model_id),
                "tags": current.get(model_id, []),
                "shadow_of": shadowing.get(model_id, []),
            }
            for model_id in self.store.list()
        ]

    # --- the gate -------------------------------------------------------------------------------

    def gate(self, model_id: str) -> GateResult:
        """Validate every stored format of ``model_id`` as ``crossform validate`` would, on a copy
        pulled from the store (so the bytes checked are the id's). An id not in the store is an
        :class:`ObjectNotFoundError`."""
        check_id(model_id)
        formats = self.store.formats(model_id)
        if not formats:
            raise ObjectNotFoundError(
                f"{self.store.url}/{model_id}",
                "not in the store: push the package first (crossform push PKG), or pass force=True / --force",
            )
        results = []
        with tempfile.TemporaryDirectory(prefix="crossform-gate-") as folder:
            for name in formats:
                fmt = exporters.get_format(name)
                suffix = fmt.EXTENSIONS[0] if fmt.LAYOUT == "file" and fmt.EXTENSIONS else ""
                path = self.store.pull(model_id, Path(folder) / f"{name}{suffix}", format=name)
                result = check(str(path), quiet=self.quiet)
                result["path"] = f"{self.store.url}/{model_id}/{name}"
                results.append(result)
        return GateResult(model_id, all(r["ok"] and r["id"] == model_id for r in results), tuple(results))

    def _pass_gate(self, tag: str, model_id: str, force: bool) -> Union[GateResult, None]:
        check_tag(tag)
        check_id(model_id)
        if force:
            return None
        verdict = self.gate(model_id)
        if not verdict.ok:
            raise DeployGateError(
                model_id,
                f"refused for {tag}: the package fails validate ({verdict.summary()}); "
                "fix it and push again, or pass --force (recorded in the history)",
                gate=verdict,
            )
        return verdict

    # --- the registry ---------------------------------------------------------------------------

    def _registry(self, create: bool) -> Registry:
        if create and self.registry_url == DEFAULT_REGISTRY:
            Path(HOME).mkdir(exist_ok=True)  # the default's folder; a folder the user names must exist
        return open_registry(self.registry_url, create=create)

    def _existing(self, tag: Union[str, None]) -> Registry:
        """The registry opened without creating it; a missing one means the tag is unknown."""
        try:
            return self._registry(create=False)
        except RegistryNotFoundError as exc:
            if tag is None:
                raise
            raise UnknownTagError(tag, f"no such tag: the registry {exc.where} has no tags yet") from None

    def deploy(
        self,
        tag: str,
        model_id: str,
        *,
        message: Union[str, None] = None,
        force: bool = False,
        expect=UNCHECKED,
    ) -> tuple:
        """Point ``tag`` at ``model_id`` after the gate passes (``force``: without it, recorded).
        ``expect`` makes it a compare-and-set (:meth:`crossform.registry.Registry.deploy`).
        Returns (the event, the gate's result or None when forced)."""
        verdict = self._pass_gate(tag, model_id, force)
        with self._registry(create=True) as registry:
            event = registry.deploy(tag, model_id, actor=self.actor, message=message, force=force, expect=expect)
        return event, verdict

    def rollback(self, tag: str, *, message: Union[str, None] = None) -> Event:
        """Point ``tag`` back at the model deployed before the current one (not gated)."""
        check_tag(tag)
        with self._existing(tag) as registry:
            return registry.rollback(tag, actor=self.actor, message=message)

    def add_shadow(self, tag: str, model_id: str, *, message: Union[str, None] = None, force: bool = False) -> tuple:
        """Add ``model_id`` to the shadow set of ``tag`` after the gate passes. Returns (the event,
        None when it was already a shadow; the gate's result, None when forced)."""
        check_tag(tag)
        check_id(model_id)
        if model_id in self._shadows_if_any(tag):
            return None, None  # nothing to add, so nothing to gate
        verdict = self._pass_gate(tag, model_id, force)
        with self._registry(create=True) as registry:
            return registry.add_shadow(tag, model_id, actor=self.actor, message=message, force=force), verdict

    def _shadows_if_any(self, tag: str) -> tuple:
        try:
            return self.shadows(tag)
        except UnknownTagError:
            return ()

    def remove_shadow(self, tag: str, model_id: str, *, message: Union[str, None] = None) -> Event:
        """Remove ``model_id`` from the shadow set of ``tag``."""
        check_tag(tag)
        check_id(model_id)
        with self._existing(tag) as registry:
            return registry.remove_shadow(tag, model_id, actor=self.actor, message=message)

    def current(self, tag: str) -> Union[str, None]:
        check_tag(tag)
        with self._existing(tag) as registry:
            return registry.current(tag)

    def shadows(self, tag: str) -> tuple:
        check_tag(tag)
        with self._existing(tag) as registry:
            return registry.shadows(tag)

    def history(self, tag: str) -> tuple:
        """The events of ``tag``, oldest first."""
        check_tag(tag)
        with self._existing(tag) as registry:
            return registry.history(tag)

    def tags(self) -> list:
        """Every tag with its current id, shadows and latest event (:class:`TagState`), sorted;
        empty when there is no registry yet (none is created)."""
        try:
            registry = self._registry(create=False)
        except RegistryNotFoundError:
            return []
        with registry:
            return [TagState(*state) for state in registry.states()]


def event_json(event: Event) -> dict:
    """An event as the CLI's --json prints it."""
    return {
        "tag": event.tag,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "from_id": event.from_id,
        "to_id": event.to_id,
        "message": event.message,
        "forced": event.forced,
    }


__all__ = [
    "Deployer",
    "GateResult",
    "TagState",
    "default_actor",
    "event_json",
    "registry_url",
    "store_url",
]
