"""The conformance suite and its runner: the suite is current and valid, every
case passes in every format and runtime, and a changed package is caught
and named down to the case, the row and the difference."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import crossform
from crossform import checks as checks_module
from crossform import conformance
from crossform.cli import main
from crossform.exporters import _json, get_format
from helpers.edit import changed_tree, edit_saved_trees
from helpers.paths import REPO

ROOT = REPO
SUITE = ROOT / "conformance"
GOLDEN = SUITE / "golden"


def run_cli(capsys, *argv) -> tuple:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def suite_report():
    return conformance.run(conformance.load_suite(SUITE))


# ---------------------------------------------------------------- the suite itself


def test_suite_is_current_with_its_generators():
    """CI regenerates every expected output from scikit-learn and fails on any difference."""
    done = subprocess.run(
        [sys.executable, str(SUITE / "generate.py"), "--check"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_suite_check_passes(capsys):
    code, out, _ = run_cli(capsys, "suite", SUITE)
    assert code == 0, out
    assert "ok:" in out


def test_suite_covers_the_features():
    files = {p.stem for p in (SUITE / "cases").glob("*.json")}
    assert {"splits", "missing", "categories", "multiclass", "encoders", "one-hot", "boosting", "linear"} <= files
    cases = conformance.load_suite(SUITE)
    assert len(cases) >= 15
    labels = [label for case in cases for label in case.checks.labels]
    for kind in ("at threshold", "float32 midpoint", "missing", "leaf", "inf", "unknown category", "random"):
        assert any(kind in label for label in labels), kind
    assert sum(int(case.checks.errors.sum()) for case in cases) > 0


def _copy_suite(tmp_path: Path, features=None) -> Path:
    """A copy of the corpus to edit: every case file, or only those of `features` (case file
    stems) with the packages their cases name, which a check or a run then reads alone."""
    target = tmp_path / "suite"
    (target / "cases").mkdir(parents=True)
    files = sorted((SUITE / "cases").glob("*.json"))
    if features is None:
        shutil.copytree(SUITE / "packages", target / "packages")
    else:
        files = [SUITE / "cases" / f"{feature}.json" for feature in features]
        for file in files:
            for case in json.loads(file.read_text())["cases"]:
                source = SUITE / case["package"]
                copy = shutil.copytree if source.is_dir() else shutil.copy
                (target / case["package"]).parent.mkdir(parents=True, exist_ok=True)
                copy(source, target / case["package"])
    for file in files:
        shutil.copy(file, target / "cases" / file.name)
    return target


def _case_file_of(case: str) -> str:
    """The feature (case file stem) whose file holds the case named `case`."""
    for file in sorted((SUITE / "cases").glob("*.json")):
        if any(c["name"] == case for c in json.loads(file.read_text())["cases"]):
            return file.stem
    raise AssertionError(f"no case file holds a case named {case!r}")


def _edit_case_file(suite: Path, feature: str, edit) -> None:
    path = suite / "cases" / f"{feature}.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda d: d["cases"][1].update(name=d["cases"][0]["name"]), "is also used"),
        (lambda d: d["cases"][1].update(description=d["cases"][0]["description"]), "is also used by case"),
        (lambda d: d["cases"][0].update(description="x" * 121), "violates"),
        (lambda d: d["cases"][0].update(package="packages/nowhere"), "no such file"),
        (lambda d: d["cases"][0].update(id="sha256." + "A" * 52), "hashes to"),
        (lambda d: d.update(feature="other"), "differs from the file name"),
        (lambda d: d["cases"][0]["vectors"]["rows"][0].append(1.0), "values (one per column)"),
    ],
)
def test_suite_check_names_each_problem(tmp_path, capsys, edit, problem):
    suite = _copy_suite(tmp_path, ["splits"])
    code, out, _ = run_cli(capsys, "suite", suite)
    assert code == 0, f"the unedited copy should pass the check:\n{out}"
    _edit_case_file(suite, "splits", edit)
    code, out, _ = run_cli(capsys, "suite", suite)
    assert code == 1
    assert problem in out, out


# ---------------------------------------------------------------- the corpus passes


# (case, format) -> why that format cannot express the case: the only skips the corpus may have.
# Each is a named skip in every report and listed in the README's coverage table.
# onnx's ReferenceEvaluator (onnx 1.23.2, op_tree_ensemble.py) ends a BRANCH_MEMBER set at a member
# 0.0, and category code 0 is in these cases' sets: the native-set variant is a named skip there.
# PMML states a numeric field's valid values as one interval: an unknown number that is a row error
# (numeric categories under handle_unknown="error") cannot be declared, so pmml refuses that package.
KNOWN_SKIPS: dict = {
    **{
        (case, "onnx[member]", "onnx-reference"): "ends a BRANCH_MEMBER set at a member 0.0"
        for case in (
            "hist-boosting/hgb-binary-categorical",
            "hist-boosting/hgb-multiclass",
            "hist-boosting/hgb-quantile-categorical",
            "hist-boosting/hgb-string-categories",
            "lightgbm/lgbm-pandas-categories",
            "number-category-splits/hgb-integer-boolean-dtypes",
            "number-category-splits/lgbm-number-categories-multiclass",
            "xgboost-categories/xgb-pandas-categories",
            "xgboost-categories/xgb-pandas-categories-one-hot",
        )
    },
    **{
        ("numeric-categories/ordinal-numeric-error", pmml, "jpmml"): "valid values as one interval, not a set"
        for pmml in ("pmml", "pmml[no-leaves]")
    },
}
# The float32 variant cannot bound normalising three or more classes' calibrated probabilities
# by their sum (onnx._float32, docs/formats/onnx.md).
KNOWN_SKIPS.update(
    {
        (case, "onnx[float32]", runtime): "normalising several"
        for case in (
            "calibration-isotonic/calibrated-isotonic-multiclass",
            "calibration-isotonic/calibrated-isotonic-hist-boosting-multiclass",
            "composite/calibrated-sigmoid-boosting-multiclass",
            "calibration-many-classes/calibrated-sigmoid-nine-classes",
            "calibration-many-classes/calibrated-isotonic-ten-classes",
        )
        for runtime in ("onnxruntime", "onnx-reference")
    }
)
# The float32 variant cannot bound a hard vote over trees (onnx._float32, docs/formats/onnx.md).
KNOWN_SKIPS.update(
    {
        (f"composite/{case}", "onnx[float32]", runtime): "hard-voting member"
        for case in ("voting-hard-multiclass", "voting-hard-weighted-binary")
        for runtime in ("onnxruntime", "onnx-reference")
    }
)


# The composite "target" (TransformedTargetRegressor's inverse steps): onnx has no expm1 operator;
# the float32 variant has no bound for steps after a tree member's rounded prediction
# (onnx._rules, onnx._float32, docs/formats/onnx.md).
_TARGET_EXPM1 = ("target-log1p-forest", "target-log1p-ridge-pipeline")
KNOWN_SKIPS.update(
    {
        (f"target-steps/{case}", fmt, runtime): "no expm1 operator"
        for case in _TARGET_EXPM1
        for fmt in ("onnx", "onnx[float32]", "onnx[member]")
        for runtime in ("onnxruntime", "onnx-reference")
    }
)
KNOWN_SKIPS.update(
    {
        (f"target-steps/{case}", "onnx[float32]", runtime): "the target steps"
        for case in (
            "target-standard-forest",
            "target-standard-no-mean",
            "target-standard-no-std",
            "target-min-max-hist-boosting",
            "target-log-poisson",
            "target-standard-voting",
            "target-log-stacking",
            "target-max-abs-tree",
            "target-robust-boosting",
        )
        for runtime in ("onnxruntime", "onnx-reference")
    }
)


def test_conform_passes_over_the_corpus(suite_report):
    failed = [
        (r.case, r.format, r.runtime, conformance.failure_lines(r))
        for r in suite_report.results
        if r.status == "failed"
    ]
    assert not failed
    skipped = {(r.case, r.format, r.runtime): r.reason for r in suite_report.results if r.status == "skipped"}
    unexpected = {k: v for k, v in skipped.items() if k not in KNOWN_SKIPS or KNOWN_SKIPS[k] not in (v or "")}
    assert not unexpected
    assert set(skipped) == set(KNOWN_SKIPS), "a known skip no longer happens: take it off the list"
    assert ("stripe-json", "reference") in suite_report.pairs()
    assert ("onnx[float32]", "onnxruntime") in suite_report.pairs()
    assert ("onnx[member]", "onnxruntime") in suite_report.pairs()
    assert ("pmml[no-leaves]", "jpmml") in suite_report.pairs()
    models = {case.name: case.package.model for case in conformance.load_suite(SUITE)}
    trees = {name for name, model in models.items() if isinstance(model, crossform.ir.TreeEnsemble)}
    # a composite's tree members round in the float32 variant too (their leaves are not compared)
    rounded = trees | {
        name for name, model in models.items() if isinstance(model, crossform.ir.Composite) and model.member_trees
    }
    # sums and averages of leaf values are exact; exp and pow (logistic, softmax, isolation) are
    # libm's in each runtime (numpy, Java's Math, onnxruntime) and may differ in the last bit
    exact = {name for name in trees if models[name].post_transform == "none"}
    for r in suite_report.results:
        if r.status == "skipped":
            continue
        assert r.id_got == r.id_expected
        # a pmml file written without leaf outputs names no leaves; every other pair compares a tree model's
        assert r.comparison.leaves_compared == (r.format != "pmml[no-leaves]" and r.case in trees)
        isolation = r.case in trees and models[r.case].post_transform == "isolation"
        if r.case in trees and models[r.case].accumulate == "float32":
            # XGBoost's float32 rule (SEMANTICS notes 12, 13), in every format and variant: the sums are
            # XGBoost's to the bit; a transform calling expf is held to the bound its checks declare
            exact_sum = models[r.case].post_transform == "none"
            limit = 0.0 if exact_sum else checks_module.XGBOOST_EXPF_RELATIVE
            assert r.comparison.max_relative_difference <= limit, (r.case, r.format)
        elif r.format == "onnx[float32]":
            # the lossy variant: held to its declared bound (compare checks every value against it); a
            # linear model's float32 graph computes in double after the input cast, and declares 0, as
            # does a weighted median (it picks a stored double; float32 inputs reach the same leaves)
            assert r.comparison.absolute < 1e-3 and r.comparison.rows > 100
            lossy = rounded - {name for name in trees if models[name].aggregation == "weighted-median"}
            assert (r.comparison.absolute > 0) == (r.case in lossy), (r.case, r.comparison.absolute)
        elif isolation:
            # the decision cancels near the offset: held to the declared absolute bound as well
            assert r.comparison.absolute == checks_module.ISOLATION_ABSOLUTE
            assert r.comparison.max_relative_difference <= 1e-12, (r.case, r.format)
        elif r.case in exact:
            assert r.comparison.absolute == 0 and r.comparison.max_relative_difference == 0.0, (r.case, r.format)
        else:
            # a linear score's sum may be ordered differently (BLAS); the 1e-12 rule is what holds
            assert r.comparison.absolute == 0 and r.comparison.max_relative_difference <= 1e-12, (r.case, r.format)


def test_readme_coverage_table_is_generated_from_this_run(suite_report):
    """The README's estimator x format table is what coverage.py makes of the converter
    tables and these conformance results (run it to update the README)."""
    sys.path.insert(0, str(SUITE))
    try:
        import coverage_table
    finally:
        sys.path.remove(str(SUITE))
    assert coverage_table.readme_table() == coverage_table.current_table(suite_report), (
        "README.md's coverage table is out of date: run python conformance/coverage_table.py"
    )
    text = coverage_table.readme_table()
    assert "no case" not in text and "FAILS" not in text, "every built-in converter has a passing case"
    for classes in coverage_table.builtin_table().values():
        for cls in classes:
            assert f"`{coverage_table.qualified(cls)}`" in text


def test_conform_cli_prints_the_matrix(capsys):
    """The command's table over two case files (the whole corpus is judged once, by the
    suite_report fixture's run of the same code)."""
    code, out, _ = run_cli(
        capsys, "conform", SUITE / "cases" / "splits.json", SUITE / "cases" / "composite.json", "--no-progress"
    )
    assert code == 0, out
    for fmt in ("stripe-json", "protobuf", "onnx", "pmml"):
        assert fmt in out
    assert "reference" in out and "onnxruntime" in out
    assert "0 failed" in out


def test_golden_packages_still_read_and_score():
    """Packages written by every released format version: read forever, same ids, same scores."""
    versions = [p for p in GOLDEN.glob("*/*") if p.is_dir()]
    assert versions, "no golden packages"
    for version in versions:
        count, problems = conformance.check_suite(version)
        assert count and not problems, (version, problems)
        # read as written, then scored in its own format's runtimes (the corpus covers the others)
        report = conformance.run(conformance.load_suite(version), formats=[version.parent.name])
        assert report.ok, [conformance.failure_lines(r) for r in report.results if r.status == "failed"]


# ---------------------------------------------------------------- reports


def test_json_report_matches_its_schema(capsys):
    code, out, _ = run_cli(capsys, "conform", SUITE / "cases" / "splits.json", "--json")
    assert code == 0
    doc = json.loads(out)
    _json.validate(doc, conformance.REPORT_SCHEMA, "report")
    assert doc["ok"] and doc["summary"]["failed"] == 0
    assert doc["summary"]["passed"] == len(doc["results"]) == doc["summary"]["cases"] * len(doc["matrix"])


def test_junit_has_one_testcase_per_case_format_runtime(tmp_path, capsys):
    out = tmp_path / "conform.xml"
    formats = ["stripe-json", "onnx"]  # one runtime and two, so the case x format x runtime product is seen
    files = [SUITE / "cases" / "splits.json", SUITE / "cases" / "encoders.json"]  # two files, one report
    code, _, _ = run_cli(
        capsys, "conform", *files, "--junit", out, "--no-progress", *[a for f in formats for a in ("--format", f)]
    )
    assert code == 0
    root = ET.parse(out).getroot()
    testcases = root.findall("./testsuite/testcase")
    cases = sum(len(json.loads(f.read_text())["cases"]) for f in files)
    assert cases > 2
    assert len(testcases) == cases * len(conformance.plan(formats)) == int(root.get("tests"))
    assert len({(t.get("classname"), t.get("name")) for t in testcases}) == len(testcases)
    assert not root.findall(".//failure")


def test_skips_are_named_in_every_report(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(get_format("stripe-json"), "RUNTIMES", ("reference", "jvm-scorer"))
    junit = tmp_path / "out.xml"
    code, out, _ = run_cli(capsys, "conform", SUITE / "cases" / "encoders.json", "--junit", junit)
    assert code == 0, out
    assert "skipped:" in out and "jvm-scorer" in out and "not registered" in out
    skipped = ET.parse(junit).getroot().findall(".//skipped")
    assert skipped and all("jvm-scorer" in s.get("message") for s in skipped)
    code, out, _ = run_cli(capsys, "conform", SUITE / "cases" / "encoders.json", "--json")
    cell = [m for m in json.loads(out)["matrix"] if m["runtime"] == "jvm-scorer"][0]
    assert cell["skipped"] > 0 and "not registered" in cell["skip_reasons"][0]


# ---------------------------------------------------------------- a changed package is caught


def _change_threshold(package_dir: Path) -> None:
    """One ulp up, at a deep split of the last tree."""

    def edit(trees):
        tree = trees[-1]
        node = int(np.flatnonzero(tree.left >= 0)[-1])
        threshold = tree.threshold.copy()
        threshold[node] = np.nextafter(threshold[node], np.inf)
        trees[-1] = changed_tree(tree, threshold=threshold)

    edit_saved_trees(package_dir, edit)


def _change_leaf(package_dir: Path) -> None:
    """+0.125 on the first output of the last leaf of the first tree."""

    def edit(trees):
        tree = trees[0]
        leaf = int(np.flatnonzero(tree.left < 0)[-1])
        value = tree.value.copy()
        value[leaf, 0] += 0.125
        trees[0] = changed_tree(tree, value=value)

    edit_saved_trees(package_dir, edit)


def _change_encoding(package_dir: Path) -> None:
    path = package_dir / "label-encoder.json"
    doc = json.loads(path.read_text())
    feature = doc["features"][0]
    codes = doc["encodings"][feature]
    first, last = min(codes, key=codes.get), max(codes, key=codes.get)
    codes[first], codes[last] = codes[last], codes[first]
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "case, change",
    [
        ("rf-binary", _change_threshold),
        ("wide-scales", _change_threshold),
        ("rf-string-classes", _change_leaf),
        ("dt-regression", _change_leaf),
        ("unknown-is-error", _change_encoding),
    ],
)
def test_a_changed_corpus_package_fails_naming_case_row_and_difference(tmp_path, capsys, case, change):
    suite = _copy_suite(tmp_path, [_case_file_of(case)])  # the changed case among the others of its file
    assert len(conformance.load_suite(suite)) > 1
    change(suite / "packages" / case)
    # the reference reads the stripe-json packages themselves; other formats rewrite them first
    code, out, _ = run_cli(capsys, "conform", suite, "--format", "stripe-json", "--no-progress")
    assert code == 1, out
    failed = out[out.index("failed:") :]
    assert f"/{case}  [stripe-json x reference]" in failed
    assert "IdMismatchError" not in failed or "hashes to" in failed
    # the change is seen in the scores, not only in the id
    assert re.search(r"\d+ rows? differs? in (value|leaf|class|error)", failed)
    assert "row " in failed and "expected" in failed and ", got" in failed
    # only the changed case fails
    assert failed.count("[stripe-json x reference]") == 1


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A package exported with its checks, as a user would."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=400, n_features=4, n_informative=3, n_redundant=0, random_state=3)
    model = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("exported") / "pkg"
    crossform.save(crossform.from_sklearn(model), path)
    return path


def test_exported_package_carries_checks_and_conforms(exported, capsys):
    package = crossform.load(exported)
    assert package.checks is not None and len(package.checks) > 100
    assert package.checks.expected_by.startswith("scikit-learn")
    code, out, _ = run_cli(capsys, "validate", exported)
    assert code == 0 and "identical to scikit-learn" in out
    code, out, _ = run_cli(capsys, "conform", exported, "--no-progress")
    assert code == 0, out
    assert "2 cases" in out and "2 passed" in out  # the checks it carries, and rows at its splits


@pytest.mark.parametrize("change", [_change_threshold, _change_leaf])
def test_a_changed_exported_package_fails_validate_and_conform(tmp_path, capsys, exported, change):
    target = tmp_path / "pkg"
    shutil.copytree(exported, target)
    change(target)
    code, out, _ = run_cli(capsys, "validate", target)
    assert code == 1
    assert "IdMismatchError" in out
    assert "checks (outputs from scikit-learn" in out and re.search(r"\d+ rows? differs? in", out)
    assert "row " in out and "expected" in out and ", got" in out
    code, out, _ = run_cli(capsys, "conform", target, "--no-progress")
    assert code == 1
    assert f"{target}: checks  [stripe-json x reference]" in out
    assert "row " in out and "expected" in out


def test_conform_rows_file(tmp_path, capsys, exported):
    rows = tmp_path / "rows.csv"
    rows.write_text("x0,x1,x2,x3\n0.5,1,2,3\n,1,2,3\ninf,1,2,3\n")
    code, out, _ = run_cli(capsys, "conform", exported, "--rows", rows, "--json")
    assert code == 0
    doc = json.loads(out)
    assert f"{exported}: rows.csv" in [c["name"] for c in doc["cases"]]


def test_conform_usage_errors(capsys, tmp_path, exported):
    assert run_cli(capsys, "conform", tmp_path / "nothing")[0] == 2
    assert run_cli(capsys, "conform", exported, "--format", "nope")[0] == 2
    assert run_cli(capsys, "conform", exported, "--runtime", "nope")[0] == 2
    assert run_cli(capsys, "conform", SUITE, "--rows", exported / "MODEL")[0] == 2
    assert run_cli(capsys, "conform", exported, "--max-rows", "-3")[0] == 2


# ---------------------------------------------------------------- the pytest fixture


def test_pytest_fixture_passes_and_fails(crossform_conform, exported, tmp_path):
    report = crossform_conform(exported)
    assert report.ok and report.count("passed") >= 2
    assert crossform_conform(crossform.load(exported)).ok
    target = tmp_path / "pkg"
    shutil.copytree(exported, target)
    _change_leaf(target)
    with pytest.raises(AssertionError, match=r"checks \[stripe-json x reference\]"):
        crossform_conform(target)


# ---------------------------------------------------------------- checks


def test_checks_are_not_part_of_the_id_and_round_trip(exported, tmp_path):
    package = crossform.load(exported)
    bare = package.replace(checks=None)
    assert bare.id == package.id
    doc = checks_module.to_document(package.checks)
    _json.validate(doc, checks_module.SCHEMA, "checks")
    again = checks_module.from_document(json.loads(json.dumps(doc)), "checks")
    assert len(again.rows) == len(package.checks.rows)
    for mine, theirs in zip(again.rows, package.checks.rows):
        for a, b in zip(mine, theirs):
            assert a == b or (isinstance(a, float) and np.isnan(a) and np.isnan(b))
            assert type(a) is type(b) and (not isinstance(a, float) or np.signbit(a) == np.signbit(b))
    assert np.array_equal(again.errors, package.checks.errors)
    assert np.array_equal(again.values, package.checks.values, equal_nan=True)
    assert again.predicted == package.checks.predicted
    assert np.array_equal(again.leaves, package.checks.leaves)


def test_export_checks_option(tmp_path, capsys):
    import joblib
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=200, n_features=3, n_informative=3, n_redundant=0, random_state=1)
    path = tmp_path / "m.joblib"
    joblib.dump(RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(X, y), path)
    code, out, _ = run_cli(capsys, "export", path, tmp_path / "a", "--checks", "0")
    assert code == 0 and "checks  " not in out
    assert crossform.load(tmp_path / "a").checks is None
    code, out, _ = run_cli(capsys, "export", path, tmp_path / "b", "--checks", "50")
    assert code == 0 and "checks  " in out
    assert 0 < len(crossform.load(tmp_path / "b").checks) <= 50
    assert run_cli(capsys, "export", path, tmp_path / "c", "--checks", "many")[0] == 2


def test_report_names_the_runtime_versions(suite_report):
    doc = suite_report.to_json()
    assert doc["runtimes"][0] == {
        "name": "reference",
        "version": f"crossform {crossform.__version__}",
        "unavailable": None,
    }
    for runtime in doc["runtimes"]:  # every runtime a format lists: installed with a version, or why not
        assert (runtime["version"] is None) != (runtime["unavailable"] is None), runtime


PLUGIN_RUNTIME = """
import numpy as np
from crossform.evaluator import Scores
from crossform.runtime import reference

NAME = "{name}"

def unavailable():
    return None

def version():
    return "{name} 1.0"

def prepare(content, fmt):
    exact = reference.prepare(content, fmt)

    def score(data):
        good = exact(data)
        values = good.values * (1.0 + {error})  # a runtime that rounds differently
        return Scores(values, good.outputs, good.errors, good.classes, None)
    return score
"""


@pytest.mark.parametrize("error, ok", [(0.0, True), (1e-9, False)], ids=["exact", "off-by-1e-9"])
def test_a_runtime_registered_by_entry_point_is_judged(tmp_path, monkeypatch, capsys, error, ok):
    """Runtimes plug in through the crossform.runtimes entry-point group; the
    runner judges them like any other, and reports that they give no leaves."""
    from crossform import runtime

    name = "twinscore"
    (tmp_path / f"{name}.py").write_text(PLUGIN_RUNTIME.format(name=name, error=error))
    dist = tmp_path / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[crossform.runtimes]\n{name} = {name}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(get_format("stripe-json"), "RUNTIMES", ("reference", name))
    runtime.registry.cache_clear()
    try:
        assert name in crossform.runtimes()
        code, out, _ = run_cli(capsys, "conform", SUITE / "cases" / "multiclass.json", "--runtime", name, "--json")
    finally:
        runtime.registry.cache_clear()
        sys.modules.pop(name, None)
    doc = json.loads(out)
    assert (code == 0) is ok and doc["ok"] is ok
    assert {r["runtime"] for r in doc["results"]} == {name}
    assert all(not r["leaves_compared"] for r in doc["results"])
    if not ok:
        assert all(r["differences"]["value"] > 0 for r in doc["results"])
        assert doc["results"][0]["mismatches"][0]["kind"] == "value"


def test_a_consistently_edited_package_is_still_caught_by_its_checks(tmp_path, capsys, exported):
    """An edit that also rewrites the recorded id passes the id check; the
    checks scikit-learn wrote at export still catch it, row by row."""
    target = tmp_path / "pkg"
    shutil.copytree(exported, target)
    _change_threshold(target)
    manifest = json.loads((target / "MODEL").read_text())
    try:
        crossform.load(target)
    except crossform.IdMismatchError as exc:
        manifest["id"] = exc.package.id
    (target / "MODEL").write_text(json.dumps(manifest))
    assert crossform.load(target).id == manifest["id"]  # the id check alone is satisfied
    code, out, _ = run_cli(capsys, "validate", target)
    assert code == 1 and "IdMismatchError" not in out
    assert "checks (outputs from scikit-learn" in out and "expected" in out
    code, out, _ = run_cli(capsys, "conform", target, "--no-progress")
    assert code == 1 and f"{target}: checks  [stripe-json x reference]" in out


def test_scorer_prepares_once_and_scores_many_batches(exported):
    score = crossform.scorer(exported)
    package = crossform.load(exported)
    data = package.checks.data()
    first, again = score(data), score(data)
    np.testing.assert_array_equal(first.values, again.values)
    np.testing.assert_array_equal(first.values, crossform.score(package, data).values)
    with pytest.raises(crossform.UnknownRuntimeError, match="Unknown runtime 'nope'"):
        crossform.scorer(exported, runtime="nope")
