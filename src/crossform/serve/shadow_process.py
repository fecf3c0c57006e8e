"""Shadow models scored in a child process of their own, at the lowest CPU priority.

A server worker answers requests on one Python thread; shadow threads in the same process take
Python's interpreter lock from it for every job they score, so on a busy server each shadow slows
every request (the serving bench measured a third of the requests/s with three shadows). Here the
server's process only hands each job over; a child process (started with ``spawn``, never
``fork``, since the server has threads) loads the shadow models through a model cache of its own
over the same store, scores them with a :class:`ShadowPool` and writes the log. The child runs at
the lowest priority (SCHED_IDLE on Linux, else nice 19), so the kernel gives it only the CPU the
requests leave; when that is too little its queues fill and jobs are dropped and counted, never a
request slowed.

The hand-off adds no thread to the server's process: each job is one datagram on a non-blocking
Unix socket pair written by the caller (the event loop), which the kernel takes whole or refuses
(full, or larger than ``MAX_MESSAGE_BYTES``: dropped and counted); what comes back, per record the
small counts the agreement metrics take (``shadow_outcome``), is read by the caller too, without
waiting, on each ``submit`` and ``stats``. The datagrams carry crossform's own objects serialised
by pickle between the server and the child it started, over a socket pair no other process holds;
nothing from outside the server is read that way.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
from collections.abc import Callable, Iterable

from .shadows import ShadowJob, ShadowPool, open_shadow_log

log = logging.getLogger("crossform.serve")

NICENESS = 19
START_TIMEOUT_SECONDS = 60.0
MAX_MESSAGE_BYTES = 4 << 20  # a job larger than this (a very large batch) is dropped and counted
_STOP = b""  # an empty datagram: close() asks the child to finish


def _pair() -> tuple:
    """A Unix datagram socket pair whose messages may be up to MAX_MESSAGE_BYTES."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    for end in (ours, theirs):
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            end.setsockopt(socket.SOL_SOCKET, option, MAX_MESSAGE_BYTES)
    return ours, theirs


def _lowest_priority() -> None:
    """Run this process only on CPU time nothing else wants: Linux's SCHED_IDLE where the kernel
    allows it (a waking normal task, such as a worker with a request, takes the core from it at
    once rather than after its time slice), and nice 19 in any case.

    Both are set for every thread the process already has (Linux schedules threads, and numpy's
    BLAS starts its own when imported, before this runs) and inherited by the threads it starts."""
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except (OSError, ValueError):
        threads = [0]
    for tid in threads:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, NICENESS)
        except (AttributeError, OSError):
            pass
        if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
            try:
                os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            except OSError:  # refused (a seccomp profile, say): nice 19 stays
                pass


def _child(store_url, log_path, cache_bytes, queue_size, jobs: socket.socket, results: socket.socket) -> None:
    """The child process: score the jobs that arrive until the stop, then report the pool's counts."""
    _lowest_priority()
    from ..store import open_store
    from .metrics import shadow_outcome
    from .models import ModelCache

    def report(message) -> None:
        try:
            results.send(pickle.dumps(message), socket.MSG_DONTWAIT)
        except OSError:  # the server is not reading: its counts lose this one, the log has it
            pass

    cache = ModelCache(open_store(store_url), max_bytes=cache_bytes)
    with open_shadow_log(log_path) as shadow_log:
        pool = ShadowPool(cache.get, shadow_log, queue_size=queue_size, on_result=lambda r: report(shadow_outcome(r)))
        report(("ready", os.getpid()))
        while (data := jobs.recv(MAX_MESSAGE_BYTES)) != _STOP:
            job, shadow_ids = pickle.loads(data)
            pool.submit(job, shadow_ids)
        pool.close(timeout=5.0)
        report(("stats", pool.stats()))


class ShadowProcess:
    """:class:`ShadowPool`'s interface (submit, stats, close) over a child process that runs the pool.

    ``on_outcome(outcome)`` is called in the server's process, from ``submit`` or ``stats``, for
    each record the child wrote since, with what :func:`crossform.serve.metrics.shadow_outcome` returns."""

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
        self._jobs, child_jobs = _pair()
        self._results, child_results = _pair()
        self._jobs.setblocking(False)
        self._results.setblocking(False)
        self._on_outcome = on_outcome
        self._counts = {"dropped": 0, "scored": 0, "failed": 0}
        self._child_stats: dict | None = None
        self.ready = False
        self._closed = False
        # the log is opened here first, so that a log the server cannot use is its error, at once
        open_shadow_log(log_path).close()
        self._process = context.Process(
            target=_child,
            args=(store_url, log_path, cache_bytes, queue_size, child_jobs, child_results),
            name="crossform shadows",
            daemon=True,
        )
        self._process.start()
        child_jobs.close()
        child_results.close()
        self.pid = self._process.pid

    def submit(self, job: ShadowJob, shadow_ids: Iterable[str]) -> bool:
        """Send the job to the child and return at once; False (counted) when it cannot take it."""
        ids = tuple(shadow_ids)
        self._drain()
        if self._closed:
            self._counts["dropped"] += len(ids)
            return False
        try:
            self._jobs.send(pickle.dumps((job, ids), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # BlockingIOError (the child is behind), or a job over MAX_MESSAGE_BYTES
            self._counts["dropped"] += len(ids)
            return False
        return True

    def _drain(self) -> None:
        while True:
            try:
                message = pickle.loads(self._results.recv(1 << 16))
            except (BlockingIOError, OSError, EOFError, pickle.UnpicklingError):
                return
            kind = message[0]
            if kind == "ready":
                self.ready = True
            elif kind == "stats":
                self._child_stats = message[1]
            else:
                self._counts["failed" if kind == "failed" else "scored"] += 1
                if self._on_outcome is not None:
                    try:
                        self._on_outcome(message)
                    except Exception as exc:
                        log.warning("shadow outcome hook failed: %s", exc)

    def stats(self) -> dict:
        """``queued``: 0 (the jobs in flight are the kernel's); ``dropped``: jobs the child could not
        take, or its per-shadow queues refused; ``scored``/``failed``: records the child wrote."""
        self._drain()
        counts = dict(self._counts)
        if self._child_stats is not None:
            counts["dropped"] += self._child_stats["dropped"]
        return {"queued": 0, **counts}

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking jobs, let the child finish what it holds for up to ``timeout`` seconds, and end it."""
        if self._closed:
            return
        self._closed = True
        self._jobs.setblocking(True)
        self._jobs.settimeout(timeout)
        try:
            self._jobs.send(_STOP)
        except OSError:
            pass
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        self._drain()
        self._jobs.close()
        self._results.close()
