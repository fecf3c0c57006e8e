"""``crossform export``: a joblib-saved scikit-learn estimator into a package."""

from __future__ import annotations

import argparse
from pathlib import Path

import crossform
from crossform import ir, progress
from crossform.errors import FormatExtensionError, UnknownFormatError
from crossform.exporters import check_options, format_for_path, get_format

from ._common import (
    EXIT_OK,
    CommandError,
    UsageError,
    _err,
    _needs_sklearn,
    _out,
    _print_json,
    _require_path,
    _row_count,
    _save,
)

JOBLIB_WARNING = "warning: joblib files can run arbitrary code when loaded; export only files you trust"


def _key_value(text: str) -> tuple:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def run_export(args: argparse.Namespace) -> int:
    _require_path(args.model, "model file")
    if args.format is not None and args.format not in crossform.formats():
        raise UsageError(f"unknown format {args.format!r}; formats: {', '.join(crossform.formats())}")
    try:
        args.format = format_for_path(args.out, args.format)
    except FormatExtensionError:
        suffix = Path(args.out).suffix
        raise UsageError(
            f"--format {args.format} contradicts OUT {args.out}, whose extension {suffix} names "
            f"{format_for_path(args.out)}; drop --format or rename OUT"
        ) from None
    options = {
        key: value
        for key, value in (("precision", args.precision), ("leaves", args.leaves), ("sets", args.sets))
        if value
    }
    try:
        check_options(get_format(args.format), options)
    except UnknownFormatError as exc:
        raise UsageError(f"--{next(iter(options))}: {exc}" if len(options) == 1 else str(exc)) from None
    metadata = {}
    for key, value in args.meta or []:
        if key in metadata:
            raise UsageError(f"--meta {key} given twice")
        metadata[key] = value
    _needs_sklearn("export")
    import joblib

    # Said only now, when the load is about to run code, not when a usage mistake stops the export first.
    _err(JOBLIB_WARNING)
    try:
        with progress.phase(f"export: loading {args.model}", enabled=not args.quiet):
            estimator = joblib.load(args.model)
    except OSError:
        raise  # unreadable file: main reports it like any other
    except Exception as exc:  # a pickle can fail in any way; none of them is our bug
        raise CommandError(f"cannot load {args.model}: {type(exc).__name__}: {exc}") from None
    from crossform.sklearn.expect import DEFAULT_ROWS

    rows = DEFAULT_ROWS if args.checks is None else args.checks
    with progress.phase(
        f"export: converting, with up to {rows} check rows scored by scikit-learn", enabled=not args.quiet
    ):
        package = crossform.from_sklearn(
            estimator,
            owner=args.owner,
            tags=args.tag or [],
            metadata=metadata,
            checks=args.checks,
            input_names=args.input_names,
        )
    with progress.phase(f"export: writing {args.out} ({args.format})", enabled=not args.quiet):
        path = _save(package, args.out, args.format, args.overwrite, **options)
    model = package.model
    held, held_checks = (
        get_format(args.format).stored(package, package.checks, **options) if options else (package, package.checks)
    )
    if args.json:
        _print_json(
            {
                "path": str(path),
                "format": args.format,
                "precision": args.precision,
                "leaves": args.leaves,
                "sets": args.sets,
                "id": held.id,
                "source_id": package.id,
                "tolerance": held_checks.absolute if held_checks is not None else None,
                "inputs": [{"name": f.name, "kind": f.kind} for f in package.inputs],
                "encoders": [e.encoder_type for e in package.encoders],
                "model_type": model.model_type,
                "trees": len(getattr(model, "trees", ())),
                "nodes": getattr(model, "n_nodes", 0),
                "checks": len(held_checks) if held_checks is not None else 0,
            }
        )
        return EXIT_OK
    _out(f"path    {path}")
    _out(f"format  {args.format}" + "".join(f", {v}" if k == "precision" else f", {k} {v}" for k, v in options.items()))
    if args.precision == "float32":
        _out(f"id      {held.id} (leaf values rounded to {args.precision})")
        _out(f"source  {package.id}")
        if held_checks is not None and held_checks.absolute:
            _out(f"scores  within {held_checks.absolute:g} of the source's (declared in the file)")
    else:
        _out(f"id      {package.id}")
    _out(f"{len(package.inputs)} inputs, {len(package.encoders)} encoders, {_describe_model(model)}")
    if held_checks is not None:
        _out(
            f"checks  {len(held_checks)} rows with {held_checks.expected_by}'s outputs (crossform validate scores them)"
        )
    return EXIT_OK


def _names(text: str) -> list:
    return [name.strip() for name in text.split(",")]


def export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.joblib", help="a fitted estimator or pipeline saved with joblib.dump")
    parser.add_argument("out", metavar="OUT", help="where to write the package")
    parser.add_argument(
        "--format",
        metavar="NAME",
        help="package format (default: from OUT's extension: .onnx onnx, .pmml pmml, .pb protobuf, "
        "anything else a stripe-json directory; see 'crossform formats')",
    )
    parser.add_argument("--owner", metavar="O", help="the package owner, recorded in the package and its id")
    parser.add_argument("--tag", action="append", metavar="T", help="a tag (repeat for several)")
    parser.add_argument(
        "--meta", action="append", type=_key_value, metavar="KEY=VALUE", help="a metadata entry (repeat for several)"
    )
    parser.add_argument(
        "--input-names",
        type=_names,
        metavar="A,B,...",
        help="the package's input names, one per column the model was fitted on, in order: for "
        "a model fitted on a numpy array (whose columns are otherwise x0, x1, ...)",
    )
    parser.add_argument(
        "--checks",
        type=_row_count,
        default=None,
        metavar="N",
        help="rows of checks to carry: rows at the model's splits and leaves, special values "
        "and random rows, with scikit-learn's outputs (default: 1000; 0 for none)",
    )
    parser.add_argument(
        "--precision",
        choices=("float64", "float32"),
        metavar="P",
        help="onnx only: float64 (default, exact) or float32: float32 inputs and scores, every "
        "tree decision still exact for float32 inputs, scores within the tolerance the file "
        "declares (see docs/formats/onnx.md)",
    )
    parser.add_argument(
        "--sets",
        choices=("columns", "member"),
        metavar="S",
        help="onnx only: how category-set splits are written: columns (default; an Equal "
        "column per set, exact in every runtime) or member (ai.onnx.ml BRANCH_MEMBER where "
        "onnxruntime decides it exactly; onnx's ReferenceEvaluator cannot run a set holding "
        "0.0; see docs/formats/onnx.md)",
    )
    parser.add_argument(
        "--leaves",
        choices=("on", "off"),
        metavar="L",
        help="pmml only: on (default) writes an output per tree naming the leaf each row "
        "reached; off leaves them out: JPMML scores about twice the rows/s, and validate and "
        "conform then compare no leaves (see docs/formats/pmml.md)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing package at OUT")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _describe_model(model: ir.TreeEnsemble) -> str:
    if isinstance(model, ir.LinearModel):
        return f"{model.model_type}, {model.n_outputs} linear score{'s' if model.n_outputs > 1 else ''} over {len(model.features)} features"
    return f"{model.model_type}, {len(model.trees)} trees, {model.n_nodes} nodes"
