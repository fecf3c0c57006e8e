"""Shipping commands over the store and the registry: ``push``, ``pull``, ``models``, ``deploy``
(with ``add``/``remove`` for shadows and ``-b`` to roll back), ``history`` and ``tags``. What they
do is crossform.deployer's; this module parses and prints."""

from __future__ import annotations

import argparse

from crossform import progress
from crossform.deployer import (
    ACTOR_VARIABLE,
    DEFAULT_REGISTRY,
    DEFAULT_STORE,
    REGISTRY_VARIABLE,
    STORE_VARIABLE,
    Deployer,
    GateResult,
    event_json,
)
from crossform.errors import DeployGateError
from crossform.registry import UNCHECKED, Event
from crossform.validation import one_line

from ._common import EXIT_FAILED, EXIT_OK, UsageError, _out, _print_json, _require_path, _table

TIME = "%Y-%m-%d %H:%M:%S UTC"
WHAT = {
    "deploy": "deployed",
    "rollback": "rolled back",
    "shadow-add": "shadow added",
    "shadow-remove": "shadow removed",
}


def _deployer(args: argparse.Namespace) -> Deployer:
    return Deployer(
        store=getattr(args, "store", None),
        registry=getattr(args, "registry", None),
        actor=getattr(args, "actor", None),
        quiet=args.quiet,
    )


def _short(model_id) -> str:
    return "-" if model_id is None else model_id


# --- push, pull, models ------------------------------------------------------------------------


def run_push(args: argparse.Namespace) -> int:
    for path in args.packages:
        _require_path(path, "package")
    deployer = _deployer(args)
    pushed = []
    for path in args.packages:
        model_id = deployer.push(path)
        pushed.append({"path": path, "id": model_id, "formats": deployer.store.formats(model_id)})
        if not args.json:
            _out(model_id)
    if args.json:
        _print_json({"store": deployer.store_url, "pushed": pushed})
    return EXIT_OK


def run_pull(args: argparse.Namespace) -> int:
    deployer = _deployer(args)
    path = deployer.pull(args.id, args.dest, format=args.format)
    fmt = args.format or deployer.store.default_format(args.id)
    if args.json:
        _print_json({"id": args.id, "format": fmt, "path": str(path)})
    else:
        _out(f"wrote {path} ({fmt}), checked against {args.id}")
    return EXIT_OK


def run_models(args: argparse.Namespace) -> int:
    models = _deployer(args).models()
    if args.json:
        _print_json(models)
        return EXIT_OK
    rows = [
        [m["id"], ", ".join(m["formats"]), ", ".join(m["tags"]) or "-", ", ".join(m["shadow_of"]) or "-"]
        for m in models
    ]
    for line in _table(["Model ID", "Formats", "Deployed to", "Shadow of"], rows):
        _out(line)
    return EXIT_OK


# --- deploy, history, tags ---------------------------------------------------------------------


def run_deploy(args: argparse.Namespace) -> int:
    _check_deploy_usage(args)
    deployer = _deployer(args)
    gate = None
    try:
        if args.action == "remove":
            event = deployer.remove_shadow(args.tag, args.model, message=args.message)
        elif args.rollback:
            event = deployer.rollback(args.tag, message=args.message)
        else:
            with progress.phase(
                f"deploy gate: validating {args.model} from {deployer.store_url}",
                enabled=not args.quiet and not args.force,
            ):
                if args.action == "add":
                    event, gate = deployer.add_shadow(args.tag, args.model, message=args.message, force=args.force)
                else:
                    expect = UNCHECKED if args.expect is None else (None if args.expect == "none" else args.expect)
                    event, gate = deployer.deploy(
                        args.tag, args.model, message=args.message, force=args.force, expect=expect
                    )
    except DeployGateError as refused:
        if args.json:
            _print_json(
                {
                    "ok": False,
                    "error": {"type": "DeployGateError", "message": one_line(refused)},
                    "gate": _gate_json(refused.gate),
                }
            )
            return EXIT_FAILED
        raise
    if args.json:
        _print_json({"ok": True, "event": None if event is None else event_json(event), "gate": _gate_json(gate)})
        return EXIT_OK
    if event is None:
        _out(f"{args.model} is already a shadow of {args.tag}; nothing changed")
    else:
        _out(_event_line(event))
    if gate is not None:
        _out(f"  gate: {gate.summary()}")
    return EXIT_OK


def _check_deploy_usage(args: argparse.Namespace) -> None:
    if args.action is not None:
        if args.rollback:
            raise UsageError(f"deploy {args.action} takes -m ID, not -b")
        if args.model is None:
            raise UsageError(f"deploy {args.action} needs -m ID: the shadow model to {args.action}")
    elif args.rollback == (args.model is not None):
        raise UsageError("deploy needs either -m ID (point the tag at a model) or -b (roll the tag back), not both")
    if args.expect is not None and (args.action is not None or args.rollback):
        raise UsageError("--expect applies to deploy -m ID only")
    if args.force and (args.rollback or args.action == "remove"):
        raise UsageError("--force skips the deploy gate, which only deploy -m and deploy add pass through")


def _event_line(event: Event) -> str:
    forced = " (forced past the deploy gate)" if event.forced else ""
    if event.kind in ("deploy", "rollback"):
        return f"{WHAT[event.kind]} {event.tag}: {_short(event.from_id)} -> {event.to_id}{forced}"
    if event.kind == "shadow-add":
        return f"{WHAT[event.kind]} to {event.tag}: {event.to_id}{forced}"
    return f"{WHAT[event.kind]} from {event.tag}: {event.from_id}"


def _gate_json(gate: GateResult | None):
    if gate is None:
        return None
    document = gate.to_json()
    for result in document["formats"]:
        for entry in (result["checks"] or {}).get("runtimes", ()):
            entry.pop("lines", None)
    return document


def run_history(args: argparse.Namespace) -> int:
    events = _deployer(args).history(args.tag)
    if args.last is not None:
        events = events[-args.last :] if args.last else ()
    if args.json:
        _print_json({"tag": args.tag, "events": [event_json(e) for e in events]})
        return EXIT_OK
    rows = [
        [
            e.at.strftime(TIME),
            e.kind + (" (forced)" if e.forced else ""),
            _short(e.to_id if e.to_id is not None else e.from_id),
            _short(e.from_id) if e.kind in ("deploy", "rollback") else "",
            e.actor,
            e.message or "",
        ]
        for e in events
    ]
    for line in _table(["Deployed at", "Event", "Model ID", "Replaced", "By", "Message"], rows):
        _out(line)
    return EXIT_OK


def run_tags(args: argparse.Namespace) -> int:
    states = _deployer(args).tags()
    if args.json:
        _print_json(
            [
                {"tag": s.tag, "current": s.current, "shadows": list(s.shadows), "last": event_json(s.last)}
                for s in states
            ]
        )
        return EXIT_OK
    rows = [
        [
            s.tag,
            _short(s.current),
            str(len(s.shadows)),
            f"{s.last.at.strftime(TIME)} {s.last.kind} by {s.last.actor}",
        ]
        for s in states
    ]
    for line in _table(["Tag", "Model ID", "Shadows", "Last change"], rows, right=[2]):
        _out(line)
    return EXIT_OK


# --- arguments ---------------------------------------------------------------------------------


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        help=f"the model store: a folder, file:// or s3://bucket/prefix (default: ${STORE_VARIABLE}, else {DEFAULT_STORE})",
    )


def _registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        metavar="URL",
        help=f"the registry: an SQLite file, sqlite:///PATH or postgresql://... (default: ${REGISTRY_VARIABLE}, "
        f"else {DEFAULT_REGISTRY})",
    )


def _json_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def push_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("packages", nargs="+", metavar="PKG", help="a saved package (any format)")
    _store_option(parser)
    _json_option(parser, "the store and each package's path, id and stored formats")


def pull_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the model id, sha256.<base32>")
    parser.add_argument("dest", metavar="DEST", help="a new path to write the package to")
    parser.add_argument("--format", metavar="F", help="the stored format to pull (default: stripe-json when stored)")
    _store_option(parser)
    _json_option(parser, "the id, format and path")


def models_arguments(parser: argparse.ArgumentParser) -> None:
    _store_option(parser)
    _registry_option(parser)
    _json_option(parser, 'a list of {"id", "formats", "tags", "shadow_of"}')


def deploy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=["add", "remove"],
        help="add or remove a shadow model of the tag instead of deploying",
    )
    parser.add_argument("-t", "--tag", required=True, metavar="TAG", help="the tag, dotted words: txn_fraud.production")
    parser.add_argument("-m", "--model", metavar="ID", help="the model id to deploy (or to add or remove as a shadow)")
    parser.add_argument(
        "-b", "--rollback", action="store_true", help="point the tag back at the model deployed before the current one"
    )
    parser.add_argument("--message", metavar="M", help="why, recorded in the history")
    parser.add_argument(
        "--force",
        action="store_true",
        help="skip the deploy gate (the id in the store, its checks passing); recorded in the history",
    )
    parser.add_argument(
        "--expect",
        metavar="ID",
        help="deploy only if the tag is still at ID ('none': no model yet), else fail with a DeployConflictError",
    )
    parser.add_argument(
        "--actor",
        metavar="NAME",
        help=f"who the change is recorded as (default: ${ACTOR_VARIABLE}, else the login name)",
    )
    _store_option(parser)
    _registry_option(parser)
    _json_option(parser, "the recorded event and the gate's validate results")


def history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-t", "--tag", required=True, metavar="TAG", help="the tag")
    parser.add_argument("-n", "--last", type=_count, metavar="N", help="only the last N events")
    _registry_option(parser)
    _json_option(parser, "every event: kind, at, actor, from_id, to_id, message, forced")


def tags_arguments(parser: argparse.ArgumentParser) -> None:
    _registry_option(parser)
    _json_option(parser, "each tag's current id, shadows and last event")


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of events >= 0, got {text!r}")
    return int(text)
