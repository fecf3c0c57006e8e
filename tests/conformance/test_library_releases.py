"""Fits made with the oldest and the newest scikit-learn, LightGBM and XGBoost crossform supports
export exactly.

conformance/refit.py refits every conformance generator with the libraries it runs under and
checks the export (every format, read back) against that release's own predictions. Here it
runs twice: in this venv (the newest releases, constraints.txt) and in the side venv `./dev test`
makes from conformance/oldest-constraints.txt (the oldest of the three libraries together).
Known gaps and skips are named by the script; anything else that differs fails. Each export must
also read the columns the committed suite's case reads, by the same names: a release that hides
the DataFrame's names (LightGBM before 4.5 has no feature_names_in_) must not rename them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import CONFORMANCE, REPO

REFIT = CONFORMANCE / "refit.py"
OLDEST_PINS = CONFORMANCE / "oldest-constraints.txt"
SIDE_VENV = Path(os.environ.get("CROSSFORM_BENCH_CACHE", REPO / "bench" / ".cache")) / "oldest-releases-venv"
TIMEOUT_SECONDS = 600
# the only fits allowed to differ, and only under the releases the script names for them
ALLOWED_GAPS = {"linear-regression"}


def pinned(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", OLDEST_PINS.read_text(), re.MULTILINE)
    assert match, f"{OLDEST_PINS} pins no {package}"
    return match.group(1)


def committed_columns() -> dict:
    """case name -> the names of the columns its committed rows carry."""
    out = {}
    for file in sorted((CONFORMANCE / "cases").glob("*.json")):
        for entry in json.loads(file.read_text(encoding="utf-8"))["cases"]:
            out[entry["name"]] = [column["name"] for column in entry["vectors"]["columns"]]
    return out


def refit(python: Path, tmp_path: Path) -> dict:
    out = tmp_path / "refit.json"
    done = subprocess.run(
        [str(python), str(REFIT), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        cwd=tmp_path,  # the checkout's sources come from the venv's install, not the working folder
    )
    assert out.exists(), f"refit.py wrote no results (exit {done.returncode}):\n{done.stderr[-3000:]}"
    results = json.loads(out.read_text())
    failed = {name: case for name, case in results["cases"].items() if case["status"] == "failed"}
    assert not failed, f"fits of scikit-learn {results['scikit-learn']} that crossform exports wrongly: {failed}"
    assert done.returncode == 0, done.stderr[-3000:]
    columns = committed_columns()
    renamed = {
        name: (case["inputs"], columns.get(name))
        for name, case in results["cases"].items()
        if "inputs" in case and case["inputs"] != columns.get(name)
    }
    assert not renamed, f"exports whose input names differ from the committed case's columns: {renamed}"
    return results


def test_fits_of_the_newest_releases_export_exactly(tmp_path):
    results = refit(Path(sys.executable), tmp_path)
    # the committed suite is fitted with these releases: nothing is skipped and nothing is a gap
    assert set(results["counts"]) == {"ok"}, results["counts"]
    assert results["counts"]["ok"] >= 60


@pytest.mark.skipif(
    not (SIDE_VENV / "bin" / "python").exists(),
    reason=f"no side venv with the oldest scikit-learn, LightGBM and XGBoost at {SIDE_VENV}: `./dev test` "
    f"makes it from {OLDEST_PINS.name} (it could not here; its install.log says why)",
)
def test_fits_of_the_oldest_releases_export_exactly(tmp_path):
    results = refit(SIDE_VENV / "bin" / "python", tmp_path)
    for library in ("scikit-learn", "lightgbm", "xgboost"):
        assert results.get(library) == pinned(library), (library, results.get(library))
    gaps = {name for name, case in results["cases"].items() if case["status"] == "known gap"}
    assert gaps <= ALLOWED_GAPS
    skipped = {name: case["reason"] for name, case in results["cases"].items() if case["status"] == "skipped"}
    assert all(reason.startswith(("needs scikit-learn >= ", "needs xgboost >= ")) for reason in skipped.values()), (
        skipped
    )
    # every LightGBM and XGBoost fit ran there (their families are installed), but for those
    # that name the newer XGBoost they need
    boosting = {name for name in results["cases"] if name.startswith(("lgbm-", "xgb-"))}
    newer = {name for name, reason in skipped.items() if reason.startswith("needs xgboost >= ")}
    assert len(boosting - newer) >= 20 and all(results["cases"][name]["status"] == "ok" for name in boosting - newer)
    assert results["counts"]["ok"] >= 55, results["counts"]
    # every format was written and read back there too (or refused the kind by name, as it does here)
    unwritten = {name: case["not_written"] for name, case in results["cases"].items() if case.get("not_written")}
    assert not unwritten, unwritten


@pytest.mark.parametrize("library", ["lightgbm", "xgboost"])
def test_a_model_of_a_release_older_than_the_oldest_is_refused_by_name(library, monkeypatch):
    from crossform.errors import UnsupportedEstimatorError
    from crossform.sklearn import OLDEST_RELEASES, from_sklearn

    module = pytest.importorskip(library)
    model = (
        module.LGBMRegressor(n_estimators=2, verbose=-1)
        if library == "lightgbm"
        else module.XGBRegressor(n_estimators=2)
    )
    model.fit([[0.0], [1.0], [2.0], [3.0]], [0.0, 1.0, 2.0, 3.0])
    floor = OLDEST_RELEASES[library]
    assert floor == ".".join(pinned(library).split(".")[:2])
    monkeypatch.setattr(module, "__version__", f"{int(floor.split('.')[0]) - 1}.9.0")
    with pytest.raises(UnsupportedEstimatorError, match=rf"{library} models from release {floor} on"):
        from_sklearn(model, checks=0)


@pytest.mark.parametrize("version", ["4.0.0", "4.5.0", "4.7.0"])
def test_lightgbm_inputs_keep_the_fitted_names_whatever_feature_names_in_says(version, monkeypatch):
    """Before 4.6, LightGBM's feature_names_in_ is missing (< 4.5) or names an array's columns
    Column_0, ... (4.5): crossform tells a DataFrame fit by the booster's pandas_categorical list."""
    import numpy as np

    from crossform.sklearn import from_sklearn

    lightgbm = pytest.importorskip("lightgbm")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = X[:, 0] + X[:, 1]
    frame = pd.DataFrame(X, columns=["span", "mass"])
    fitted = {
        "array": lightgbm.LGBMRegressor(n_estimators=2, verbose=-1).fit(X, y),
        "frame": lightgbm.LGBMRegressor(n_estimators=2, verbose=-1).fit(frame, y),
    }
    monkeypatch.setattr(lightgbm, "__version__", version)
    names = {how: [f.name for f in from_sklearn(model, checks=0).inputs] for how, model in fitted.items()}
    assert names == {"array": ["x0", "x1"], "frame": ["span", "mass"]}
