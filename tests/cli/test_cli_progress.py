"""Long work says so on stderr once it lasts (a terminal or not), and --quiet silences it."""

from __future__ import annotations

import io
import sys
import time

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from crossform import cli, progress
from crossform.exporters import get_format
from crossform.runtime import unavailable


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def immediate(monkeypatch):
    """Progress as if every step lasted: no delay, and a line per step when not on a terminal."""
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    path = tmp_path_factory.mktemp("progress") / "m.joblib"
    joblib.dump(RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, X.a > 0), path)
    return path


def test_export_says_what_it_is_doing_when_it_lasts(immediate, capsys, tmp_path, model_file):
    code, out, err = run(capsys, "export", model_file, tmp_path / "pkg", "--checks", "100")
    assert code == 0, err
    lines = err.splitlines()
    assert any(
        line.startswith("crossform: export: ") and "check rows" in line and "done in" in line for line in lines
    ), err
    assert not any(line.startswith("crossform: export: ") for line in out.splitlines())  # stdout stays data


def test_export_quiet(immediate, capsys, tmp_path, model_file):
    code, out, err = run(capsys, "export", model_file, tmp_path / "pkg", "--checks", "100", "--quiet")
    assert code == 0, err
    assert [line for line in err.splitlines() if "arbitrary code" not in line] == []


def test_conform_without_a_terminal_prints_progress_lines(immediate, capsys, tmp_path, model_file):
    assert run(capsys, "export", model_file, tmp_path / "pkg", "--checks", "20", "-q")[0] == 0
    code, out, err = run(capsys, "conform", tmp_path / "pkg", "--format", "stripe-json", "--max-rows", "20")
    assert code == 0, out
    lines = err.splitlines()
    assert lines and all(line.startswith("crossform: conform: ") for line in lines), err
    # two steps (the checks, generated rows) in each runtime that reads stripe-json here
    steps = 2 * sum(unavailable(name) is None for name in get_format("stripe-json").RUNTIMES)
    assert f"0/{steps} " in lines[0] and "\r" not in err
    code, out, err = run(capsys, "conform", tmp_path / "pkg", "--format", "stripe-json", "--max-rows", "20", "-q")
    assert code == 0 and err == ""


def test_progress_bar_on_a_terminal_is_erased_at_the_end(immediate):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = progress.Progress("conform", stream=stream)
    bar(0, 2, "first")
    bar(1, 2, "second")
    bar(2, 2, "")
    text = stream.getvalue()
    assert "\n" not in text and "1/2 second" in text and text.endswith("\r")


def test_a_phase_that_ends_quickly_says_nothing(capsys):
    with progress.phase("quick work"):
        pass
    assert capsys.readouterr().err == ""


def test_a_phase_that_lasts_is_announced_while_it_runs(monkeypatch, capsys):
    monkeypatch.setattr(progress, "DELAY", 0.05)
    with progress.phase("slow work"):
        time.sleep(0.3)
        assert capsys.readouterr().err == "crossform: slow work ...\n"
    assert capsys.readouterr().err.startswith("crossform: slow work: done in ")


def test_progress_bar_shows_on_a_terminal_only_after_a_delay(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    early = progress.Progress("conform")
    early(1, 10, "splits/rf-binary stripe-json x reference")
    assert screen.getvalue() == ""  # the first seconds stay quiet
    monkeypatch.setattr(progress, "DELAY", 0.0)
    bar = progress.Progress("conform")
    bar(5, 10, "splits/rf-binary stripe-json x reference")
    assert "[############............] 5/10 splits/rf-binary" in screen.getvalue()
    bar(10, 10, "")
    assert screen.getvalue().endswith("\r")  # the line is cleared at the end
    off = progress.Progress("conform", enabled=False)
    before = screen.getvalue()
    off(5, 10, "x")
    assert screen.getvalue() == before
