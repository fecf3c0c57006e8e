"""Package inspection: ``validate`` (read, check the id, score the carried checks), ``id``, ``info``
and ``compat``. The validating itself is crossform.validation's; this module prints it."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import crossform
from crossform import ir
from crossform.errors import CrossformError
from crossform.exporters import get_format
from crossform.validation import check, one_line, package_of

from ._common import EXIT_FAILED, EXIT_OK, PROG, WIDTH, UsageError, _err, _load, _out, _print_json, _require_path


def _not_run_text(checks: dict) -> str:
    return "".join(
        f"; {'not installed' if not r['installed'] else 'not run'}: {r['name']} ({r['reason']})"
        for r in checks["not_run"]
    )


def run_validate(args: argparse.Namespace) -> int:
    for name in args.runtime or []:
        if name not in crossform.runtimes():
            raise UsageError(f"unknown runtime {name!r}; runtimes: {', '.join(crossform.runtimes())}")
    # several changed files of one package validate it once
    packages = list(dict.fromkeys(package_of(path) for path in args.packages))
    results = [check(path, args.runtime, args.quiet, load=_load) for path in packages]
    ok = all(r["ok"] for r in results)
    if args.json:
        for r in results:
            for entry in (r["checks"] or {}).get("runtimes", ()):
                del entry["lines"]
        _print_json({"packages": results, "ok": ok})
        return EXIT_OK if ok else EXIT_FAILED
    for r in results:
        checks = r["checks"]
        if r["ok"]:
            carried = (
                (
                    f"  checks: {checks['rows']} rows "
                    + (f"within the declared {checks['absolute']:g} of " if checks["absolute"] else "identical to ")
                    + checks["expected_by"]
                    + f" in {', '.join(e['name'] for e in checks['runtimes'])}"
                    + _not_run_text(checks)
                )
                if checks
                else ""
            )
            _out(f"ok   {r['path']}  {r['format']}  {r['id']}{carried}")
            continue
        if r["error"] is not None:
            _out(f"FAIL {r['path']}  {r['error']['type']}: {r['error']['message']}")
        else:
            _out(f"FAIL {r['path']}  {r['format']}  {r['id']}")
        if checks is not None and not checks["ok"]:
            _out(f"     checks (outputs from {checks['expected_by']}), {checks['rows']} rows{_not_run_text(checks)}:")
            for entry in checks["runtimes"]:
                if entry["ok"]:
                    _out(f"       {entry['name']}: ok")
                    continue
                _out(f"       {entry['name']}: {entry['summary']}")
                for line in entry["lines"]:
                    _out(f"         {line}")
    return EXIT_OK if ok else EXIT_FAILED


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "packages",
        nargs="+",
        metavar="PACKAGE",
        help="packages to check; a file inside a directory package (its MODEL manifest, as "
        "pre-commit passes it) checks that package",
    )
    parser.add_argument(
        "--runtime",
        action="append",
        metavar="NAME",
        help="score the checks only in this runtime (repeat for several; default: the reference "
        "and every installed runtime of each package's format); the others are named as left out",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# ---------------------------------------------------------------- id


def run_id(args: argparse.Namespace) -> int:
    found = []
    for path in args.packages:
        try:
            package, _ = _load(path)
        except (CrossformError, OSError) as exc:
            _err(f"{PROG}: error: {one_line(exc)}")
            found.append({"path": path, "id": None})
        else:
            found.append({"path": path, "id": package.id})
    if args.json:
        _print_json(found)
    elif len(args.packages) == 1:
        if found[0]["id"]:
            _out(found[0]["id"])
    else:
        for entry in found:
            if entry["id"]:
                _out(f"{entry['id']}  {entry['path']}")
    return EXIT_OK if all(entry["id"] for entry in found) else EXIT_FAILED


def id_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("packages", nargs="+", metavar="PACKAGE", help="packages to read")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


# ---------------------------------------------------------------- info


def describe(package: ir.Package, path: str, fmt: str) -> dict:
    model = package.model
    return {
        "path": path,
        "format": fmt,
        "id": package.id,
        "owner": package.owner,
        "tags": list(package.tags),
        "metadata": dict(package.metadata),
        "inputs": [{"name": f.name, "kind": f.kind} for f in package.inputs],
        "encoders": [
            {"type": e.encoder_type, "features": list(e.features), "outputs": list(e.outputs)} for e in package.encoders
        ],
        "model": {
            "model_type": model.model_type,
            "features": len(model.features),
            "trees": len(getattr(model, "trees", ())),  # 0 for a linear model
            "nodes": getattr(model, "n_nodes", 0),
            "max_depth": max(t.depth for t in model.trees) if isinstance(model, ir.TreeEnsemble) else None,
            "scores": model.n_outputs,  # leaf-vector width or linear scores: raw scores before the post transform
            "post_transform": model.post_transform,
            "classes": None if model.classes is None else list(model.classes),
            "outputs": list(model.outputs),
        },
        "producer": dict(package.producer),
        "checks": None
        if package.checks is None
        else {
            "rows": len(package.checks),
            "expected_by": package.checks.expected_by,
            "row_errors": int(package.checks.errors.sum()),
            "tolerance": {"relative": package.checks.tolerance, "absolute": package.checks.absolute},
        },
    }


INFO_INPUT_LINES = 12  # more inputs than this are summarized per kind


def _name_list(names: Sequence[str], room: int) -> str:
    """As many of ``names`` as fit in ``room`` characters, then "and N more" (always at least one name)."""
    shown: list = []
    for i, name in enumerate(names):
        rest = len(names) - i - 1
        if shown and len(", ".join(shown + [name]) + (f" and {rest} more" if rest else "")) > room:
            break
        shown.append(name)
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def run_info(args: argparse.Namespace) -> int:
    _require_path(args.package, "package")
    package, fmt = _load(args.package)
    doc = describe(package, args.package, fmt)
    if Path(args.package).is_file():
        # a format names its properties for people ("source id"); --json keys are snake_case
        properties = get_format(fmt).properties(Path(args.package).read_bytes())
        if properties:
            doc["properties"] = {key.replace(" ", "_"): value for key, value in properties.items()}
    if args.json:
        _print_json(doc)
        return EXIT_OK
    model = doc["model"]
    _out(f"package   {doc['path']}")
    _out(f"format    {fmt}")
    _out(f"id        {doc['id']}")
    for key, value in doc.get("properties", {}).items():
        text = ", ".join(f"{k} {v:g}" for k, v in value.items()) if isinstance(value, dict) else value
        _out(f"{key.replace('_', ' '):<9s} {text}")
    _out(f"owner     {doc['owner'] if doc['owner'] is not None else '-'}")
    _out(f"tags      {', '.join(doc['tags']) or '-'}")
    _out(f"metadata  {', '.join(f'{k}={v}' for k, v in doc['metadata'].items()) or '-'}")
    _out(f"inputs    {len(doc['inputs'])}")
    if len(doc["inputs"]) <= INFO_INPUT_LINES:
        for f in doc["inputs"]:
            _out(f"  {f['name']}: {f['kind']}")
    else:  # a wide model: one line per kind (--json lists them all)
        kinds: dict = {}
        for f in doc["inputs"]:
            kinds.setdefault(f["kind"], []).append(f["name"])
        for kind, names in kinds.items():
            prefix = f"  {kind} ({len(names)}): "
            _out(prefix + _name_list(names, WIDTH - len(prefix)))
    _out(f"encoders  {len(doc['encoders'])}")
    for i, e in enumerate(doc["encoders"], start=1):
        prefix = f"  {i}. {e['type']}: "
        if e["outputs"] == e["features"]:
            same = " -> same names"
            _out(prefix + _name_list(e["features"], WIDTH - len(prefix) - len(same)) + same)
        else:
            room = (WIDTH - len(prefix) - len(" -> ")) // 2
            _out(f"{prefix}{_name_list(e['features'], room)} -> {_name_list(e['outputs'], room)}")
    _out(f"model     {model['model_type']}")
    if model["max_depth"] is None:
        _out(
            f"  {model['features']} features, {model['scores']} linear score{'s' if model['scores'] > 1 else ''}, "
            f"post transform {model['post_transform']}"
        )
    else:
        _out(
            f"  {model['features']} features, {model['trees']} trees, {model['nodes']} nodes, "
            f"max depth {model['max_depth']}, post transform {model['post_transform']}"
        )
    if model["classes"] is not None:
        _out(f"  classes: {_name_list([str(c) for c in model['classes']], WIDTH - 11)}")
    else:
        _out(f"  outputs: {_name_list(model['outputs'], WIDTH - 11)}")
    _out(f"producer  {' '.join(f'{k}={v}' for k, v in doc['producer'].items()) or '-'}")
    checks = doc["checks"]
    _out(
        f"checks    {checks['rows']} rows ({checks['row_errors']} row errors), outputs from {checks['expected_by']}"
        + (f", within {checks['tolerance']['absolute']:.2g} (declared)" if checks["tolerance"]["absolute"] else "")
        if checks
        else "checks    -"
    )
    return EXIT_OK


def info_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("package", metavar="PACKAGE", help="a saved package")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# ---------------------------------------------------------------- compat


def run_compat(args: argparse.Namespace) -> int:
    from crossform import compat

    _require_path(args.package, "package")
    doc = compat.report(args.package)
    for line in doc["warnings"]:
        _err(f"{PROG}: warning: {line}")
    if args.json:
        _print_json(doc)
        return EXIT_OK if doc["ok"] else EXIT_FAILED
    first, *others = doc["runtimes"] or [{"name": "-", "versions": "-"}]

    def runtime(entry: dict) -> str:
        return f"{entry['name']}: {entry['versions'] or compat.NOT_RECORDED}"

    ranges, text = doc["readers"]["ranges"], doc["readers"]["text"]
    read_by = text if ranges is None else f"crossform {text}" if ranges else "no crossform release"
    if doc["readers"]["needs"]:
        read_by += f" (for {doc['readers']['needs']}; older releases refuse it)"
    rows = [
        ("package", doc["path"]),
        ("format", doc["format"]),
        ("format version", doc["format_version"] or "-"),
        ("this crossform", f"{doc['crossform']}: {doc['reads']}"),
        ("id", doc["id"] or "-"),
        *([("error", doc["error"])] if doc["error"] else []),
        ("read by", read_by),
        ("runtimes", runtime(first)),
        *(("", runtime(entry)) for entry in others),
    ]
    for label, value in rows:
        _out(f"{label:<16}{value}")
    return EXIT_OK if doc["ok"] else EXIT_FAILED


def compat_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("package", metavar="PACKAGE", help="a saved package")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
