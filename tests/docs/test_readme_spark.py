"""The README's Spark backfill (push, deploy, spark-score by tag) runs as written, in a scratch
directory holding the package and the table it names, and its scores are scikit-learn's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.paths import REPO

README = REPO / "README.md"


def test_readme_spark_backfill_runs_as_written(tmp_path):
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'crossform[spark]')")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("Spark needs Java 17+ and none was found (no java on PATH, no JAVA_HOME)")
    import pandas as pd

    import crossform
    from helpers.fits import fit_pipeline
    from helpers.serving import request_rows, sklearn_outputs

    section = README.read_text(encoding="utf-8").split("## Scoring on Spark", 1)[1]
    script, printed = re.findall(r"```(?:sh)?\n(.*?)```", section, re.S)[:2]
    assert len([line for line in script.splitlines() if line.startswith("crossform") or "$(" in line]) == 3
    model = fit_pipeline("classifier")
    package = crossform.from_sklearn(model, checks=30)
    crossform.save(package, tmp_path / "fraud-pkg")
    rows = request_rows()
    refused = [{"colour": "red", "size": 3.5, "weight": np.inf}, {"colour": None, "size": -np.inf, "weight": 0.0}]
    table = pd.DataFrame(
        {
            "txn_id": np.arange(len(rows) + len(refused), dtype=np.int64),
            "colour": pd.Series([r["colour"] for r in rows + refused], dtype=object),
            "size": [np.nan if r["size"] is None else r["size"] for r in rows + refused],
            "weight": [r["weight"] for r in rows + refused],
        }
    )
    table.to_parquet(tmp_path / "txns.parquet")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CROSSFORM_", "PYSPARK_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SPARK_LOCAL_IP"] = "127.0.0.1"

    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )

    assert done.returncode == 0, done.stderr[-3000:]
    summary = dict(re.split(r"  +", line, maxsplit=1) for line in done.stdout.strip().splitlines()[-7:])
    assert summary["id"] == package.id and summary["tag"] == "txn_fraud.production"
    scored = pd.read_parquet(tmp_path / "scores.parquet").sort_values("txn_id")
    assert scored["txn_id"].tolist() == list(range(len(rows) + len(refused)))
    # scikit-learn refuses infinite input; crossform makes each such row a row error, the others score
    assert scored["error"].notna().tolist() == [False] * len(rows) + [True] * len(refused)
    assert summary["rows"] == str(len(rows) + len(refused)) and summary["rows in error"] == str(len(refused))
    values = scored[list(package.outputs)].to_numpy(dtype=np.float64)
    np.testing.assert_allclose(values[: len(rows)], sklearn_outputs(model, rows), rtol=1e-12, atol=0)
    assert np.isnan(values[len(rows) :]).all()
    # the README shows the same summary lines (the id aside, which depends on the fit)
    shown = dict(re.split(r"  +", line, maxsplit=1) for line in printed.strip().splitlines())
    assert shown.keys() == summary.keys()
    assert {k: v for k, v in shown.items() if k != "id"} == {k: v for k, v in summary.items() if k != "id"}
