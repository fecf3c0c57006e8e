"""The crossform command, run in-process through ``crossform.cli.main``.

Scores written by the command are read back and compared with
``crossform.score`` on the same rows, value for value, so a formatting or
parsing slip in the command (not only a wrong exit code) fails a test.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

import crossform
from crossform import cli, demo
from crossform.exporters import get_format
from helpers.edit import changed_tree, edit_saved_trees

CATS = ["bird", "food", "planet"]
NUMS = ["wingspan", "weight", "altitude"]
COLUMNS = CATS + NUMS


def small_pipeline(n_estimators: int = 4):
    return Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            Pipeline(
                                [("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder())]
                            ),
                            CATS,
                        ),
                        ("num", SimpleImputer(strategy="median"), NUMS),
                    ]
                ),
            ),
            ("model", RandomForestClassifier(n_estimators=n_estimators, max_depth=6, random_state=0)),
        ]
    )


@pytest.fixture(scope="module")
def train():
    return demo.frame(np.random.default_rng(7), 300)


@pytest.fixture(scope="module")
def fitted(train):
    return small_pipeline().fit(train[COLUMNS], train[demo.TARGET])


@pytest.fixture(scope="module")
def package_path(fitted, tmp_path_factory):
    package = crossform.from_sklearn(fitted, owner="tests", tags=["cli"], metadata={"suite": "cli"})
    return str(crossform.save(package, tmp_path_factory.mktemp("pkg") / "birds"))


@pytest.fixture(scope="module")
def package(package_path):
    return crossform.load(package_path)


@pytest.fixture(scope="module")
def records(train):
    """Rows as the evaluator takes them: ordinary ones, then one odd value each."""
    base = train[COLUMNS].head(25).astype(object).where(train[COLUMNS].head(25).notna(), None)
    rows = base.to_dict("records")
    rows += [
        {**rows[0], "bird": "zebra"},  # unknown category: a row error
        {**rows[1], "wingspan": None, "food": None},  # missing: filled, scores
        {**rows[2], "wingspan": math.inf},  # scikit-learn refuses it: a row error
        {**rows[3], "weight": "heavy"},  # not a number: a row error
        {**rows[4], "altitude": float("nan")},  # NaN is missing
    ]
    for i, row in enumerate(rows):
        row["id"] = f"r{i:03d}"
    return rows


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def write_csv(path, rows, columns=("id",) + tuple(COLUMNS)):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row[c]) for c in columns])
    return str(path)


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            # inf has no strict-JSON spelling; Python's own literal is what a caller would send
            fh.write(json.dumps(clean) + "\n")
    return str(path)


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def expected_scores(package, rows):
    return crossform.score(package, [{k: v for k, v in r.items() if k != "id"} for r in rows])


# ---------------------------------------------------------------- demo


def test_demo_writes_package_and_agrees_with_sklearn(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    code, out, err = run(capsys, "demo", "--out", out_dir, "--no-ship")
    assert code == 0, err
    loaded = crossform.load(out_dir)
    assert f"id {loaded.id}" in out
    assert loaded.owner == "crossform-demo" and loaded.tags == ("demo",)
    assert dict(loaded.metadata) == {"dataset": "birds"}
    assert "model.json" in out and "agree: all 4 accepted rows" in out
    assert "unknown category 'pluto'" in out

    code, out, err = run(capsys, "demo", "--out", out_dir, "--overwrite", "--json", "--no-ship")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["agree"] is True and doc["shipping"] is None
    assert doc["id"] == loaded.id  # the same fit gives the same id
    sizes = {f["name"]: f["bytes"] for f in doc["files"]}
    assert sizes["model.json"] == os.path.getsize(out_dir / "model.json")
    rows = doc["rows"]
    assert len(rows) == 6
    assert [r["crossform"] is None for r in rows] == [False, False, False, False, True, True]
    assert [r["sklearn"] is None for r in rows] == [False, False, False, False, True, True]
    assert rows[3]["inputs"]["bird"] is None and rows[3]["crossform"] == rows[3]["sklearn"]
    assert rows[4]["error"] == "feature 'planet': unknown category 'pluto'"
    assert rows[5]["inputs"]["wingspan"] == "Infinity"
    for r in rows[:4]:
        assert len(r["crossform"]) == 2 and r["crossform"] == r["sklearn"]
        assert math.isclose(sum(r["crossform"]), 1.0)


def test_demo_refuses_existing_out_without_overwrite(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    code, out, err = run(capsys, "demo", "--out", tmp_path / "taken", "--ship-to", tmp_path / "ship")
    assert code == 1 and not (tmp_path / "ship").exists()
    assert err.startswith("crossform: error:") and "--overwrite" in err
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


def test_demo_pipeline_is_reusable():
    pipe, train, samples = demo.pipeline()
    assert len(train) == 2000 and len(samples) == 6
    assert train["bird"].dtype == object and train["bird"].isna().mean() > 0.03
    assert pipe[-1].n_estimators == 50


# ---------------------------------------------------------------- export


def test_export_joblib(tmp_path, capsys, fitted):
    model_file = tmp_path / "model.joblib"
    joblib.dump(fitted, model_file)
    out_dir = tmp_path / "exported"
    code, out, err = run(
        capsys,
        "export",
        model_file,
        out_dir,
        "--owner",
        "team",
        "--tag",
        "b",
        "--tag",
        "a",
        "--meta",
        "ticket=FR-1",
        "--meta",
        "note=x=y",
        "--json",
    )
    assert code == 0, err
    assert "joblib files can run arbitrary code" in err
    doc = json.loads(out)
    expected = crossform.from_sklearn(fitted, owner="team", tags=["a", "b"], metadata={"ticket": "FR-1", "note": "x=y"})
    loaded = crossform.load(out_dir)
    assert doc["id"] == expected.id == loaded.id
    assert [i["name"] for i in doc["inputs"]] == COLUMNS
    assert doc["encoders"] == [e.encoder_type for e in expected.encoders]
    assert doc["model_type"] == "classification-forest" and doc["trees"] == 4
    assert doc["nodes"] == expected.model.n_nodes

    code, out, err = run(capsys, "export", model_file, out_dir)
    assert code == 1 and "already exists" in err
    code, out, err = run(capsys, "export", model_file, out_dir, "--overwrite")
    assert code == 0
    assert crossform.from_sklearn(fitted).id in out
    assert "joblib files can run arbitrary code" in err


def test_export_meta_without_equals_is_usage_error(tmp_path, capsys):
    code, out, err = run(capsys, "export", tmp_path / "m.joblib", tmp_path / "o", "--meta", "novalue")
    assert code == 2
    assert "KEY=VALUE" in err


# ---------------------------------------------------------------- score


def _float(cell: str) -> float:
    return math.nan if cell == "" else float(cell)


def test_score_csv_matches_reference(tmp_path, capsys, package, package_path, records, fitted):
    src = write_csv(tmp_path / "rows.csv", records)
    dst = tmp_path / "scores.csv"
    code, out, err = run(capsys, "score", package_path, src, "-o", dst, "--keep", "id")
    assert code == 0, err
    want = expected_scores(package, records)
    n_errors = sum(e is not None for e in want.errors)
    assert n_errors == 3
    assert err.strip() == (
        f"scored {len(records)} rows in reference (crossform {crossform.__version__}): {n_errors} row errors"
    )

    with open(dst, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["id", "probability(False)", "probability(True)", "error"]
    body = table[1:]
    assert [r[0] for r in body] == [r["id"] for r in records]
    got = np.array([[_float(c) for c in r[1:3]] for r in body])
    np.testing.assert_array_equal(got, want.values)  # exact, NaN where refused
    assert [r[3] or None for r in body] == want.errors
    assert body[25][3] == "feature 'bird': unknown category 'zebra'"
    assert "'heavy'" in body[28][3]
    assert body[26][3] == "" and body[29][3] == ""

    # and the accepted rows are scikit-learn's own probabilities
    ok = [i for i, e in enumerate(want.errors) if e is None]
    frame = pd.DataFrame([records[i] for i in ok])[COLUMNS]
    frame[NUMS] = frame[NUMS].astype(float)
    frame[CATS] = frame[CATS].astype(object).where(frame[CATS].notna(), np.nan)
    np.testing.assert_array_equal(got[ok], fitted.predict_proba(frame))


def test_score_jsonl_in_and_out(tmp_path, capsys, package, package_path, records):
    src = write_jsonl(tmp_path / "rows.jsonl", records)
    dst = tmp_path / "scores.ndjson"
    code, out, err = run(capsys, "score", package_path, src, "-o", dst, "--keep", "id", "--keep", "bird")
    assert code == 0, err
    lines = [json.loads(line) for line in dst.read_text().splitlines()]
    want = expected_scores(package, records)
    assert len(lines) == len(records)
    assert list(lines[0]) == ["id", "bird", "probability(False)", "probability(True)", "error"]
    assert [d["id"] for d in lines] == [r["id"] for r in records]
    assert lines[25]["bird"] == "zebra"
    got = np.array([[math.nan if d[k] is None else d[k] for k in want.outputs] for d in lines])
    np.testing.assert_array_equal(got, want.values)
    assert [d["error"] for d in lines] == want.errors


def test_score_stdin_to_stdout(monkeypatch, capsys, package, package_path, records):
    data = "".join(json.dumps({k: v for k, v in r.items() if k != "id"}) + "\n" for r in records[:5])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(("\n" + data).encode())))
    code, out, err = run(capsys, "score", package_path, "-", "--input-format", "jsonl")
    assert code == 0, err
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["probability(False)", "probability(True)", "error"]
    got = np.array([[_float(c) for c in r[:2]] for r in table[1:]])
    np.testing.assert_array_equal(got, expected_scores(package, records[:5]).values)


def test_score_stdin_needs_a_format(capsys, package_path):
    code, out, err = run(capsys, "score", package_path, "-")
    assert code == 2 and "--input-format" in err


def test_fail_on_row_error(tmp_path, capsys, package_path, records):
    src = write_csv(tmp_path / "rows.csv", records)
    code, out, err = run(capsys, "score", package_path, src, "--fail-on-row-error")
    assert code == 1
    assert "3 row errors" in err
    clean = write_csv(tmp_path / "clean.csv", records[:5])
    code, out, err = run(capsys, "score", package_path, clean, "--fail-on-row-error")
    assert code == 0 and "scored 5 rows in reference" in err and ": 0 row errors" in err


def test_score_csv_missing_column(tmp_path, capsys, package_path, records):
    columns = ("id", "bird", "food", "wingspan", "weight", "altitude")
    src = write_csv(tmp_path / "rows.csv", records, columns)
    code, out, err = run(capsys, "score", package_path, src)
    assert code == 1
    assert err.startswith("crossform: error:") and "'planet'" in err
    assert out == ""


def test_score_bad_jsonl_line_is_named(tmp_path, capsys, package_path):
    src = tmp_path / "rows.jsonl"
    src.write_text('{"bird": "owl"}\n[1, 2]\n')
    code, out, err = run(capsys, "score", package_path, src)
    assert code == 1 and "line 2" in err


def test_score_missing_input_file(tmp_path, capsys, package_path):
    code, out, err = run(capsys, "score", package_path, tmp_path / "nope.csv")
    assert code in (1, 2)
    assert err.count("\n") == 1 and err.startswith("crossform: error:") and "nope.csv" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- validate, id, formats, info


def _copy(package_path, tmp_path, name="copy"):
    target = tmp_path / name
    shutil.copytree(package_path, target)
    return target


def _ran() -> list:
    """The runtimes of stripe-json that validate runs here: the reference, and the jvm scorer once built."""
    from crossform.runtime import unavailable

    return ["reference"] + (["jvm"] if unavailable("jvm") is None else [])


def test_validate_good_package(capsys, package_path, package):
    code, out, err = run(capsys, "validate", package_path)
    assert code == 0
    carried = f"  checks: {len(package.checks)} rows identical to {package.checks.expected_by} in {', '.join(_ran())}"
    assert out.strip() == f"ok   {package_path}  stripe-json  {package.id}{carried}"


def test_validate_catches_an_edited_threshold(tmp_path, capsys, package_path, package):
    edited = _copy(package_path, tmp_path)

    def edit(trees):
        tree = trees[0]
        threshold = tree.threshold.copy()
        threshold[0] += 0.25  # node 0 is the root, a split
        trees[0] = changed_tree(tree, threshold=threshold)

    edit_saved_trees(edited, edit)
    code, out, err = run(capsys, "validate", package_path, edited)
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0].startswith("ok   ")
    assert lines[1].startswith(f"FAIL {edited}  IdMismatchError: ")
    assert package.id in lines[1]

    code, out, err = run(capsys, "validate", "--json", package_path, edited)
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert [p["ok"] for p in doc["packages"]] == [True, False]
    assert doc["packages"][0]["id"] == package.id and doc["packages"][0]["error"] is None
    assert doc["packages"][1]["error"]["type"] == "IdMismatchError"
    assert doc["packages"][1]["format"] == "stripe-json" and doc["packages"][1]["id"] is None


def test_validate_truncated_model(tmp_path, capsys, package_path):
    broken = _copy(package_path, tmp_path)
    data = (broken / "model.json").read_bytes()
    (broken / "model.json").write_bytes(data[: len(data) // 2])
    code, out, err = run(capsys, "validate", broken)
    assert code == 1
    assert out.startswith(f"FAIL {broken}  MalformedPackageError: ") and "truncated" in out


def test_validate_json_all_good(capsys, package_path, package):
    code, out, err = run(capsys, "validate", package_path, "--json")
    assert code == 0
    doc = json.loads(out)
    checks = doc["packages"][0].pop("checks")
    assert doc == {
        "packages": [{"path": package_path, "ok": True, "format": "stripe-json", "id": package.id, "error": None}],
        "ok": True,
    }
    assert checks["ok"] and checks["rows"] == len(package.checks)
    assert [r["name"] for r in checks["not_run"]] == [name for name in ("jvm",) if name not in _ran()]
    assert [(r["name"], r["ok"], r["mismatches"]) for r in checks["runtimes"]] == [(name, True, []) for name in _ran()]
    assert checks["expected_by"].startswith("scikit-learn ")


def test_id(tmp_path, capsys, package_path, package):
    code, out, err = run(capsys, "id", package_path)
    assert code == 0 and out == package.id + "\n"
    other = _copy(package_path, tmp_path)
    code, out, err = run(capsys, "id", package_path, other, "--json")
    assert code == 0
    assert json.loads(out) == [{"path": package_path, "id": package.id}, {"path": str(other), "id": package.id}]
    code, out, err = run(capsys, "id", package_path, tmp_path / "absent")
    assert code == 1
    assert out == f"{package.id}  {package_path}\n" and "absent" in err


def test_formats_json(capsys):
    code, out, err = run(capsys, "formats", "--json")
    assert code == 0
    entries = {f["name"]: f for f in json.loads(out)}
    fmt = get_format("stripe-json")
    assert entries["stripe-json"] == {
        "name": "stripe-json",
        "version": fmt.VERSION,
        "layout": fmt.LAYOUT,
        "runtimes": list(fmt.RUNTIMES),
        "options": {},
        "variants": [],
    }
    assert entries["onnx"]["options"] == {"precision": ["float64", "float32"], "sets": ["columns", "member"]}
    assert entries["onnx"]["variants"] == ["onnx[float32]", "onnx[member]"]
    assert entries["pmml"]["options"] == {"leaves": ["on", "off"]} and entries["pmml"]["variants"] == [
        "pmml[no-leaves]"
    ]
    code, out, err = run(capsys, "formats")
    assert code == 0 and "stripe-json" in out.splitlines()[1]


def test_info(capsys, package_path, package):
    code, out, err = run(capsys, "info", package_path, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["model"]["model_type"] == "classification-forest"
    assert doc["model"]["trees"] == 4 and doc["model"]["nodes"] == package.model.n_nodes
    assert 1 <= doc["model"]["max_depth"] <= 6
    assert doc["model"]["classes"] == [False, True]
    assert doc["id"] == package.id and doc["owner"] == "tests" and doc["tags"] == ["cli"]
    assert doc["inputs"][0] == {"name": "bird", "kind": "categorical"}
    assert [e["type"] for e in doc["encoders"]] == ["fill-missing", "label-encoder", "fill-missing"]
    code, out, err = run(capsys, "info", package_path)
    assert code == 0
    assert "classification-forest" in out and package.id in out and "suite=cli" in out


# ---------------------------------------------------------------- usage


@pytest.mark.parametrize("argv", [["frobnicate"], ["score", "--bogus"], [], ["validate"], ["info", "--json"]])
def test_usage_errors_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "usage: crossform" in err


def test_missing_package_is_usage_error(tmp_path, capsys):
    code, out, err = run(capsys, "info", tmp_path / "nothing")
    assert code == 2
    assert err.strip() == f"crossform: error: package {tmp_path / 'nothing'}: no such file or directory"


def test_version(capsys):
    code, out, err = run(capsys, "--version")
    assert code == 0 and out.strip() == f"crossform {crossform.__version__}"


def test_help_in_a_subprocess():
    done = subprocess.run([sys.executable, "-m", "crossform.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in cli.COMMANDS:
        assert f"    {name}" in done.stdout
    assert "exit status:" in done.stdout
