"""The real prediction server on a loopback port for tests: uvicorn in a thread, or `crossform serve`
in a subprocess, and what the server tests share (fitted models, rows, a store and registry)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from helpers.net import free_loopback_port

TAG = "txn_fraud.production"
STARTUP_SECONDS = 30.0


@contextlib.contextmanager
def serving(config, shadow_pool=None):
    """``create_app(config)`` under uvicorn in a thread on a free loopback port; yields (base URL, app)."""
    import uvicorn

    from crossform.serve.app import create_app

    app = create_app(config, shadow_pool=shadow_pool)
    port = free_loopback_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="test uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def serve_command(*arguments, cwd=None, env=None):
    """`crossform serve ARGUMENTS --port P` in a subprocess; yields the base URL once /healthz answers."""
    import httpx

    port = free_loopback_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "crossform.cli", "serve", "--port", str(port), *arguments],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"crossform serve exited: {process.communicate()[1]}"
            assert time.monotonic() < deadline, "crossform serve did not answer /healthz"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def request_rows() -> list:
    """Rows for the fitted pipelines of helpers.fits, as JSON objects: every colour, an unknown one, a
    missing colour and size, negative and large numbers."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(40):
        rows.append(
            {
                "colour": ["red", "blue", "green", "mauve", None][i % 5],
                "size": None if i % 7 == 3 else float(rng.normal(10, 6)),
                "weight": float(rng.normal(0, 2)),
            }
        )
    return rows


def sklearn_outputs(model, rows: list) -> np.ndarray:
    """What the fitted scikit-learn pipeline gives for ``rows`` (None as NaN, as crossform reads it)."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "colour": pd.Series([r["colour"] for r in rows], dtype=object),
            "size": [np.nan if r["size"] is None else r["size"] for r in rows],
            "weight": [r["weight"] for r in rows],
        }
    )
    if hasattr(model, "predict_proba"):
        return model.predict_proba(frame)
    return model.predict(frame).reshape(-1, 1)


def store_and_registry(tmp_path: Path) -> tuple:
    return str(tmp_path / "store"), str(tmp_path / "registry.sqlite")
