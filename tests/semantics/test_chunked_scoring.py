"""crossform.score and crossform.scorer score long batches in bounded chunks.

The chunked scores are scikit-learn's own outputs, row for row, and the
errors, leaves and input errors are those of one batch; a batch whose
one-pass evaluation would need far more memory than the process may use
scores within a bounded address space.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

import crossform
from crossform.errors import InputError

CATS = ["color"]
NUMS = ["x1", "x2"]


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], n).astype(object),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "x1"] = np.nan
    y = (frame.x2 + (frame.color == "red") > 0.3).to_numpy()
    pipe = Pipeline(
        [
            (
                "columns",
                ColumnTransformer([("cat", OrdinalEncoder(), CATS), ("num", SimpleImputer(strategy="median"), NUMS)]),
            ),
            ("model", RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0)),
        ]
    )
    return pipe.fit(frame, y)


@pytest.fixture(scope="module")
def package(fitted):
    return crossform.from_sklearn(fitted, checks=0)


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(4)
    n = 1000
    frame = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], n).astype(object),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "x2"] = np.nan
    frame.loc[[5, 6, 700], "color"] = "mauve"  # unknown categories: row errors
    frame.loc[[7, 701], "x1"] = np.inf  # scikit-learn refuses infinity: row errors
    return frame


def test_chunks_score_as_scikit_learn_and_as_one_batch(package, fitted, frame):
    chunked = crossform.score(package, frame, chunk_rows=7)
    whole = crossform.score(package, frame, chunk_rows=None)
    ok = np.array([e is None for e in chunked.errors])
    assert list(np.flatnonzero(~ok)) == [5, 6, 7, 700, 701]
    np.testing.assert_array_equal(chunked.values[ok], fitted.predict_proba(frame[ok]))
    assert np.isnan(chunked.values[~ok]).all()
    assert chunked.errors == whole.errors
    np.testing.assert_array_equal(chunked.values, whole.values)
    np.testing.assert_array_equal(chunked.leaves, whole.leaves)


@pytest.mark.parametrize("form", ["mapping", "rows"])
def test_chunks_of_every_input_form(package, fitted, frame, form):
    clean = frame.drop(index=[5, 6, 7, 700, 701])
    data = (
        {name: clean[name].tolist() for name in clean.columns}
        if form == "mapping"
        else clean.astype(object).where(clean.notna(), None).to_dict("records")
    )
    scores = crossform.scorer(package, chunk_rows=64)(data)
    assert scores.errors == [None] * len(clean)
    np.testing.assert_array_equal(scores.values, fitted.predict_proba(clean))


def test_a_wrong_value_is_the_row_error_of_its_row_in_any_chunk(package, frame):
    data = frame.astype(object).where(frame.notna(), None).to_dict("records")
    data[900]["x2"] = "tall"  # a type error found when the input is read, before scoring
    data[901]["color"] = 3
    chunked = crossform.score(package, data, chunk_rows=100)
    whole = crossform.score(package, data, chunk_rows=None)
    assert chunked.errors == whole.errors
    assert "'tall'" in chunked.errors[900] and "3" in chunked.errors[901]
    np.testing.assert_array_equal(chunked.values, whole.values)


def test_an_input_error_names_its_row_in_the_whole_batch(package, frame):
    data = frame.astype(object).where(frame.notna(), None).to_dict("records")
    data[950] = ["not", "a", "mapping"]
    with pytest.raises(InputError, match="row 950"):
        crossform.score(package, data, chunk_rows=100)


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_chunk_rows_must_be_a_positive_integer(package, bad):
    with pytest.raises(ValueError, match="chunk_rows"):
        crossform.scorer(package, chunk_rows=bad)


MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor
    import crossform

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 8))
    model = RandomForestRegressor(n_estimators=80, random_state=0).fit(X, X[:, 0] + X[:, 1] ** 2)
    package = crossform.from_sklearn(model, checks=0)
    rows = rng.normal(size=(200_000, 8))
    data = {name: rows[:, j] for j, name in enumerate(package.model.features)}
    want = model.predict(rows[:1000])
    crossform.score(package, {k: v[:10] for k, v in data.items()})  # warm: every module imported
    with open("/proc/self/status") as fh:
        size = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    # 200,000 rows x 80 trees: the numpy walk's ~70 bytes a row a tree need ~1 GB in one pass
    resource.setrlimit(resource.RLIMIT_AS, (size + 300 * 2**20, resource.RLIM_INFINITY))
    chunk = None if sys.argv[1] == "none" else int(sys.argv[1])
    try:
        scores = crossform.score(package, data, chunk_rows=chunk)
    except MemoryError:
        print("MemoryError")
        sys.exit(3)
    assert (scores.values[:1000, 0] == want).all()
    print("ok")
""")


def _run_limited(chunk: str, walk: str) -> subprocess.CompletedProcess:
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    env["CROSSFORM_LEAF_WALK"] = walk
    return subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, chunk], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.parametrize("walk", ["compiled", "numpy"])
def test_memory_stays_bounded_whatever_the_batch_size(walk):
    done = _run_limited(str(crossform.CHUNK_ROWS), walk)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_one_pass_of_the_numpy_walk_does_not_fit_where_the_chunks_do():
    """The limit is what the chunks keep the numpy walk (the written rule, ~70 bytes a row a tree)
    under: the same batch in one pass needs ~950 MB. (The compiled walk needs 16 bytes a row a
    tree, about what the leaves the call returns take anyway: one pass of it fits.)"""
    whole = _run_limited("none", "numpy")
    assert whole.returncode == 3 and whole.stdout.strip() == "MemoryError", whole.stderr[-2000:]


@pytest.mark.parametrize("runtime", ["onnxruntime", "jpmml"])
def test_chunks_in_every_runtime(package, fitted, frame, runtime):
    from crossform.runtime import unavailable

    reason = unavailable(runtime)
    if reason is not None:
        pytest.skip(f"{runtime}: {reason}")
    clean = frame.drop(index=[5, 6, 7, 700, 701])
    scores = crossform.scorer(package, runtime, chunk_rows=300)(clean)
    assert scores.errors == [None] * len(clean)
    np.testing.assert_array_equal(scores.values, fitted.predict_proba(clean))
    with_errors = crossform.scorer(package, runtime, chunk_rows=300)(frame)
    reference = crossform.score(package, frame, chunk_rows=None)
    assert [e is None for e in with_errors.errors] == [e is None for e in reference.errors]


def test_the_jpmml_runtime_chunks_when_called_directly(package, fitted, frame):
    from crossform.chunks import CHUNK_ROWS
    from crossform.exporters import get_format
    from crossform.runtime import get_runtime, unavailable

    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml: {reason}")
    clean = frame.drop(index=[5, 6, 7, 700, 701])
    rows = pd.concat([clean] * (CHUNK_ROWS // len(clean) + 1), ignore_index=True)  # more rows than one chunk
    pmml = get_format("pmml")
    calls = []
    engine = get_runtime("jpmml")
    score = engine.prepare(pmml.dumps(package), pmml)
    original = engine.read_batch

    def counting(fields, data):
        calls.append(1)
        return original(fields, data)

    engine.read_batch = counting
    try:
        scores = score(rows)
    finally:
        engine.read_batch = original
    assert len(calls) == -(-len(rows) // CHUNK_ROWS)  # one Java pass per chunk
    np.testing.assert_array_equal(scores.values, fitted.predict_proba(rows))
