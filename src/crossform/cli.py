"""The ``crossform`` command: export, score, check and describe model packages.

Only ``demo`` and ``export`` need scikit-learn, pandas and joblib, and they
import them inside their functions: reading, validating and scoring
packages must work with the core dependencies (numpy, jsonschema) alone.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import math
import os
import stat
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import crossform
from crossform import ir, progress, tabular
from crossform.conformance import DEFAULT_MAX_ROWS
from crossform.errors import CrossformError, FormatExtensionError, PackageExistsError, UnknownFormatError
from crossform.exporters import check_options, format_for_path, get_format, sniff

PROG = "crossform"
WIDTH = 78  # help text is wrapped here; the raw formatter keeps examples as written

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

EXIT_CODES = """\
exit status:
  0  success
  1  the check failed, or crossform refused the input (the reason is printed
     as "crossform: error: ..." on stderr)
  2  bad usage: an unknown command or option, or a file named on the command
     line that does not exist
"""

JOBLIB_WARNING = "warning: joblib files can run arbitrary code when loaded; export only files you trust"


class UsageError(Exception):
    """Bad usage found after argparse accepted the arguments (exit 2)."""


class CommandError(Exception):
    """A refusal that is not a CrossformError, e.g. a malformed input file (exit 1)."""


# ---------------------------------------------------------------- helpers


def _out(line: str = "") -> None:
    print(line, file=sys.stdout)


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def _print_json(document: Any) -> None:
    # Strict JSON (no NaN/Infinity literals) so that any JSON parser, not
    # only Python's, can read what we print.
    _out(json.dumps(document, indent=2, allow_nan=False))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Sequence[int] = ()) -> list:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    return [line(headers)] + [line(r) for r in rows]


def _require_path(path: str, what: str) -> None:
    # A path typed on the command line that does not exist is a usage
    # mistake (exit 2), unlike a package that exists but cannot be read.
    if not os.path.lexists(path):
        raise UsageError(f"{what} {path}: no such file or directory")


def _load(path: str) -> tuple:
    """(package, format name), with format warnings shown as one clean line each."""
    with warnings.catch_warnings(record=True) as caught:
        # a newer-minor format warning must show on every run, not once per process
        warnings.simplefilter("always", UserWarning)
        fmt = sniff(path)
        package = crossform.load(path, format=fmt)
    for w in caught:
        _err(f"{PROG}: warning: {w.message}")
    return package, fmt


def _float_text(value: float) -> str:
    # repr round-trips a float64 exactly; str(np.float64) would not be plain.
    return repr(float(value))


def _json_float(value: Any) -> Any:
    """A number for strict JSON: non-finite floats become the strings the formats use."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _needs_sklearn(what: str) -> None:
    try:
        import joblib  # noqa: F401
        import pandas  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise CommandError(f"{what} needs scikit-learn, pandas and joblib ({exc}); "
                           "install them with: pip install 'crossform[sklearn]'") from None


def _save(package: ir.Package, path: str, format: str, overwrite: bool, **options: str) -> Path:
    try:
        return crossform.save(package, path, format=format, overwrite=overwrite, **options)
    except PackageExistsError as exc:
        if overwrite:
            raise
        # the library's message names the Python keyword, not the flag
        raise CommandError(f"{exc.path} already exists; pass --overwrite to replace it") from None


def _describe_model(model: ir.TreeEnsemble) -> str:
    if isinstance(model, ir.LinearModel):
        return f"{model.model_type}, {model.n_outputs} linear score{'s' if model.n_outputs > 1 else ''} over {len(model.features)} features"
    return f"{model.model_type}, {len(model.trees)} trees, {model.n_nodes} nodes"


def _package_files(path: Path) -> list:
    if path.is_file():
        return [(path.name, path.stat().st_size)]
    return sorted((p.relative_to(path).as_posix(), p.stat().st_size) for p in path.rglob("*") if p.is_file())


# ---------------------------------------------------------------- demo

DEMO_CATEGORIES = {
    "bird": ["albatross", "crow", "heron", "kiwi", "owl", "puffin"],
    "food": ["fish", "insects", "nectar", "seeds"],
    "planet": ["earth", "mars", "venus"],
}
DEMO_NUMERIC = ["wingspan", "weight", "altitude"]
DEMO_TARGET = "migrates"
DEMO_ROWS = 2000
DEMO_MISSING = 0.08
DEMO_OUT = "./crossform-demo"
# What marks a package as the demo's own output, which a later run may replace without --overwrite.
DEMO_OWNER = "crossform-demo"
DEMO_TAGS = ("demo",)


def _demo_frame(rng, n: int):
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({
        **{name: pd.Series(rng.choice(values, n), dtype=object) for name, values in DEMO_CATEGORIES.items()},
        "wingspan": rng.normal(1.2, 0.5, n),
        "weight": rng.lognormal(0.0, 1.0, n),
        "altitude": rng.normal(500.0, 300.0, n).round(),
    })
    # Long-winged seabirds migrate, heavy ones and those on venus less so.
    signal = (frame.wingspan.fillna(1.2) * 2.0 - np.log(frame.weight.fillna(1.0))
              + frame.bird.isin(["albatross", "puffin", "heron"]) * 1.0
              - (frame.planet == "venus") * 0.8 + frame.altitude.fillna(500.0) / 1000.0
              + rng.normal(0.0, 0.5, n))
    target = (signal > signal.median()).to_numpy()
    # Holes go in after the target so that missing values are not informative.
    for name in frame.columns:
        frame.loc[rng.random(n) < DEMO_MISSING, name] = np.nan
    frame[DEMO_TARGET] = target
    return frame


DEMO_SAMPLES = [
    {"bird": "albatross", "food": "fish", "planet": "earth", "wingspan": 2.9, "weight": 8.5, "altitude": 1200.0},
    {"bird": "owl", "food": "insects", "planet": "mars", "wingspan": 1.1, "weight": 1.4, "altitude": 300.0},
    {"bird": "kiwi", "food": "seeds", "planet": "venus", "wingspan": 0.3, "weight": 2.6, "altitude": 40.0},
    {"bird": None, "food": "nectar", "planet": "earth", "wingspan": None, "weight": 0.2, "altitude": 650.0},
    {"bird": "crow", "food": "seeds", "planet": "pluto", "wingspan": 0.9, "weight": 0.5, "altitude": 200.0},
    {"bird": "puffin", "food": "fish", "planet": "mars", "wingspan": math.inf, "weight": 0.6, "altitude": 90.0},
]


def demo_pipeline():
    """Fit the demo's example pipeline: (fitted pipeline, training frame, sample rows).

    The sample rows are plain dicts (None for missing): three ordinary rows,
    one with a missing bird and wingspan, one with the unknown planet
    "pluto" and one with an infinite wingspan.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    train = _demo_frame(np.random.default_rng(0), DEMO_ROWS)
    cats = list(DEMO_CATEGORIES)
    pipe = Pipeline([
        ("columns", ColumnTransformer([
            ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                              ("encode", OrdinalEncoder())]), cats),
            ("num", SimpleImputer(strategy="median"), DEMO_NUMERIC),
        ])),
        ("model", RandomForestClassifier(n_estimators=50, max_depth=10, random_state=0)),
    ])
    pipe.fit(train[cats + DEMO_NUMERIC], train[DEMO_TARGET])
    return pipe, train, [dict(row) for row in DEMO_SAMPLES]


def _sklearn_row(pipe, row: dict):
    """predict_proba of one row alone, or None when scikit-learn refuses it."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({
        # scikit-learn's imputers take NaN, not None, as missing in object columns
        **{name: pd.Series([np.nan if row.get(name) is None else row[name]], dtype=object)
           for name in DEMO_CATEGORIES},
        **{name: pd.Series([np.nan if row.get(name) is None else row[name]], dtype=np.float64)
           for name in DEMO_NUMERIC},
    })
    try:
        return [float(v) for v in pipe.predict_proba(frame)[0]]
    except ValueError:  # how scikit-learn refuses unknown categories and infinities
        return None


def _is_demo_output(path: str) -> bool:
    """True when ``path`` is a stripe-json package the demo wrote (its owner and tags), even one
    edited since (an id mismatch); anything else, readable or not, is somebody else's."""
    try:
        if sniff(path) != "stripe-json":
            return False
        package = crossform.load(path, format="stripe-json")
    except crossform.IdMismatchError as exc:
        package = exc.package
    except (CrossformError, OSError):
        return False
    return package.owner == DEMO_OWNER and package.tags == DEMO_TAGS


def run_demo(args: argparse.Namespace) -> int:
    # The README's first command must work every time it is run: the demo replaces its own
    # previous output, and refuses (before fitting, not after seconds of work) anything else.
    replacing = os.path.lexists(args.out) and not args.overwrite
    if replacing and not _is_demo_output(args.out):
        raise CommandError(f"{args.out} already exists and is not a crossform demo output; "
                           "pass --out DIR for another place, or --overwrite to replace the package there")
    _needs_sklearn("the demo")
    with progress.phase("demo: fitting the example pipeline and computing its check rows", enabled=not args.quiet):
        pipe, train, samples = demo_pipeline()
        package = crossform.from_sklearn(pipe, owner=DEMO_OWNER, tags=list(DEMO_TAGS), metadata={"dataset": "birds"})
    path = _save(package, args.out, "stripe-json", args.overwrite or replacing)
    if replacing:
        _err(f"{PROG}: replaced the demo's previous output {args.out}")
    loaded, fmt = _load(str(path))
    scores = crossform.score(loaded, samples)

    rows = []
    for i, row in enumerate(samples):
        ours = None if scores.errors[i] is not None else [float(v) for v in scores.values[i]]
        rows.append({"inputs": row, "crossform": ours, "sklearn": _sklearn_row(pipe, row), "error": scores.errors[i]})
    same_refusals = all((r["crossform"] is None) == (r["sklearn"] is None) for r in rows)
    same_values = all(r["crossform"] == r["sklearn"] for r in rows if r["crossform"] is not None)
    checked = _check(str(path), args.quiet)["checks"]
    agree = same_refusals and same_values and loaded.id == package.id and checked["ok"]
    files = _package_files(Path(path))

    if args.json:
        _print_json({
            "path": str(path),
            "id": loaded.id,
            "files": [{"name": name, "bytes": size} for name, size in files],
            "rows": [{**r, "inputs": {k: _json_float(v) for k, v in r["inputs"].items()}} for r in rows],
            "checks": {**{k: checked[k] for k in ("rows", "ok", "expected_by")},
                       "differences": checked["runtimes"][0]["differences"]},
            "agree": agree,
        })
        return EXIT_OK if agree else EXIT_FAILED

    model = pipe[-1]
    _out(f"fitted {type(model).__name__}(n_estimators={model.n_estimators}, max_depth={model.max_depth}) "
         f"on {len(train)} rows of {', '.join(DEMO_CATEGORIES)} (categorical) and "
         f"{', '.join(DEMO_NUMERIC)} (numeric) to predict {DEMO_TARGET}")
    _out(f"wrote {path} ({fmt}):")
    for line in _table(["file", "bytes"], files, right=[1]):
        _out("  " + line)
    _out(f"id {loaded.id}")
    _out("")
    column = list(loaded.outputs).index("probability(True)")

    def p_true(values):
        return "-" if values is None else _float_text(values[column])

    table = [[_show_cell(r["inputs"][name]) for name in ("bird", "food", "planet", "wingspan")]
             + [p_true(r["crossform"]), p_true(r["sklearn"]), r["error"] or ""] for r in rows]
    headers = ["bird", "food", "planet", "wingspan", "crossform P(True)", "sklearn P(True)", "error"]
    for line in _table(headers, table, right=[3, 4, 5]):
        _out("  " + line)
    _out("")
    accepted = sum(r["crossform"] is not None for r in rows)
    refused = len(rows) - accepted
    _out(textwrap.fill(f"checks: the package carries {checked['rows']} rows (at every split and leaf of the "
                       f"forest, special values, random rows) with {checked['expected_by']}'s outputs; the "
                       f"reference evaluator: {checked['runtimes'][0]['summary']}.", WIDTH))
    if agree:
        _out(f"agree: all {accepted} accepted rows score exactly as in scikit-learn, and the reference "
             f"evaluator refused exactly the {refused} rows scikit-learn refuses.")
    else:
        _out(f"DISAGREE: values equal: {same_values}; same rows refused: {same_refusals}; "
             f"id kept through save and load: {loaded.id == package.id}.")
    return EXIT_OK if agree else EXIT_FAILED


def _show_cell(value: Any) -> str:
    if value is None:
        return "(missing)"
    return _float_text(value) if isinstance(value, float) else str(value)


def demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEMO_OUT, metavar="DIR",
                        help="where to write the package (default: %(default)s); the demo's own earlier output "
                        "there is replaced, anything else is refused")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing package at --out even when the demo did not write it")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


# ---------------------------------------------------------------- export


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
        raise UsageError(f"--format {args.format} contradicts OUT {args.out}, whose extension {suffix} names "
                         f"{format_for_path(args.out)}; drop --format or rename OUT") from None
    options = {key: value for key, value in (("precision", args.precision), ("leaves", args.leaves),
                                                       ("sets", args.sets)) if value}
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
    with progress.phase(f"export: converting, with up to {rows} check rows scored by scikit-learn",
                        enabled=not args.quiet):
        package = crossform.from_sklearn(estimator, owner=args.owner, tags=args.tag or [], metadata=metadata,
                                         checks=args.checks, input_names=args.input_names)
    with progress.phase(f"export: writing {args.out} ({args.format})", enabled=not args.quiet):
        path = _save(package, args.out, args.format, args.overwrite, **options)
    model = package.model
    held, held_checks = get_format(args.format).stored(package, package.checks, **options) if options \
        else (package, package.checks)
    if args.json:
        _print_json({
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
        })
        return EXIT_OK
    _out(f"path    {path}")
    _out(f"format  {args.format}" + "".join(f", {v}" if k == "precision" else f", {k} {v}"
                                            for k, v in options.items()))
    if args.precision == "float32":
        _out(f"id      {held.id} (leaf values rounded to {args.precision})")
        _out(f"source  {package.id}")
        if held_checks is not None and held_checks.absolute:
            _out(f"scores  within {held_checks.absolute:g} of the source's (declared in the file)")
    else:
        _out(f"id      {package.id}")
    _out(f"{len(package.inputs)} inputs, {len(package.encoders)} encoders, {_describe_model(model)}")
    if held_checks is not None:
        _out(f"checks  {len(held_checks)} rows with {held_checks.expected_by}'s outputs "
             "(crossform validate scores them)")
    return EXIT_OK


def _names(text: str) -> list:
    return [name.strip() for name in text.split(",")]


def export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.joblib", help="a fitted estimator or pipeline saved with joblib.dump")
    parser.add_argument("out", metavar="OUT", help="where to write the package")
    parser.add_argument("--format", metavar="NAME",
                        help="package format (default: from OUT's extension: .onnx onnx, .pmml pmml, .pb protobuf, "
                        "anything else a stripe-json directory; see 'crossform formats')")
    parser.add_argument("--owner", metavar="O", help="the package owner, recorded in the package and its id")
    parser.add_argument("--tag", action="append", metavar="T", help="a tag (repeat for several)")
    parser.add_argument("--meta", action="append", type=_key_value, metavar="KEY=VALUE",
                        help="a metadata entry (repeat for several)")
    parser.add_argument("--input-names", type=_names, metavar="A,B,...",
                        help="the package's input names, one per column the model was fitted on, in order: for "
                        "a model fitted on a numpy array (whose columns are otherwise x0, x1, ...)")
    parser.add_argument("--checks", type=_row_count, default=None, metavar="N",
                        help="rows of checks to carry: rows at the model's splits and leaves, special values "
                        "and random rows, with scikit-learn's outputs (default: 1000; 0 for none)")
    parser.add_argument("--precision", choices=("float64", "float32"), metavar="P",
                        help="onnx only: float64 (default, exact) or float32: float32 inputs and scores, every "
                        "tree decision still exact for float32 inputs, scores within the tolerance the file "
                        "declares (see docs/formats/onnx.md)")
    parser.add_argument("--sets", choices=("columns", "member"), metavar="S",
                        help="onnx only: how category-set splits are written: columns (default; an Equal "
                        "column per set, exact in every runtime) or member (ai.onnx.ml BRANCH_MEMBER where "
                        "onnxruntime decides it exactly; onnx's ReferenceEvaluator cannot run a set holding "
                        "0.0; see docs/formats/onnx.md)")
    parser.add_argument("--leaves", choices=("on", "off"), metavar="L",
                        help="pmml only: on (default) writes an output per tree naming the leaf each row "
                        "reached; off leaves them out: JPMML scores about twice the rows/s, and validate and "
                        "conform then compare no leaves (see docs/formats/pmml.md)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing package at OUT")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _row_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of rows >= 0, got {text!r}")
    return value


# ---------------------------------------------------------------- score

EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
IO_FORMATS = ("csv", "jsonl")


def _io_format(path: str, given: str | None, flag: str, default: str | None = None) -> str:
    if given:
        return given
    if path == "-":
        if default:
            return default
        raise UsageError(f"reading stdin needs {flag} csv|jsonl")
    fmt = EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UsageError(f"cannot tell the format of {path} from its extension; give {flag} csv|jsonl")
    return fmt


@contextlib.contextmanager
def _open_input(path: str):
    # utf-8-sig drops the byte-order mark spreadsheet programs put first;
    # newline="" lets the csv module see line breaks inside quoted cells.
    if path != "-":
        with open(path, encoding="utf-8-sig", newline="") as stream:
            yield stream
        return
    if not hasattr(sys.stdin, "buffer"):  # already text, e.g. replaced by a test
        yield sys.stdin
        return
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    try:
        yield stream
    finally:
        stream.detach()  # closing the wrapper would close the process's stdin


@contextlib.contextmanager
def _open_output(path: str):
    # A regular file appears only once every row is written: an input error at the
    # last line leaves no half-written scores behind. stdout, a device (/dev/null), a
    # FIFO or a link is written in place as the rows go: replacing one would destroy it.
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    if os.path.lexists(target) and not stat.S_ISREG(os.lstat(target).st_mode):
        with open(target, "w", encoding="utf-8", newline="") as out:
            yield out
        return
    partial = target.with_name(f".{target.name}.partial")
    try:
        out = open(partial, "w", encoding="utf-8", newline="")
    except OSError as exc:  # name the file asked for, not the partial one
        raise type(exc)(exc.errno, exc.strerror, path) from None
    try:
        with out:
            yield out
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()


def _source(path: str) -> str:
    return "<stdin>" if path == "-" else path


def _row_dicts(path: str, in_format: str, fields: Sequence[ir.Field]) -> list:
    """Every row of the rows file ``path`` as a mapping (conform's --rows: rows a person wrote)."""
    rows = []
    with _open_input(path) as stream:
        for chunk in tabular.READERS[in_format](stream, fields, [], _source(path), crossform.CHUNK_ROWS):
            if chunk.errors is not None:
                unread = next(e for e in chunk.errors if e is not None)
                raise crossform.InputError(f"{_source(path)}: {unread}")
            columns = [(name, column.tolist() if hasattr(column, "tolist") else column)
                       for name, column in chunk.columns.items()]
            rows += [{name: column[i] for name, column in columns} for i in range(chunk.n_rows)]
    return rows


def _input_share(stream) -> Callable[[], str]:
    """How much of a regular input file has been read, as text for the progress line
    ("" for stdin, a pipe or a device, whose size is unknown)."""
    with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
        info = os.fstat(stream.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size:
            raw = stream.buffer

            def share() -> str:
                with contextlib.suppress(OSError, ValueError):
                    return f", {min(100, 100 * raw.tell() // info.st_size)}% of the input"
                return ""
            return share
    return lambda: ""


def run_score(args: argparse.Namespace) -> int:
    from crossform.chunks import with_row_errors
    from crossform.runtime import get_runtime

    in_format = _io_format(args.input, args.input_format, "--input-format")
    out_format = _io_format(args.output, args.output_format, "--output-format", default="csv")
    _require_path(args.package, "package")
    if args.input != "-":
        _require_path(args.input, "input")
    keep = list(args.keep or [])
    package, _ = _load(args.package)
    clash = sorted(set(keep) & (set(package.outputs) | {"error"}))
    if clash:
        raise UsageError(f"--keep {', '.join(clash)} would clash with an output column of the same name")
    score = crossform.scorer(package, args.runtime, chunk_rows=None)  # the reader's chunks are bounded already
    rows = failures = 0
    with _open_input(args.input) as stream:
        tracker, share = progress.Progress("score", enabled=not args.quiet), _input_share(stream)
        chunks = tabular.READERS[in_format](stream, package.inputs, keep, _source(args.input), args.chunk_rows)
        first = next(chunks, None)  # the header is checked before anything is written
        with _open_output(args.output) as out:
            write = tabular.WRITERS[out_format](out, keep, package.outputs)
            for chunk in itertools.chain([first] if first is not None else [], chunks):
                scores = score(chunk.columns)
                if chunk.errors is not None:
                    scores = with_row_errors(scores, chunk.errors)
                write(scores, chunk.kept)
                rows += len(scores)
                failures += len(scores.errors) - list(scores.errors).count(None)
                tracker(rows, None, f"{rows:,} rows scored{share()}")
        tracker.close()
    if not args.quiet:
        _err(f"scored {rows} rows in {args.runtime} ({get_runtime(args.runtime).version()}): {failures} row errors")
    return EXIT_FAILED if args.fail_on_row_error and failures else EXIT_OK


def _score_input_help() -> str:
    na = ", ".join(f'"{cell}"' for cell in tabular.NA_CELLS)
    paragraphs = [
        ("input", "CSV: a header row naming the columns, then one row per line (quoted cells may span "
         f"lines), UTF-8, read as pandas.read_csv reads it by default. Missing in every column: {na}. In a "
         "numeric column, True/TRUE/true is 1 and False/FALSE/false is 0; a number is plain decimal or "
         "scientific notation (1.5, -2e-3, .5) or inf/infinity in any case with an optional sign, whitespace "
         "around it ignored; any other cell (1_000, 0x10, 1,5) is a row error naming it. A categorical cell is "
         "its text as written. JSON Lines: one JSON object per line; null or an absent key is missing, true "
         "and false are 1 and 0 in a numeric column, a string in a numeric column or a number in a "
         "categorical one is a row error, and so is an integer beyond the float64 range. Rows are read and "
         "scored --chunk-rows at a time, so memory stays bounded whatever the input's size. An input error "
         "names the file and the line (stdout may already hold the rows before it; an -o file is written "
         "only when every row was)."),
        ("output", "the --keep columns, one column per model output, then \"error\" (empty, or null, when the "
         "row scored); numbers read back exactly. Progress goes to stderr once scoring lasts 2 s, then the "
         "summary line: the rows, the runtime that scored and the row errors. --quiet prints neither."),
    ]
    return "".join(f"{title}:\n" + textwrap.fill(text, WIDTH, initial_indent="  ", subsequent_indent="  ") + "\n"
                   for title, text in paragraphs)


def score_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _score_input_help() + "\n" + (parser.epilog or "")
    parser.add_argument("package", metavar="PACKAGE", help="a saved package")
    parser.add_argument("input", metavar="INPUT", help='rows to score (.csv, .jsonl, .ndjson), or "-" for stdin')
    parser.add_argument("-o", "--output", default="-", metavar="OUTPUT",
                        help='where to write the scores (default: "-", stdout)')
    parser.add_argument("--input-format", choices=IO_FORMATS, help="format of INPUT (default: from its extension)")
    parser.add_argument("--output-format", choices=IO_FORMATS,
                        help="format of OUTPUT (default: from its extension; csv for stdout)")
    parser.add_argument("--runtime", default="reference", choices=crossform.runtimes(),
                        help="the runtime that scores (default: %(default)s)")
    parser.add_argument("--keep", action="append", metavar="COLUMN",
                        help="copy this input column to the output, e.g. an id (repeat for several)")
    parser.add_argument("--fail-on-row-error", action="store_true",
                        help="exit 1 when any row could not be scored (the scores are still written): for CI")
    parser.add_argument("--chunk-rows", type=_positive, default=crossform.CHUNK_ROWS, metavar="N",
                        help="rows read and scored at a time; memory grows with it (default: %(default)s)")


def _positive(text: str) -> int:
    value = _row_count(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value


# ---------------------------------------------------------------- validate


def _runtimes_of(fmt_name: str) -> list:
    """The runtimes that score a package read from ``fmt_name``: the reference evaluator on the
    package as read, then every runtime the format lists (JPMML for pmml, onnxruntime and onnx's
    ReferenceEvaluator for onnx), which run the file itself."""
    return list(dict.fromkeys(("reference",) + tuple(get_format(fmt_name).RUNTIMES)))


def _score_checks(package: ir.Package, path: str, fmt_name: str, quiet: bool, only: Sequence[str] | None) -> dict:
    """The package's checks scored in each runtime of its format that can run here (of ``only``, when given)."""
    from crossform.checks import compare
    from crossform.runtime import get_runtime, unavailable

    fmt = get_format(fmt_name)
    checks = package.checks
    data = checks.data()
    content = None
    ran, not_run = [], []
    for name in _runtimes_of(fmt_name):
        reason = unavailable(name)
        if only is not None and name not in only:
            not_run.append({"name": name, "installed": reason is None, "reason": "left out by --runtime"})
            continue
        if reason is not None:
            not_run.append({"name": name, "installed": False, "reason": reason})
            continue
        engine = get_runtime(name)
        if name == "reference":
            scores = crossform.scorer(package)(data)
        else:
            if content is None:  # the file as it is; a directory package as its format writes it
                content = Path(path).read_bytes() if Path(path).is_file() else fmt.dumps(package)
            cannot = getattr(engine, "unsupported", None)
            reason = cannot(content) if cannot is not None else None
            if reason is not None:  # a known defect of that runtime on this very file
                not_run.append({"name": name, "installed": True, "reason": f"cannot run this file: {reason}"})
                continue
            with progress.phase(f"validate: scoring {len(checks)} check rows of {path} in {name}", enabled=not quiet):
                scores = engine.prepare(content, fmt)(data)
        comparison = compare(checks, scores, package.model)
        ran.append({
            "name": name,
            "version": engine.version(),
            "ok": comparison.ok,
            "rows": comparison.rows,
            "differences": dict(comparison.counts),
            "mismatches": [m.to_json() for m in comparison.mismatches],
            "summary": comparison.summary(),
            "lines": [m.describe() for m in comparison.mismatches],
        })
    return {
        "rows": len(checks),
        "ok": all(r["ok"] for r in ran),
        "expected_by": checks.expected_by,
        "absolute": checks.absolute,
        "runtimes": ran,
        "not_run": not_run,
    }


def _check(path: str, quiet: bool = False, only: Sequence[str] | None = None) -> dict:
    result = {"path": path, "ok": False, "format": None, "id": None, "error": None, "checks": None}
    try:
        package, result["format"] = _load(path)
    except crossform.IdMismatchError as exc:
        # Still score the checks: they say which rows the change affects.
        result["format"] = sniff(path)
        result["error"] = {"type": type(exc).__name__, "message": _one_line(exc)}
        package = exc.package
    except (CrossformError, OSError) as exc:
        try:
            result["format"] = sniff(path)
        except (CrossformError, OSError):
            pass
        result["error"] = {"type": type(exc).__name__, "message": _one_line(exc)}
        return result
    if package.checks is not None:
        result["checks"] = _score_checks(package, path, result["format"], quiet, only)
    if result["error"] is None:
        result["id"] = package.id
    result["ok"] = result["error"] is None and (result["checks"] is None or result["checks"]["ok"])
    return result


def _not_run_text(checks: dict) -> str:
    return "".join(f"; {'not installed' if not r['installed'] else 'not run'}: {r['name']} ({r['reason']})"
                   for r in checks["not_run"])


def _package_of(path: str) -> str:
    """The package ``path`` names: itself, or, for a file inside a directory package (its
    manifest or a tree file, as pre-commit passes changed files), that directory."""
    if not Path(path).is_file():
        return path
    try:
        sniff(path)
        return path  # a package of a file format
    except (CrossformError, OSError):
        pass
    from crossform.exporters import registry

    manifests = [fmt.MANIFEST for fmt in registry().values() if fmt.LAYOUT == "directory" and hasattr(fmt, "MANIFEST")]
    for parent in Path(path).parents:
        if any((parent / name).is_file() for name in manifests):
            return str(parent)
    return path  # not inside a package: reading it says why


def run_validate(args: argparse.Namespace) -> int:
    for name in args.runtime or []:
        if name not in crossform.runtimes():
            raise UsageError(f"unknown runtime {name!r}; runtimes: {', '.join(crossform.runtimes())}")
    # several changed files of one package validate it once
    packages = list(dict.fromkeys(_package_of(path) for path in args.packages))
    results = [_check(path, args.quiet, args.runtime) for path in packages]
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
            carried = (f"  checks: {checks['rows']} rows " + (f"within the declared {checks['absolute']:g} of "
                       if checks["absolute"] else "identical to ") + checks["expected_by"]
                       + f" in {', '.join(e['name'] for e in checks['runtimes'])}" + _not_run_text(checks)
                       ) if checks else ""
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
    parser.add_argument("packages", nargs="+", metavar="PACKAGE",
                        help="packages to check; a file inside a directory package (its MODEL manifest, as "
                        "pre-commit passes it) checks that package")
    parser.add_argument("--runtime", action="append", metavar="NAME",
                        help="score the checks only in this runtime (repeat for several; default: the reference "
                        "and every installed runtime of each package's format); the others are named as left out")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# ---------------------------------------------------------------- conform


def _conform_cases(args: argparse.Namespace) -> list:
    from crossform import conformance

    cases = []
    for path in args.paths:
        _require_path(path, "package or suite")
        if conformance.is_suite(path):
            if args.rows:
                raise UsageError(f"--rows applies to packages; {path} is a conformance suite")
            suite = conformance.load_suite(path)
            if len(args.paths) > 1:  # several suites may share case names
                for case in suite:
                    case.name = f"{path}: {case.name}"
            cases += suite
            continue
        rows = None
        if args.rows:
            try:
                package, _ = _load(path)
            except crossform.IdMismatchError as exc:
                package = exc.package
            in_format = _io_format(args.rows, args.input_format, "--input-format")
            rows = _row_dicts(args.rows, in_format, package.inputs)
        cases += conformance.package_cases(path, rows, rows_name=Path(args.rows).name if args.rows else "rows",
                                           max_rows=args.max_rows, seed=args.seed)
    return cases


def _cell(results: list) -> str:
    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status == "failed" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    parts = [f"{passed} passed"] if passed or not (failed or skipped) else []
    if failed:
        parts.append(f"{failed} FAILED")
    if skipped:
        parts.append(f"{skipped} skipped")
    return ", ".join(parts)


def print_matrix(report) -> None:
    from crossform.conformance import failure_lines

    pairs = report.pairs()
    formats = list(dict.fromkeys(f for f, _ in pairs))
    runtimes = list(dict.fromkeys(r for _, r in pairs))
    table = []
    for fmt in formats:
        row = [fmt]
        for runtime in runtimes:
            cell = [r for r in report.results if (r.format, r.runtime) == (fmt, runtime)]
            row.append(_cell(cell) if cell else "-")
        table.append(row)
    _out(f"{len(report.cases)} cases x {len(pairs)} format/runtime pairs = {len(report.results)} results")
    _out("")
    for line in _table(["format"] + runtimes, table):
        _out("  " + line)
    failed = [r for r in report.results if r.status == "failed"]
    skipped = [r for r in report.results if r.status == "skipped"]
    if failed:
        _out("")
        _out("failed:")
        for r in failed:
            _out(f"  {r.case}  [{r.format} x {r.runtime}]")
            for line in failure_lines(r):
                _out(f"      {line}")
    if skipped:
        _out("")
        _out("skipped:")
        reasons: dict = {}
        for r in skipped:
            reasons.setdefault((r.format, r.runtime, r.reason), []).append(r.case)
        for (fmt, runtime, reason), cases in reasons.items():
            _out(f"  {fmt} x {runtime}: {reason} ({len(cases)} cases)")
    _out("")
    verdict = "ok" if report.ok else "FAILED"
    _out(f"{verdict}: {report.count('passed')} passed, {report.count('failed')} failed, "
         f"{report.count('skipped')} skipped")


def run_conform(args: argparse.Namespace) -> int:
    from crossform import conformance

    from crossform.exporters import labels as format_labels

    known = [label for name in crossform.formats() for label in format_labels(name)]
    for name in args.format or []:
        if name not in known:
            raise UsageError(f"unknown format {name!r}; formats and variants: {', '.join(known)}")
    for name in args.runtime or []:
        if name not in crossform.runtimes():
            raise UsageError(f"unknown runtime {name!r}; runtimes: {', '.join(crossform.runtimes())}")
    if args.rows and args.rows != "-":
        _require_path(args.rows, "rows file")
    cases = _conform_cases(args)
    report = conformance.run(cases, args.format, args.runtime,
                             progress=progress.Progress("conform", enabled=not (args.quiet or args.no_progress)))
    if args.junit:
        with open(args.junit, "wb") as fh:
            fh.write(report.junit())
    if args.json:
        _print_json(report.to_json())
    else:
        print_matrix(report)
    return EXIT_OK if report.ok else EXIT_FAILED


def conform_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a package, a conformance suite directory (holding cases/), or a case file")
    parser.add_argument("--rows", metavar="FILE", help="also check these rows (.csv or .jsonl) against the reference")
    parser.add_argument("--input-format", choices=IO_FORMATS, help="format of --rows (default: from its extension)")
    parser.add_argument("--format", action="append", metavar="NAME",
                        help="check only this format and its variants, or one variant such as onnx[float32] "
                        "(repeat for several; default: every registered format and variant)")
    parser.add_argument("--runtime", action="append", metavar="NAME",
                        help="check only this runtime (repeat for several; default: every runtime of each format)")
    parser.add_argument("--max-rows", type=_row_count, default=DEFAULT_MAX_ROWS, metavar="N",
                        help="rows generated at a package's splits (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the generated rows (default: 0)")
    parser.add_argument("--json", action="store_true",
                        help="print the report as JSON (schemas/conform-report-2.schema.json)")
    parser.add_argument("--junit", metavar="FILE", help="also write the report as JUnit XML, one testcase per "
                        "case x format x runtime")
    parser.add_argument("--no-progress", action="store_true", help="the same as --quiet")


# ---------------------------------------------------------------- suite


def run_suite(args: argparse.Namespace) -> int:
    from crossform.conformance import check_suite

    _require_path(args.path, "suite")
    count, problems = check_suite(args.path)
    if args.json:
        _print_json({"path": args.path, "cases": count, "ok": not problems,
                     "problems": [p.to_json() for p in problems]})
    else:
        for p in problems:
            _out(f"FAIL {p.file}" + (f" [{p.case}]" if p.case else "") + f": {p.problem}")
        verdict = "ok" if not problems else f"FAILED: {len(problems)} problems"
        _out(f"{verdict}: {count} cases in {args.path}")
    return EXIT_OK if not problems else EXIT_FAILED


def suite_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default="conformance", metavar="DIR",
                        help="the suite directory, or one case file (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# ---------------------------------------------------------------- id


def run_id(args: argparse.Namespace) -> int:
    found = []
    for path in args.packages:
        try:
            package, _ = _load(path)
        except (CrossformError, OSError) as exc:
            _err(f"{PROG}: error: {_one_line(exc)}")
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


# ---------------------------------------------------------------- formats


def run_formats(args: argparse.Namespace) -> int:
    table = []
    for name in crossform.formats():
        fmt = get_format(name)
        table.append({"name": name, "version": fmt.VERSION, "layout": fmt.LAYOUT, "runtimes": list(fmt.RUNTIMES),
                      "options": {k: list(v) for k, v in getattr(fmt, "OPTIONS", {}).items()},
                      "variants": [f"{name}[{v}]" for v in getattr(fmt, "VARIANTS", {})]})
    if args.json:
        _print_json(table)
        return EXIT_OK
    rows = [[t["name"], t["version"], t["layout"], ", ".join(t["runtimes"]),
             "; ".join(f"{k}: {', '.join(v)}" for k, v in t["options"].items()) or "-"] for t in table]
    for line in _table(["name", "version", "layout", "runtimes", "options"], rows):
        _out(line)
    return EXIT_OK


def formats_arguments(parser: argparse.ArgumentParser) -> None:
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
        "encoders": [{"type": e.encoder_type, "features": list(e.features), "outputs": list(e.outputs)}
                     for e in package.encoders],
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
        "checks": None if package.checks is None else {
            "rows": len(package.checks), "expected_by": package.checks.expected_by,
            "row_errors": int(package.checks.errors.sum()),
            "tolerance": {"relative": package.checks.tolerance, "absolute": package.checks.absolute}},
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
    properties = getattr(get_format(fmt), "properties", None)
    if properties is not None and Path(args.package).is_file():
        # a format names its properties for people ("source id"); --json keys are snake_case
        doc["properties"] = {key.replace(" ", "_"): value
                             for key, value in properties(Path(args.package).read_bytes()).items()}
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
        _out(f"  {model['features']} features, {model['scores']} linear score{'s' if model['scores'] > 1 else ''}, "
             f"post transform {model['post_transform']}")
    else:
        _out(f"  {model['features']} features, {model['trees']} trees, {model['nodes']} nodes, "
             f"max depth {model['max_depth']}, post transform {model['post_transform']}")
    if model["classes"] is not None:
        _out(f"  classes: {_name_list([str(c) for c in model['classes']], WIDTH - 11)}")
    else:
        _out(f"  outputs: {_name_list(model['outputs'], WIDTH - 11)}")
    _out(f"producer  {' '.join(f'{k}={v}' for k, v in doc['producer'].items()) or '-'}")
    checks = doc["checks"]
    _out(f"checks    {checks['rows']} rows ({checks['row_errors']} row errors), outputs from {checks['expected_by']}"
         + (f", within {checks['tolerance']['absolute']:.2g} (declared)" if checks["tolerance"]["absolute"] else "")
         if checks else "checks    -")
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


# ---------------------------------------------------------------- parser and main

# name -> (function, argument builder, one-line summary, description, example)
COMMANDS: dict[str, tuple[Callable, Callable, str, str, str]] = {
    "demo": (
        run_demo, demo_arguments,
        "fit and export an example; compare it with scikit-learn",
        "Fit an example pipeline (imputers, an ordinal encoder and a random forest on "
        "2000 rows of bird data), export it as a package, load it back and score six sample "
        "rows with both crossform and scikit-learn, including a missing bird, an unknown "
        "planet and an infinite wingspan. Exits 1 if the two disagree on any row. Needs "
        "scikit-learn, pandas and joblib. With --json, non-finite input numbers are written "
        'as the strings "Infinity", "-Infinity" and "NaN".',
        "crossform demo --out /tmp/birds --overwrite",
    ),
    "export": (
        run_export, export_arguments,
        "convert a joblib-saved scikit-learn estimator into a package",
        "Load a fitted scikit-learn estimator or pipeline with joblib.load, convert it and "
        "save it as a package. Loading a joblib file runs code from it, so export only files "
        "you trust. Owner, tags and metadata are recorded in the package and change its id. "
        "Needs scikit-learn, pandas and joblib.",
        "crossform export model.joblib fraud-pkg --owner fraud-team --tag prod --meta ticket=FR-12\n"
        "  crossform export model.joblib fraud.onnx --precision float32   # the format from the extension",
    ),
    "score": (
        run_score, score_arguments,
        "score CSV or JSON Lines rows with a package",
        "Score every row of INPUT with the package and write one output row per input row: "
        "the --keep columns, one column per model output, then \"error\" (empty, or null, when "
        "the row scored). Cells are read as pandas.read_csv reads them (below; "
        "docs/tabular-input.md). A row that cannot be scored is a row error and the others "
        "still score; --fail-on-row-error makes any row error exit 1. A summary naming the "
        "runtime goes to stderr.",
        "crossform score fraud-pkg transactions.csv -o scores.csv --keep id\n"
        "  cat rows.jsonl | crossform score fraud-pkg - --input-format jsonl --output-format jsonl",
    ),
    "validate": (
        run_validate, validate_arguments,
        "check packages: schemas, structure and id",
        "Read each package as scoring would: check every file against its JSON Schema, build "
        "and check the model, and recompute the id from the content, which must equal the "
        "recorded one (so an edited file is caught). Then score the checks the package "
        "carries (rows with the outputs scikit-learn gave at export) in the reference evaluator "
        "and in every runtime of the package's format that is installed (onnxruntime and onnx's "
        "ReferenceEvaluator for .onnx, JPMML for .pmml), which score the file itself, and name "
        "every row that differs. The line says which runtimes ran and names those that are not "
        "installed. Exits 1 if any package fails.",
        "crossform validate fraud-pkg churn-pkg",
    ),
    "conform": (
        run_conform, conform_arguments,
        "check that every format and runtime scores a package or the suite identically",
        "For each package: write it in every registered format, read it back (the id must "
        "not change), and score rows in every runtime that executes the format: the checks "
        "the package carries (scikit-learn's outputs at export), rows generated at the "
        "model's own splits and leaves, and the --rows file, the last two compared with the "
        "reference evaluator on the package as stored. A PATH holding cases/ (the "
        "conformance suite) or a case file runs those cases against scikit-learn's recorded "
        "outputs. Runtimes that are not installed are skipped, with the reason, never "
        "silently. Exits 0 when nothing failed, 1 on any difference (naming the case, the "
        "row and the difference), 2 on bad usage.",
        "crossform conform fraud-pkg --junit conform.xml\n"
        "  crossform conform conformance/ --json > report.json",
    ),
    "suite": (
        run_suite, suite_arguments,
        "check the conformance suite itself",
        "Check a conformance suite: every case file valid against "
        "schemas/conformance-cases-1.schema.json and named after its feature, case names and "
        "descriptions unique and short, every referenced package present and hashing to the "
        "id its case records, rows covering the package's inputs, expected outputs matching "
        "the package's. Exits 1 on any problem.",
        "crossform suite conformance",
    ),
    "id": (
        run_id, id_arguments,
        "print the id of packages",
        "Print the id of each package, recomputed from its content and checked against the "
        "recorded one. Packages with equal ids score identically.",
        "crossform id fraud-pkg",
    ),
    "formats": (
        run_formats, formats_arguments,
        "list the package formats this crossform reads and writes",
        "List the registered package formats with their format version, layout (a directory "
        "or a single file) and the runtimes that execute them.",
        "crossform formats --json",
    ),
    "info": (
        run_info, info_arguments,
        "describe a package: inputs, encoders, model, owner",
        "Describe a package: its format, id, owner, tags and metadata, its inputs, its "
        "encoders in the order they apply, the model (type, trees, nodes, depth, classes) "
        "and the library versions that wrote it.",
        "crossform info fraud-pkg",
    ),
    "compat": (
        run_compat, compat_arguments,
        "which crossform releases and runtimes read a package",
        "Report a package's format and format version (read even when this crossform cannot "
        "read the package), whether this crossform reads it, its id when it loads (the error "
        "when not), the crossform releases that read it (docs/FORMATS.md) and, per runtime "
        "of the format, the versions that run it. Exits 0 when this crossform reads the "
        "package, 1 when it cannot. --json prints one object: path, format, format_version, "
        "crossform (this version), reads (\"reads\", \"reads with a warning: newer minor\", or "
        "\"cannot read: ...\"), ok, id, error, warnings, readers {text, ranges: [{from, before, "
        "specifier, warning}], needs} (ranges null: not recorded; needs: what makes older releases "
        "refuse it, or null) and runtimes [{name, versions}] "
        "(versions null: not recorded).",
        "crossform compat fraud-pkg --json",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=textwrap.fill("Export fitted scikit-learn pipelines to portable model packages, and "
                                  "score, check and describe those packages.", WIDTH),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {crossform.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)
    for name, (_, add_arguments, summary, description, example) in COMMANDS.items():
        sub = commands.add_parser(
            name, help=summary, description=textwrap.fill(description, WIDTH), epilog=f"examples:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_arguments(sub)
        # one flag for every command, so that any long step can report progress (crossform.progress)
        sub.add_argument("-q", "--quiet", action="store_true",
                         help="no progress on stderr for long work (warnings and errors still show)")
    return parser


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, CrossformError):
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    function = COMMANDS[args.command][0]
    try:
        return function(args)
    except UsageError as exc:
        _err(f"{PROG}: error: {exc}")
        return EXIT_USAGE
    except (CrossformError, CommandError) as exc:
        _err(f"{PROG}: error: {_one_line(exc)}")
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (e.g. "| head"); nothing left to tell anyone.
        _silence_stdout()
        return EXIT_FAILED
    except FileNotFoundError as exc:
        _err(f"{PROG}: error: {_one_line(exc)}")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"{PROG}: error: {_one_line(exc)}")
        return EXIT_FAILED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


if __name__ == "__main__":
    sys.exit(main())
