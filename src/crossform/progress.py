"""Progress on stderr for work that lasts, for every command alike.

Nothing shows for work that ends within DELAY seconds, so quick commands stay
silent and their output stays clean. Past that, a counted task (:class:`Progress`)
redraws one bar on a terminal and, when stderr is a file or a CI log, writes a
plain line at most every INTERVAL seconds; an uncounted step (:func:`phase`)
says what it is doing while it runs and how long it took. Everything goes to
stderr, never stdout, and ``enabled=False`` (the commands' ``--quiet``) turns
it all off.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO, Union

PREFIX = "crossform"
DELAY = 2.0  # seconds of work before anything shows
INTERVAL = 10.0  # seconds between lines when stderr is not a terminal
WIDTH = 78


def _stream(stream: Union[TextIO, None]) -> TextIO:
    return stream if stream is not None else sys.stderr  # looked up late: tests and callers replace it


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real stream
        return False


class Progress:
    """``progress(done, total, what)`` after each step of ``total``; ``done >= total`` ends it.

    On a terminal, one bar redrawn in place and erased at the end; elsewhere one line
    per INTERVAL, so a CI log shows the work is alive without thousands of lines.
    """

    def __init__(self, label: str, enabled: bool = True, stream: Union[TextIO, None] = None):
        self.label = label
        self.enabled = enabled
        self.stream = _stream(stream)
        self.terminal = _isatty(self.stream)
        self.start = time.monotonic()
        self.shown = False
        self.last = -float("inf")

    def __call__(self, done: int, total: Union[int, None], what: str) -> None:
        """``total`` None: work of unknown size (rows streamed from stdin): no bar, the
        count in ``what``."""
        now = time.monotonic()
        if not self.enabled or now - self.start < DELAY:
            return
        if total is not None and done >= total:
            return self.close()
        if self.terminal:
            if total is None:
                line = f"{self.label}: {what}, {now - self.start:.0f} s"
            else:
                width = 24
                filled = width * done // max(total, 1)
                line = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {what}"
            self.stream.write("\r" + line[:WIDTH].ljust(WIDTH))
        elif now - self.last >= INTERVAL:
            count = what if total is None else f"{done}/{total} {what}"
            self.stream.write(f"{PREFIX}: {self.label}: {count} ({now - self.start:.0f} s)\n")
            self.last = now
        else:
            return
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Erase the bar from a terminal (a log keeps its lines)."""
        if self.shown and self.terminal:
            self.stream.write("\r" + " " * WIDTH + "\r")
            self.stream.flush()
            self.shown = False


@contextlib.contextmanager
def phase(what: str, enabled: bool = True, stream: Union[TextIO, None] = None) -> Iterator[None]:
    """Run a step of unknown length: if it is still running after DELAY seconds, say
    ``what`` then, and how long it took when it ends."""
    if not enabled:
        yield
        return
    out = _stream(stream)
    lock = threading.Lock()
    announced = []

    def announce() -> None:
        with lock:
            if announced is not None and not announced:
                out.write(f"{PREFIX}: {what} ...\n")
                out.flush()
                announced.append(True)

    start = time.monotonic()
    timer = threading.Timer(DELAY, announce)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        took = time.monotonic() - start
        with lock:
            if announced or took >= DELAY:
                out.write(f"{PREFIX}: {what}: done in {took:.1f} s\n")
                out.flush()
            announced = None  # a timer firing late says nothing
