"""What the command says about itself: help text and the warning around loading joblib files."""

from __future__ import annotations

import joblib
import pytest

from crossform import cli


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_help_speaks_to_a_user(capsys):
    code, out, err = run(capsys, "demo", "--help")
    assert code == 0
    assert "seed" not in out.lower()  # project jargon: a user never saw "the seed"
    assert "example pipeline" in out


@pytest.mark.parametrize(
    "extra", [["--format", "nope"], ["--precision", "float32"], ["--meta", "a=1", "--meta", "a=2"]]
)
def test_joblib_warning_not_printed_when_export_fails_before_loading(tmp_path, capsys, extra):
    model = tmp_path / "m.joblib"
    joblib.dump({"not": "an estimator"}, model)
    code, out, err = run(capsys, "export", model, tmp_path / "out", *extra)
    assert code == 2, err
    assert "arbitrary code" not in err


def test_joblib_warning_not_printed_for_a_missing_model_file(tmp_path, capsys):
    code, out, err = run(capsys, "export", tmp_path / "absent.joblib", tmp_path / "out")
    assert code == 2 and "absent.joblib" in err
    assert "arbitrary code" not in err


def test_joblib_warning_printed_right_before_loading(tmp_path, capsys):
    model = tmp_path / "m.joblib"
    joblib.dump({"not": "an estimator"}, model)
    code, out, err = run(capsys, "export", model, tmp_path / "out")
    assert code == 1
    lines = err.splitlines()
    assert "arbitrary code" in lines[0] and "UnsupportedEstimatorError" not in lines[0]
    assert len(lines) == 2 and lines[1].startswith("crossform: error:")
