"""The README's serving section runs as written after its six shipping commands: the tag answers,
a deploy switches the answer to the new model id, a shadow added while serving is scored on the
requests that follow and the shadow report says how it compares (on a free port instead of 8080)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import joblib
import pandas as pd

import crossform
from helpers.fits import fit_pipeline
from helpers.net import free_loopback_port
from helpers.paths import REPO


def shell_block(section_title: str) -> str:
    section = (REPO / "README.md").read_text(encoding="utf-8").split(f"## {section_title}", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_readme_serving_section_runs_as_written(tmp_path):
    joblib.dump(fit_pipeline("classifier"), tmp_path / "model.joblib")
    retrained = crossform.save(
        crossform.from_sklearn(fit_pipeline("classifier", seed=1), checks=30), tmp_path / "retrained-pkg"
    )
    port = free_loopback_port()
    serving = shell_block("Serving").replace("localhost:8080", f"localhost:{port}")
    serving = serving.replace("crossform serve ", f"crossform serve --port {port} ")
    # the server runs in the background: stop it however the script ends
    script = shell_block("Shipping") + "trap 'kill %1 2> /dev/null; wait' EXIT\n" + serving
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORM_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"model_id"')]
    first, second = crossform.load(tmp_path / "fraud-pkg").id, crossform.load(retrained).id
    assert [a["model_id"] for a in answers] == [first, second]
    classes = ["probability(high)", "probability(low)", "probability(mid)"]
    assert answers[0]["outputs"] == answers[1]["outputs"] == classes and answers[1]["errors"] == [None]
    assert "Shadow" in done.stdout or first in done.stdout  # the report printed

    # the script printed the report as soon as the first record was in; the shadows score
    # off the request path, in a process of their own, so the last of the three may come later
    deadline = time.monotonic() + 60
    while True:
        report = subprocess.run(
            ["crossform", "shadow-report", "-t", "txn_fraud.production", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        (shadow,) = json.loads(report.stdout)["shadows"]
        if shadow["rows_compared"] == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shadow["shadow_id"] == first and shadow["rows_compared"] == 3
    # the same class as scikit-learn's two fits give on the three rows the script sent
    rows = pd.DataFrame({"colour": ["red"] * 3, "size": [3.5, 9.0, 14.0], "weight": [0.2] * 3})
    same = fit_pipeline("classifier").predict(rows) == fit_pipeline("classifier", seed=1).predict(rows)
    assert shadow["same_class_rate"] == same.mean()
