"""`crossform spark-score` on Parquet and on CSV: the written rows hold scikit-learn's recorded
outputs, the summary (a table, or --json) counts what was written, and a refused package
leaves no output behind."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import crossform
from crossform import ir
from crossform.checks import compare
from crossform.cli import main
from crossform.store import open_store
from helpers.spark import ROW, conformance_case, rows_frame, scores_of

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'crossform[spark]')")

CASE = "categories/encoded-missing"


@pytest.fixture(scope="module")
def case():
    return conformance_case(CASE)


def _csv_cell(value, kind: str) -> str:
    if value is None or (kind == ir.NUMERIC and math.isnan(value)):
        return ""
    return repr(float(value)) if kind == ir.NUMERIC else value  # repr: inf, -inf and every float exactly


def _write_csv(path, checks, extra=()) -> None:
    """The case's rows as CSV cells, then the ``extra`` rows of cells as written."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([ROW, *(f.name for f in checks.columns)])
        for i, row in enumerate(checks.rows):
            writer.writerow([i, *(_csv_cell(v, f.kind) for v, f in zip(row, checks.columns))])
        for i, cells in enumerate(extra, start=len(checks.rows)):
            writer.writerow([i, *cells])


def _read_csv_folder(folder):
    import pandas as pd

    parts = sorted(folder.glob("part-*.csv"))
    assert parts, f"no part files in {folder}"
    return pd.concat([pd.read_csv(p, keep_default_na=False, na_values=[""]) for p in parts], ignore_index=True)


def _keys(document, prefix="") -> set:
    keys = set()
    for key, value in document.items():
        keys.add(prefix + key)
        if isinstance(value, dict):
            keys |= _keys(value, f"{prefix}{key}.")
    return keys


RUNTIMES = ("reference", "jvm")  # Python workers, and the executors' JVM (tests/spark/test_jvm_path.py)


def _runtime(request, runtime: str) -> list:
    if runtime == "jvm":
        request.getfixturevalue("jvm_spark")  # a named skip when crossform's Spark jar cannot run
    return ["--runtime", runtime]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_parquet_in_and_out_with_a_json_summary(spark, tmp_path, capsys, case, request, runtime):
    import pandas as pd

    rows_frame(case.checks).to_parquet(tmp_path / "rows.parquet")
    package = crossform.save(case.package, tmp_path / "package")
    out = tmp_path / "scores.parquet"

    code = main(
        ["spark-score", "--input", str(tmp_path / "rows.parquet"), "--output", str(out)]
        + ["--package", str(package), "--keep", ROW, "--keep", ROW, "--json", *_runtime(request, runtime)]
    )

    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert _keys(summary) == {"input", "output", "format", "rows", "rows_in_error", "package"} | {
        f"package.{key}" for key in ("kind", "given", "tag", "id", "format", "source")
    }  # snake_case, as every --json of the command (tests/cli/test_cli_json.py)
    assert summary["rows"] == len(case.checks)
    assert summary["rows_in_error"] == int(case.checks.errors.sum()) > 0
    assert summary["format"] == "parquet"
    assert summary["package"]["id"] == case.package.id and summary["package"]["kind"] == "path"
    written = pd.read_parquet(out)
    assert list(written.columns) == [ROW, *case.package.outputs, "error"]
    from crossform.spark import resolved_of

    assert resolved_of(spark.read.parquet(str(out))) == summary["package"]  # Parquet keeps the record
    comparison = compare(case.checks, scores_of(written, case.package.outputs), case.package.model)
    assert comparison.ok, comparison.summary()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_csv_in_and_out_by_id_with_a_table_summary(spark, tmp_path, capsys, case, request, runtime):
    # a cell crossform score refuses in a numeric column (pandas would read "1_000" as 1000)
    numeric = next(j for j, f in enumerate(case.checks.columns) if f.kind == ir.NUMERIC)
    refused = [_csv_cell(v, f.kind) for v, f in zip(case.checks.rows[0], case.checks.columns)]
    refused[numeric] = "1_000"
    _write_csv(tmp_path / "rows.csv", case.checks, [refused])
    store = tmp_path / "store"
    model_id = open_store(store).put(case.package)
    out = tmp_path / "scores.csv"

    code = main(
        ["spark-score", "--input", str(tmp_path / "rows.csv"), "--output", str(out)]
        + ["--package", model_id, "--store", str(store), "--fail-on-row-error", *_runtime(request, runtime)]
    )

    assert code == 1  # the case has row errors, and --fail-on-row-error says so
    table = dict(line.split("  ", 1) for line in capsys.readouterr().out.splitlines())  # label, then 2+ spaces
    table = {label: value.strip() for label, value in table.items()}
    assert table["rows"] == f"{len(case.checks) + 1:,}"
    assert table["rows in error"] == f"{int(case.checks.errors.sum()) + 1:,}"
    assert table["id"] == model_id and table["package format"] == "stripe-json"
    written = _read_csv_folder(out)
    assert list(written.columns) == [ROW, *(f.name for f in case.checks.columns), *case.package.outputs, "error"]
    last = written[written[ROW] == len(case.checks)]
    assert "1_000" in last["error"].item() and last[list(case.package.outputs)].isna().all().all()
    written = written[written[ROW] < len(case.checks)]
    comparison = compare(case.checks, scores_of(written, case.package.outputs), case.package.model)
    assert comparison.ok, comparison.summary()


def test_a_tampered_package_exits_1_and_writes_nothing(spark, tmp_path, capsys, case):
    rows_frame(case.checks).to_parquet(tmp_path / "rows.parquet")
    store = tmp_path / "store"
    model_id = open_store(store).put(case.package)
    target = sorted(p for p in (store / model_id / "stripe-json" / "files").rglob("*") if p.is_file())[-1]
    target.write_bytes(target.read_bytes() + b" ")
    out = tmp_path / "scores.parquet"

    code = main(
        ["spark-score", "--input", str(tmp_path / "rows.parquet"), "--output", str(out)]
        + ["--package", model_id, "--store", str(store)]
    )

    assert code == 1
    assert "the stored object was changed" in capsys.readouterr().err
    assert not out.exists()


def test_an_existing_output_is_refused_unless_overwrite(spark, tmp_path, capsys, case):
    rows_frame(case.checks).to_parquet(tmp_path / "rows.parquet")
    package = crossform.save(case.package, tmp_path / "package.pb", format="protobuf")
    out = tmp_path / "scores.parquet"
    out.mkdir()
    (out / "keep-me").write_text("earlier results")
    arguments = ["spark-score", "--input", str(tmp_path / "rows.parquet"), "--output", str(out)]
    arguments += ["--package", str(package)]

    assert main(arguments) == 1
    assert "cannot write" in capsys.readouterr().err and (out / "keep-me").exists()
    assert main([*arguments, "--overwrite"]) == 0
    assert not (out / "keep-me").exists()


def test_an_input_without_a_known_extension_needs_format(tmp_path, capsys):
    assert main(["spark-score", "--input", str(tmp_path / "rows"), "--output", "x", "--package", "p"]) == 2
    assert "--format parquet|csv" in capsys.readouterr().err


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_spark_submit_runs_the_command_line_module(tmp_path, case, runtime):
    """spark-submit runs a .py file: crossform/cli/__main__.py, the master from spark-submit's own
    --master (the command is given none), in a process of its own; for the jvm runtime, crossform's
    jars from spark-submit's --jars."""
    import pandas as pd

    import crossform.cli
    from crossform import spark as crossform_spark

    jars = []
    if runtime == "jvm":
        reason = crossform_spark.jvm_unavailable()
        if reason:
            pytest.skip(f"crossform.spark runtime jvm: {reason}")
        jars = ["--jars", ",".join(crossform_spark.jars())]

    submit = Path(sys.executable).parent / "spark-submit"
    if not submit.exists():
        pytest.skip(f"pyspark's spark-submit is not beside this Python ({submit})")
    rows_frame(case.checks).to_parquet(tmp_path / "rows.parquet")
    store = tmp_path / "store"
    model_id = open_store(store).put(case.package, format="protobuf")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CROSSFORM_", "PYSPARK_"))}
    env.update(PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    main_file = Path(crossform.cli.__file__).parent / "__main__.py"

    done = subprocess.run(
        [str(submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false", *jars, str(main_file), "spark-score"]
        + ["--input", "rows.parquet", "--output", "scores.parquet", "--package", model_id, "--store", str(store)]
        + ["--keep", ROW, "--json", "--runtime", runtime],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    # spark-submit merges the driver's stderr (here pyspark's warnings) into its stdout: the summary is last
    lines = done.stdout.splitlines()
    summary = json.loads("\n".join(lines[lines.index("{") :]))
    assert summary["package"] == {
        "kind": "id",
        "given": model_id,
        "tag": None,
        "id": model_id,
        "format": "protobuf",
        "source": str(store),
    }
    written = pd.read_parquet(tmp_path / "scores.parquet")
    comparison = compare(case.checks, scores_of(written, case.package.outputs), case.package.model)
    assert comparison.ok, comparison.summary()
