"""sklearn2pmml next to crossform's pmml format, on every fit of the conformance suite.

For each generator of conformance/generators.py: convert the fitted estimator with
sklearn2pmml (where it converts), score the case's rows with JPMML-Evaluator, and count
the rows whose outputs differ from scikit-learn's recorded ones (beyond 1e-12 relative,
another class, or a row error where scikit-learn scores, or the reverse); then the same for
crossform's pmml package in the jpmml runtime, held to the full conformance rule (same
values, classes, leaves and rows in error).

sklearn2pmml refuses scikit-learn releases newer than it knows, and expires. When it refuses
the scikit-learn here, the fitted estimator is converted in the side interpreter that
`./dev bench` makes, with the newest scikit-learn it accepts (bench/_sklearn2pmml.py); without
one, and for any other refusal, the refusal is reported with its own reason and the
crossform column is still measured. Its JVM gets proxy settings that point at a closed
loopback port (_sklearn2pmml.NO_PHONE_HOME), so nothing leaves the machine.

Run: python bench/pmml_crosscheck.py [--markdown] [CASE...]
     (needs crossform[all] and sklearn2pmml: pip install 'crossform[all,bench]')
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _crosscheck  # noqa: E402
import _sklearn2pmml  # noqa: E402
from _crosscheck import Uncompared, Unconverted  # noqa: E402

TOLERANCE = 1e-12


def _differs(values, refused, classes, checks) -> dict:
    """Rows that differ from scikit-learn, by how: a value or class, a row scikit-learn
    refuses but the file scores, a row scikit-learn scores but the file refuses."""
    want = checks.values
    scored = ~checks.errors & ~refused
    with np.errstate(invalid="ignore"):
        bad = scored & (np.abs(values - want) > TOLERANCE * np.abs(want)).any(axis=1)
    if classes is not None and checks.predicted is not None:
        got = [classes[k] for k in np.argmax(np.nan_to_num(values, nan=-1.0), axis=1)]
        bad |= scored & np.array([g != p for g, p in zip(got, checks.predicted)])
    return {
        "value": int(bad.sum()),
        "scored": int((checks.errors & ~refused).sum()),
        "refused": int((~checks.errors & refused).sum()),
    }


def _measure(estimator, package, checks) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model.pmml"
        try:
            done = _sklearn2pmml.convert(estimator, out, [f.name for f in package.inputs])
        except _sklearn2pmml.Refused as exc:  # a refusal of the converter is a result, with its reason
            raise Unconverted(str(exc).splitlines()[0][:300]) from None
        classes = package.model.classes
        if (
            classes is None
            and len(package.outputs) != 1
            or classes is not None
            and not all(o.startswith("probability(") for o in package.outputs)
        ):
            # decision scores, isolation scores: sklearn2pmml names its outputs its own way
            raise Uncompared(
                f"crossform's outputs {list(package.outputs)} have no counterpart named in sklearn2pmml's file"
            )
        values, refused, _ = _sklearn2pmml.jpmml_score(
            _sklearn2pmml.jpmml_evaluator(out.read_bytes()),
            [c.name for c in checks.columns],
            [c.kind == "numeric" for c in checks.columns],
            checks.rows,
            classes,
        )
    by = _differs(values, refused, classes, checks)
    return {"by": by, "sklearn2pmml": sum(by.values()), "where": done.where}


def crosscheck(names=None) -> list:
    """One dict per case: name, rows, refused, sklearn2pmml (rows differing, or None), reason, ours."""
    return _crosscheck.crosscheck("sklearn2pmml", "pmml", "jpmml", _measure, names)


def main(argv=None) -> int:
    return _crosscheck.main(
        argv,
        __doc__,
        crosscheck,
        "sklearn2pmml",
        "pmml",
        "sklearn2pmml: rows differing (value or class / scores a refused row / refuses a scored row)",
        lambda r: f"{r['sklearn2pmml']} ({r['by']['value']}/{r['by']['scored']}/{r['by']['refused']})",
    )


if __name__ == "__main__":
    sys.exit(main())
