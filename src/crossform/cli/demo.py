"""``crossform demo``: fit the example pipeline of crossform.demo, export it, and show that crossform
scores its sample rows exactly as scikit-learn does."""

from __future__ import annotations

import argparse
import math
import os
import textwrap
from pathlib import Path
from typing import Any

import crossform
from crossform import demo, progress
from crossform.deployer import DEFAULT_REGISTRY, DEFAULT_STORE, HOME, Deployer, event_json
from crossform.validation import check

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    WIDTH,
    CommandError,
    _err,
    _load,
    _needs_sklearn,
    _out,
    _print_json,
    _save,
    _table,
)

DEFAULT_OUT = "./crossform-demo"


def run_demo(args: argparse.Namespace) -> int:
    # The README's first command must work every time it is run: the demo replaces its own
    # previous output, and refuses (before fitting, not after seconds of work) anything else.
    replacing = os.path.lexists(args.out) and not args.overwrite
    if replacing and not demo.is_demo_output(args.out):
        raise CommandError(
            f"{args.out} already exists and is not a crossform demo output; "
            "pass --out DIR for another place, or --overwrite to replace the package there"
        )
    _needs_sklearn("the demo")
    with progress.phase("demo: fitting the example pipeline and computing its check rows", enabled=not args.quiet):
        pipe, train, samples = demo.pipeline()
        package = crossform.from_sklearn(pipe, owner=demo.OWNER, tags=list(demo.TAGS), metadata={"dataset": "birds"})
    path = _save(package, args.out, "stripe-json", args.overwrite or replacing)
    if replacing:
        _err(f"{PROG}: replaced the demo's previous output {args.out}")
    loaded, fmt = _load(str(path))
    scores = crossform.score(loaded, samples)

    rows = []
    for i, row in enumerate(samples):
        ours = None if scores.errors[i] is not None else [float(v) for v in scores.values[i]]
        rows.append(
            {"inputs": row, "crossform": ours, "sklearn": demo.sklearn_row(pipe, row), "error": scores.errors[i]}
        )
    same_refusals = all((r["crossform"] is None) == (r["sklearn"] is None) for r in rows)
    same_values = all(r["crossform"] == r["sklearn"] for r in rows if r["crossform"] is not None)
    checked = check(str(path), quiet=args.quiet, load=_load)["checks"]
    agree = same_refusals and same_values and loaded.id == package.id and checked["ok"]
    files = _package_files(Path(path))
    shipped = None if args.no_ship else _ship(args, str(path), loaded.id)
    ok = agree and (shipped is None or shipped["ok"])

    if args.json:
        _print_json(
            {
                "path": str(path),
                "id": loaded.id,
                "files": [{"name": name, "bytes": size} for name, size in files],
                "rows": [{**r, "inputs": {k: _json_float(v) for k, v in r["inputs"].items()}} for r in rows],
                "checks": {
                    **{k: checked[k] for k in ("rows", "ok", "expected_by")},
                    "differences": checked["runtimes"][0]["differences"],
                },
                "agree": agree,
                "shipping": shipped,
            }
        )
        return EXIT_OK if ok else EXIT_FAILED

    model = pipe[-1]
    _out(
        f"fitted {type(model).__name__}(n_estimators={model.n_estimators}, max_depth={model.max_depth}) "
        f"on {len(train)} rows of {', '.join(demo.CATEGORIES)} (categorical) and "
        f"{', '.join(demo.NUMERIC)} (numeric) to predict {demo.TARGET}"
    )
    _out(f"wrote {path} ({fmt}):")
    for line in _table(["file", "bytes"], files, right=[1]):
        _out("  " + line)
    _out(f"id {loaded.id}")
    _out("")
    column = list(loaded.outputs).index("probability(True)")

    def p_true(values):
        return "-" if values is None else _float_text(values[column])

    table = [
        [_show_cell(r["inputs"][name]) for name in ("bird", "food", "planet", "wingspan")]
        + [p_true(r["crossform"]), p_true(r["sklearn"]), r["error"] or ""]
        for r in rows
    ]
    headers = ["bird", "food", "planet", "wingspan", "crossform P(True)", "sklearn P(True)", "error"]
    for line in _table(headers, table, right=[3, 4, 5]):
        _out("  " + line)
    _out("")
    accepted = sum(r["crossform"] is not None for r in rows)
    refused = len(rows) - accepted
    _out(
        textwrap.fill(
            f"checks: the package carries {checked['rows']} rows (at every split and leaf of the "
            f"forest, special values, random rows) with {checked['expected_by']}'s outputs; the "
            f"reference evaluator: {checked['runtimes'][0]['summary']}.",
            WIDTH,
        )
    )
    if agree:
        _out(
            f"agree: all {accepted} accepted rows score exactly as in scikit-learn, and the reference "
            f"evaluator refused exactly the {refused} rows scikit-learn refuses."
        )
    else:
        _out(
            f"DISAGREE: values equal: {same_values}; same rows refused: {same_refusals}; "
            f"id kept through save and load: {loaded.id == package.id}."
        )
    if shipped is not None:
        _print_shipping(shipped)
    return EXIT_OK if ok else EXIT_FAILED


def _ship(args: argparse.Namespace, path: str, first_id: str) -> dict:
    """The README's shipping flow on the demo's package and a retrained second model: push,
    deploy, deploy the second, roll back; in the store and registry under --ship-to (never the
    ones $CROSSFORM_STORE and $CROSSFORM_REGISTRY name: a demo does not deploy to production)."""
    home = Path(args.ship_to)
    home.mkdir(parents=True, exist_ok=True)
    store, registry = home / "store", home / "registry.sqlite"
    deployer = Deployer(store=store, registry=registry, actor="crossform demo", quiet=args.quiet)
    tag = demo.DEPLOY_TAG
    flags = "" if home == Path(HOME) and not _configured() else f" --store {store}"
    registry_flag = "" if not flags else f" --registry {registry}"
    steps = []
    pushed = deployer.push(path)
    steps.append((f"crossform push {path}{flags}", pushed))
    with progress.phase(f"demo: deploying {pushed} to {tag} through the deploy gate", enabled=not args.quiet):
        _, gate = deployer.deploy(tag, pushed, message="the demo's forest")
    steps.append((f"crossform deploy -t {tag} -m {pushed}{flags}{registry_flag}", f"gate: {gate.summary()}"))
    with progress.phase("demo: fitting a second model on next week's birds", enabled=not args.quiet):
        retrained, _, _ = demo.pipeline(week=1)
        second = crossform.from_sklearn(
            retrained, owner=demo.OWNER, tags=list(demo.TAGS), metadata={"dataset": "birds", "week": "1"}
        )
    second_id = deployer.push(second)
    steps.append((f"crossform push <next week's model>{flags}", second_id))
    with progress.phase(f"demo: deploying {second_id} to {tag} through the deploy gate", enabled=not args.quiet):
        _, gate = deployer.deploy(tag, second_id, message="retrained on next week's birds")
    steps.append((f"crossform deploy -t {tag} -m {second_id}{flags}{registry_flag}", f"gate: {gate.summary()}"))
    rollback = deployer.rollback(tag, message="the demo rolls back")
    steps.append((f"crossform deploy -t {tag} -b{registry_flag}", f"{tag} back at {rollback.to_id}"))
    history = deployer.history(tag)
    current = deployer.current(tag)
    return {
        "store": str(store),
        "registry": str(registry),
        "tag": tag,
        "first_id": pushed,
        "second_id": second_id,
        "current": current,
        "steps": [{"command": command, "result": result} for command, result in steps],
        "history_command": f"crossform history -t {tag}{registry_flag}",
        "events": [event_json(e) for e in history[-3:]],
        "total_events": len(history),
        "ok": pushed == first_id and second_id != first_id and current == first_id,
    }


def _configured() -> bool:
    """Whether $CROSSFORM_STORE or $CROSSFORM_REGISTRY point the commands away from .crossform."""
    return (
        os.environ.get("CROSSFORM_STORE", DEFAULT_STORE) != DEFAULT_STORE
        or os.environ.get("CROSSFORM_REGISTRY", DEFAULT_REGISTRY) != DEFAULT_REGISTRY
    )


def _print_shipping(shipped: dict) -> None:
    _out("")
    _out(
        textwrap.fill(
            f"shipped: the package and a second model, retrained on next week's birds, went into the "
            f"store {shipped['store']}; {shipped['tag']} was deployed to each in turn through the deploy "
            f"gate, then rolled back (registry {shipped['registry']}). The same steps as commands:",
            WIDTH,
        )
    )
    for step in shipped["steps"]:
        _out(f"  $ {step['command']}")
        _out(f"      {step['result']}")
    _out(f"  $ {shipped['history_command']}  (the last 3 of {shipped['total_events']} events)")
    rows = [[e["at"][:19].replace("T", " "), e["kind"], e["to_id"], e["message"] or ""] for e in shipped["events"]]
    for line in _table(["Deployed at", "Event", "Model ID", "Message"], rows):
        _out("      " + line)
    if shipped["ok"]:
        _out(f"{shipped['tag']} is at {shipped['current']}, the demo's package, again.")
    else:
        _out(f"SHIPPING FAILED: {shipped['tag']} is at {shipped['current']}, expected {shipped['first_id']}.")


def _show_cell(value: Any) -> str:
    if value is None:
        return "(missing)"
    return _float_text(value) if isinstance(value, float) else str(value)


def demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help="where to write the package (default: %(default)s); the demo's own earlier output "
        "there is replaced, anything else is refused",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing package at --out even when the demo did not write it",
    )
    parser.add_argument(
        "--ship-to",
        default=HOME,
        metavar="DIR",
        help="where the demo keeps its model store (DIR/store) and registry (DIR/registry.sqlite) to push, "
        "deploy, deploy a second model and roll back (default: %(default)s, where the other commands look "
        "by default; $CROSSFORM_STORE and $CROSSFORM_REGISTRY are not used)",
    )
    parser.add_argument("--no-ship", action="store_true", help="stop after the comparison: no store, no deploys")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def _float_text(value: float) -> str:
    # repr round-trips a float64 exactly; str(np.float64) would not be plain.
    return repr(float(value))


def _json_float(value: Any) -> Any:
    """A number for strict JSON: non-finite floats become the strings the formats use."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _package_files(path: Path) -> list:
    if path.is_file():
        return [(path.name, path.stat().st_size)]
    return sorted((p.relative_to(path).as_posix(), p.stat().st_size) for p in path.rglob("*") if p.is_file())
