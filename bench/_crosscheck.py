"""What bench/onnx_crosscheck.py and bench/pmml_crosscheck.py share.

Each puts an anchor converter's file next to crossform's on every fit of the
conformance suite: the cases hold scikit-learn's recorded outputs, crossform's
file is held to the full conformance rule (values, classes, leaves, rows in
error), and the anchor's differences are counted by the script's own measure.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conformance"))


class Unconverted(Exception):
    """The anchor did not convert the fit; the message is its reason."""


class Uncompared(Unconverted):
    """The anchor converted the fit, but its file gives no outputs to set beside scikit-learn's."""


def cases() -> dict:
    """name -> the case's checks (rows and scikit-learn's outputs), from conformance/cases."""
    from crossform.checks import from_document

    out = {}
    for file in sorted((ROOT / "conformance" / "cases").glob("*.json")):
        doc = json.loads(file.read_text(encoding="utf-8"))
        for entry in doc["cases"]:
            out[entry["name"]] = from_document(entry["vectors"], str(file))
    return out


def ours(package, checks, format_name: str, runtime: str):
    """Rows where crossform's file, scored in ``runtime``, differs from the library in any way, or
    why the format does not write the package."""
    from crossform.checks import compare
    from crossform.exporters import get_format
    from crossform.runtime import get_runtime

    fmt = get_format(format_name)
    reason = fmt.unsupported(package)
    if reason is not None:  # a named skip of the format (XGBoost's float32 sums in PMML): said, not counted
        return f"not written ({reason.split(':')[0][:60]})"
    content = fmt.dumps(package)
    scores = get_runtime(runtime).prepare(content, fmt)(checks.data())
    return sum(compare(checks, scores, fmt.loads(content).model).counts.values())


def crosscheck(anchor: str, format_name: str, runtime: str, measure: Callable, names=None) -> list:
    """One dict per fit: name, rows, refused (by scikit-learn), ``anchor`` (what ``measure(estimator,
    package, checks)`` returns, or None with ``reason`` when it raises Unconverted), ours."""
    from generators import GENERATORS

    import crossform

    by_name = cases()
    rows = []
    for _, name, _, fit in GENERATORS:
        if names is not None and name not in names:
            continue
        checks = by_name[name]
        estimator = fit()
        package = crossform.from_sklearn(estimator, checks=0).replace(producer={})
        row = {
            "name": name,
            "rows": len(checks),
            "refused": int(checks.errors.sum()),
            anchor: None,
            "reason": None,
            "ours": ours(package, checks, format_name, runtime),
        }
        try:
            row.update(measure(estimator, package, checks))
        except Unconverted as exc:
            row["reason"] = str(exc)
            row["uncompared"] = isinstance(exc, Uncompared)
        rows.append(row)
    return rows


def main(
    argv, doc: str, crosscheck_fn: Callable, anchor: str, format_name: str, heading: str, described: Callable
) -> int:
    """The command line of a cross-check: ``[--markdown] [CASE...]``, one line (or table row) per
    fit; ``described(row)`` is the anchor's cell for a fit it converted."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("cases", nargs="*", metavar="CASE", help="only these cases (default: all)")
    args = parser.parse_args(argv)
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")  # float32 casts of the rows beyond its range, and converter notices
        rows = crosscheck_fn(set(args.cases) or None)
    if args.markdown:
        print(f"| case | rows | refused by scikit-learn | {heading} | crossform {format_name} |")
        print("|---|---|---|---|---|")
    for r in rows:
        got = (
            described(r)
            if r[anchor] is not None
            else (f"not compared ({r['reason']})" if r.get("uncompared") else f"not converted ({r['reason']})")
        )
        if args.markdown:
            print(f"| {r['name']} | {r['rows']} | {r['refused']} | {got} | {r['ours']} |")
        else:
            print(f"{r['name']:24} {r['rows']:5} rows {r['refused']:4} refused  {anchor} {got}  crossform {r['ours']}")
    return 0
