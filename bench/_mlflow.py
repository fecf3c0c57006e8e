"""MLflow's `mlflow models serve`, the anchor of bench/bench_serve.py, from a side interpreter.

MLflow brings a few dozen packages (Flask, SQLAlchemy, pyarrow, OpenTelemetry...) that crossform
neither needs nor should be pinned against, so it lives in its own venv: `./dev bench serve` makes
bench/.cache/mlflow-venv from bench/mlflow-constraints.txt (the same scikit-learn, numpy and
pandas as constraints.txt); CROSSFORM_MLFLOW_PYTHON names another interpreter with mlflow.

The fitted estimator goes there as a joblib file written here, and mlflow.sklearn.save_model
writes it as an MLflow model whose pyfunc answers predict_proba (the probabilities crossform's
server answers, not predict's labels). MLflow 3 serializes with skops, which refuses types it
does not know (the trees' Tree) unless told to trust them: these are the types of an estimator
this run fitted. The server is `mlflow models serve --env-manager local` (no conda or virtualenv
of its own: this interpreter), which runs uvicorn with --workers N.

Run by this module in the side interpreter:
    python bench/_mlflow.py ESTIMATOR.joblib MODEL_DIR
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
SIDE_VENV = Path(os.environ.get("CROSSFORM_BENCH_CACHE", HERE / ".cache")) / "mlflow-venv"
SAVE_TIMEOUT_S = 600


def side_python() -> Optional[str]:
    named = os.environ.get("CROSSFORM_MLFLOW_PYTHON")
    if named:
        return named
    default = SIDE_VENV / "bin" / "python"
    return str(default) if default.exists() else None


def missing() -> Optional[str]:
    """Why the MLflow anchor cannot run here, or None."""
    python = side_python()
    if python is None:
        return f"no MLflow interpreter: ./dev bench serve makes {SIDE_VENV}, or set CROSSFORM_MLFLOW_PYTHON"
    if shutil.which(python) is None:
        return f"CROSSFORM_MLFLOW_PYTHON names {python}, which is not an interpreter here"
    return None


def save(estimator, dest: Path) -> Path:
    """Write ``estimator`` as an MLflow model in ``dest`` (a new directory), in the side interpreter."""
    import joblib

    dumped = Path(dest).with_name(Path(dest).name + ".joblib")
    joblib.dump(estimator, dumped)
    done = subprocess.run(
        [side_python(), str(Path(__file__).resolve()), str(dumped), str(dest)],
        capture_output=True,
        text=True,
        timeout=SAVE_TIMEOUT_S,
    )
    dumped.unlink()
    if done.returncode != 0:
        raise RuntimeError(f"mlflow.sklearn.save_model failed in {side_python()}:\n{done.stderr[-2000:]}")
    return Path(dest)


def serve_command(model: Path, port: int, workers: int) -> tuple:
    """(command, environment) of `mlflow models serve` for ``model`` on loopback ``port``."""
    bin_dir = str(Path(side_python()).parent)
    command = [
        str(Path(bin_dir) / "mlflow"),
        "models",
        "serve",
        "--model-uri",
        str(model),
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # mlflow starts `uvicorn` by name, so the side venv's bin goes first on PATH
    return command, {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def _save_here(dumped: str, dest: str) -> None:
    import joblib
    import mlflow.sklearn
    import skops.io

    estimator = joblib.load(dumped)
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(estimator))
    mlflow.sklearn.save_model(estimator, dest, pyfunc_predict_fn="predict_proba", skops_trusted_types=trusted)


if __name__ == "__main__":
    _save_here(*sys.argv[1:3])
