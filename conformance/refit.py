"""Refit every conformance generator with this interpreter's scikit-learn, LightGBM and XGBoost
and prove crossform exports the fit exactly.

The committed suite (generate.py) is fitted with one release of each library; users fit with
the releases they run, whose fitted attributes, model dumps and predict rules differ. Run under another release
(a side venv: `./dev test` makes one with the oldest releases crossform supports, from
conformance/oldest-constraints.txt), this fits each generator, exports it with its checks (rows
at every split with that release's own predict outputs), writes and reads it back in every
format whose writer can run here, and scores the checks with the reference evaluator. Any row
that differs from what that library computed is a failure, except the known gaps below,
which are reported by name with their reason.

Run: python conformance/refit.py [--json PATH]   (exit 0 when every fit matches or is a named
gap or skip; 1 otherwise)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sklearn  # noqa: E402
from generators import GENERATORS, MISSING_LIBRARIES  # noqa: E402

import crossform  # noqa: E402
from crossform.checks import compare  # noqa: E402
from crossform.exporters import formats, get_format  # noqa: E402

# (case name, first release where it is exact) -> why an older release differs
KNOWN_GAPS = {
    ("linear-regression", "1.6"): (
        "before 1.6, LinearRegression solved a rank-deficient design (one-hot columns with an "
        "intercept) with coefficients near 1e13 that cancel, so its predictions are rounding noise "
        "that depends on the order BLAS adds the products in; docs/SEMANTICS.md leaves that order free"
    ),
}


def boosting_versions() -> dict:
    """The LightGBM and XGBoost releases here (their generators' fits), by package name."""
    found = {}
    for library in ("lightgbm", "xgboost"):
        if library not in MISSING_LIBRARIES:
            found[library] = sys.modules[library].__version__
    return found


def installed_version(library: str) -> str:
    """The version of ``library`` (a distribution name: "scikit-learn", "xgboost") this fit runs with."""
    return sys.modules["sklearn" if library == "scikit-learn" else library].__version__


def release(version: str) -> tuple:
    return tuple(int(part) for part in version.split(".")[:2])


def refit(fit, name: str, folder: str) -> dict:
    """What one generator's fit gives: ok, a named skip or gap, or the rows that differ per format."""
    if fit.since is not None:
        needed, why, *library = fit.since
        library = library[0] if library else "scikit-learn"
        if release(installed_version(library)) < release(needed):
            return {"status": "skipped", "reason": f"needs {library} >= {needed}: {why}"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and feature-name warnings of the fits
        estimator = fit()
        package = crossform.from_sklearn(estimator, input_names=fit.input_names)
    differences, not_written, refused = {}, {}, {}
    for fmt_name in ["ir", *formats()]:
        if fmt_name == "ir":
            read = package
        else:
            cannot = get_format(fmt_name).unsupported(package)
            if cannot is not None:  # the format refuses this kind by name (the coverage table's skips)
                refused[fmt_name] = cannot
                continue
            path = Path(folder) / f"{name}.{fmt_name}"
            try:
                crossform.save(package, path, format=fmt_name)
            except ImportError as exc:  # the format's writer needs an extra this venv lacks
                not_written[fmt_name] = f"{type(exc).__name__}: {exc}"
                continue
            read = crossform.load(path, format=fmt_name)
        # the checks as read back: a format that renumbers nodes (bonsai) renumbers their leaves too
        comparison = compare(read.checks, crossform.scorer(read)(read.checks.data()), read.model)
        if not comparison.ok:
            differences[fmt_name] = comparison.summary()
    result = {
        "rows": len(package.checks),
        "inputs": [f.name for f in package.inputs],  # the names a user's rows carry, as in the suite
        "not_written": not_written,
        "refused_by_format": refused,
    }
    if not differences:
        return {"status": "ok", **result}
    for (case_name, exact_since), reason in KNOWN_GAPS.items():
        if case_name == name and release(sklearn.__version__) < release(exact_since):
            return {"status": "known gap", "reason": reason, "differences": differences, **result}
    return {"status": "failed", "differences": differences, **result}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    libraries = {"scikit-learn": sklearn.__version__, **boosting_versions()}
    print(", ".join(f"{n} {v}" for n, v in libraries.items()) + f", crossform {crossform.__version__}", file=sys.stderr)
    results = {}
    for _feature, name, _description, fit in GENERATORS:
        try:
            with tempfile.TemporaryDirectory() as folder:
                results[name] = refit(fit, name, folder)
        except Exception as exc:  # a fit or an export that fails is a failure of that case, named
            results[name] = {"status": "failed", "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        outcome = results[name]
        detail = outcome.get("reason") or outcome.get("error") or outcome.get("differences") or ""
        print(f"  {name:36} {outcome['status']:10} {detail}", file=sys.stderr)
    for library, module in MISSING_LIBRARIES.items():  # a whole family, named once
        results[module] = {"status": "skipped", "reason": f"{library} is not installed here"}
        print(f"  {module:36} skipped    {library} is not installed here", file=sys.stderr)
    counts = {}
    for outcome in results.values():
        counts[outcome["status"]] = counts.get(outcome["status"], 0) + 1
    summary = {
        **libraries,
        "crossform": crossform.__version__,
        "counts": counts,
        "seconds": round(time.perf_counter() - started, 1),
        "cases": results,
    }
    print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())), file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
    return 1 if counts.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
