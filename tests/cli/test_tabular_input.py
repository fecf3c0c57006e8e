"""``crossform score`` and ``conform --rows`` reading CSV and JSON Lines.

CSV cells are read as pandas.read_csv reads them by default, so the
expected scores are scikit-learn's on the DataFrame pandas makes of the same
file; cells pandas does not read as numbers are row errors naming the cell,
and every error about the file names the file and the line. Input streams in
bounded chunks: the scores of any chunk size are those of one batch, and a
large file scores in a bounded address space.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

import crossform
from crossform import cli, progress

NUMS = ["x1", "x2", "flag"]
CATS = ["color"]
OUTPUTS = ["probability(False)", "probability(True)"]


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(11)
    n = 500
    frame = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], n).astype(object),
            "x1": rng.normal(size=n).round(3),
            "x2": rng.normal(size=n).round(3),
            "flag": rng.integers(0, 2, n).astype(float),
        }
    )
    frame.loc[rng.random(n) < 0.1, "x1"] = np.nan
    frame.loc[rng.random(n) < 0.1, "color"] = np.nan
    y = (frame.x2 + frame.flag - (frame.color == "red") > 0.2).to_numpy()
    pipe = Pipeline(
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
            ("model", RandomForestClassifier(n_estimators=6, max_depth=7, random_state=0)),
        ]
    )
    return pipe.fit(frame[CATS + NUMS], y)


@pytest.fixture(scope="module")
def package_path(fitted, tmp_path_factory):
    package = crossform.from_sklearn(fitted, checks=0)
    return str(crossform.save(package, tmp_path_factory.mktemp("pkg") / "colors"))


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_scores(text: str) -> tuple:
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][-3:] == OUTPUTS + ["error"]
    body = table[1:]
    values = np.array([[math.nan if c == "" else float(c) for c in r[-3:-1]] for r in body])
    return table[0], body, values, [r[-1] or None for r in body]


def sklearn_rows(fitted, frame: pd.DataFrame) -> np.ndarray:
    """predict_proba of each row of the DataFrame pandas read, NaN where scikit-learn refuses the row."""
    out = np.full((len(frame), 2), np.nan)
    for i in range(len(frame)):
        try:
            out[i] = fitted.predict_proba(frame.iloc[[i]][CATS + NUMS])[0]
        except ValueError:
            pass
    return out


# ---------------------------------------------------------------- CSV cells


PANDAS_CSV = """\
id,color,x1,x2,flag
a,red,0.5,1.25,True
b,NA,-1e-1,  2.5 ,False
c,null,nan,.75,TRUE
d,,N/A,1.5E+00,false
e,blue,#N/A,-0.5,true
f,<NA>,NULL,3,FALSE
g,green,inf,0,True
h,n/a,-Infinity,1,False
i,None,NaN,+2,True
j,red,1.,-nan,False
k,blue,"	2
",-0.5,true
"""


def test_csv_cells_read_as_pandas_reads_them(tmp_path, capsys, fitted, package_path):
    src = tmp_path / "rows.csv"
    src.write_text(PANDAS_CSV)
    frame = pd.read_csv(src)
    assert frame.flag.dtype == bool and frame.color.isna().sum() == 6  # what pandas makes of it
    want = sklearn_rows(fitted, frame)
    assert np.isnan(want).any(axis=1).tolist() == [False] * 6 + [True, True] + [False] * 3  # inf is refused
    code, out, err = run(capsys, "score", package_path, src, "--keep", "id")
    assert code == 0, err
    header, body, got, errors = read_scores(out)
    assert [r[0] for r in body] == list("abcdefghijk")
    np.testing.assert_array_equal(got, want)
    assert [e is not None for e in errors] == np.isnan(want).any(axis=1).tolist()
    assert "inf" in errors[6] and "inf" in errors[7]


@pytest.mark.parametrize("cell", ["1_000", "0x10", "\u0661", "1,5", "NAN", "1e", "--1", " ", "1 000", "nan(1)"])
def test_a_cell_pandas_does_not_read_as_a_number_is_a_row_error(tmp_path, capsys, fitted, package_path, cell):
    src = tmp_path / "rows.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerows(
            [["color", "x1", "x2", "flag"], ["red", "0.5", "1", "1"], ["red", cell, "1", "1"], ["blue", "2", "0", "0"]]
        )
    assert not pd.api.types.is_numeric_dtype(pd.read_csv(src).x1)  # pandas does not read it as a number either
    code, out, err = run(capsys, "score", package_path, src)
    assert code == 0, err
    _, _, got, errors = read_scores(out)
    assert errors[0] is None and errors[2] is None
    assert errors[1] == f"feature 'x1': expected a number or missing, got {cell!r} (str)"
    frame = pd.DataFrame({"color": ["red", "blue"], "x1": [0.5, 2.0], "x2": [1.0, 0.0], "flag": [1.0, 0.0]})
    np.testing.assert_array_equal(got[[0, 2]], fitted.predict_proba(frame))


def test_a_number_in_a_categorical_column_is_its_text(tmp_path, capsys, package_path):
    src = tmp_path / "rows.csv"
    src.write_text("color,x1,x2,flag\n1.5,1,1,1\n")
    code, out, err = run(capsys, "score", package_path, src)
    assert read_scores(out)[3] == ["feature 'color': unknown category '1.5'"]


# ---------------------------------------------------------------- JSON Lines values


def test_jsonl_true_false_are_numbers_and_a_long_integer_fails_only_its_row(tmp_path, capsys, fitted, package_path):
    rows = [
        {"color": "red", "x1": 0.5, "x2": 1.0, "flag": True},
        {"color": "blue", "x1": None, "x2": -1.0, "flag": False},
        {"color": "green", "x2": 2.0, "flag": 1},
    ]
    src = tmp_path / "rows.jsonl"
    lines = [json.dumps(r) for r in rows]
    lines.insert(1, '{"color": "red", "x1": ' + "7" * 5000 + ', "x2": 1, "flag": 0, "id": ' + "8" * 5000 + "}")
    src.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "score", package_path, src, "--output-format", "jsonl", "--keep", "id")
    assert code == 0, err
    got = [json.loads(line) for line in out.splitlines()]
    assert [d["error"] is None for d in got] == [True, False, True, True]
    assert got[1]["error"] == "line 2: feature 'x1': the JSON integer of 5000 digits is beyond the float64 range"
    assert got[1]["id"] == "8" * 5000  # kept as its digits
    frame = pd.DataFrame(rows).astype({"flag": float, "x1": float})
    want = fitted.predict_proba(frame[CATS + NUMS])
    np.testing.assert_array_equal([[d[k] for k in OUTPUTS] for i, d in enumerate(got) if i != 1], want)


# ---------------------------------------------------------------- errors name the file and line


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ('color,x1,x2,flag\nred,1,1,1\n"two\nlines",1,1,1\nred,1,1\n', 5, "this row has 3 cells, the header has 4"),
        (
            'color,x1,x2,flag\nred,1,1,1\n"red,1,1,1\nblue,2,2,2\n',
            3,
            "a quoted cell opened in this row is never closed",
        ),
        ('color,x1,x2,flag\nred,1,1,1\n"red"x,1,1,1\n', 3, "malformed CSV"),
        ("color,x1,x2\nred,1,1\n", 1, "the CSV header has no column 'flag'"),
        (b"color,x1,x2,flag\nred,1,1,1\n\xff\xfe,1,1,1\n", 3, "not UTF-8 text"),
    ],
)
def test_csv_errors_name_the_file_and_the_line(tmp_path, capsys, package_path, text, line, reason):
    src = tmp_path / "odd rows.csv"
    src.write_bytes(text if isinstance(text, bytes) else text.encode())
    code, out, err = run(capsys, "score", package_path, src, "-o", tmp_path / "scores.csv")
    assert code == 1
    assert err.startswith(f"crossform: error: {src}, line {line}: {reason}"), err
    assert not (tmp_path / "scores.csv").exists()  # no half-written output
    assert list(tmp_path.iterdir()) == [src]


DEEP = "[" * 100_000 + "]" * 100_000


def test_deeply_nested_jsonl_is_a_named_error_in_a_file(tmp_path, capsys, package_path):
    src = tmp_path / "rows.jsonl"
    src.write_text('{"color": "red"}\n' + DEEP + "\n")
    code, out, err = run(capsys, "score", package_path, src)
    assert code == 1 and out == ""
    assert err.startswith(f"crossform: error: {src}, line 2: JSON nested too deeply"), err


def test_deeply_nested_jsonl_is_a_named_error_on_stdin(monkeypatch, capsys, package_path):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(('{"x": {"y": ' + DEEP + "}}\n").encode())))
    code, out, err = run(capsys, "score", package_path, "-", "--input-format", "jsonl")
    assert code == 1
    assert err.startswith("crossform: error: <stdin>, line 1: JSON nested too deeply"), err


def test_deeply_nested_jsonl_is_a_named_error_in_conform_rows(tmp_path, capsys, package_path):
    src = tmp_path / "rows.jsonl"
    src.write_text('{"color": "red", "x1": 1, "x2": 1, "flag": 0}\n\n' + DEEP + "\n")
    code, out, err = run(capsys, "conform", package_path, "--rows", src, "--max-rows", "5")
    assert code == 1
    assert err.startswith(f"crossform: error: {src}, line 3: JSON nested too deeply"), err


def test_conform_rows_reads_csv_as_score_does(tmp_path, capsys, package_path):
    src = tmp_path / "rows.csv"
    src.write_text(PANDAS_CSV)
    code, out, err = run(
        capsys, "conform", package_path, "--rows", src, "--max-rows", "5", "--format", "stripe-json", "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert any(case["name"].endswith("rows.csv") for case in report["cases"])


# ---------------------------------------------------------------- chunks, exit codes, progress


def test_any_chunk_size_writes_what_one_batch_writes(tmp_path, capsys, fitted, package_path):
    rng = np.random.default_rng(5)
    lines = ["id,color,x1,x2,flag"]
    for i in range(200):
        color = ["red", "blue", "green", "mauve", "NA", '"multi\nline"'][i % 6]
        lines.append(f"r{i},{color},{rng.normal():.4f},{rng.normal():.4f},{['True', '0', 'x'][i % 3]}")
        if i % 17 == 0:
            lines.append("")  # blank lines are skipped
    src = tmp_path / "rows.csv"
    src.write_text("\n".join(lines) + "\n")
    outputs = {}
    for chunk in ("1", "7", "1000"):
        dst = tmp_path / f"scores-{chunk}.csv"
        code, out, err = run(capsys, "score", package_path, src, "--keep", "id", "--chunk-rows", chunk, "-o", dst)
        assert code == 0, err
        outputs[chunk] = dst.read_text()
    assert outputs["1"] == outputs["7"] == outputs["1000"]
    header, body, got, errors = read_scores(outputs["7"])
    assert [r[0] for r in body] == [f"r{i}" for i in range(200)]
    frame = pd.read_csv(src)
    ok = [e is None for e in errors]
    assert sum(ok) == 200 - len([i for i in range(200) if i % 3 == 2 or i % 6 in (3, 5)])
    expected = frame[ok][CATS + NUMS].astype({"flag": object})
    expected["flag"] = expected.flag.map({"True": 1.0, "0": 0.0})  # the cells pandas leaves as text in a mixed column
    np.testing.assert_array_equal(got[ok], fitted.predict_proba(expected))


def test_fail_on_row_error_when_every_row_fails(tmp_path, capsys, package_path):
    src = tmp_path / "rows.csv"
    src.write_text("color,x1,x2,flag\nmauve,1,1,1\nred,inf,1,1\n")
    code, out, err = run(capsys, "score", package_path, src)
    assert code == 0
    assert err == f"scored 2 rows in reference (crossform {crossform.__version__}): 2 row errors\n"
    code, out, err = run(capsys, "score", package_path, src, "--fail-on-row-error")
    assert code == 1 and "2 row errors" in err
    assert len(read_scores(out)[1]) == 2  # the scores are still written
    code, out, err = run(capsys, "score", package_path, src, "--fail-on-row-error", "--quiet")
    assert code == 1 and err == ""


def test_progress_on_stderr_unless_quiet(tmp_path, capsys, monkeypatch, package_path):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    src = tmp_path / "rows.csv"
    src.write_text("color,x1,x2,flag\n" + "red,1,1,1\n" * 30)
    code, out, err = run(capsys, "score", package_path, src, "--chunk-rows", "10")
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("crossform: score:")]
    assert [line.split(",")[0] for line in lines] == [f"crossform: score: {n} rows scored" for n in (10, 20, 30)]
    assert "% of the input" in lines[-1]
    code, out, err = run(capsys, "score", package_path, src, "--chunk-rows", "10", "--quiet")
    assert code == 0 and err == ""


MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys
    from crossform import cli
    import crossform
    from crossform import exporters

    # A package file is read with read(MAX_FILE_BYTES + 1), which reserves 2 GiB of address
    # space up front; that is the package reader's limit, not what this test measures.
    exporters.MAX_FILE_BYTES = 2**20
    cli.main(["score", sys.argv[1], sys.argv[2], "-o", sys.argv[4], "--quiet", "--chunk-rows", "20"])
    with open("/proc/self/status") as fh:
        size = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + 80 * 2**20, resource.RLIM_INFINITY))
    sys.exit(cli.main(["score", sys.argv[1], sys.argv[3], "-o", sys.argv[4], "--quiet"]))
""")


def test_a_large_csv_scores_in_bounded_memory(tmp_path, package_path):
    rng = np.random.default_rng(0)
    n = 600_000  # a dict per row would need ~300 MB; the limit leaves 80 MB
    small, large, dst = tmp_path / "small.csv", tmp_path / "large.csv", tmp_path / "scores.csv"
    small.write_text("color,x1,x2,flag\n" + "red,1,2,0\n" * 40)
    numbers = rng.normal(size=(n, 2)).round(4)
    with open(large, "w") as fh:
        fh.write("color,x1,x2,flag\n")
        fh.writelines(f"blue,{a},{b},1\n" for a, b in numbers.tolist())
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, package_path, str(small), str(large), str(dst)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with open(dst) as fh:
        assert sum(1 for _ in fh) == n + 1


def test_output_that_is_not_a_regular_file_is_written_in_place(tmp_path, capsys, package_path):
    src = tmp_path / "rows.csv"
    src.write_text("color,x1,x2,flag\nred,1,1,1\n")
    real = tmp_path / "real.csv"
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    code, out, err = run(capsys, "score", package_path, src, "-o", link)
    assert code == 0, err
    assert link.is_symlink() and len(read_scores(real.read_text())[1]) == 1  # the link still leads to the file
    fifo = tmp_path / "scores.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    code, out, err = run(capsys, "score", package_path, src, "-o", fifo, "--output-format", "csv")
    reader.join(timeout=60)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # not replaced by a regular file
    assert len(read_scores(got[0])[1]) == 1


def test_missing_cells_are_pandas_defaults_and_score_help_lists_them(capsys):
    from pandas._libs.parsers import STR_NA_VALUES

    from crossform import tabular

    assert set(tabular.NA_CELLS) == set(STR_NA_VALUES)
    code, out, err = run(capsys, "score", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert all(f'"{cell}"' in text for cell in tabular.NA_CELLS)
    assert "--fail-on-row-error" in text and "--quiet" in text and "--chunk-rows" in text


def test_blank_lines_before_the_header_are_skipped_as_pandas_does(tmp_path, capsys, fitted, package_path):
    src = tmp_path / "rows.csv"
    src.write_text("\n\ncolor,x1,x2,flag\nred,1,1,1\n")
    code, out, err = run(capsys, "score", package_path, src)
    assert code == 0, err
    np.testing.assert_array_equal(read_scores(out)[2], fitted.predict_proba(pd.read_csv(src)[CATS + NUMS]))
    src.write_text("\n\ncolor,x1,x2\nred,1,1\n")
    code, out, err = run(capsys, "score", package_path, src)
    assert code == 1 and f"{src}, line 3: the CSV header has no column 'flag'" in err


def test_an_output_in_a_missing_directory_is_named(tmp_path, capsys, package_path):
    src = tmp_path / "rows.csv"
    src.write_text("color,x1,x2,flag\nred,1,1,1\n")
    dst = tmp_path / "nowhere" / "scores.csv"
    code, out, err = run(capsys, "score", package_path, src, "-o", dst)
    assert code == 2
    assert err == f"crossform: error: {dst}: No such file or directory\n"


PLAIN_BODIES = [
    "red,1,2,1\nblue,3,4,0\n",
    "red,1,2,1\r\nblue,3,4,0\r\n",  # CRLF
    "red,1,2,1\n\n\nblue,3,4,0\n\n",  # blank lines between and after rows
    "red,1,2,1\nblue,3,4,0",  # no line break after the last row
    " red , 1 ,2 , 1\n,,,\nNA,nan,,True\n",  # spaces and empty cells kept as written
    "red,1,2,1\nblue,3,4\n",  # a short row: the same error, at the same line
    "red,1,2,1\nblue,3,4,0,5\n",
    "red,1,2,1\rblue,3,4,0\r",  # lone CRs: the csv module's line breaks
    "red,1,2,1\nbl\x00ue,3,4,0\n",  # a NUL
]


@pytest.mark.parametrize("body", PLAIN_BODIES)
@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_rows_without_quotes_split_as_the_csv_module_reads_them(monkeypatch, body, chunk_rows):
    """Lines without a quote are split at C speed; what comes out, rows or an error naming
    the line, is what the csv module makes of the same lines."""
    from crossform import ir, tabular
    from crossform.errors import TabularInputError

    fields = [ir.Field("color", ir.CATEGORICAL)] + [ir.Field(n, ir.NUMERIC) for n in ("x1", "x2", "flag")]

    def read() -> list:
        stream = io.StringIO("color,x1,x2,flag\n" + body, newline="")
        try:
            return [
                (
                    c.n_rows,
                    {
                        k: [None if isinstance(v, float) and math.isnan(v) else v for v in col.tolist()]
                        for k, col in c.columns.items()
                    },
                    c.kept,
                )
                for c in tabular.read_csv(stream, fields, ["x1"], "rows.csv", chunk_rows)
            ]
        except TabularInputError as exc:
            return [str(exc)]

    split = read()
    monkeypatch.setattr(tabular, "_plain_rows", lambda block, width: (0, None))
    assert split == read()


@pytest.mark.parametrize(
    "kept, errors",
    [
        ([], [None, None, None]),
        ([["a", " b ", ""]], [None, "x1: 'y' is not a number", None]),
        ([["a", "b,c", 'q"q']], [None, None, None]),  # cells to quote
        ([["a", "b", "c"]], [None, 'feature "color": unknown category, "mauve"', "two\nlines"]),
        ([[1, None, 2.5]], [None, None, None]),  # kept JSON values that are not text
    ],
)
def test_scores_are_joined_as_the_csv_module_writes_them(monkeypatch, kept, errors):
    from crossform import tabular
    from crossform.evaluator import Scores

    values = np.array([[0.1, 0.9], [np.nan, np.nan], [-0.0, 1 / 3]])
    scores = Scores(values, ["p0", "p1"], errors, None, None)

    def written() -> str:
        out = io.StringIO()
        write = tabular.csv_writer(out, ["id"] * len(kept), scores.outputs)
        write(scores, kept)
        write(scores, kept)  # a second chunk, with texts kept from the first
        return out.getvalue()

    joined = written()
    monkeypatch.setattr(tabular, "_CSV_SPECIAL", type("Always", (), {"search": staticmethod(lambda text: True)}))
    assert joined == written()
    assert "-0.0" in joined and "0.3333333333333333" in joined


def test_read_rows_gives_every_row_as_pandas_reads_it():
    """conform --rows reads a rows file whole through tabular.read_rows: one mapping per row, cells as
    pandas.read_csv reads them (NaN for a missing number, None for a missing category), a row
    that cannot be read named with its line."""
    from crossform import ir, tabular

    fields = (ir.Field("colour", ir.CATEGORICAL), ir.Field("size", ir.NUMERIC))
    text = "colour,size\nred,1.5\n,NA\nblue,2e3\n"
    rows = tabular.read_rows(io.StringIO(text), "csv", fields, "rows.csv")
    expected = pd.read_csv(io.StringIO(text))
    assert [r["colour"] for r in rows] == [None if pd.isna(c) else c for c in expected["colour"]]
    np.testing.assert_array_equal([r["size"] for r in rows], expected["size"].to_numpy())
    too_long = '{"colour": "red", "size": 1%s}' % ("0" * 5000)  # more digits than Python converts
    with pytest.raises(crossform.InputError, match=r"rows\.jsonl: line 2: feature 'size'"):
        tabular.read_rows(io.StringIO('{"colour": "red", "size": 1}\n' + too_long), "jsonl", fields, "rows.jsonl")
    assert tabular.format_of("a/B.NDJSON") == "jsonl" and tabular.format_of("rows.csv") == "csv"
    assert tabular.format_of("rows.txt") is None
