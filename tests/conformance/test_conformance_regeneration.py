"""What "the conformance suite is current" means across machines (conformance/compare_suites.py):
a regenerated suite may differ from the committed one by the few ulps that BLAS kernels and
SIMD loops change in a fit, and by nothing else. These tests edit a copy of the committed suite
the way another CPU would (last bits) and the way a real change would (a leading digit, a class,
a split feature, a file), and check that only the second kind is reported."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import crossform
from helpers.paths import CONFORMANCE

SUITE = CONFORMANCE


def _compare_module():
    spec = importlib.util.spec_from_file_location("compare_suites", SUITE / "compare_suites.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare_suites = _compare_module()
LINEAR = "ridge"  # a linear fit: the kind whose last bits differ between machines
TREE = "dt-regression"


@pytest.fixture
def suites(tmp_path):
    """(committed, regenerated): two copies of the linear and splits cases and their packages."""
    roots = []
    for side in ("committed", "regenerated"):
        root = tmp_path / side
        (root / "cases").mkdir(parents=True)
        for feature in ("linear", "splits"):
            shutil.copy(SUITE / "cases" / f"{feature}.json", root / "cases")
            for case in json.loads((SUITE / "cases" / f"{feature}.json").read_text())["cases"]:
                shutil.copytree(SUITE / case["package"], root / case["package"])
        shutil.copy(SUITE / "estimators.json", root)
        roots.append(root)
    return roots


def _edit_case(root: Path, feature: str, name: str, edit) -> None:
    path = root / "cases" / f"{feature}.json"
    doc = json.loads(path.read_text())
    edit(next(c for c in doc["cases"] if c["name"] == name))
    path.write_text(json.dumps(doc))


def _edit_model(root: Path, name: str, **changes) -> None:
    path = root / "packages" / name
    package = crossform.load(path)
    package = package.replace(model=dataclasses.replace(package.model, **changes))
    crossform.save(package, path, overwrite=True)


def test_a_copy_is_current(suites):
    differences, report = compare_suites.compare(*suites)
    assert differences == []
    assert report.startswith(f"{sum(1 for p in suites[0].rglob('*') if p.is_file())} files identical, 0 ")


def test_last_bits_of_a_fit_are_what_machines_differ_by(suites):
    committed, regenerated = suites
    coefficients = crossform.load(committed / "packages" / LINEAR).model.coefficients
    _edit_model(regenerated, LINEAR, coefficients=coefficients * (1 + 4e-12))  # the largest drift measured

    def last_bits(case):
        values = case["vectors"]["expected"]["values"]
        row = next(v for v in values if v is not None)
        row[0] = float(np.nextafter(row[0], np.inf))
        case["id"] = crossform.load(regenerated / "packages" / LINEAR).id

    _edit_case(regenerated, "linear", LINEAR, last_bits)
    differences, report = compare_suites.compare(committed, regenerated)
    assert differences == []
    assert "2 packages or case files differ within 1e-09 relative" in report
    assert f"packages/{LINEAR}.model.coefficients" in report


@pytest.mark.parametrize("factor", [1 + 1e-6, 1 + 2e-9, -1.0])
def test_a_changed_fit_is_reported(suites, factor):
    committed, regenerated = suites
    coefficients = crossform.load(committed / "packages" / LINEAR).model.coefficients
    _edit_model(regenerated, LINEAR, coefficients=coefficients * factor)
    differences, _ = compare_suites.compare(committed, regenerated)
    assert differences and all(d.startswith(f"packages/{LINEAR}.model.coefficients[") for d in differences)
    assert "committed" in differences[0] and "regenerated" in differences[0]


def test_an_expected_value_beyond_the_tolerance_is_reported(suites):
    committed, regenerated = suites

    def drift(case):
        values = case["vectors"]["expected"]["values"]
        row = next(i for i, v in enumerate(values) if v is not None)
        values[row][0] *= 1 + 1e-8

    _edit_case(regenerated, "linear", LINEAR, drift)
    differences, _ = compare_suites.compare(committed, regenerated)
    assert len(differences) == 1 and "cases/linear.json" in differences[0] and ".values[" in differences[0]


def test_an_id_follows_its_package(suites):
    """A case's id may change only with its package: the same package under another id is a
    difference."""
    committed, regenerated = suites

    def other_id(case):
        case["id"] = "sha256." + "A" * 52

    _edit_case(regenerated, "linear", LINEAR, other_id)
    differences, _ = compare_suites.compare(committed, regenerated)
    assert len(differences) == 1 and differences[0].startswith("cases/linear.json") and ".id:" in differences[0]


@pytest.mark.parametrize(
    "edit, where",
    [
        (lambda case: case["vectors"]["expected"]["leaves"][0].__setitem__(0, 99), "leaves[0][0]"),
        (lambda case: case["vectors"]["rowLabels"].__setitem__(1, "another row"), "rowLabels[1]"),
        (lambda case: case["vectors"]["expected"]["values"].__setitem__(2, None), "values[2]"),  # a row error
        (lambda case: case["vectors"]["rows"].pop(), "rows length"),
        (lambda case: case["vectors"]["rows"][0].__setitem__(0, "NaN"), "rows[0][0]"),
    ],
)
def test_exact_parts_of_a_case_are_compared_exactly(suites, edit, where):
    committed, regenerated = suites
    _edit_case(regenerated, "splits", TREE, edit)
    differences, _ = compare_suites.compare(committed, regenerated)
    assert differences and where in differences[0]


def test_a_class_must_keep_its_json_type(suites):
    committed, regenerated = suites
    path = regenerated / "cases" / "linear.json"
    doc = json.loads(path.read_text())
    classes = next(c["vectors"]["expected"]["classes"] for c in doc["cases"] if c["name"] == "sgd-hinge-binary")
    i = next(i for i, c in enumerate(classes) if isinstance(c, int) and not isinstance(c, bool))
    classes[i] = float(classes[i])
    path.write_text(json.dumps(doc))
    differences, _ = compare_suites.compare(committed, regenerated)
    assert differences and f"classes[{i}]" in differences[0]


def test_a_tree_with_another_split_is_reported(suites):
    committed, regenerated = suites
    tree = crossform.load(committed / "packages" / TREE).model.trees[0]
    feature = tree.feature.copy()
    split = int(np.flatnonzero(feature >= 0)[0])
    feature[split] = (feature[split] + 1) % 5
    _edit_model(regenerated, TREE, trees=(dataclasses.replace(tree, feature=feature),))
    differences, _ = compare_suites.compare(committed, regenerated)
    assert differences == [
        f"packages/{TREE}.model.trees[0].feature[{split}]: {tree.feature[split]} committed, "
        f"{feature[split]} regenerated"
    ]


def test_missing_and_extra_files_are_reported(suites):
    committed, regenerated = suites
    shutil.rmtree(regenerated / "packages" / LINEAR)
    (regenerated / "cases" / "extra.json").write_text("{}")
    differences, _ = compare_suites.compare(committed, regenerated)
    assert f"packages/{LINEAR}/MODEL (committed, not generated)" in differences
    assert "cases/extra.json (generated, not committed)" in differences
