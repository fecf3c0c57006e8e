"""sklearn2pmml, the PMML anchor of bench/run.py and bench/pmml_crosscheck.py.

sklearn2pmml (AGPL-3.0, a JVM) refuses scikit-learn releases newer than it knows. When it
refuses the scikit-learn installed here, the same fitted estimator goes, as a joblib file
written here, to a side interpreter that has the newest scikit-learn it accepts: `./dev bench`
makes one (bench/.cache/sklearn2pmml-venv, pinned by bench/sklearn2pmml-constraints.txt),
CROSSFORM_SKLEARN2PMML_PYTHON names another. The estimator is unpickled there, so sklearn2pmml
converts the very trees fitted here, and its PMML is scored by JPMML-Evaluator here, against
this scikit-learn's outputs. Without a side interpreter the refusal is the result, with its
reason.

The conversion is timed around the sklearn2pmml() call where it runs (in the side
interpreter: neither its start-up nor the joblib round trip). Every JVM sklearn2pmml starts
gets NO_PHONE_HOME: it reports conversion failures to its vendor over the network, and these
options send its sockets to the discard port on loopback, where nothing listens.

Run by this module in the side interpreter (standard library, numpy, joblib, sklearn2pmml):
    python bench/_sklearn2pmml.py ESTIMATOR.joblib OUT.pmml FIELD...
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import NamedTuple, Optional

HERE = Path(__file__).resolve().parent
SIDE_VENV = Path(os.environ.get("CROSSFORM_BENCH_CACHE", HERE / ".cache")) / "sklearn2pmml-venv"
NO_PHONE_HOME = [
    "-DsocksProxyHost=127.0.0.1",
    "-DsocksProxyPort=9",
    "-Dhttp.proxyHost=127.0.0.1",
    "-Dhttp.proxyPort=9",
    "-Dhttps.proxyHost=127.0.0.1",
    "-Dhttps.proxyPort=9",
]
TARGET = "y"
# sklearn2pmml's refusal of the installed scikit-learn: the one refusal a side interpreter mends
VERSION_REFUSAL = re.compile(r"Scikit-Learn version '[^']*' is not supported")
SIDE_TIMEOUT_S = 3600


class Refused(Exception):
    """sklearn2pmml did not convert; the message is its reason."""


class Conversion(NamedTuple):
    seconds: float  # the sklearn2pmml() call alone
    where: str  # "" here, or which scikit-learn converted it and why


def java_reason(output: str) -> Optional[str]:
    """The exception line (and the suggested solution) of a JPMML failure report."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^[\w.$]+(Exception|Error): ", line):
            after = lines[i + 1 : i + 3]
            if after and after[0].strip() == "Solution:" and len(after) > 1:
                return f"{line.strip()} ({after[1].strip()})"
            return line.strip()
    return None


def _convert_here(estimator, out: Path, fields: list) -> float:
    from sklearn2pmml import make_pmml_pipeline, sklearn2pmml

    log = io.StringIO()
    start = time.perf_counter()
    try:
        # inside the try: make_pmml_pipeline refuses what is no scikit-learn estimator (a LightGBM Booster)
        pipeline = make_pmml_pipeline(estimator, active_fields=list(fields), target_fields=[TARGET])
        with redirect_stdout(log):  # the JVM's report and an advertisement go to stdout
            sklearn2pmml(pipeline, str(out), java_opts=NO_PHONE_HOME)
    except Exception as exc:
        raise Refused(java_reason(log.getvalue()) or f"{type(exc).__name__}: {exc}") from None
    return time.perf_counter() - start


def side_python() -> Optional[str]:
    named = os.environ.get("CROSSFORM_SKLEARN2PMML_PYTHON")
    if named:
        return named
    default = SIDE_VENV / "bin" / "python"
    return str(default) if default.exists() else None


def _convert_side(python: str, estimator, out: Path, fields: list) -> Conversion:
    import joblib

    with tempfile.TemporaryDirectory(prefix="crossform-sklearn2pmml-") as tmp:
        dumped = Path(tmp) / "estimator.joblib"
        joblib.dump(estimator, dumped)
        done = subprocess.run(
            [python, str(Path(__file__).resolve()), str(dumped), str(out), *fields],
            capture_output=True,
            text=True,
            timeout=SIDE_TIMEOUT_S,
        )
    last = (done.stdout.strip().splitlines() or [""])[-1]
    try:
        answer = json.loads(last)
    except ValueError:
        raise Refused(
            f"the side interpreter {python} failed (exit {done.returncode}): "
            f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}"
        ) from None
    if "refused" in answer:
        raise Refused(f"{answer['refused']} (also under scikit-learn {answer['sklearn']} in {python})")
    return Conversion(answer["seconds"], f"scikit-learn {answer['sklearn']} ({python})")


_refusal_here: Optional[str] = None  # sklearn2pmml's refusal of this scikit-learn, once seen


def convert(estimator, out: Path, fields: list) -> Conversion:
    """Write ``estimator`` as sklearn2pmml's PMML at ``out``, its input fields named ``fields``,
    here or in the side interpreter; raise Refused with the reason when neither converts."""
    global _refusal_here
    if _refusal_here is None:
        try:
            return Conversion(_convert_here(estimator, out, fields), "")
        except Refused as exc:
            if not VERSION_REFUSAL.search(str(exc)):
                raise
            _refusal_here = str(exc)
    python = side_python()
    if python is None:
        raise Refused(
            f"{_refusal_here}; no side interpreter with a scikit-learn it accepts "
            f"(./dev bench makes {SIDE_VENV}, or set CROSSFORM_SKLEARN2PMML_PYTHON)"
        )
    done = _convert_side(python, estimator, out, fields)
    return done._replace(where=f"converted under {done.where}: here it refuses: {_refusal_here}")


# ---------------------------------------------------------------- scoring a foreign PMML file


def jpmml_evaluator(content: bytes):
    """A JPMML Evaluator for a PMML document that crossform did not write."""
    from crossform.runtime import jpmml

    return jpmml.build_evaluator(content)


def jpmml_score(evaluator, names: list, numeric: list, rows, classes) -> tuple:
    """(values, refused, first refusal) for ``rows`` (sequences of values in ``names`` order;
    None or NaN is missing) scored by JPMML: the probability output fields in file order (one
    per class, in scikit-learn's order) when ``classes`` is not None, else the target."""
    import numpy as np

    from crossform.runtime import jpmml

    jpype = jpmml._start()
    decode = jpype.JClass("org.jpmml.evaluator.EvaluatorUtil").decode
    HashMap, JDouble, JString = jpype.JClass("java.util.HashMap"), jpype.JDouble, jpype.JString
    if classes is not None:
        outputs = [str(f.getName()) for f in evaluator.getOutputFields() if str(f.getName()).startswith("probability(")]
    else:
        outputs = [str(f.getName()) for f in evaluator.getTargetFields()]
    keys, out_keys = [JString(n) for n in names], [JString(n) for n in outputs]
    values = np.full((len(rows), len(outputs)), np.nan)
    refused = np.zeros(len(rows), dtype=bool)
    first = None
    for i, row in enumerate(rows):
        arguments = HashMap()
        for key, is_number, value in zip(keys, numeric, row):
            if value is None or (is_number and math.isnan(value)):
                arguments.put(key, None)
            else:
                arguments.put(key, JDouble(float(value)) if is_number else JString(value))
        try:
            results = evaluator.evaluate(arguments)
        except jpype.JException as exc:
            refused[i] = True
            first = first or jpmml._message(exc)
            continue
        got = [decode(results.get(k)) for k in out_keys]
        if any(v is None for v in got):  # e.g. missingValueStrategy="nullPrediction" on a missing value
            refused[i] = True
            first = first or "jpmml: no prediction for this row"
            continue
        values[i] = [float(v) for v in got]
    return values, refused, first


def _side_main(argv: list) -> int:
    """In the side interpreter: convert a joblib file, print one JSON line."""
    import warnings

    import joblib
    import sklearn

    dumped, out, fields = argv[0], Path(argv[1]), argv[2:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InconsistentVersionWarning: the point of this interpreter
        estimator = joblib.load(dumped)
    try:
        seconds = _convert_here(estimator, out, fields)
    except Refused as exc:
        print(json.dumps({"refused": str(exc), "sklearn": sklearn.__version__}))
        return 0
    print(json.dumps({"seconds": seconds, "sklearn": sklearn.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(_side_main(sys.argv[1:]))
