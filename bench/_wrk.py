"""wrk, the load generator of bench/bench_serve.py: POST JSON bodies to a URL for a bounded time.

wrk (C, one event loop per thread) is Debian's package `wrk`; `./dev bench serve` installs it.
A Python client on this 2-core machine would spend as much CPU as the server it measures.
wrk_post.lua beside this file sends the bodies in turn and prints wrk's exact figures (its
latency histogram in microseconds, the request count, the errors by kind) as one JSON line,
which is what is read here; wrk's own text (`--latency`) rounds to three digits.

Each connection waits for its answer before it sends the next request (a closed loop): with one
connection the latencies are those of a lone client; with more, of a queue of them. A pause after
each answer (wrk's delay() hook) paces a connection below the rate the server could answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple, Optional

LUA = Path(__file__).resolve().parent / "wrk_post.lua"
MARK = "WRK_RESULT "
# wrk waits this long for one answer before it counts a timeout (its default is 2 s)
ANSWER_TIMEOUT_S = 10


class Load(NamedTuple):
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict  # {kind: count}; "status" counts answers outside 2xx and 3xx

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def to_json(self) -> dict:
        return {**self._asdict(), "per_s": self.per_s}


def wrk_missing() -> Optional[str]:
    """Why wrk cannot run here, or None."""
    if shutil.which("wrk") is None:
        return "wrk is not installed (Debian: apt-get install wrk; ./dev bench serve installs it)"
    return None


def parse(output: str) -> Load:
    """The figures wrk_post.lua printed, from wrk's whole standard output."""
    lines = [line for line in output.splitlines() if line.startswith(MARK)]
    if not lines:
        raise RuntimeError(f"wrk printed no {MARK.strip()} line; its output was:\n{output}")
    got = json.loads(lines[-1][len(MARK) :])
    return Load(
        requests=got["requests"],
        seconds=got["duration_us"] / 1e6,
        p50_ms=got["p50_us"] / 1e3,
        p90_ms=got["p90_us"] / 1e3,
        p99_ms=got["p99_us"] / 1e3,
        max_ms=got["max_us"] / 1e3,
        errors={kind: n for kind, n in got["errors"].items() if n},
    )


def run(url: str, bodies: list, *, connections: int, seconds: float, threads: int = 1, pause_ms: int = 0) -> Load:
    """POST ``bodies`` (JSON strings, one line each) to ``url`` in turn for ``seconds``; with
    ``pause_ms``, each connection waits that long after an answer before its next request."""
    reason = wrk_missing()
    if reason is not None:
        raise RuntimeError(reason)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", prefix="crossform-wrk-", delete=False) as file:
        for body in bodies:
            if "\n" in body:
                raise ValueError("a body must be one line of JSON")
            file.write(body + "\n")
    try:
        done = subprocess.run(
            [
                "wrk",
                f"--threads={min(threads, connections)}",
                f"--connections={connections}",
                f"--duration={max(1, round(seconds))}s",
                f"--timeout={ANSWER_TIMEOUT_S}s",
                "--latency",
                f"--script={LUA}",
                url,
            ],
            env={**os.environ, "WRK_BODIES": file.name, "WRK_DELAY_MS": str(int(pause_ms))},
            capture_output=True,
            text=True,
            timeout=seconds + ANSWER_TIMEOUT_S + 30,
        )
    finally:
        os.unlink(file.name)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout)
