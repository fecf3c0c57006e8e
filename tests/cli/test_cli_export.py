"""`crossform export` and `crossform.save` pick the format from the output's extension."""

from __future__ import annotations

import os

import joblib
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import crossform
from crossform import cli
from crossform.errors import FormatExtensionError
from crossform.exporters import sniff


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = X[:, 0] + X[:, 1] > 0
    return RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def model_file(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.joblib"
    joblib.dump(fitted, path)
    return path


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("model.onnx", "onnx"),
        ("model.pmml", "pmml"),
        ("model.pb", "protobuf"),
        ("MODEL.ONNX", "onnx"),
        ("model", "stripe-json"),
        ("model.v2", "stripe-json"),
    ],
)
def test_export_infers_the_format_from_the_extension(tmp_path, capsys, fitted, model_file, name, fmt):
    out = tmp_path / name
    code, stdout, err = run(capsys, "export", model_file, out, "--checks", "0")
    assert code == 0, err
    assert sniff(out) == fmt
    assert out.is_file() == (fmt != "stripe-json")
    assert f"format  {fmt}" in stdout
    assert crossform.load(out).id == crossform.from_sklearn(fitted, checks=0).id


def test_export_format_agreeing_with_the_extension(tmp_path, capsys, model_file):
    code, out, err = run(capsys, "export", model_file, tmp_path / "m.pmml", "--format", "pmml", "--checks", "0")
    assert code == 0, err
    assert sniff(tmp_path / "m.pmml") == "pmml"


def test_export_options_follow_the_inferred_format(tmp_path, capsys, model_file):
    code, out, err = run(capsys, "export", model_file, tmp_path / "m.onnx", "--precision", "float32", "--checks", "0")
    assert code == 0, err
    assert "format  onnx, float32" in out


@pytest.mark.parametrize("given, name", [("stripe-json", "model.onnx"), ("pmml", "model.onnx"), ("onnx", "model.pb")])
def test_export_refuses_a_format_contradicting_the_extension(tmp_path, capsys, model_file, given, name):
    code, out, err = run(capsys, "export", model_file, tmp_path / name, "--format", given, "--checks", "0")
    assert code == 2
    assert err.startswith("crossform: error: ") and err.count("\n") == 1
    assert f"--format {given}" in err and name in err and os.path.splitext(name)[1] in err
    assert "arbitrary code" not in err  # refused before loading anything
    assert not os.path.lexists(tmp_path / name)


@pytest.mark.parametrize(
    "name, fmt", [("m.onnx", "onnx"), ("m.pmml", "pmml"), ("m.pb", "protobuf"), ("m", "stripe-json")]
)
def test_save_infers_the_format_from_the_extension(tmp_path, fitted, name, fmt):
    package = crossform.from_sklearn(fitted, checks=0)
    path = crossform.save(package, tmp_path / name)
    assert sniff(path) == fmt
    assert crossform.load(path).id == package.id


def test_save_refuses_a_format_contradicting_the_extension(tmp_path, fitted):
    package = crossform.from_sklearn(fitted, checks=0)
    with pytest.raises(FormatExtensionError) as info:
        crossform.save(package, tmp_path / "m.onnx", format="stripe-json")
    assert "stripe-json" in str(info.value) and "m.onnx" in str(info.value) and "onnx" in str(info.value)
    assert not os.path.lexists(tmp_path / "m.onnx")


def test_export_names_the_inputs_of_an_array_fit(tmp_path, capsys, fitted, model_file):
    code, _, err = run(capsys, "export", model_file, tmp_path / "named", "--input-names", "age, income,score")
    assert code == 0, err
    package = crossform.load(tmp_path / "named")
    assert [f.name for f in package.inputs] == ["age", "income", "score"]
    X = np.random.default_rng(4).normal(size=(50, 3))
    scores = crossform.score(package, {"age": X[:, 0], "income": X[:, 1], "score": X[:, 2]})
    np.testing.assert_array_equal(scores.values, fitted.predict_proba(X))


def test_export_refuses_input_names_of_the_wrong_count(tmp_path, capsys, model_file):
    code, _, err = run(capsys, "export", model_file, tmp_path / "named", "--input-names", "a,b")
    assert code != 0 and "input_names must give 3 names" in err and "Got 2" in err
    assert not (tmp_path / "named").exists()
