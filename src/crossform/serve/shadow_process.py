"""Shadow models scored in a child process of their own, at the lowest CPU priority.

A server worker answers requests on one Python thread; shadow threads in the same process take
Python's interpreter lock from it for every job they score, so on a busy server each shadow slows
every request (the serving bench measured a third of the requests/s with three shadows). Here the
server's process only hands each job to a bounded queue; a child process (started with ``spawn``,
never ``fork``, since the server has threads) loads the shadow models through a model cache of its
own over the same store, scores them with a :class:`ShadowPool` and writes the log. The child runs
at nice 19, so the kernel gives it only the CPU the requests leave; when that is too little its
queue fills and jobs are dropped and counted, never a request slowed.

What comes back to the server is small: per record the counts the agreement metrics take
(``shadow_outcome``), not the record, so that the server does no per-record work.
The jobs cross to the child by multiprocessing's own serialisation of crossform's objects
(``ShadowJob``: columns, the primary's ``Scores``); nothing from outside the server is read that way.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable

from .shadows import ShadowJob, ShadowPool, open_shadow_log

log = logging.getLogger("crossform.serve")

NICENESS = 19
START_TIMEOUT_SECONDS = 60.0
_STOP = None  # put on the job queue by close()


def _child(store_url, log_path, cache_bytes, queue_size, jobs, results) -> None:
    """The child process: score what the jobs queue brings until the stop, then report the counts."""
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):
        pass
    from ..store import open_store
    from .metrics import shadow_outcome
    from .models import ModelCache

    cache = ModelCache(open_store(store_url), max_bytes=cache_bytes)
    with open_shadow_log(log_path) as shadow_log:
        pool = ShadowPool(
            cache.get, shadow_log, queue_size=queue_size, on_result=lambda r: results.put(shadow_outcome(r))
        )
        results.put(("ready", os.getpid()))
        while (item := jobs.get()) is not _STOP:
            job, shadow_ids = item
            pool.submit(job, shadow_ids)
        pool.close(timeout=5.0)
        results.put(("stats", pool.stats()))


class ShadowProcess:
    """:class:`ShadowPool`'s interface (submit, stats, close) over a child process that runs the pool.

    ``on_outcome(outcome)`` is called in the server's process for each record the child writes,
    with what :func:`crossform.serve.metrics.shadow_outcome` returns."""

    def __init__(
        self,
        store_url: str,
        log_path: str,
        *,
        cache_bytes: int,
        queue_size: int = 1000,
        on_outcome: Callable | None = None,
    ) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._jobs = context.Queue(maxsize=queue_size)
        self._results = context.Queue()
        self._on_outcome = on_outcome
        self._lock = threading.Lock()
        self._counts = {"dropped": 0, "scored": 0, "failed": 0}
        self._child_stats: dict | None = None
        self._closed = False
        # the log is opened here first, so that a log the server cannot use is its error, at once
        open_shadow_log(log_path).close()
        self._process = context.Process(
            target=_child,
            args=(store_url, log_path, cache_bytes, queue_size, self._jobs, self._results),
            name="crossform shadows",
            daemon=True,
        )
        self._process.start()
        self.pid = self._process.pid
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read_results, name="crossform shadow results", daemon=True)
        self._reader.start()

    def submit(self, job: ShadowJob, shadow_ids: Iterable[str]) -> bool:
        """Queue the job for the child and return at once; False (counted) when its queue is full."""
        ids = tuple(shadow_ids)
        if self._closed:
            return self._dropped(len(ids))
        try:
            self._jobs.put_nowait((job, ids))
        except queue.Full:
            return self._dropped(len(ids))
        return True

    def _dropped(self, count: int) -> bool:
        with self._lock:
            self._counts["dropped"] += count
        return False

    def _read_results(self) -> None:
        while True:
            try:
                item = self._results.get()
            except (EOFError, OSError):
                return
            kind = item[0]
            if kind == "ready":
                self._ready.set()
            elif kind == "stats":
                with self._lock:
                    self._child_stats = item[1]
                return
            else:
                with self._lock:
                    self._counts["failed" if kind == "failed" else "scored"] += 1
                if self._on_outcome is not None:
                    try:
                        self._on_outcome(item)
                    except Exception as exc:
                        log.warning("shadow outcome hook failed: %s", exc)

    def wait_ready(self, timeout: float = START_TIMEOUT_SECONDS) -> bool:
        """Whether the child started and opened its log within ``timeout`` seconds."""
        return self._ready.wait(timeout)

    def stats(self) -> dict:
        """``queued``: jobs waiting for the child (approximate); ``dropped``: jobs refused here or by
        the child's per-shadow queues; ``scored``/``failed``: records the child wrote."""
        with self._lock:
            counts = dict(self._counts)
            child = self._child_stats
        try:
            queued = self._jobs.qsize()
        except NotImplementedError:  # macOS has no qsize
            queued = 0
        if child is not None:
            counts["dropped"] += child["dropped"]
        return {"queued": queued, **counts}

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking jobs, let the child finish what it holds for up to ``timeout`` seconds, and end it."""
        if self._closed:
            return
        self._closed = True
        try:
            self._jobs.put(_STOP, timeout=timeout)
        except queue.Full:
            pass
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        self._reader.join(1.0)
        self._jobs.close()
        self._results.close()
