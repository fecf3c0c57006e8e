"""``crossform serve``: run the prediction server (crossform.serve) under uvicorn.

Starlette, uvicorn and prometheus_client come with the ``serve`` extra; they are imported when the
command runs, so ``crossform --help`` and every other command work without them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from crossform.deployer import registry_url, store_url

from ._common import EXIT_OK, CommandError, UsageError, _err
from .deploy import _registry_option, _store_option

INSTALL = "pip install 'crossform[serve]'"


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value

    return parse


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    from crossform.serve.follow import DEFAULT_POLL_INTERVAL
    from crossform.serve.inputs import Limits
    from crossform.serve.models import DEFAULT_MAX_BYTES
    from crossform.serve.shadows import DEFAULT_SHADOW_LOG

    limits = Limits()
    _store_option(parser)
    _registry_option(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1, loopback only)"
    )
    parser.add_argument("--port", type=int, default=8080, help="the port to listen on (default: 8080)")
    parser.add_argument(
        "--workers",
        type=_positive(int),
        default=1,
        metavar="N",
        help="worker processes; each has its own model cache and tag follower (default: 1)",
    )
    parser.add_argument(
        "-t",
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help="load this tag's model at startup; /readyz answers 200 once every --tag is warm (repeatable)",
    )
    parser.add_argument(
        "--poll-interval",
        type=_positive(float),
        default=DEFAULT_POLL_INTERVAL,
        metavar="S",
        help=f"seconds between reads of the registry for deploys and rollbacks (default: {DEFAULT_POLL_INTERVAL})",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive(int),
        default=limits.max_body_bytes,
        metavar="N",
        help=f"refuse a request body over N bytes with 413 (default: {limits.max_body_bytes})",
    )
    parser.add_argument(
        "--max-rows",
        type=_positive(int),
        default=limits.max_rows,
        metavar="N",
        help=f"refuse a request of more than N rows with 413 (default: {limits.max_rows})",
    )
    parser.add_argument(
        "--request-timeout",
        type=_positive(float),
        default=limits.request_timeout,
        metavar="S",
        help=f"answer 408/503/504 when a request takes longer than S seconds (default: {limits.request_timeout})",
    )
    parser.add_argument(
        "--cache-bytes",
        type=_positive(int),
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"models kept loaded per worker, by estimated size; least recently used out first (default: {DEFAULT_MAX_BYTES})",
    )
    parser.add_argument(
        "--shadow-log",
        default=DEFAULT_SHADOW_LOG,
        metavar="PATH",
        help=f"where shadow results go: *.jsonl for JSON Lines, else an SQLite file (default: {DEFAULT_SHADOW_LOG})",
    )


def run_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from crossform.serve.app import create_app
        from crossform.serve.config import ServeConfig, to_environment
        from crossform.serve.inputs import Limits
        from crossform.serve.metrics import MULTIPROCESS_VARIABLE
    except ImportError as exc:
        raise CommandError(
            f"crossform serve needs starlette, uvicorn and prometheus_client ({exc}): {INSTALL}"
        ) from None
    from crossform.registry import check_tag

    for tag in args.tag:
        try:
            check_tag(tag)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    config = ServeConfig(
        store=store_url(args.store),
        registry=registry_url(args.registry),
        limits=Limits(args.max_body_bytes, args.max_rows, args.request_timeout),
        poll_interval=args.poll_interval,
        cache_bytes=args.cache_bytes,
        shadow_log=args.shadow_log,
        tags=tuple(args.tag),
    )
    options = dict(host=args.host, port=args.port, log_level="warning", access_log=False)
    _err(f"crossform serve: http://{args.host}:{args.port} (store {config.store}, registry {config.registry})")
    if not _is_loopback(args.host):
        _err(
            f"crossform serve: warning: listening on {args.host}, beyond this machine; the server has no "
            "authentication or TLS, so put it behind a proxy that has them"
        )
    if args.workers == 1:
        uvicorn.run(create_app(config), **options)
        return EXIT_OK
    # Workers are separate processes that build the app from the environment; their metrics
    # meet in files under one folder, which /metrics reads (crossform.serve.metrics).
    metrics_dir = tempfile.mkdtemp(prefix="crossform-serve-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = metrics_dir
    to_environment(config)
    try:
        uvicorn.run("crossform.serve.app:app_from_environment", factory=True, workers=args.workers, **options)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return EXIT_OK


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve to anything
        return False
