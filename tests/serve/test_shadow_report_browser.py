"""The shadow report's HTML page, opened in a real headless Chromium (Debian's, installed by
./dev setup when it can): the numbers the browser shows are the report's --json numbers, every
scatter plot holds one point per compared row up to SCATTER_CAP, every histogram counts every
compared row, and strings from the log arrive as text, never as markup."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

import crossform
from crossform import cli
from crossform.serve.report import LATENCY_QUANTILES, QUANTILES, SCATTER_CAP
from crossform.serve.shadows import make_record, open_shadow_log
from helpers.shadow_models import fit_shadow_models, job_for

TAG = "birds.production"
HOSTILE_ID = '<script>document.title="pwned"</script>"&amp;'
HOSTILE_ERROR = "</table><img src=x onerror=\"document.title='pwned'\"> & <b>bold</b>"
HOSTILE_OUTPUT = "probability(<i>high</i>)"


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    pytest.skip("Chromium is not installed: ./dev setup installs Debian's chromium when run as root with apt-get")


class Page(HTMLParser):
    """What the test reads from the DOM Chromium dumps: per shadow section, its number cells,
    the points of each scatter, the bar counts of each histogram, and any script or image."""

    def __init__(self):
        super().__init__()
        self.sections = {}
        self.section = None
        self.cell = None
        self.h2 = None
        self.plot = None
        self.elements = []
        self.title = ""
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append(tag)
        if tag == "section":
            self.section = {"cells": {}, "points": {}, "bars": {}, "heading": ""}
            self.sections[attrs["data-shadow-id"]] = self.section
        elif tag == "td" and "data-field" in attrs:
            key = (attrs["data-field"], attrs.get("data-output"), attrs.get("data-side"), attrs.get("data-quantile"))
            self.cell = [json.loads(attrs["data-value"]), ""]
            self.section["cells"][key] = self.cell
        elif tag == "svg":
            kind = attrs["class"]
            self.plot = self.section["points" if kind == "scatter" else "bars"].setdefault(attrs["data-output"], [])
        elif tag == "circle":
            self.plot.append(1)
        elif tag == "rect":
            self.plot.append(int(attrs["data-count"]))
        elif tag == "h2":
            self.h2 = True
        elif tag == "title":
            self.in_title = True

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        elif tag == "h2":
            self.h2 = None
        elif tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data
        if self.h2:
            self.section["heading"] += data
        if self.in_title and self.section is None:
            self.title += data


@pytest.fixture(scope="module")
def page_and_report(tmp_path_factory):
    browser = chromium()
    models = fit_shadow_models()
    deeper, strict = models.shadow_ids
    folder = tmp_path_factory.mktemp("page")
    log_path = folder / "shadows.sqlite"
    with open_shadow_log(log_path) as log:
        for n in range(11):  # 11 x 240 compared rows for the deeper forest: over SCATTER_CAP
            job = job_for(models, 0, 240, f"req-{n}", TAG)
            shadows = [deeper] + ([strict] if n < 2 else [])  # the strict one under the cap
            for shadow_id in shadows:
                scores = crossform.score(models.packages[shadow_id], job.columns)
                log.append(make_record(job, shadow_id, scores, 0.0004 + n * 1e-5, None))
        record = make_record(job, HOSTILE_ID, job.primary, 0.001, None)
        outputs = [HOSTILE_OUTPUT] + record["outputs"][1:]
        log.append({**record, "outputs": outputs, "shadow_outputs": outputs})
        log.append(make_record(dataclasses.replace(job, request_id="req-x"), HOSTILE_ID, None, None, HOSTILE_ERROR))
    page = folder / "report.html"
    assert cli.main(["shadow-report", "-t", TAG, "--log", str(log_path), "--html", str(page), "-q"]) == 0
    document = crossform_json(log_path)
    dumped = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            f"--user-data-dir={folder / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    parsed = Page()
    parsed.feed(dumped.stdout)
    return parsed, document, page


def crossform_json(log_path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "crossform.cli", "shadow-report", "-t", TAG, "--log", str(log_path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_page_shows_the_reports_json_numbers(page_and_report):
    page, document, _ = page_and_report
    assert set(page.sections) == {n["shadow_id"] for n in document["shadows"]}
    for numbers in document["shadows"]:
        cells = page.sections[numbers["shadow_id"]]["cells"]
        expected = {
            (key, None, None, None): numbers[key]
            for key in (
                "primary_ids",
                "requests",
                "failed",
                "rows",
                "rows_compared",
                "primary_only_errors",
                "shadow_only_errors",
                "same_class_rows",
                "same_class_rate",
            )
        }
        for q in numbers["abs_delta"]:
            expected.update({("abs_delta", q["output"], None, name): q[name] for name, _ in QUANTILES})
        for side, q in numbers["latency_ms"].items():
            expected.update(
                {("latency_ms", None, side, name): None if q is None else q[name] for name, _ in LATENCY_QUANTILES}
            )
        assert {key: value for key, (value, _) in cells.items()} == expected
        for key, (value, text) in cells.items():  # and what a reader sees is that number, rounded
            if isinstance(value, float):
                assert float(text) == pytest.approx(value, rel=1e-5), key
            elif isinstance(value, int):
                assert text == str(value), key


def test_every_plot_holds_every_compared_row_up_to_the_cap(page_and_report):
    page, document, _ = page_and_report
    counts = {}
    for numbers in document["shadows"]:
        section = page.sections[numbers["shadow_id"]]
        outputs = [q["output"] for q in numbers["abs_delta"]]
        assert sorted(section["points"]) == sorted(section["bars"]) == sorted(outputs)
        for output in outputs:
            assert len(section["points"][output]) == min(numbers["rows_compared"], SCATTER_CAP)
            assert sum(section["bars"][output]) == numbers["rows_compared"]
        counts[numbers["shadow_id"]] = numbers["rows_compared"]
    # the page covers both regimes: a shadow over the cap and one under it
    assert max(counts.values()) > SCATTER_CAP > min(counts.values()) > 0


def test_strings_from_the_log_arrive_as_text(page_and_report):
    page, document, path = page_and_report
    assert "script" not in page.elements and "img" not in page.elements and "i" not in page.elements
    assert page.title == f"Shadow report: {TAG}"
    hostile = page.sections[HOSTILE_ID]
    assert hostile["heading"] == f"Shadow {HOSTILE_ID}"
    assert HOSTILE_OUTPUT in hostile["points"] and HOSTILE_OUTPUT in hostile["bars"]
    numbers = next(n for n in document["shadows"] if n["shadow_id"] == HOSTILE_ID)
    assert numbers["failures"] == [{"error": HOSTILE_ERROR, "count": 1}]
    assert HOSTILE_ERROR not in path.read_text()  # escaped in the file ...
    assert "https://" not in path.read_text() and "http://" not in path.read_text()  # ... which fetches nothing


def test_without_chromium_the_page_tests_skip_naming_why(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed: ./dev setup installs"):
        chromium()
