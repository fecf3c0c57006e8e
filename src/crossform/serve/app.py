"""The HTTP app of ``crossform serve``: a Starlette app over the model cache and the tag follower.

A predict request does one thing: read the body within the limits, parse it once, take the model
(by id from the cache, by tag from the follower's current state), score the columns, answer.
Shadow jobs are handed to the shadow pool after the answer is sent; loading, warming and swaps
happen beside the request path (crossform.serve.models, crossform.serve.follow). No scoring rule
lives here. docs/serving.md is the user's page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
import uuid

import anyio
import numpy as np
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..deployer import event_json
from ..errors import (
    CrossformError,
    InputError,
    InvalidIdError,
    InvalidTagError,
    ObjectNotFoundError,
    RegistryError,
    RegistryNotFoundError,
    RequestRefusedError,
    StoreUnreachableError,
    UnknownTagError,
)
from ..identity import check_id
from ..registry import check_tag, open_registry
from ..store import open_store
from .config import ServeConfig, from_environment
from .follow import TagFollower, TagState
from .inputs import BAD_REQUEST, NOT_FOUND, Limits, check_length, columns_for, parse_body, refuse
from .metrics import Metrics
from .models import LoadedModel, ModelCache

log = logging.getLogger("crossform.serve")

# A batch whose estimated time (the model's warm-up single-row time x rows) is under this is
# scored on the event loop: handing it to a thread would cost more than scoring it. Longer
# batches go to a worker thread, where the request timeout can answer for them.
INLINE_SECONDS = 0.002
REQUEST_TIMEOUT, UNAVAILABLE = 504, 503
TIMEOUTS = {  # phase of the request -> (status, where, what took too long)
    "body": (408, "body", "receiving the body"),
    "model": (UNAVAILABLE, "model", "loading the model"),
    "score": (REQUEST_TIMEOUT, "request", "scoring"),
}
HISTORY_SHOWN = 10  # events GET /tag/{tag} returns, newest last


class Server:
    """What the app's routes share: the store, the model cache, the tag follower, metrics, shadows."""

    def __init__(self, config: ServeConfig, shadow_pool=None) -> None:
        self.config = config
        self.limits: Limits = config.limits
        self.store = open_store(config.store)
        self.metrics = Metrics()
        self.cache = ModelCache(
            self.store,
            max_bytes=config.cache_bytes,
            on_load=lambda model, seconds: self.metrics.model_loaded(model, seconds, self.cache),
        )
        self.follower = TagFollower(
            config.registry,
            self.cache,
            poll_interval=config.poll_interval,
            on_swap=lambda tag, old, new: self.metrics.swaps.labels(tag).inc(),
            on_swap_failure=lambda tag, new, error: self.metrics.swap_failures.labels(tag).inc(),
        )
        self._shadow_pool = shadow_pool
        self._shadow_lock = threading.Lock()
        self.ready = threading.Event()
        self._stopping = threading.Event()
        self.startup_error: str | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self.follower.start()
        threading.Thread(target=self._follow_startup_tags, name="crossform startup tags", daemon=True).start()

    def _follow_startup_tags(self) -> None:
        """Load every --tag's model; until all are warm /readyz says why not, and this tries again."""
        while not self._stopping.is_set():
            try:
                for tag in self.config.tags:
                    self.follower.follow(tag)
            except CrossformError as exc:  # not deployed yet, the store unreachable: try again later
                self.startup_error = str(exc)
                log.error("crossform serve: a --tag cannot be served yet: %s", exc)
                self._stopping.wait(self.config.poll_interval)
                continue
            self.startup_error = None
            self.ready.set()
            return

    def close(self) -> None:
        self._stopping.set()
        self.follower.close()
        if self._shadow_pool is not None:
            self._shadow_pool.close(timeout=5.0)

    def shadow_pool(self):
        """The shadow pool, made on the first tag request that has shadows (so the shadow log is
        opened only when there is something to log): a child process at the lowest CPU priority,
        so that scoring shadows never holds this process's interpreter lock (shadow_process.py)."""
        if self._shadow_pool is None:
            with self._shadow_lock:
                if self._shadow_pool is None:
                    from .shadow_process import ShadowProcess

                    self._shadow_pool = ShadowProcess(
                        self.config.store,
                        self.config.shadow_log,
                        cache_bytes=self.config.cache_bytes,
                        on_outcome=self.metrics.count_shadow,
                    )
        return self._shadow_pool

    async def submit_shadows(self, state: TagState, columns: dict, scores, seconds: float, request_id: str, at: float):
        """Hand the answered request to the shadows of the tag state it was answered from.

        On the event loop, after the answer is sent: a pool's ``submit`` never blocks (the shadow
        process takes a datagram or refuses it at once), while a hop to a worker thread per request
        made the next request wait for the interpreter lock (back to back with 3 shadows, p99 went
        from 2.3x to about 1.1x of none without it). Only the first job, which starts the shadow
        process, waits in a worker thread."""
        from .shadows import ShadowJob

        pool = self._shadow_pool
        if pool is None:
            pool = await anyio.to_thread.run_sync(self.shadow_pool)
        primary = dataclasses.replace(scores, leaves=None)  # the shadows compare values, not leaves
        job = ShadowJob(request_id, state.tag, state.model.id, columns, primary, seconds, at)
        if not pool.submit(job, state.shadows):
            self.metrics.shadow_dropped.labels(state.tag).inc()


# --- predict -------------------------------------------------------------------------------------


def _off_loop(function, *args):
    """``function(*args)`` in a worker thread. The request's timeout stops waiting for it (the
    thread runs on, its result dropped: a load still lands in the cache), so the answer is on time."""
    return anyio.to_thread.run_sync(function, *args, abandon_on_cancel=True)


def _no_wait(request: Request) -> bool:
    """The caller asked not to wait for a model's first load: ``Prefer: no-wait`` or ``?wait=false``."""
    prefer = request.headers.get("prefer", "")
    return "no-wait" in prefer.lower() or request.query_params.get("wait", "").lower() == "false"


async def _read_body(request: Request, limits: Limits) -> bytes:
    check_length(request.headers.get("content-length"), limits)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise refuse(413, "body", f"expected at most {limits.max_body_bytes} bytes, found more")
        chunks.append(chunk)
    return b"".join(chunks)


async def _model_by_id(server: Server, model_id: str, no_wait: bool) -> LoadedModel:
    check_id(model_id)
    model = server.cache.peek(model_id)
    if model is not None:
        return model
    if no_wait:
        if not await _off_loop(server.store.exists, model_id):
            raise ObjectNotFoundError(f"{server.store.url}/{model_id}", "no package with this id is stored")
        server.cache.start(model_id)
        raise refuse(UNAVAILABLE, "model", f"{model_id} is loading; ask again, or ask without Prefer: no-wait")
    return await _off_loop(server.cache.get, model_id)


async def _tag_state(server: Server, tag: str, no_wait: bool) -> TagState:
    """The tag's state, taken once: the request scores with its model and hands its shadows the job."""
    state = server.follower.state(tag)
    if state is not None:
        return state
    check_tag(tag)
    if no_wait:
        current = await _off_loop(server.follower.current_id, tag)
        if server.cache.peek(current) is None:
            server.cache.start(current)
            raise refuse(
                UNAVAILABLE, "tag", f"{tag}'s model {current} is loading; ask again, or ask without Prefer: no-wait"
            )
    return await _off_loop(server.follower.follow, tag)


def _answer(model: LoadedModel, scores, request_id: str, tag: str | None) -> bytes:
    values = scores.values.tolist()
    errors = scores.errors
    failed = [i for i, e in enumerate(errors) if e is not None] if errors else []
    for i in failed:
        values[i] = None
    scored = np.delete(scores.values, failed, axis=0) if failed else scores.values
    if not np.isfinite(scored).all():
        values = [None if row is None else [_finite_or_text(v) for v in row] for row in values]
    body = {"model_id": model.id, "request_id": request_id, "runtime": model.runtime}
    if tag is not None:
        body["tag"] = tag
    body.update(outputs=list(scores.outputs), values=values, errors=list(errors))
    return json.dumps(body, allow_nan=False).encode()


def _finite_or_text(value: float):
    """A non-finite score as JSON cannot hold it: "NaN", "Infinity" or "-Infinity" (as crossform's checks write them)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _error(status: int, where: str, message: str, request_id: str | None = None) -> JSONResponse:
    body = {"error": message, "where": where, "status": status}
    if request_id is not None:
        body["request_id"] = request_id
    headers = {"Retry-After": "1"} if status == UNAVAILABLE else None
    return JSONResponse(body, status_code=status, headers=headers)


def _refusal(exc: Exception) -> tuple:
    """(status, where, message) for an error a request caused or met; None for a server fault."""
    if isinstance(exc, RequestRefusedError):
        return exc.status, exc.where, str(exc)
    if isinstance(exc, (InvalidIdError, InvalidTagError)):
        return BAD_REQUEST, exc.where, str(exc)
    if isinstance(exc, InputError):  # the scorer's whole-batch refusals: a missing column, bad column lengths
        return BAD_REQUEST, "body", str(exc)
    if isinstance(exc, ObjectNotFoundError):
        return NOT_FOUND, "model id", str(exc)
    if isinstance(exc, (UnknownTagError, RegistryNotFoundError)):
        return NOT_FOUND, "tag", str(exc)
    if isinstance(exc, (StoreUnreachableError, RegistryError)):
        return UNAVAILABLE, "server", str(exc)
    return None


async def _predict(request: Request, tag: str | None) -> Response:
    server: Server = request.app.state.server
    limits = server.limits
    received_at = time.time()
    start = time.perf_counter()
    request_id = uuid.uuid4().hex
    metrics = server.metrics
    model = state = None
    phase = "body"
    try:
        with anyio.fail_after(limits.request_timeout):
            batch = parse_body(await _read_body(request, limits), limits)
            phase = "model"
            no_wait = _no_wait(request)
            if tag is None:
                model = await _model_by_id(server, request.path_params["model_id"], no_wait)
            else:
                state = await _tag_state(server, tag, no_wait)
                model = state.model
            phase = "score"
            columns = columns_for(batch, model.inputs)
            scoring = time.perf_counter()
            if model.single_row_seconds * batch.n_rows <= INLINE_SECONDS:
                scores = model.score(columns)
            else:
                scores = await _off_loop(model.score, columns)
            scoring = time.perf_counter() - scoring
    except Exception as exc:
        if isinstance(exc, TimeoutError):
            # a slow body is the client's (408); a first load or a score over the limit is the server's
            status, where, what = TIMEOUTS[phase]
            refusal = (status, where, f"expected the answer within {limits.request_timeout} s; {what} took longer")
        else:
            refusal = _refusal(exc)
        if refusal is None:
            log.exception("crossform serve: request %s failed", request_id)
            refusal = (500, "server", f"the server failed: {type(exc).__name__}: {exc}")
        status, where, message = refusal
        # only ids and tags that resolved become labels: made-up names must not grow the series
        labels = (tag or "", model.id) if model is not None else ("", "")
        metrics.requests.labels(*labels, str(status)).inc()
        return _error(status, where, message, request_id)
    seconds = time.perf_counter() - start
    body = _answer(model, scores, request_id, tag)
    label = (tag or "", model.id)
    metrics.requests.labels(*label, "200").inc()
    metrics.latency.labels(*label).observe(seconds)
    metrics.rows.labels(*label).inc(batch.n_rows)
    failed = sum(e is not None for e in scores.errors)
    if failed:
        metrics.row_errors.labels(*label).inc(failed)
    task = None
    if state is not None and state.shadows:  # after the answer is sent: the answer never waits for shadows
        task = BackgroundTask(server.submit_shadows, state, columns, scores, scoring, request_id, received_at)
    return Response(body, media_type="application/json", headers={"X-Request-Id": request_id}, background=task)


async def predict_by_id(request: Request) -> Response:
    return await _predict(request, None)


async def predict_by_tag(request: Request) -> Response:
    return await _predict(request, request.path_params["tag"])


# --- reading ------------------------------------------------------------------------------------


async def describe_model(request: Request) -> Response:
    server: Server = request.app.state.server
    model_id = request.path_params["model_id"]
    try:
        check_id(model_id)
        model = server.cache.peek(model_id)
        if model is not None:
            return JSONResponse(model.describe())
        formats = await anyio.to_thread.run_sync(server.store.formats, model_id)
    except CrossformError as exc:
        return _error(*(_refusal(exc) or (500, "server", str(exc))))
    if not formats:
        return _error(NOT_FOUND, "model id", f"{server.store.url}/{model_id}: no package with this id is stored")
    return JSONResponse(
        {
            "id": model_id,
            "loaded": False,
            "loading": server.cache.loading(model_id),
            "runtime": None,
            "inputs": None,
            "outputs": None,
            "formats": formats,
        }
    )


def _tag_document(server: Server, tag: str) -> dict:
    check_tag(tag)
    with open_registry(server.config.registry, create=False) as registry:
        current, shadows, history = registry.current(tag), registry.shadows(tag), registry.history(tag)
    state = server.follower.state(tag)
    return {
        "tag": tag,
        "current_id": current,
        "serving_id": state.model.id if state is not None else None,
        "shadows": list(shadows),
        "events": [event_json(e) for e in history[-HISTORY_SHOWN:]],
    }


async def describe_tag(request: Request) -> Response:
    server: Server = request.app.state.server
    try:
        return JSONResponse(await anyio.to_thread.run_sync(_tag_document, server, request.path_params["tag"]))
    except CrossformError as exc:
        return _error(*(_refusal(exc) or (500, "server", str(exc))))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    server: Server = request.app.state.server
    body = {
        "ready": server.ready.is_set(),
        "tags": {tag: state.model.id for tag, state in server.follower.tags().items()},
        "registry_error": server.follower.last_error,
        "startup_error": server.startup_error,
    }
    return JSONResponse(body, status_code=200 if body["ready"] else UNAVAILABLE)


async def scrape_metrics(request: Request) -> Response:
    server: Server = request.app.state.server
    server.metrics.models_loaded.set(len(server.cache.models()))
    server.metrics.cache_bytes.set(server.cache.nbytes)
    body, content_type = server.metrics.render()
    return Response(body, media_type=content_type)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (no such route, a wrong method) as JSON like every other answer."""
    return _error(exc.status_code, "path", f"{request.method} {request.url.path}: {exc.detail}")


# --- the app ------------------------------------------------------------------------------------


def create_app(config: ServeConfig, *, shadow_pool=None) -> Starlette:
    """The app for ``config``. ``shadow_pool``: a ShadowPool to use instead of the one made from
    ``config.shadow_log`` on first need (tests pass their own)."""
    server = Server(config, shadow_pool)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        server.start()
        try:
            yield
        finally:
            server.close()

    app = Starlette(
        routes=[
            Route("/model/{model_id}/predict", predict_by_id, methods=["POST"]),
            Route("/tag/{tag}/predict", predict_by_tag, methods=["POST"]),
            Route("/model/{model_id}", describe_model, methods=["GET"]),
            Route("/tag/{tag}", describe_tag, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", scrape_metrics, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.server = server
    return app


def app_from_environment() -> Starlette:
    """The app factory each ``--workers`` process calls (``uvicorn ... --factory``)."""
    return create_app(from_environment())
