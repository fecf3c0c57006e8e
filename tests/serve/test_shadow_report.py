"""The shadow report: its numbers equal what scikit-learn's fitted models give on the logged rows
(predict_proba, predict, and which rows their encoders refuse), computed here from scikit-learn
directly; `crossform shadow-report` prints them, --json prints the same numbers, and an unknown
tag, an empty or damaged log and bad usage exit with a named error."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossform
from crossform import cli
from crossform.errors import ShadowLogFormatError, UnknownShadowTagError
from crossform.serve.report import QUANTILES, compare, record_agreement, report
from crossform.serve.shadows import RECORD_FIELDS, make_record, open_shadow_log
from helpers.shadow_models import fit_shadow_models, job_for, sklearn_scores

TAG = "birds.production"
REQUESTS = [(0, 1), (1, 40), (40, 41), (41, 130), (130, 240)]  # row slices: single rows and batches


@pytest.fixture(scope="module")
def models():
    return fit_shadow_models()


def build_log(path, models, tag, primary_id, shadow_ids, failing=()):
    """A shadow log as the pool writes it, from real scores: the primary's and each shadow's
    package scored by crossform on the same rows; ``failing`` shadows fail to load once."""
    with open_shadow_log(path) as log:
        for n, (start, stop) in enumerate(REQUESTS):
            job = job_for(models, start, stop, f"req-{n}", tag)
            if primary_id != job.primary_id:  # another model answering the tag
                began = time.perf_counter()
                scores = crossform.score(models.packages[primary_id], job.columns)
                job = dataclasses.replace(
                    job, primary_id=primary_id, primary=scores, primary_seconds=time.perf_counter() - began
                )
            for shadow_id in shadow_ids:
                began = time.perf_counter()
                scores = crossform.score(models.packages[shadow_id], job.columns)
                log.append(make_record(job, shadow_id, scores, time.perf_counter() - began, None))
            for shadow_id in failing:
                log.append(make_record(job, shadow_id, None, None, "cannot load the shadow model: gone"))
    return path


def expected_numbers(models, primary_id, shadow_id):
    """The report's numbers for ``shadow_id`` against ``primary_id`` over every logged row, from scikit-learn."""
    stop = REQUESTS[-1][1]
    primary, primary_labels, primary_refused = sklearn_scores(models, primary_id, 0, stop)
    shadow, shadow_labels, shadow_refused = sklearn_scores(models, shadow_id, 0, stop)
    compared = ~primary_refused & ~shadow_refused
    delta = np.abs(shadow - primary)[compared]
    classes = [f"probability({c})" for c in models.fitted[primary_id].classes_]
    assert classes == [f"probability({c})" for c in models.fitted[shadow_id].classes_]
    return {
        "rows": stop,
        "rows_compared": int(compared.sum()),
        "primary_only_errors": int((primary_refused & ~shadow_refused).sum()),
        "shadow_only_errors": int((shadow_refused & ~primary_refused).sum()),
        "same_class_rows": int((primary_labels[compared] == shadow_labels[compared]).sum()),
        "same_class_rate": float(np.mean(primary_labels[compared] == shadow_labels[compared])),
        "outputs": classes,
        "abs_delta": [
            {
                "output": name,
                **dict(zip([q for q, _ in QUANTILES], np.quantile(delta[:, j], [p for _, p in QUANTILES]))),
            }
            for j, name in enumerate(classes)
        ],
    }


def assert_matches(numbers, expected):
    for key in ("rows", "rows_compared", "primary_only_errors", "shadow_only_errors", "same_class_rows", "outputs"):
        assert numbers[key] == expected[key], key
    assert numbers["same_class_rate"] == pytest.approx(expected["same_class_rate"], rel=1e-15)
    assert [q["output"] for q in numbers["abs_delta"]] == [q["output"] for q in expected["abs_delta"]]
    for found, quantiles in zip(numbers["abs_delta"], expected["abs_delta"]):
        for name, _ in QUANTILES:
            # crossform's scores equal scikit-learn's to a few ulps; so do their differences
            assert found[name] == pytest.approx(quantiles[name], rel=1e-9, abs=1e-12), (found["output"], name)


def latency_quantiles(log_path, shadow_id, side):
    seconds = [
        r[f"{side}_seconds"]
        for r in open_shadow_log(log_path, create=False).records(shadow_id=shadow_id)
        if r["error"] is None
    ]
    return dict(zip(["p50", "p99"], (np.quantile(seconds, [0.5, 0.99]) * 1000).tolist()))


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_the_numbers_are_scikit_learns(models, tmp_path, kind):
    deeper, strict = models.shadow_ids
    path = build_log(tmp_path / f"shadows.{kind}", models, TAG, models.primary_id, [deeper, strict], failing=["gone"])
    with open_shadow_log(path, create=False) as log:
        document = report(log, TAG)
    assert document["tag"] == TAG and document["log"] == str(path)
    by_id = {n["shadow_id"]: n for n in document["shadows"]}
    assert list(by_id) == sorted([deeper, strict, "gone"])
    for shadow_id in (deeper, strict):
        numbers = by_id[shadow_id]
        assert_matches(numbers, expected_numbers(models, models.primary_id, shadow_id))
        assert (numbers["requests"], numbers["failed"], numbers["failures"]) == (len(REQUESTS), 0, [])
        assert numbers["primary_ids"] == [models.primary_id]
        for side in ("shadow", "primary"):
            assert numbers["latency_ms"][side] == pytest.approx(latency_quantiles(path, shadow_id, side), rel=1e-12)
    # the strict shadow refuses purple rows the primary scores, and disagrees on some classes
    assert by_id[strict]["shadow_only_errors"] > 0 and by_id[strict]["same_class_rate"] < 1
    gone = by_id["gone"]
    assert (gone["requests"], gone["failed"], gone["rows"], gone["rows_compared"]) == (
        len(REQUESTS),
        len(REQUESTS),
        0,
        0,
    )
    assert gone["failures"] == [{"error": "cannot load the shadow model: gone", "count": len(REQUESTS)}]
    assert gone["same_class_rate"] is None and gone["abs_delta"] == [] and gone["latency_ms"]["shadow"] is None


def test_rows_only_the_primary_refused_are_counted_on_its_side(models, tmp_path):
    deeper, strict = models.shadow_ids
    path = build_log(tmp_path / "shadows.sqlite", models, TAG, strict, [deeper])
    with open_shadow_log(path, create=False) as log:
        (numbers,) = report(log, TAG)["shadows"]
    expected = expected_numbers(models, strict, deeper)
    assert expected["primary_only_errors"] > 0
    assert_matches(numbers, expected)
    assert numbers["primary_ids"] == [strict]


def test_the_report_is_strict_json_when_scores_are_infinite(models, tmp_path):
    from crossform.scores import Scores

    job = job_for(models, 0, 3, "req", TAG)
    values = job.primary.values.copy()
    values[0, 0] = np.inf
    shadow = Scores(values, job.primary.outputs, [None] * 3, job.primary.classes)
    path = tmp_path / "shadows.jsonl"
    with open_shadow_log(path) as log:
        log.append(make_record(job, "odd", shadow, 0.001, None))
    with open_shadow_log(path, create=False) as log:
        (numbers,) = report(log, TAG)["shadows"]
    assert numbers["abs_delta"][0]["output"] == job.primary.outputs[0]
    assert numbers["abs_delta"][0]["max"] == "Infinity"
    json.dumps(numbers, allow_nan=False)


def test_record_agreement_is_the_rule_the_report_sums(models):
    deeper = models.shadow_ids[0]
    job = job_for(models, 0, 30, "req", TAG)
    record = make_record(job, deeper, crossform.score(models.packages[deeper], job.columns), 0.01, None)
    agreement = record_agreement(record)
    primary, primary_labels, _ = sklearn_scores(models, models.primary_id, 0, 30)
    shadow, shadow_labels, _ = sklearn_scores(models, deeper, 0, 30)
    assert agreement.compared.all() and agreement.same_class.tolist() == (primary_labels == shadow_labels).tolist()
    np.testing.assert_allclose(agreement.shadow - agreement.primary, shadow - primary, rtol=1e-9, atol=1e-12)


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_prints_the_numbers_and_json_prints_the_same(models, tmp_path, capsys):
    deeper, strict = models.shadow_ids
    path = build_log(tmp_path / "shadows.sqlite", models, TAG, models.primary_id, [deeper, strict], failing=["gone"])
    code, out, err = run(capsys, "shadow-report", "-t", TAG, "--log", path, "--json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    with open_shadow_log(path, create=False) as log:
        assert document == report(log, TAG)
    code, out, err = run(capsys, "shadow-report", "-t", TAG, "--log", path)
    assert (code, err) == (0, "")
    for numbers in document["shadows"]:
        block = out.split(f"shadow {numbers['shadow_id']}")[1].split("\nshadow ")[0]
        assert f"requests {numbers['requests']} ({numbers['failed']} failed)" in block
        assert f"compared {numbers['rows_compared']}" in block
        if numbers["same_class_rate"] is not None:
            assert f"same class: {numbers['same_class_rate']:.2%} ({numbers['same_class_rows']} of" in block
        assert f"{numbers['shadow_only_errors']} refused by the shadow alone" in block
        for quantiles in numbers["abs_delta"]:
            line = next(line for line in block.splitlines() if line.strip().startswith(quantiles["output"]))
            assert line.split()[1:] == [f"{quantiles[name]:.4g}" for name, _ in QUANTILES]
    assert "failed 5x: cannot load the shadow model: gone" in out


def test_the_default_log_is_where_serve_writes_it(models, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build_log(tmp_path / ".crossform" / "shadows.sqlite", models, TAG, models.primary_id, models.shadow_ids[:1])
    code, out, err = run(capsys, "shadow-report", "-t", TAG, "--json")
    assert code == 0 and json.loads(out)["log"] == ".crossform/shadows.sqlite"


def test_an_unknown_tag_and_an_empty_log_exit_1_naming_them(models, tmp_path, capsys):
    path = build_log(tmp_path / "shadows.jsonl", models, TAG, models.primary_id, models.shadow_ids[:1])
    code, out, err = run(capsys, "shadow-report", "-t", "other.tag", "--log", path)
    assert (code, out) == (1, "")
    assert err.startswith(f"crossform: error: {path}: expected shadow records of tag 'other.tag'; found none")
    assert TAG in err
    empty = tmp_path / "empty.sqlite"
    open_shadow_log(empty).close()
    code, out, err = run(capsys, "shadow-report", "-t", TAG, "--log", empty)
    assert code == 1 and "the log has no records yet" in err
    with pytest.raises(UnknownShadowTagError):
        compare(open_shadow_log(empty, create=False), TAG)


def test_a_missing_log_and_bad_usage_exit_2_and_a_missing_default_log_exits_1(tmp_path, capsys, monkeypatch):
    code, out, err = run(capsys, "shadow-report", "-t", TAG, "--log", tmp_path / "absent.sqlite")
    assert code == 2 and "absent.sqlite: no such file" in err
    assert not (tmp_path / "absent.sqlite").exists()
    code, out, err = run(capsys, "shadow-report", "--log", tmp_path / "absent.sqlite")
    assert code == 2 and "-t/--tag" in err
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "shadow-report", "-t", TAG)
    assert code == 1 and "no shadow log here" in err
    assert not (tmp_path / ".crossform").exists()


def test_a_damaged_record_is_a_named_error(models, tmp_path, capsys):
    path = tmp_path / "shadows.jsonl"
    job = job_for(models, 0, 4, "req-7", TAG)
    record = make_record(job, "s", job.primary, 0.01, None)
    cases = [
        ({**record, "shadow_values": [[0.5, 0.5]] * 4}, "expected rows of 3 numbers"),
        ({**record, "shadow_errors": [None]}, "expected one shadow error entry per row"),
        ({**record, "shadow_values": "lots"}, "expected a list of rows of scores"),
        (
            {**record, "shadow_values": [[0.1, 0.2, 0.7]] * 3, "shadow_errors": [None] * 3},
            "expected the shadow to score",
        ),
        ({**record, "shadow_classes": ["a", "b"]}, "expected the shadow's classes as a list of one class per output"),
        ({**record, "primary_classes": 3}, "expected the primary's classes as a list"),
    ]
    for damaged, message in cases:
        path.write_text(json.dumps(damaged) + "\n")
        with pytest.raises(ShadowLogFormatError, match=re.escape(message)) as caught:
            compare(open_shadow_log(path, create=False), TAG)
        assert "record 1 of tag birds.production (request 'req-7')" in str(caught.value)
        code, out, err = run(capsys, "shadow-report", "-t", TAG, "--log", path)
        assert code == 1 and message in err and "Traceback" not in err


def test_every_record_field_is_documented():
    text = (__import__("helpers.paths", fromlist=["REPO"]).REPO / "docs" / "shadows.md").read_text()
    for name in RECORD_FIELDS:
        assert f"`{name}`" in text, name


def test_a_damaged_record_among_good_ones_is_named_by_its_own_number(models, tmp_path):
    # consecutive records are compared together; the error must still name the one at fault
    path = tmp_path / "shadows.jsonl"
    deeper = models.shadow_ids[0]
    with open_shadow_log(path) as log:
        for n in range(4):
            job = job_for(models, n, n + 3, f"req-{n}", TAG)
            record = make_record(job, deeper, crossform.score(models.packages[deeper], job.columns), 0.01, None)
            if n == 2:
                record["shadow_values"][1] = [0.5, 0.5]
            log.append(record)
    with pytest.raises(ShadowLogFormatError, match=re.escape("record 3 of tag birds.production (request 'req-2')")):
        compare(open_shadow_log(path, create=False), TAG)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_record_is_refused_by_name_or_reported(models, tmp_path, data):
    """A record with any field replaced by any JSON value: the report and its page, or a named error."""
    from crossform.errors import CrossformError
    from crossform.serve.report import report_html

    job = job_for(models, 0, 3, "req", TAG)
    record = make_record(job, "s", job.primary, 0.01, None)
    for _ in range(data.draw(st.integers(1, 3))):
        field = data.draw(st.sampled_from([f for f in RECORD_FIELDS if f not in ("tag", "shadow_id")]))
        record[field] = data.draw(JSON)
    path = tmp_path / "fuzz.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with open_shadow_log(path, create=False) as log:
        try:
            comparisons = compare(log, TAG)
            json.dumps(report(log, TAG, comparisons), allow_nan=False)
            report_html(log, TAG, comparisons)
        except CrossformError:
            pass
