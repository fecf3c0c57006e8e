"""Tags followed through the registry: the model behind each tag, swapped only once the new one is warm.

A tag is followed from the first request that names it (or from startup, ``crossform serve
--tag``). A background thread polls the registry every ``poll_interval`` seconds (its own
read-only connection, ``open_registry(create=False)``); when a tag's current id has changed
(a deploy or a rollback), it loads and warms the new model through the model cache and only
then replaces the tag's :class:`TagState`. A request takes the state once, at its start, and
scores with the LoadedModel in it, so a request in flight when the tag switches finishes on
the model it started with. A new model that fails to load leaves the old one serving; the
next poll tries again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import CrossformError, RegistryNotFoundError, UnknownTagError
from ..registry import check_tag, open_registry
from .inputs import NOT_FOUND, refuse
from .models import LoadedModel, ModelCache

log = logging.getLogger("crossform.serve")
DEFAULT_POLL_INTERVAL = 0.5


@dataclass(frozen=True, eq=False)
class TagState:
    """What a tag serves now: its model (loaded and warm) and its shadow ids."""

    tag: str
    model: LoadedModel
    shadows: tuple
    since: float = field(default_factory=time.time)


class TagFollower:
    """The tags this process serves, each kept on the registry's current id.

    ``on_swap(tag, old_id, new_id)`` and ``on_swap_failure(tag, new_id, error)`` are the metrics hooks.
    """

    def __init__(
        self,
        registry_url: str,
        cache: ModelCache,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_swap: Callable | None = None,
        on_swap_failure: Callable | None = None,
    ) -> None:
        self.registry_url = registry_url
        self.cache = cache
        self.poll_interval = poll_interval
        self._on_swap = on_swap
        self._on_swap_failure = on_swap_failure
        self._states: dict[str, TagState] = {}
        self._resolve_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.polls = 0
        self.last_error: str | None = None

    # --- the request path ----------------------------------------------------------------------

    def state(self, tag: str) -> TagState | None:
        """The tag's state if it is followed already (a dict read: the request path's only cost)."""
        return self._states.get(tag)

    def follow(self, tag: str) -> TagState:
        """Start following ``tag``: read its current id from the registry, load and warm that model.
        An unknown tag, or one with only shadows, is a 404 RequestRefusedError. Blocks: call it
        off the event loop."""
        check_tag(tag)
        state = self._states.get(tag)
        if state is not None:
            return state
        with self._resolve_lock:  # one registry read per new tag, however many requests wait for it
            state = self._states.get(tag)
            if state is not None:
                return state
            current, shadows = self._read(tag)
        model = self.cache.get(current)
        with self._resolve_lock:
            state = self._states.setdefault(tag, TagState(tag, model, shadows))
        return state

    def current_id(self, tag: str) -> str:
        """The registry's current id for ``tag`` (a 404 RequestRefusedError when it has none)."""
        check_tag(tag)
        return self._read(tag)[0]

    def _read(self, tag: str) -> tuple:
        try:
            with open_registry(self.registry_url, create=False) as registry:
                current, shadows = registry.current(tag), registry.shadows(tag)
        except RegistryNotFoundError:
            raise refuse(NOT_FOUND, "tag", f"no tag {tag!r}: the registry has no tags yet") from None
        except UnknownTagError:
            raise refuse(NOT_FOUND, "tag", f"no tag {tag!r} in the registry") from None
        if current is None:
            raise refuse(NOT_FOUND, "tag", f"tag {tag!r} has no current model (only shadows)")
        return current, shadows

    # --- the poller ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="crossform tag follower", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        registry = None
        while not self._stop.wait(self.poll_interval):
            if not self._states:
                continue
            try:
                if registry is None:
                    registry = open_registry(self.registry_url, create=False)
                self.poll(registry)
                self.last_error = None
            except CrossformError as exc:  # the registry unreachable: keep serving what is loaded
                self.last_error = str(exc)
                log.warning("crossform serve: reading the registry failed: %s", exc)
                if registry is not None:
                    registry.close()
                    registry = None
        if registry is not None:
            registry.close()

    def poll(self, registry) -> None:
        """One pass: every followed tag brought to the registry's current id and shadow set."""
        self.polls += 1
        for tag, state in list(self._states.items()):
            current, shadows = registry.current(tag), registry.shadows(tag)
            if current is None or current == state.model.id:
                if shadows != state.shadows:
                    self._states[tag] = TagState(tag, state.model, shadows, state.since)
                continue
            try:
                model = self.cache.get(current)  # loaded and warmed before the tag points at it
            except CrossformError as exc:
                log.warning(
                    "crossform serve: tag %s stays on %s: loading %s failed: %s", tag, state.model.id, current, exc
                )
                if self._on_swap_failure is not None:
                    self._on_swap_failure(tag, current, exc)
                continue
            self._states[tag] = TagState(tag, model, shadows)
            log.info("crossform serve: tag %s now serves %s (was %s)", tag, current, state.model.id)
            if self._on_swap is not None:
                self._on_swap(tag, state.model.id, current)

    def tags(self) -> dict:
        return dict(self._states)
