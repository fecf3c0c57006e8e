"""The server's models: read from the store by id, prepared in the fastest exact runtime, warmed, cached.

``ModelCache.get(id)`` gives a :class:`LoadedModel`, loading it once per process however many
requests ask for it at the same time (the first caller loads, the others wait on its future).
The cache holds models up to a memory bound, least recently used out first; a model evicted
while a request still scores with it lives on until that request lets go of it.

Which runtime scores: the reference evaluator always can; onnxruntime on the package written by
crossform's own onnx writer (float64) is a candidate when it is installed. A candidate is used
only when it scores the package's check rows (scikit-learn's outputs, recorded at export) exactly
as the checks say (``crossform.checks.compare``), and then only when its single-row time,
measured here, is below the reference evaluator's. A package without checks cannot prove a
second runtime exact and is scored by the reference evaluator. Scoring the checks is also the
warm-up: a model serves only after it has scored them.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

import crossform

from .. import ir
from ..checks import compare
from ..chunks import chunked
from ..errors import CrossformError
from ..exporters import get_format
from ..exporters import registry as format_registry
from ..identity import check_id
from ..runtime import get_runtime, unavailable
from ..scores import Scores
from ..store import Store

REFERENCE, ONNXRUNTIME = "reference", "onnxruntime"
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB of model arrays per worker
TIMING_REPEATS = 15  # single-row scores per runtime when choosing the faster one; the median counts


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model ready to score: what ``GET /model/{id}`` shows, and ``score(columns) -> Scores``."""

    id: str
    runtime: str
    inputs: tuple  # of ir.Field
    outputs: tuple
    formats: tuple  # the formats the store holds the id in
    nbytes: int  # the estimate the cache's memory bound counts
    single_row_seconds: float  # median single-row time in ``runtime``, measured at warm-up
    runtimes: tuple  # of dict: every runtime tried, whether it was exact on the checks, its time
    scorer: Callable[[Any], Scores] = field(repr=False)  # the prepared, chunked scorer of ``runtime``
    loaded_at: float = field(default_factory=time.time)

    def score(self, columns) -> Scores:
        return self.scorer(columns)

    def describe(self) -> dict:
        return {
            "id": self.id,
            "loaded": True,
            "runtime": self.runtime,
            "inputs": [{"name": f.name, "type": f.kind} for f in self.inputs],
            "outputs": list(self.outputs),
            "formats": list(self.formats),
            "bytes": self.nbytes,
            "loaded_at": datetime.fromtimestamp(self.loaded_at, timezone.utc).isoformat(),
            "single_row_seconds": self.single_row_seconds,
            "runtimes": [dict(r) for r in self.runtimes],
        }


def array_bytes(value: Any, seen: set | None = None) -> int:
    """The bytes of every numpy array reachable from an IR object (dataclasses, tuples, dicts)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return value.nbytes
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(array_bytes(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    if isinstance(value, (tuple, list)):
        return sum(array_bytes(v, seen) for v in value)
    if isinstance(value, dict):
        return sum(array_bytes(v, seen) for v in value.values())
    return 0


def _warm_batch(package: ir.Package) -> dict:
    """The rows every candidate scores before the model serves: the checks, else one row of missing values."""
    if package.checks is not None and len(package.checks):
        return package.checks.data()
    return {f.name: [None] for f in package.inputs}


def _single_row_seconds(score: Callable, row: dict) -> float:
    times = []
    for _ in range(TIMING_REPEATS):
        start = time.perf_counter()
        score(row)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _candidate(package: ir.Package, name: str) -> tuple:
    """(score, model the leaves are numbered in, bytes the runtime holds) for ``package`` in runtime ``name``.

    A runtime other than the reference scores the package as crossform writes it for that
    runtime (onnxruntime: the float64 onnx graph); the leaves it reports are node numbers of
    that written file, so they are compared on the package read back from it."""
    if name == REFERENCE:
        return crossform.scorer(package), package.model, 0
    fmt = next(get_format(f) for f, entry in format_registry().items() if name in entry.RUNTIMES)
    content = fmt.dumps(package)
    written = fmt.loads(content)
    if name == ONNXRUNTIME:
        # One intra-op thread: a request is a few rows, and onnxruntime's default pool spins its
        # threads after each run, taking the cores the other requests and workers need.
        engine = get_runtime(name)
        run = engine.session(content, threads=1).run
        score = engine.make_scorer(run, content)
    else:
        score = get_runtime(name).prepare(content, fmt)
    return chunked(package.inputs, score), written.model, len(content)


def prepare(package: ir.Package, formats: tuple, runtimes: tuple | None = None) -> LoadedModel:
    """``package`` as a LoadedModel in the fastest runtime of ``runtimes`` (default: reference, and
    onnxruntime when installed) that scores its checks exactly; warmed by scoring them."""
    if runtimes is None:
        runtimes = (REFERENCE,) + ((ONNXRUNTIME,) if unavailable(ONNXRUNTIME) is None else ())
    batch = _warm_batch(package)
    row = {name: values[:1] for name, values in batch.items()}
    tried, exact = [], []
    for name in runtimes:
        entry = {"name": name, "exact": None, "single_row_seconds": None, "reason": None}
        tried.append(entry)
        try:
            score, numbered, held = _candidate(package, name)
            scores = score(batch)
        except CrossformError as exc:  # the format's writer or the runtime cannot take this package
            entry["reason"] = str(exc)
            continue
        if package.checks is None:
            entry["exact"] = name == REFERENCE
            entry["reason"] = None if name == REFERENCE else "the package carries no check rows to prove it exact"
        else:
            comparison = compare(package.checks, scores, numbered)
            entry["exact"] = comparison.ok
            entry["reason"] = comparison.summary()
        if entry["exact"] or name == REFERENCE:  # the reference evaluator is the rules themselves
            entry["single_row_seconds"] = _single_row_seconds(score, row)
            exact.append((entry["single_row_seconds"] if entry["exact"] else float("inf"), name, score, scores, held))
    _, name, score, scores, held = min(exact, key=lambda e: e[0])
    chosen = next(e for e in tried if e["name"] == name)
    return LoadedModel(
        id=package.id,
        runtime=name,
        inputs=tuple(package.inputs),
        outputs=tuple(scores.outputs),
        formats=tuple(formats),
        nbytes=array_bytes(package) + held,
        single_row_seconds=chosen["single_row_seconds"],
        runtimes=tuple(tried),
        scorer=score,
    )


class ModelCache:
    """LoadedModels by id, read through ``store`` (every read re-hashed against the id), at most
    ``max_bytes`` of them (estimated from their arrays), least recently used evicted first.
    ``on_load(model, seconds)`` is called after each load (the metrics hook)."""

    def __init__(
        self,
        store: Store,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        runtimes: tuple | None = None,
        on_load: Callable | None = None,
    ) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self._runtimes = runtimes
        self._on_load = on_load
        self._lock = threading.Lock()
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._loading: dict[str, Future] = {}
        self.load_count: dict[str, int] = {}  # id -> how many times it was read from the store

    def peek(self, model_id: str) -> LoadedModel | None:
        """The model if it is loaded (marked recently used), else None; never loads."""
        with self._lock:
            model = self._models.get(model_id)
            if model is not None:
                self._models.move_to_end(model_id)
            return model

    def loading(self, model_id: str) -> bool:
        with self._lock:
            return model_id in self._loading

    def get(self, model_id: str) -> LoadedModel:
        """The model, loaded now if it is not (waiting for a load another caller started)."""
        model = self.peek(model_id)
        if model is not None:
            return model
        future, mine = self._claim(model_id)
        if mine:
            self._load(model_id, future)
        return future.result()

    def start(self, model_id: str) -> Future:
        """Begin loading the model in the background (if nobody has); the future gives it."""
        future, mine = self._claim(model_id)
        if mine:
            threading.Thread(target=self._load, args=(model_id, future), name=f"load {model_id}", daemon=True).start()
        return future

    def models(self) -> list:
        with self._lock:
            return list(self._models.values())

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(m.nbytes for m in self._models.values())

    def _claim(self, model_id: str) -> tuple:
        check_id(model_id)
        with self._lock:
            if model_id in self._models:
                done: Future = Future()
                done.set_result(self._models[model_id])
                return done, False
            if model_id in self._loading:
                return self._loading[model_id], False
            future = self._loading[model_id] = Future()
            return future, True

    def _load(self, model_id: str, future: Future) -> None:
        start = time.perf_counter()
        try:
            formats = tuple(self.store.formats(model_id))
            package = self.store.get(model_id)
            with self._lock:
                self.load_count[model_id] = self.load_count.get(model_id, 0) + 1
            model = prepare(package, formats, self._runtimes)
        except BaseException as exc:  # every waiter gets the error; the next request tries again
            with self._lock:
                del self._loading[model_id]
            future.set_exception(exc)
            return
        with self._lock:
            self._models[model_id] = model
            del self._loading[model_id]
            self._evict(keep=model_id)
        future.set_result(model)
        if self._on_load is not None:
            self._on_load(model, time.perf_counter() - start)

    def _evict(self, keep: str) -> None:
        total = sum(m.nbytes for m in self._models.values())
        for model_id in list(self._models):
            if total <= self.max_bytes:
                break
            if model_id != keep:
                total -= self._models.pop(model_id).nbytes
