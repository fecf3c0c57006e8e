"""Predictions over HTTP from the real server (uvicorn on loopback, httpx): by id and by tag, for a
store holding the package in each format, answers compared with the fitted scikit-learn model."""

from __future__ import annotations

import dataclasses
import json
import re

import httpx
import numpy as np
import pytest

from crossform.exporters import formats
from helpers.serving import TAG, request_rows, serving, sklearn_outputs

FORMATS = ["stripe-json", "protobuf", "onnx", "pmml"]


def test_every_format_is_covered():
    assert sorted(FORMATS) == sorted(formats())


def assert_sklearn_answer(answer, model, rows):
    """The answer's values are scikit-learn's for the rows (within the 1e-12 of docs/SEMANTICS.md)."""
    assert answer["errors"] == [None] * len(rows)
    np.testing.assert_allclose(
        np.array(answer["values"], dtype=float), sklearn_outputs(model, rows), rtol=1e-12, atol=0
    )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_by_id_and_by_tag_answer_as_scikit_learn_from_a_store_of_each_format(
    deployer, config, fitted, packages, fmt, task
):
    package = packages[task]
    model_id = deployer.push(package, format=fmt)
    assert deployer.store.formats(model_id) == [fmt]
    deployer.deploy(TAG, model_id)
    rows = request_rows()
    with serving(config) as (base, _), httpx.Client(base_url=base) as client:
        by_rows = client.post(f"/model/{model_id}/predict", json={"rows": rows}).json()
        columns = {name: [row[name] for row in rows] for name in rows[0]}
        by_columns = client.post(f"/tag/{TAG}/predict", json={"columns": columns}).json()
        one = client.post(f"/tag/{TAG}/predict", json=rows[0]).json()
        described = client.get(f"/model/{model_id}").json()
    for answer in (by_rows, by_columns):
        assert answer["model_id"] == model_id and answer["outputs"] == list(package.checks.outputs)
        assert_sklearn_answer(answer, fitted[task], rows)
    assert by_columns["tag"] == TAG and "tag" not in by_rows
    assert one["values"] == by_rows["values"][:1] and one["tag"] == TAG
    assert described["formats"] == [fmt] and described["loaded"] is True
    assert by_rows["runtime"] == described["runtime"]


def test_values_round_trip_float64_exactly(deployer, config, fitted, packages):
    """JSON numbers carry every bit: the answer equals scikit-learn's float64s where the model adds them in
    scikit-learn's order (a single tree: no sum at all)."""
    from sklearn.tree import DecisionTreeRegressor

    import crossform

    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 2))
    model = DecisionTreeRegressor(max_depth=6, random_state=0).fit(X, X[:, 0] * np.pi + X[:, 1] / 3)
    model_id = deployer.push(crossform.from_sklearn(model, checks=20))
    rows = [{"x0": float(a), "x1": float(b)} for a, b in rng.normal(size=(30, 2))]
    with serving(config) as (base, _):
        answer = httpx.post(f"{base}/model/{model_id}/predict", json={"rows": rows}).json()
    expected = model.predict(np.array([[r["x0"], r["x1"]] for r in rows]))
    assert [v[0] for v in answer["values"]] == expected.tolist()


def test_rows_a_model_refuses_are_row_errors(deployer, config, fitted, packages):
    model_id = deployer.push(packages["classifier"])
    rows = [
        {"colour": "red", "size": 3.0, "weight": 0.5},
        {"colour": "red", "size": "big", "weight": 0.5},
        {"colour": 7, "size": 3.0, "weight": 0.5},
        {"colour": "red", "size": float("inf"), "weight": 0.5},
        {"colour": "red", "size": 10**400, "weight": 0.5},  # an integer beyond float64
        {"colour": "red", "size": True, "weight": 0.5},  # JSON true: a number to crossform (1.0), as in crossform.score
    ]
    with serving(config) as (base, _):
        # Python's json writes the infinity as the Infinity literal, which the server reads
        answer = httpx.post(f"{base}/model/{model_id}/predict", content=json.dumps({"rows": rows})).json()
    assert answer["values"][1:5] == [None, None, None, None]
    assert "size" in answer["errors"][1] and "colour" in answer["errors"][2] and answer["errors"][3]
    assert "beyond the float64 range" in answer["errors"][4]
    assert answer["errors"][0] is None and answer["errors"][5] is None
    expected = sklearn_outputs(fitted["classifier"], [dict(rows[5], size=1.0)])
    np.testing.assert_allclose([answer["values"][5]], expected, rtol=1e-12, atol=0)


def test_integers_and_floats_score_as_scikit_learn_scores_them(deployer, config, fitted, packages):
    """JSON integers, floats and nulls mixed in one column: the same values scikit-learn is given."""
    model_id = deployer.push(packages["regressor"])
    rows = [
        dict(row, size=int(row["size"]) if row["size"] is not None and i % 2 else row["size"])
        for i, row in enumerate(request_rows())
    ]
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    with serving(config) as (base, _):
        answer = httpx.post(f"{base}/model/{model_id}/predict", json={"columns": columns}).json()
    assert_sklearn_answer(answer, fitted["regressor"], rows)


def test_get_model_names_the_runtime_that_scores_and_why(deployer, config, packages):
    package = packages["classifier"]
    model_id = deployer.push(package)
    for fmt in ("onnx", "pmml"):
        deployer.push(package, format=fmt)
    with serving(config) as (base, _), httpx.Client(base_url=base) as client:
        before = client.get(f"/model/{model_id}").json()
        client_answer = client.post(f"/model/{model_id}/predict", json=request_rows()[0]).json()
        after = client.get(f"/model/{model_id}").json()
    assert before == {
        "id": model_id,
        "loaded": False,
        "loading": False,
        "runtime": None,
        "inputs": None,
        "outputs": None,
        "formats": ["onnx", "pmml", "stripe-json"],
    }
    assert after["loaded"] and after["inputs"] == [
        {"name": "colour", "type": "categorical"},
        {"name": "size", "type": "numeric"},
        {"name": "weight", "type": "numeric"},
    ]
    keys = set(after) | {key for entry in after["runtimes"] for key in entry} | set(client_answer)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", key) for key in keys), keys  # snake_case, as every --json
    tried = {r["name"]: r for r in after["runtimes"]}
    chosen = tried[after["runtime"]]
    assert chosen["exact"] is True
    exact = [r for r in tried.values() if r["exact"]]
    assert chosen["single_row_seconds"] == min(r["single_row_seconds"] for r in exact)


def test_a_runtime_that_misses_the_checks_is_not_used(packages):
    """A package whose checks only the reference evaluator can meet: onnxruntime scores the written onnx
    graph, so checks that expect NaN rows to go the other way than the graph sends them fail there."""
    from crossform.serve.models import prepare

    pytest.importorskip("onnxruntime")
    package = packages["classifier"]
    # the checks say what scikit-learn gave; tamper with what the onnx graph scores by giving the
    # candidate a package whose trees differ (same inputs and outputs) while the checks stay
    other = dataclasses.replace(package.model, trees=package.model.trees[::-1])
    tampered = dataclasses.replace(package, model=other)
    model = prepare(tampered, ("stripe-json",))
    tried = {r["name"]: r for r in model.runtimes}
    assert tried["reference"]["exact"] is False and tried["onnxruntime"]["exact"] is False
    assert model.runtime == "reference"  # the rules themselves, when nothing proves exact


def test_a_package_without_checks_is_scored_by_the_reference_evaluator(packages):
    from crossform.serve.models import prepare

    package = dataclasses.replace(packages["classifier"], checks=None)
    model = prepare(package, ("stripe-json",))
    assert model.runtime == "reference"
    assert model.outputs == packages["classifier"].checks.outputs
