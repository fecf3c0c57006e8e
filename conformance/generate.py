"""Write the conformance suite from the seeded generators, or check it is current.

    python conformance/generate.py            rewrite cases/*.json and packages/
    python conformance/generate.py --check    regenerate into a temporary folder and exit 1
                                              naming every difference beyond the ulps that
                                              machines differ by (compare_suites.py)
    python conformance/generate.py --golden   add conformance/golden/<format>/<version>/
                                              for format versions that have none yet

Expected outputs come from scikit-learn (crossform.sklearn.expect), rows from
crossform.vectors at each model's splits. Needs crossform[sklearn].
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compare_suites import compare  # noqa: E402
from coverage_table import builtin_table, estimator_classes, qualified  # noqa: E402
from generators import FEATURES, GENERATORS, MISSING_LIBRARIES  # noqa: E402

import crossform  # noqa: E402
from crossform.checks import to_document  # noqa: E402
from crossform.exporters import get_format, labels, parse_label  # noqa: E402
from crossform.sklearn.expect import expect  # noqa: E402
from crossform.vectors import generate  # noqa: E402

MAX_ROWS = 1000
SEED = 0
# Golden packages: a few cases that together use every encoder and both tasks; the second
# list uses every kind added in crossform 0.5.0 (boosting, linear models, new encoders, set
# splits, isolation scores). A golden directory holds only the packages recording its version.
GOLDEN = ("rf-binary", "unknown-is-error", "encoded-missing", "rf-string-classes", "impute-then-scale")
GOLDEN_NEW = (
    "gb-binary",
    "gb-multiclass",
    "one-hot-infrequent",
    "missing-indicators",
    "min-max-robust-max-abs",
    "logistic-binary",
    "sgd-hinge-binary",
    "hgb-binary-categorical",
    "hgb-regression",
    "isolation-forest",
    "missing-indicator-strict",
)
GOLDEN_CHECKS = 200


def pretty(value, indent: int = 0) -> str:
    """JSON with one row per line: readable, diffable, and not one number per line."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}  {json.dumps(k)}: {pretty(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [f"{pad}  {pretty(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def build(root: Path, names=None, fmt: str = "stripe-json", checks: int = 0, options=None, version=None) -> list:
    """Fit, export and score every generator into ``root``; return the files written.

    ``checks``: rows of checks each package carries (golden packages carry
    some, so that reading checks is tested forever too). ``options``: a
    variant's options (onnx's precision="float32"): the case then holds the
    package the file holds and the rows and tolerance it is held to."""
    options = options or {}
    written = []
    by_feature: dict = {}
    uses: dict = {}  # case -> the estimators (with built-in converters) its fit uses, for coverage.py
    supported = {qualified(cls) for classes in builtin_table().values() for cls in classes}
    for feature, name, description, fit in GENERATORS:
        if names is not None and name not in names:
            continue
        estimator = fit()
        uses[name] = sorted({qualified(cls) for cls in estimator_classes(estimator)} & supported)
        input_names = getattr(fit, "input_names", None)
        package = crossform.from_sklearn(estimator, checks=checks, input_names=input_names)
        package = package.replace(producer={})  # library versions would make every upgrade a diff
        suffix = "" if get_format(fmt).LAYOUT == "directory" else f".{fmt}"
        relative = f"packages/{name}{suffix}"
        crossform.save(package, root / relative, format=fmt, overwrite=True, **options)
        if version is not None and _recorded(fmt, root / relative) != version:
            _remove(root / relative)  # a golden directory keeps only packages of its own version
            continue
        vectors = generate(package, seed=SEED, max_rows=MAX_ROWS)
        expected = expect(
            estimator,
            package,
            package.inputs,
            vectors.rows,
            vectors.labels,
            f"{len(vectors)} rows: splits, leaves, special values, random rows",
            input_names=input_names,
        )
        if options:
            package, expected = get_format(fmt).stored(package, expected, **options)
        by_feature.setdefault(feature, []).append(
            {
                "name": name,
                "description": description,
                "package": relative,
                "generator": f"{Path(inspect.getsourcefile(fit)).name}:{fit.__name__}",
                "id": package.id,
                "vectors": to_document(expected),
            }
        )
        written.append(root / relative)
        print(f"  {feature}/{name}: {len(vectors)} rows, {int(expected.errors.sum())} row errors", file=sys.stderr)
    (root / "cases").mkdir(parents=True, exist_ok=True)
    for feature, cases in by_feature.items():
        doc = {"suiteVersion": "1", "feature": feature, "description": FEATURES[feature], "cases": cases}
        path = root / "cases" / f"{feature}.json"
        path.write_text(pretty(doc) + "\n", encoding="utf-8")
        written.append(path)
    if names is None:
        path = root / "estimators.json"
        path.write_text(json.dumps(uses, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _recorded(fmt: str, path: Path) -> str:
    from crossform.exporters import _source

    return get_format(fmt).read_version(_source(path))


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path) if path.is_dir() else path.unlink()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if regenerating would change any file")
    parser.add_argument("--golden", action="store_true", help="write golden packages for new format versions")
    args = parser.parse_args(argv)
    if MISSING_LIBRARIES:  # the suite holds every family's cases: none may be left out silently
        missing = ", ".join(f"{library} (for {module})" for library, module in MISSING_LIBRARIES.items())
        print(f"generate.py: not installed: {missing}; pip install -e '.[all]'", file=sys.stderr)
        return 2
    if args.golden:
        for fmt in crossform.formats():
            # the default and each variant: a variant may write its own version (onnx[float32]: 1.1)
            for label in labels(fmt):
                module, _, options = parse_label(label)
                written = getattr(module, "written_version", None)
                version = written(**options) if written is not None else module.VERSION
                # a variant recording the default's version gets a directory of its own
                shared = options and written is not None and version == written()
                target = HERE / "golden" / fmt / (f"{version}-{'-'.join(options.values())}" if shared else version)
                if target.exists():
                    print(f"{target} exists; golden packages are never rewritten", file=sys.stderr)
                    continue
                build(target, GOLDEN + GOLDEN_NEW, fmt, checks=GOLDEN_CHECKS, options=options, version=version)
                print(f"wrote {target} ({label})", file=sys.stderr)
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            build(Path(tmp))
            differ, report = compare(HERE, Path(tmp))
        if differ:
            print(
                "the conformance suite is not what its generators produce (beyond what machines differ by; "
                "conformance/README.md, 'Changing the suite'):",
                file=sys.stderr,
            )
            for line in differ:
                print(f"  {line}", file=sys.stderr)
            print("run: python conformance/generate.py (and review the diff)", file=sys.stderr)
            return 1
        print(f"the conformance suite is current: {report}", file=sys.stderr)
        return 0
    build(HERE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
