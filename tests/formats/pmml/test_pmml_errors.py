"""The pmml reader: one named error per bad input, limits, newer minors, leaf record counts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossform
from crossform import ir
from crossform.errors import (
    FormatVersionError,
    IdMismatchError,
    LimitExceededError,
    MalformedPackageError,
    UnsupportedModelError,
)
from crossform.exporters import _limits
from crossform.exporters import pmml as P
from crossform.exporters.pmml import parse, rules
from helpers.fuzz import damaged, read_or_refuse
from helpers.packages import TREE_VARIANTS, leaf_only_tree, small_package
from helpers.pmml import GOOD, assert_jpmml_scores_like_the_reference, classifier_with, edited

# ---------------------------------------------------------------- named errors


DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
BAD = {
    "doctype": (
        edited(DECL, DECL + '<!DOCTYPE PMML SYSTEM "http://example.invalid/pmml.dtd">\n'),
        P.PmmlDoctypeError,
        "DOCTYPE",
    ),
    "entity": (edited(DECL, DECL + '<!DOCTYPE PMML [<!ENTITY lol "lol">]>\n'), P.PmmlDoctypeError, "DOCTYPE"),
    "undefined entity": (edited('value="0.5"', 'value="&lol;"'), P.PmmlDecodeError, "undefined entity"),
    "not xml": (b"<?xml version='1.0'?><PMML", P.PmmlDecodeError, "expected well-formed XML"),
    "truncated": (GOOD[:-40], P.PmmlDecodeError, "expected well-formed XML"),
    "wrong namespace": (
        edited("http://www.dmg.org/PMML-4_4", "http://www.dmg.org/PMML-4_3"),
        P.PmmlNamespaceError,
        "namespace",
    ),
    "wrong pmml version": (edited('version="4.4"', 'version="4.3"'), P.PmmlNamespaceError, "version '4.4'"),
    "unknown element": (
        edited("<True/>", "<True/><Extension/><Surprise/>"),
        UnsupportedModelError,
        "element <Surprise>",
    ),
    "unknown element in a tree": (
        edited('<Node id="3" score="no">', '<Node id="3" score="no"><SimpleRule/>'),
        UnsupportedModelError,
        "element <SimpleRule>",
    ),
    "foreign namespace": (edited("<True/>", '<x:True xmlns:x="urn:x"/>'), UnsupportedModelError, "urn:x"),
    "bad number": (edited('value="0.5"', 'value="half"'), P.PmmlNumberError, "'half'"),
    "infinite number": (edited('value="0.5"', 'value="-INF"'), P.PmmlNumberError, "finite"),
    "no id": (
        edited(f'<Extension extender="crossform" name="crossform.id" value="{small_package().id}"/>\n', ""),
        P.PmmlHeaderError,
        "crossform.id",
    ),
    "recorded id": (edited(small_package().id, "sha256.X"), IdMismatchError, "records id sha256.X"),
    "threshold": (edited('value="0.5"', 'value="0.625"'), IdMismatchError, "content hashes to"),
    "leaf value": (
        edited(
            'recordCount="0.9"/><ScoreDistribution value="yes" recordCount="0.1"',
            'recordCount="0.875"/><ScoreDistribution value="yes" recordCount="0.125"',
        ),
        IdMismatchError,
        "content changed",
    ),
    "leaf score": (
        edited('<Node id="3" score="no">', '<Node id="3" score="yes">'),
        P.PmmlStructureError,
        "differs at line",
    ),
    "missing routing": (
        edited('<Node id="0" defaultChild="1">', '<Node id="0" defaultChild="2">'),
        IdMismatchError,
        "content changed",
    ),
    "other major": (
        edited('name="crossform.format_version" value="1.0"', 'name="crossform.format_version" value="2.0"'),
        FormatVersionError,
        "pmml 2.0",
    ),
    "bad version": (
        edited('name="crossform.format_version" value="1.0"', 'name="crossform.format_version" value="1"'),
        FormatVersionError,
        "major",
    ),
    "no version": (
        edited('<Extension extender="crossform" name="crossform.format_version" value="1.0"/>\n', ""),
        FormatVersionError,
        "found none",
    ),
    "twice": (
        edited("<Header>\n", '<Header>\n<Extension extender="crossform" name="crossform.tags" value="[]"/>\n'),
        P.PmmlHeaderError,
        "twice",
    ),
    "unknown header key": (
        edited("<Header>\n", '<Header>\n<Extension extender="crossform" name="crossform.x" value="1"/>\n'),
        P.PmmlHeaderError,
        "'crossform.x'",
    ),
    "bad json": (edited('value="[&quot;golden&quot;]"', 'value="[golden"'), MalformedPackageError, "JSON"),
    "not the layout": (
        edited("</Node></Node></Node>\n</TreeModel>", "</Node></Node></Node></TreeModel>"),
        P.PmmlStructureError,
        "differs at line",
    ),
    "an extra attribute": (
        edited('<Node id="1" score="yes">', '<Node id="1" score="yes" recordCount="3">'),
        P.PmmlStructureError,
        "differs at line",
    ),
    "three children": (
        edited('<Node id="4" score="no">', '<Node id="5" score="no"><True/></Node><Node id="4" score="no">'),
        P.PmmlStructureError,
        "two child Nodes",
    ),
    "wrong method": (
        edited('multipleModelMethod="average"', 'multipleModelMethod="median"'),
        P.PmmlStructureError,
        "median",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_refused_with_its_named_error(name):
    data, error, text = BAD[name]
    with pytest.raises(error) as caught:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P.loads(data, where="model.pmml")
    assert "model.pmml" in str(caught.value) and text in str(caught.value), str(caught.value)


def test_an_edit_keeps_the_package_for_the_checker():
    with pytest.raises(IdMismatchError) as caught:
        P.loads(BAD["threshold"][0])
    assert caught.value.package is not None and caught.value.package.id != small_package().id
    assert caught.value.package.model.trees[0].threshold[0] == 0.625


def test_the_doctype_is_refused_before_anything_is_read():
    # an external DTD would be fetched by a careless parser: expat never gets that far here
    data = BAD["doctype"][0]
    assert P.sniff(data)
    with pytest.raises(P.PmmlDoctypeError):
        P.read_version(data)


@pytest.mark.parametrize(
    "holder, limit, value, message",
    [
        (_limits, "MAX_FILE_BYTES", 100, "at most 100 bytes"),  # refused before parsing
        (parse, "MAX_NESTING", 5, "nested deeper than 5"),
        (_limits, "MAX_TREES", 0, "at most 0 trees"),
    ],
)
def test_a_file_beyond_a_limit_is_refused(monkeypatch, holder, limit, value, message):
    monkeypatch.setattr(holder, limit, value)
    with pytest.raises(LimitExceededError, match=message):
        P.loads(GOOD)


def test_a_newer_minor_warns_drops_what_it_does_not_know_and_reads():
    data = edited(
        'name="crossform.format_version" value="1.0"/>\n',
        'name="crossform.format_version" value="1.99"/>\n<Extension extender="crossform" '
        'name="crossform.future" value="{}"/>\n',
    )
    with pytest.warns(P.FormatVersionWarning, match="newer than.*'crossform.future'"):
        assert P.loads(data).id == small_package().id


def test_read_version_sniff_and_compat(tmp_path):
    from crossform import compat

    path = crossform.save(small_package(), tmp_path / "m.pmml", format="pmml")
    data = path.read_bytes()
    assert P.read_version(data) == "1.0" and P.sniff(data)
    assert not P.sniff(b"<?xml version='1.0'?><PMML/>") and not P.sniff(b"\x08\x0a")
    doc = compat.report(path)
    assert doc["ok"] and doc["format"] == "pmml" and doc["readers"]["text"] == ">=0.3.0"
    versions = {r["name"]: r["versions"] for r in doc["runtimes"]}
    assert "JPMML-Evaluator" in versions["jpmml"]


FUZZ = P.dumps(TREE_VARIANTS["nan codes"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_or_truncated_bytes_raise_only_crossform_errors(data):
    read_or_refuse(P.loads, damaged(data, [FUZZ]))


def test_single_leaf_trees_and_the_base_segment_read_back():
    package = small_package(
        model=ir.TreeEnsemble(
            ("colour", "size_scaled"), (leaf_only_tree((2.5,)), leaf_only_tree((-1.0,))), "sum", "none", None, [0.125]
        )
    )
    data = P.dumps(package)
    assert P.loads(data).id == package.id
    assert_jpmml_scores_like_the_reference(package, data)


@pytest.mark.parametrize(
    "row, written",
    [
        ((0.25, 0.75), (0.25, 0.75)),  # sums to exactly 1: the values themselves
        ((1.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
        ((1 / 3, 1 / 3, 1 / 3), (1 / 3, 1 / 3, 1 / 3)),
        ((1 / 6, 4 / 6, 1 / 6), (1.0, 4.0, 1.0)),  # sums to 0.9999999999999999: counts that divide to it
        ((1 / 7, 4 / 7, 2 / 7), (1.0, 4.0, 2.0)),
        ((3 / 59, 17 / 59, 39 / 59), None),
    ],
)
def test_leaf_record_counts_divide_to_the_leaf_values_exactly(row, written):
    counts = P.leaf_record_counts(row)
    if written is not None:
        assert counts == written
    total = rules._fold(counts)
    # what JPMML computes: recordCount / their sum, unless the sum is exactly 1
    assert tuple(c if total == 1.0 else c / total for c in counts) == row
    np.testing.assert_array_equal(P.leaf_values(np.array([counts])), np.array([row]))


def test_leaves_without_counts_are_written_as_fractions_and_read_back_as_written():
    row = (0.1 + 1e-15, 0.9)  # within PROBABILITY_SLACK of summing to 1, and no small counts
    assert rules._counts(row) is None and P.leaf_record_counts(row) == row
    package = classifier_with([row, (0.5, 0.5), (1.0, 0.0)])
    assert P.unsupported(package) is None
    data = P.dumps(package)
    assert P.loads(data).id == package.id
    assert_jpmml_scores_like_the_reference(package, data)  # JPMML divides by the sum: within 1e-12
