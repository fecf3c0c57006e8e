"""The pmml format: exact round trips, JPMML against the reference, and one named error per bad input."""

from __future__ import annotations

import io
import json
import math
import re
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.errors import (
    CrossformError,
    FormatVersionError,
    IdMismatchError,
    LimitExceededError,
    MalformedPackageError,
    UnsupportedModelError,
)
from crossform.exporters import _limits
from crossform.exporters import pmml as P
from crossform.exporters.pmml import accepts, parse, reader, rules, writer
from crossform.floats import FLOAT32_OVERFLOW
from helpers import every_kind
from helpers.fits import fit_pipeline
from helpers.fuzz import damaged, read_or_refuse
from helpers.packages import TREE_VARIANTS, changed_value, leaf_only_tree, small_package, small_tree
from helpers.paths import CONFORMANCE, REPO
from helpers.pmml import jpmml_or_skip

ROWS = [
    {"colour": c, "size": s}
    for c in ("red", "blue", "green", None, "", "purple")
    for s in (-30.0, 9.0, 14.0, 30.0, math.nan, math.inf, -math.inf, 1e39, -3.5e38, None)
]
ROWS += [{"colour": 3, "size": 9.0}, {"colour": "red", "size": "big"}]  # wrong types: row errors before JPMML


def assert_jpmml_scores_like_the_reference(package: ir.Package, content: bytes, rows=ROWS) -> None:
    """The same rows in error, every value within 1e-12 relative, the same leaf in every tree
    (when the file has leaf outputs: a linear model has none)."""
    jpmml = jpmml_or_skip()
    back = P.loads(content)
    want = crossform.score(package, rows)
    got = jpmml.prepare(content, P)(rows)
    assert got.outputs == want.outputs and got.classes == want.classes
    listed = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert [e is None for e in got.errors] == [e is None for e in want.errors], list(
        zip(listed, got.errors, want.errors)
    )
    ok = np.equal(want.errors, None)
    np.testing.assert_allclose(got.values[ok], want.values[ok], rtol=1e-12, atol=0)
    if P.properties(content)["leaves"] == P.OFF or isinstance(package.model, ir.LinearModel):
        assert got.leaves is None
        return
    np.testing.assert_array_equal(
        checks_module.leaf_positions(back.model, got.leaves), checks_module.leaf_positions(package.model, want.leaves)
    )


def assert_same(a: ir.Package, b: ir.Package, rows=ROWS) -> None:
    assert b.id == a.id
    assert b.producer == a.producer and b.owner == a.owner and b.tags == a.tags
    assert [type(c) for c in a.model.classes or ()] == [type(c) for c in b.model.classes or ()]
    sa, sb = crossform.score(a, rows), crossform.score(b, rows)
    np.testing.assert_array_equal(sa.values, sb.values)
    assert sa.errors == sb.errors
    if sa.leaves is not None:
        np.testing.assert_array_equal(
            checks_module.leaf_positions(a.model, sa.leaves), checks_module.leaf_positions(b.model, sb.leaves)
        )


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", sorted(TREE_VARIANTS))
def test_hand_built_packages_round_trip(name):
    package = TREE_VARIANTS[name]
    data = P.dumps(package)
    assert P.sniff(data) and data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<PMML xmlns="')
    back = P.loads(data)
    assert_same(package, back)
    assert P.dumps(back) == data


@pytest.mark.parametrize("name", sorted(TREE_VARIANTS))
def test_hand_built_packages_score_in_jpmml_as_in_the_reference(name):
    package = TREE_VARIANTS[name]
    assert_jpmml_scores_like_the_reference(package, P.dumps(package))


@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_sklearn_pipelines_round_trip_with_their_checks(task, tmp_path):
    package = crossform.from_sklearn(fit_pipeline(task), checks=200)
    path = crossform.save(package, tmp_path / "model.pmml", format="pmml")
    assert crossform.exporters.sniff(path) == "pmml"
    back = crossform.load(path)
    assert back.id == package.id and back.producer == package.producer
    assert checks_module.to_document(back.checks) == checks_module.to_document(package.checks)
    assert P.dumps(back) == path.read_bytes()
    comparison = checks_module.compare(back.checks, crossform.score(back, back.checks.data()), back.model)
    assert comparison.ok, comparison.summary()
    jpmml = jpmml_or_skip()
    scores = jpmml.prepare(path.read_bytes(), P)(back.checks.data())
    comparison = checks_module.compare(back.checks, scores, back.model)
    assert comparison.ok and comparison.leaves_compared, comparison.summary()


def test_the_same_package_always_gives_the_same_bytes():
    package = small_package(metadata={"z": "1", "a": "2"}, producer={"b": "1", "a": "2"})
    again = small_package(metadata={"a": "2", "z": "1"}, producer={"a": "2", "b": "1"})
    assert P.dumps(package) == P.dumps(again) == P.dumps(P.loads(P.dumps(again)))


# names and strings XML must escape, and JPMML must keep as they are
ODD = ("a&b", "<tag>", 'say "hi"', "tab\there", "line\nbreak", "cr\rhere", " padded ", "", "ünïcødé ✓", "x'y")


def odd_package() -> ir.Package:
    cats = tuple(ODD)
    return ir.Package(
        inputs=(ir.Field("colour & <shade>", ir.CATEGORICAL), ir.Field('size "cm"\t', ir.NUMERIC)),
        encoders=(
            ir.FillMissing(("colour & <shade>",), ("line\nbreak",)),
            ir.CategoricalEncoding(
                ("colour & <shade>",),
                (cats,),
                (tuple(float(i) for i in range(len(cats))),),
                (None,),
                None,
                ("code\n<1>",),
            ),
            ir.Scale(('size "cm"\t',), [0.1], [1e-300], ("scaled & co",)),
        ),
        model=ir.TreeEnsemble(
            ("code\n<1>", "scaled & co"), (small_tree(4.5), small_tree(1.5)), classes=("<no>", 'y"es')
        ),
        owner="owner\x01with a control character",
        tags=("t\x02",),
        metadata={"k\n": "v\x7f"},
    )


def test_names_and_categories_are_escaped_and_kept():
    package = odd_package()
    data = P.dumps(package)
    back = P.loads(data)
    assert back.id == package.id and back.owner == package.owner
    assert back.encoders[1].categories == package.encoders[1].categories
    rows = [
        {"colour & <shade>": c, 'size "cm"\t': s}
        for c in ODD + ("other", None)
        for s in (0.1, 1e-290, -1e-290, 0.1 + 1e-262, math.nan, 3.4e-262)
    ]
    assert_same(package, back, rows)
    assert_jpmml_scores_like_the_reference(package, data, rows)


def test_interval_ends_are_the_last_values_the_reference_accepts():
    """Through a scaler the float32 limit moves: the declared interval is exact to the last double."""
    package = small_package()
    low, high = writer._Plan(package).validity["size"].interval
    assert high == -low and abs((high - 10.0) / 4.0 - FLOAT32_OVERFLOW) < FLOAT32_OVERFLOW * 1e-15
    edges = [low, high, np.nextafter(low, -np.inf), np.nextafter(high, np.inf), 0.0, -0.0]
    rows = [{"colour": "red", "size": float(x)} for x in edges]
    scores = crossform.score(package, rows)
    assert [e is None for e in scores.errors] == [True, True, False, False, True, True]
    assert_jpmml_scores_like_the_reference(package, P.dumps(package), rows)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-1e300, 1e300),
    st.floats(1e-300, 1e300),
    st.booleans(),
    st.floats(-1e300, 1e300),
    st.floats(1e-300, 1e300),
)
def test_intervals_through_two_scalers_match_the_reference(m1, s1, negative, m2, s2):
    package = small_package(
        encoders=(
            ir.FillMissing(("colour",), ("red",)),
            ir.CategoricalEncoding(("colour",), (("blue", "red"),), ((0.0, 2.0),), (None,), None),
            ir.Scale(("size",), [m1], [-s1 if negative else s1], ("size_scaled",)),
            ir.Scale(("size_scaled",), [m2], [s2]),
        )
    )
    interval = accepts.interval(package, "size")  # raises when the ends disagree with the reference
    if interval:
        low, high = interval
        assert accepts.accepts(package, "size", low) and accepts.accepts(package, "size", high)


def test_what_a_field_accepts_is_declared_in_the_data_dictionary():
    text = P.dumps(TREE_VARIANTS["missing code and unknown code"]).decode()
    # unknown categories become a code: no Values, nothing invalid; missing takes its code
    assert '<DataField name="colour" optype="categorical" dataType="string"/>' in text
    assert 'missingValueTreatment="returnInvalid"' not in text
    text = P.dumps(small_package(encoders=small_package().encoders[1:])).decode()
    # no fill and the error policy: the known categories only, and a missing value is refused
    assert (
        '<DataField name="colour" optype="categorical" dataType="string"><Value value="blue"/>'
        '<Value value="green"/><Value value="red"/></DataField>'
    ) in text
    assert (
        '<MiningField name="colour" invalidValueTreatment="returnInvalid" missingValueTreatment="returnInvalid"/>'
        in text
    )
    # JPMML reads fields lazily: the first segment reads each field that refuses something
    assert (
        '<Segment id="0"><CompoundPredicate booleanOperator="and"><CompoundPredicate booleanOperator="or">'
        '<SimplePredicate field="colour" operator="isMissing"/>' in text
    )


def test_sum_writes_its_base_value_as_the_first_segment():
    text = P.dumps(TREE_VARIANTS["sum logistic"]).decode()
    assert '<Segmentation multipleModelMethod="sum">\n<Segment id="base">' in text
    assert '<Node id="0" score="0.25"><True/></Node>' in text
    assert 'feature="transformedValue"><Apply function="/">' in text


# ---------------------------------------------------------------- what has no PMML form


def classifier_with(values) -> ir.Package:
    tree = changed_value(small_tree(), width=2)
    value = tree.value.copy()
    value[tree.is_leaf] = values
    return small_package(
        model=ir.TreeEnsemble(
            ("colour", "size_scaled"),
            (ir.Tree(tree.feature, tree.threshold, tree.left, tree.right, tree.missing_left, value),),
            classes=("no", "yes"),
        )
    )


UNSUPPORTED_PACKAGES = {
    "not probabilities": (classifier_with([[0.5, 0.6], [0.1, 0.9], [0.5, 0.5]]), "sum to 1.1"),
    "negative": (classifier_with([[-0.5, 1.5], [0.1, 0.9], [0.5, 0.5]]), "outside [0, 1]"),
    "reserved prefix": (
        small_package(
            encoders=(
                ir.FillMissing(("colour",), ("red",)),
                ir.CategoricalEncoding(("colour",), (("blue", "red", "green"),), ((0.0, 2.0, 1.0),), (None,), None),
                ir.Scale(("size",), [10.0], [4.0], ("crossform:x",)),
            ),
            model=ir.TreeEnsemble(("colour", "crossform:x"), (small_tree(),), classes=("no", "yes")),
        ),
        "prefix",
    ),
    "output name": (
        small_package(
            inputs=(ir.Field("colour", ir.CATEGORICAL), ir.Field("leaf(0)", ir.NUMERIC)),
            encoders=small_package().encoders[:2],
            model=ir.TreeEnsemble(("colour", "leaf(0)"), (small_tree(),), classes=("no", "yes")),
        ),
        "collides",
    ),
    "control character": (
        small_package(
            encoders=(
                ir.CategoricalEncoding(("colour",), (("blue", "r\x00d"),), ((0.0, 2.0),), (None,), None),
                ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)),
            )
        ),
        "XML 1.0",
    ),
    "no categories": (
        small_package(
            encoders=(
                ir.CategoricalEncoding(("colour",), ((),), ((),), (4.0,), None),
                ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)),
            )
        ),
        "no categories",
    ),
    "one column twice": (
        small_package(model=ir.TreeEnsemble(("colour", "colour"), (small_tree(),), classes=("no", "yes"))),
        "twice",
    ),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_PACKAGES))
def test_packages_without_a_pmml_form_are_a_named_skip(name):
    package, reason = UNSUPPORTED_PACKAGES[name]
    assert reason in P.unsupported(package)
    with pytest.raises(UnsupportedModelError, match=re.escape(reason)):
        P.dumps(package)


# ---------------------------------------------------------------- streaming


def forest_package(n_estimators: int = 20):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(4000, 10, random_state=0)
    forest = RandomForestClassifier(n_estimators=n_estimators, random_state=0).fit(X, y)
    return crossform.from_sklearn(forest, checks=0)


def test_the_writer_streams_one_chunk_per_tree_without_holding_the_document():
    package = forest_package()
    assert package.id  # hashed once up front, as any writer would
    chunks = list(P.iter_chunks(package))
    assert len(chunks) == len(package.model.trees) + 2  # the head, one chunk per tree, the end
    total = sum(map(len, chunks))
    largest = max(map(len, chunks))
    assert largest < total / 10
    sink = io.BytesIO()
    tracemalloc.start()
    try:
        P.write(package, _Discard())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a document object model would hold every node; the stream holds about one tree's text
    assert peak < 8 * largest < total, (peak, largest, total)
    assert P.write(package, sink) == total and sink.getvalue() == b"".join(chunks)


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def test_forest_reads_back_through_the_line_reader_and_expat_alike():
    package = forest_package(5)
    data = P.dumps(package)
    fast = parse._parse(data, "f")
    assert all(isinstance(text, str) for _, _, text in fast.segments)  # the fast path
    slow = reader._load(parse._slow_parse(data, "f"), data, "f")
    assert P.loads(data).id == slow.id == package.id


# ---------------------------------------------------------------- named errors


GOOD = P.dumps(small_package())
GOOD_TEXT = GOOD.decode()


def edited(old: str, new: str, count: int = 1) -> bytes:
    assert old in GOOD_TEXT, old
    return GOOD_TEXT.replace(old, new, count).encode()


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
        'name="crossform.format_version" value="1.3"/>\n<Extension extender="crossform" '
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


# ---------------------------------------------------------------- without leaf outputs


def test_without_leaf_outputs_the_file_records_1_1_and_scores_the_same_in_jpmml(tmp_path):
    from crossform import compat

    package = crossform.from_sklearn(fit_pipeline("classifier"), checks=200)
    path = crossform.save(package, tmp_path / "m.pmml", format="pmml", leaves="off")
    data = path.read_bytes()
    assert P.read_version(data) == "1.1" and b'feature="entityId"' not in data
    assert P.properties(data) == {"leaves": "off"} and P.properties(P.dumps(package)) == {"leaves": "on"}
    back = P.loads(data)
    assert back.id == package.id and P.dumps(back, leaves="off") == data
    assert compat.report(path)["readers"]["text"] == ">=0.4.0"
    jpmml = jpmml_or_skip()
    scores = jpmml.prepare(data, P)(back.checks.data())
    assert scores.leaves is None  # nothing names the leaves: the checks compare values, classes, errors
    comparison = checks_module.compare(back.checks, scores, back.model)
    assert comparison.ok and not comparison.leaves_compared, comparison.summary()


def test_the_leaf_outputs_and_the_recorded_version_must_agree():
    without = P.dumps(small_package(), leaves="off")
    as_10 = without.replace(
        b'name="crossform.format_version" value="1.1"', b'name="crossform.format_version" value="1.0"'
    )
    with pytest.raises(P.PmmlStructureError, match="without leaf outputs to record version 1.1, found 1.0"):
        P.loads(as_10)
    as_11 = GOOD.replace(b'name="crossform.format_version" value="1.0"', b'name="crossform.format_version" value="1.1"')
    with pytest.raises(P.PmmlStructureError, match="with leaf outputs to record version 1.0, found 1.1"):
        P.loads(as_11)
    one_gone = re.sub(rb'<OutputField name="leaf\(0\)"[^>]*/>\n', b"", GOOD)
    with pytest.raises(P.PmmlStructureError, match="differs"):
        P.loads(one_gone)
    with pytest.raises(CrossformError, match="expected leaves on or off"):
        P.dumps(small_package(), leaves="no")


def test_export_cli_takes_leaves_for_pmml_only(tmp_path, capsys):
    import joblib

    from crossform.cli import main

    joblib.dump(fit_pipeline("classifier"), tmp_path / "m.joblib")
    code = main(["export", str(tmp_path / "m.joblib"), str(tmp_path / "m.onnx"), "--format", "onnx", "--leaves", "off"])
    assert code == 2 and "--leaves: format onnx has no option 'leaves'" in capsys.readouterr().err
    code = main(
        [
            "export",
            str(tmp_path / "m.joblib"),
            str(tmp_path / "m.pmml"),
            "--format",
            "pmml",
            "--leaves",
            "off",
            "--checks",
            "100",
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["leaves"] == "off" and doc["id"] == doc["source_id"]
    assert main(["info", str(tmp_path / "m.pmml")]) == 0
    assert re.search(r"^leaves +off$", capsys.readouterr().out, re.M)
    assert main(["validate", str(tmp_path / "m.pmml")]) == 0


# ---------------------------------------------------------------- every kind: encoders, linear models, boosting, rules

KIND_ROWS = every_kind.rows()


def _tree(feature, threshold, values, missing_left=(True, False, False), sets=()) -> ir.Tree:
    """feature <= threshold ? leaf 1 : leaf 2, with the leaves' value vectors."""
    v = np.zeros((3, len(values[0])))
    v[1], v[2] = values
    return ir.Tree(
        feature=[feature, -1, -1],
        threshold=[threshold, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=list(missing_left),
        value=v,
        sets=sets,
    )


def more_packages() -> dict:
    """Layouts helpers.every_kind leaves out: other aggregations and post transforms of
    classifiers, trees a sum skips or keeps for their zeros, set splits, +inf
    thresholds, an isolation forest, one-hot over a derived column with an empty
    block, and encoders whose steps make a number constant or overflow."""
    fields = every_kind.fields()
    numeric = ("size", "weight")

    def trees(width, k=3):
        return tuple(_tree(t % 2, 0.5 * t, ((0.25 * (t + 1),) * width, (-0.5 + t / 8,) * width)) for t in range(k))

    out = {}
    probabilities = (
        _tree(0, 1.0, ((0.2, 0.3, 0.5), (0.6, 0.3, 0.1))),
        _tree(1, 0.0, ((1.0, 0.0, 0.0), (0.0, 0.5, 0.5))),
    )
    out["average-softmax"] = ir.Package(
        fields[1:], (), ir.TreeEnsemble(numeric, probabilities, "average", "softmax", classes=("a", "b", "c"))
    )
    out["average-logistic-binary"] = ir.Package(
        fields[1:], (), ir.TreeEnsemble(numeric, trees(1), "average", "logistic", classes=(0, 1))
    )
    out["sum-none-classifier"] = ir.Package(
        fields[1:],
        (),
        ir.TreeEnsemble(numeric, trees(3), "sum", "none", classes=("x", "y", "z"), base_value=[0.5, -0.5, 0.0]),
    )
    out["average-logistic-multi"] = ir.Package(
        fields[1:], (), ir.TreeEnsemble(numeric, trees(2), "average", "logistic", classes=(True, False))
    )
    # tree 0 is zero in every class (kept in class 0's sum for its leaf), tree 1 has -0.0 in class 1 (kept),
    # tree 2 adds to classes 0 and 2
    zeros = (
        _tree(0, 0.0, ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))),
        _tree(1, 1.0, ((0.0, -0.0, 0.0), (0.0, -0.0, 0.0))),
        _tree(0, 2.0, ((0.5, 0.0, -1.5), (0.25, 0.0, 2.0))),
    )
    out["sum-softmax-zeros"] = ir.Package(
        fields[1:],
        (),
        ir.TreeEnsemble(
            numeric, zeros, "sum", "softmax", classes=(1, 2, 3), base_value=[0.0, 0.1, -0.1], missing="error"
        ),
    )
    out["linear-logistic-multi"] = ir.Package(
        fields[1:],
        (),
        ir.LinearModel(
            numeric, [[0.5, -1.0], [0.0, 0.25], [-0.75, 1.5]], [0.1, 0.2, -0.3], "logistic", classes=("p", "q", "r")
        ),
    )
    out["linear-regression-logistic"] = ir.Package(
        fields[1:], (), ir.LinearModel(numeric, [[1e-3, -2.0]], [0.5], "logistic")
    )
    sets = (
        _tree(0, 0.0, ((1.0,), (2.0,)), (True, False, False), sets=((0.0, 3.0, 8.0), None, None)),
        _tree(1, 0.0, ((-1.0,), (4.0,)), (False, False, False), sets=((-1.0, 0.5, 2.0), None, None)),
        _tree(0, math.inf, ((0.125,), (-0.25,)), (False, False, False)),
    )
    out["sets-and-inf"] = ir.Package(
        fields[1:], (), ir.TreeEnsemble(numeric, sets, "sum", base_value=[1.0], infinite="compare")
    )
    out["isolation"] = ir.Package(
        fields[1:],
        (ir.FillMissing(("size",), (0.0,)),),
        ir.TreeEnsemble(numeric, trees(1), "sum", "isolation", base_value=[0.5], isolation=(7.25, -0.5)),
    )
    fill = ir.FillMissing(("colour",), ("red",), ("colour_filled",))
    two = ir.OneHot(
        ("colour", "colour_filled"),
        (("blue", "green", "red"), ("blue", "red")),
        ((-1, -1, -1), (0, 1)),
        (0, 3),
        (None, -1),
        ("zeros", 2),
        ("c0", "c1", "c2"),
    )
    out["one-hot-two-blocks"] = ir.Package(
        fields,
        (fill, two, ir.MissingIndicator(("weight",), (ir.NUMERIC,), ("weight_missing",))),
        ir.LinearModel(("c0", "c1", "c2", "weight_missing"), [[1.0, -2.0, 0.5, 4.0]], [0.0]),
    )
    # a scale of 0.0 makes the number constant; an indicator scaled by 1e-320 overflows where the value is missing
    out["constant-steps"] = ir.Package(
        fields[1:],
        (
            ir.Affine(("size",), [0.0], [5.0], ("five",)),
            ir.MissingIndicator(("weight",), (ir.NUMERIC,)),
            ir.Scale(("weight",), [0.0], [1e-320]),
            ir.Affine(("weight",), [1.0], [0.0]),
        ),
        ir.TreeEnsemble(("five", "weight"), (_tree(0, 5.0, ((1.0,), (2.0,))), _tree(1, 0.5, ((3.0,), (4.0,))))),
    )
    out.update(refuse_missing_packages())
    return out


def refuse_missing_packages() -> dict:
    """Refuse-missing (1.2): a missing value (and a numeric +-inf) is a row error, other values pass unchanged."""
    fields = every_kind.fields()
    out = {}
    # size in place, colour under a new name read by a label encoder (an unknown colour takes code 7.0)
    out["refuse-missing"] = ir.Package(
        fields,
        (
            ir.RefuseMissing(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("size", "colour_checked")),
            ir.CategoricalEncoding(("colour_checked",), (("blue", "red"),), ((0.0, 1.0),), (None,), 7.0, ("code",)),
            ir.Scale(("size",), [1.0], [2.0]),
        ),
        ir.TreeEnsemble(
            ("size", "code", "weight"),
            (
                _tree(0, 1.0, ((1.0,), (2.0,))),
                _tree(1, 0.5, ((3.0,), (4.0,))),
                _tree(2, 0.5, ((-1.0,), (0.5,)), (False, False, False)),
            ),
            "sum",
            base_value=[0.25],
        ),
    )
    # after other steps, in place: a missing colour's NaN code is refused as a number, a filled weight only as
    # +-inf; the trees (missing "route") would have scored both; a flat regressor otherwise 1.1's layout
    out["refuse-missing-derived"] = ir.Package(
        fields,
        (
            ir.CategoricalEncoding(
                ("colour",), (("blue", "green", "red"),), ((0.0, 1.0, 2.0),), (math.nan,), 5.0, ("code",)
            ),
            ir.FillMissing(("weight",), (0.5,), ("weight_filled",)),
            ir.RefuseMissing(("code", "weight_filled"), (ir.NUMERIC, ir.NUMERIC)),
        ),
        ir.TreeEnsemble(
            ("code", "weight_filled", "size"),
            (_tree(0, 1.5, ((1.0,), (2.0,))), _tree(2, 0.0, ((3.0,), (-4.0,)), (False, False, False))),
        ),
    )
    # a categorical feature in place before a one-hot whose missing column it makes unreachable, under a linear model
    oh, names = every_kind._one_hot(unknown="zeros", missing=1)
    out["refuse-missing-linear"] = ir.Package(
        fields,
        (ir.RefuseMissing(("colour",), (ir.CATEGORICAL,)), oh),
        ir.LinearModel(names + ("size",), [[1.0, -2.0, 0.5, 0.25]], [0.125]),
    )
    return out


# a package of every kind a 1.2 file holds, and the combinations this format lays out its own way
KINDS = {**every_kind.packages(), **more_packages()}


def has_trees(package: ir.Package) -> bool:
    return isinstance(package.model, ir.TreeEnsemble)


@pytest.mark.parametrize("leaves", [P.ON, P.OFF])
@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_round_trips_and_records_1_2(name, leaves):
    package = KINDS[name]
    assert P.needs(package) is not None and P.unsupported(package) is None
    data = P.dumps(package, leaves=leaves)
    assert P.read_version(data) == "1.2" == P.written_version(package, leaves)
    assert P.properties(data) == {"leaves": leaves if has_trees(package) else P.OFF}
    back = P.loads(data)
    assert_same(package, back, KIND_ROWS)
    assert P.dumps(back, leaves=leaves) == data


@pytest.mark.parametrize("leaves", [P.ON, P.OFF])
@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_scores_in_jpmml_as_in_the_reference(name, leaves):
    package = KINDS[name]
    assert_jpmml_scores_like_the_reference(package, P.dumps(package, leaves=leaves), KIND_ROWS)


def test_the_rows_jpmml_must_refuse_or_score_are_the_reference_s():
    """Infinities compared (histogram boosting) or refused, NaN refused by gradient boosting and linear models,
    1e300 scored by a linear model and refused by a float32 tree (even scaled by 0.125): the reference's rows."""
    refused = {
        name: [e is not None for e in crossform.score(KINDS[name], KIND_ROWS).errors]
        for name in ("boost-regression-compare", "boost-binary-one-hot", "linear-multinomial")
    }
    size = KIND_ROWS["size"].tolist()
    at = {repr(v): i for i, v in enumerate(size)}
    assert not refused["boost-regression-compare"][at["inf"]] and not refused["boost-regression-compare"][at["-inf"]]
    assert refused["boost-binary-one-hot"][at["nan"]] and refused["boost-binary-one-hot"][at["1e+300"]]
    assert not refused["boost-binary-one-hot"][at["1e+39"]]  # 1.25e38 after the affine: a float32
    assert refused["linear-multinomial"][at["nan"]] and not refused["linear-multinomial"][at["1e+300"]]
    for name in refused:
        assert_jpmml_scores_like_the_reference(KINDS[name], P.dumps(KINDS[name]), KIND_ROWS)


def test_a_binary_logit_gives_class_0_one_minus_class_1_in_jpmml():
    """JPMML's logit of a table pair: the first table's class gets p = 1 / (1 + exp(-y)), the other 1 - p,
    computed from p, as docs/SEMANTICS.md asks."""
    jpmml = jpmml_or_skip()
    for name in ("linear-binary-logistic", "boost-binary-one-hot", "average-logistic-binary"):
        package = KINDS[name]
        text = P.dumps(package).decode()
        assert 'normalizationMethod="logit"' in text
        got = jpmml.prepare(text.encode(), P)(KIND_ROWS)
        ok = np.equal(got.errors, None)
        assert ok.sum() >= 3
        np.testing.assert_array_equal(got.values[ok, 0], 1.0 - got.values[ok, 1])


def test_how_each_layout_is_written():
    text = {name: P.dumps(package).decode() for name, package in KINDS.items()}
    # one-hot: the column a category sets as an integer field, then a NormDiscrete per column
    assert (
        '<MapValues outputColumn="out" dataType="integer" mapMissingTo="1" defaultValue="-1">'
        in text["boost-multiclass-ignore"]
    )
    assert '<NormDiscrete field="crossform:e0.0" value="2"/>' in text["boost-multiclass-ignore"]
    assert '<Apply function="+"><Apply function="*"><FieldRef field="size"/>' in text["boost-binary-one-hot"]
    assert '<Apply function="if"><Apply function="isMissing"><FieldRef field="colour"/>' in text["linear-regression"]
    # a chain: a score's trees, then the link; a sum skips a tree's all-+0.0 scores but keeps every tree somewhere
    multi = text["sum-softmax-zeros"]
    assert multi.count('<Segment id="0">') == 1 and multi.count('<Segment id="1">') == 1
    assert multi.count('<Segment id="2">') == 2
    assert (
        '<Segment id="link"><True/>\n<RegressionModel functionName="classification" normalizationMethod="softmax">'
        in multi
    )
    assert text["sum-none-classifier"].count('feature="transformedValue"><FieldRef field="crossform:raw(') == 3
    assert '<MiningModel functionName="regression">' in text["sum-none-classifier"]
    # an average keeps every tree in every score's MiningModel
    assert text["average-softmax"].count('<Segment id="1">') == 3
    # linear: the products in feature order, then the intercept (JPMML's order and the reference's)
    assert (
        '<RegressionTable intercept="0.25"><NumericPredictor name="size" coefficient="1.5"/><NumericPredictor '
        'name="weight" coefficient="-2.0"/></RegressionTable>'
    ) in text["linear-decision-binary"]
    assert (
        '<SimpleSetPredicate field="size" booleanOperator="isNotIn"><Array type="real" n="3">0.0 3.0 8.0</Array>'
        in text["sets-and-inf"]
    )
    assert 'operator="lessOrEqual" value="INF"/>' in text["sets-and-inf"]


def test_intervals_follow_constant_and_overflowing_steps():
    package = KINDS["constant-steps"]
    plan = writer._Plan(package)
    # size: any finite number gives 5.0 (refused only as +-inf); weight: finite, but missing overflows to inf
    assert plan.validity["size"].interval == (-accepts.DOUBLE_MAX, accepts.DOUBLE_MAX)
    assert not plan.validity["size"].missing_invalid and plan.validity["weight"].missing_invalid
    assert [
        e is None
        for e in crossform.score(package, [{"size": math.nan, "weight": 1.0}, {"size": 1.0, "weight": math.nan}]).errors
    ] == [True, False]


def test_refuse_missing_is_a_bare_field_ref_and_its_fields_declare_what_it_refuses():
    text = kind_text("refuse-missing")
    assert (
        '<DerivedField name="crossform:e0.0" displayName="size" optype="continuous" dataType="double">'
        '<FieldRef field="size"/></DerivedField>'
    ) in text
    assert (
        '<DerivedField name="crossform:e0.1" displayName="colour_checked" optype="categorical" dataType="string">'
        '<FieldRef field="colour"/></DerivedField>'
    ) in text
    assert (
        '<MiningField name="colour" invalidValueTreatment="returnInvalid" missingValueTreatment="returnInvalid"/>'
        in text
    )
    plan = writer._Plan(KINDS["refuse-missing"])
    colour, size, weight = (plan.validity[name] for name in ("colour", "size", "weight"))
    assert colour.missing_invalid and colour.valid is None and colour.invalid == ()  # any category but None
    assert size.missing_invalid and size.interval is not None  # NaN and +-inf refused (and past float32 x 2)
    assert not weight.missing_invalid  # the trees route a missing weight
    derived = writer._Plan(KINDS["refuse-missing-derived"]).validity
    # a missing colour's NaN code and +-inf weights are refused; a missing weight is filled, a NaN size routed
    assert derived["colour"].missing_invalid and not derived["weight"].missing_invalid
    assert derived["weight"].interval == (-accepts.BELOW_OVERFLOW, accepts.BELOW_OVERFLOW)  # a tree's
    assert not derived["size"].missing_invalid
    rows = [
        {"colour": None, "size": 1.0, "weight": 1.0},
        {"colour": "teal", "size": 1.0, "weight": math.nan},
        {"colour": "red", "size": math.nan, "weight": math.inf},
        {"colour": "red", "size": math.nan, "weight": 2.0},
    ]
    assert [e is None for e in crossform.score(KINDS["refuse-missing-derived"], rows).errors] == [
        False,
        True,
        False,
        True,
    ]
    assert_jpmml_scores_like_the_reference(
        KINDS["refuse-missing-derived"], P.dumps(KINDS["refuse-missing-derived"]), rows
    )


def test_without_refuse_missing_the_file_is_1_1_s():
    package = KINDS["refuse-missing-derived"]
    assert P.needs(package) == "a refuse-missing encoder"
    old = ir.Package(package.inputs, package.encoders[:2], package.model)
    assert P.needs(old) is None
    for leaves, version in ((P.ON, "1.0"), (P.OFF, "1.1")):
        assert P.read_version(P.dumps(package, leaves=leaves)) == "1.2"
        assert P.read_version(P.dumps(old, leaves=leaves)) == version


# the scikit-learn estimators whose conversion needs 1.2, fitted small; their checks are scikit-learn's outputs


def _numbers(n=400, features=4, seed=0, classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    signal = X[:, 0] + X[:, 1] / 2 + rng.normal(0, 0.3, n)
    return X, np.digitize(signal, np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1]))


def _fit(name: str):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        IsolationForest,
    )
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    X, y = _numbers(classes=3 if "multi" in name else 2)
    if name == "gb-binary":
        return GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X, y)
    if name == "gb-multiclass":
        return GradientBoostingClassifier(n_estimators=4, max_depth=2, random_state=0).fit(X, y)
    if name == "gb-regressor":
        return GradientBoostingRegressor(n_estimators=5, max_depth=2, random_state=0).fit(X, X[:, 0] * 2)
    if name == "hgb-categorical-multiclass":
        X[:, 3] = np.round(np.abs(X[:, 3]) * 3)
        X[::7, 2] = np.nan
        return HistGradientBoostingClassifier(
            max_iter=4, max_leaf_nodes=6, categorical_features=[3], random_state=0
        ).fit(X, y)
    if name == "isolation-forest":
        return IsolationForest(n_estimators=4, max_samples=64, random_state=0).fit(X)
    if name == "sgd-hinge-multiclass":
        return SGDClassifier(random_state=0).fit(X, y)
    if name == "scaled-linear-regression":
        X[::5, 1] = np.nan
        features = ColumnTransformer(
            [
                ("scaled", Pipeline([("fill", SimpleImputer()), ("scale", MinMaxScaler())]), [0, 1]),
                ("missing", MissingIndicator(), [1]),
                ("rest", "passthrough", [2, 3]),
            ]
        )
        return Pipeline([("features", features), ("model", LinearRegression())]).fit(X, X[:, 0])
    if name == "refuse-missing-tree":  # MissingIndicator(error_on_new=True) refuses NaN in x0 and x2: none at fit
        X = np.random.default_rng(0).normal(size=(300, 3))
        X[::7, 1] = np.nan
        features = ColumnTransformer([("i", MissingIndicator(), [0, 1, 2]), ("f", SimpleImputer(), [0, 1, 2])])
        model = DecisionTreeClassifier(max_depth=4, random_state=0)
        return Pipeline([("u", features), ("m", model)]).fit(X, X[:, 0] > 0)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "colour": pd.Series(rng.choice(["red", "blue", "green", "teal"], len(X)), dtype=object),
            "size": X[:, 0],
            "weight": X[:, 1],
        }
    )
    columns = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", drop="first"), ["colour"]),
            ("num", "passthrough", ["size", "weight"]),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(frame, y)  # "logistic-one-hot"


FITS = [
    "gb-binary",
    "gb-multiclass",
    "gb-regressor",
    "hgb-categorical-multiclass",
    "isolation-forest",
    "sgd-hinge-multiclass",
    "scaled-linear-regression",
    "logistic-one-hot",
    "refuse-missing-tree",
]


@pytest.mark.parametrize("name", FITS)
def test_scikit_learn_fits_of_every_kind_score_in_jpmml_as_scikit_learn_did(name):
    package = crossform.from_sklearn(_fit(name), checks=200)
    assert P.needs(package) is not None
    jpmml = jpmml_or_skip()
    for leaves in (P.ON, P.OFF):
        data = P.dumps(package, leaves=leaves)
        back = P.loads(data)
        assert back.id == package.id and P.read_version(data) == "1.2"
        comparison = checks_module.compare(back.checks, jpmml.prepare(data, P)(back.checks.data()), back.model)
        assert comparison.ok, comparison.summary()
        assert comparison.leaves_compared == (leaves == P.ON and has_trees(package))


# ---------------------------------------------------------------- compatibility with the released writer and reader


RELEASED_0_4_0 = "9bf0aab"  # crossform 0.4.0: pmml.py writes 1.0 (with leaf outputs) and 1.1 (without)
GOLDEN = sorted((CONFORMANCE / "golden" / "pmml").glob("1.*/packages/*"))


def _released_module():
    """crossform 0.4.0's pmml module, from this repository's history, or None."""
    import importlib.util
    import subprocess

    root = REPO
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "show", f"{RELEASED_0_4_0}:src/crossform/exporters/pmml.py"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    spec = importlib.util.spec_from_loader("crossform.exporters._pmml_0_4_0", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "crossform.exporters"
    exec(compile(done.stdout, "pmml.py@0.4.0", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def released():
    module = _released_module()
    if module is None:
        pytest.skip(f"crossform 0.4.0's pmml module is not available (needs git and commit {RELEASED_0_4_0})")
    assert module.VERSION == "1.1"
    return module


def test_files_of_the_old_kinds_are_the_released_writer_s_bytes(released):
    old = [package for package in TREE_VARIANTS.values() if P.needs(package) is None]
    assert len(old) == len(TREE_VARIANTS) - 1 and "softmax" in P.needs(TREE_VARIANTS["softmax"])
    for package in [*old, odd_package(), forest_package(3)]:
        for leaves in (P.ON, P.OFF):
            assert P.dumps(package, leaves=leaves) == released.dumps(package, leaves=leaves)
            assert P.written_version(package, leaves) == released.written_version(leaves)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_released_reader_refuses_every_1_2_file_by_a_named_error(released, name):
    for leaves in (P.ON, P.OFF):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns first: 1.2 is a newer minor of its major
            # a numeric refuse-missing is a FieldRef without the fill value 0.4.0 reads as a number: PmmlNumberError
            refusals = (released.PmmlStructureError, released.PmmlNumberError, UnsupportedModelError)
            with pytest.raises(refusals) as caught:
                released.loads(P.dumps(KINDS[name], leaves=leaves))
        assert "<pmml>" in str(caught.value)


def test_golden_files_are_written_again_byte_for_byte():
    assert GOLDEN, "no golden pmml packages"
    for path in GOLDEN:
        data = path.read_bytes()
        back = P.loads(data, where=str(path))
        version = P.read_version(data)
        assert version == P.written_version(back, P.properties(data)["leaves"]), path
        # golden 1.0/1.1 files hold 1.1's kinds, golden 1.2 files a kind 1.2 added
        assert (P.needs(back) is None) == (version in ("1.0", "1.1")), path
        assert P.dumps(back, leaves=P.properties(data)["leaves"]) == data, path


def test_the_recorded_version_must_be_the_one_the_writer_records():
    new = P.dumps(KINDS["linear-multinomial"]).decode()
    as_10 = new.replace('name="crossform.format_version" value="1.2"', 'name="crossform.format_version" value="1.0"')
    with pytest.raises(P.PmmlStructureError, match="with a linear model to record version 1.2, found 1.0"):
        P.loads(as_10.encode())
    for leaves, old in ((P.ON, "1.0"), (P.OFF, "1.1")):
        data = P.dumps(small_package(), leaves=leaves).decode()
        as_12 = data.replace(
            f'name="crossform.format_version" value="{old}"', 'name="crossform.format_version" value="1.2"'
        )
        with pytest.raises(P.PmmlStructureError, match=f"leaf outputs to record version {old}, found 1.2"):
            P.loads(as_12.encode())
    # a fill that lost its mapMissingTo reads as refuse-missing, a 1.2 kind: refused, not read as 1.0
    with pytest.raises(P.PmmlStructureError, match="with a refuse-missing encoder to record version 1.2, found 1.0"):
        P.loads(edited('<FieldRef field="colour" mapMissingTo="red"/>', '<FieldRef field="colour"/>'))
    # a +inf threshold is a 1.2 kind: a 1.0 file holding one is refused, not read as 1.0
    with pytest.raises(P.PmmlStructureError, match="with a \\+inf threshold to record version 1.2, found 1.0"):
        P.loads(edited('value="0.5"', 'value="INF"'))


# ---------------------------------------------------------------- named errors for crafted files of every kind


def kind_text(name: str, leaves: str = P.ON) -> str:
    return P.dumps(KINDS[name], leaves=leaves).decode()


def kind_edited(name: str, old: str, new: str, count: int = 1) -> bytes:
    text = kind_text(name)
    assert old in text, (name, old)
    return text.replace(old, new, count).encode()


LINEAR = "linear-binary-logistic"
KIND_BAD = {
    "predictor missing": (
        kind_edited(LINEAR, '<NumericPredictor name="crossform:e1.0" coefficient="0.9"/>', ""),
        P.PmmlStructureError,
        "a NumericPredictor for each of the 4 model features, found 3",
    ),
    "predictor twice": (
        kind_edited(
            LINEAR,
            '<NumericPredictor name="crossform:e1.0" coefficient="0.9"/>',
            '<NumericPredictor name="crossform:e0.0.0" coefficient="0.9"/>',
        ),
        P.PmmlStructureError,
        "naming each model feature once, found 'crossform:e0.0.0'",
    ),
    "predictor unknown": (
        kind_edited(LINEAR, 'NumericPredictor name="crossform:e1.0"', 'NumericPredictor name="size"'),
        P.PmmlStructureError,
        "naming each model feature once, found 'size'",
    ),
    "bad coefficient": (kind_edited(LINEAR, 'coefficient="0.9"', 'coefficient="0.9x"'), P.PmmlNumberError, "'0.9x'"),
    "infinite intercept": (kind_edited(LINEAR, 'intercept="-0.2"', 'intercept="INF"'), P.PmmlNumberError, "finite"),
    "no scoring table": (
        re.sub(rb"<NumericPredictor [^>]*/>", b"", kind_edited(LINEAR, "", "")),
        P.PmmlStructureError,
        "RegressionTables with NumericPredictors, found none",
    ),
    "model type": (
        kind_edited(LINEAR, "&quot;type&quot;:&quot;linear&quot;", "&quot;type&quot;:&quot;quadratic&quot;"),
        P.PmmlHeaderError,
        "model type 'trees' or 'linear'",
    ),
    "one-hot policy": (
        kind_edited(LINEAR, "&quot;unknown&quot;:2}", "&quot;unknown&quot;:&quot;maybe&quot;}"),
        P.PmmlStructureError,
        "expected the unknown policy to be a column number or null, found 'maybe'",
    ),
    "one-hot policy keys": (
        kind_edited(LINEAR, "{&quot;missing&quot;:null,", "{"),
        P.PmmlStructureError,
        'with "missing" and "unknown"',
    ),
    "one-hot column": (
        kind_edited(LINEAR, "<in>red</in><out>1</out>", "<in>red</in><out>one</out>"),
        P.PmmlNumberError,
        "an integer for a column, found 'one'",
    ),
    "one-hot column range": (
        kind_edited(LINEAR, "<in>red</in><out>1</out>", "<in>red</in><out>7</out>"),
        P.PmmlStructureError,
        "a column index from -1 to 2",
    ),
    "one-hot missing column": (
        kind_edited(LINEAR, "{&quot;missing&quot;:null,", "{&quot;missing&quot;:9,"),
        P.PmmlStructureError,
        "missing_columns",
    ),
    "one-hot norm value": (
        kind_edited(
            LINEAR,
            '<NormDiscrete field="crossform:e0.0" value="1"/>',
            '<NormDiscrete field="crossform:e0.0" value="2"/>',
        ),
        P.PmmlStructureError,
        "expected column 1 to be NormDiscrete",
    ),
    "one-hot columns out of order": (
        kind_edited(LINEAR, 'name="crossform:e0.0.1"', 'name="crossform:e0.0.7"'),
        P.PmmlStructureError,
        "one-hot columns in order",
    ),
    "apply function": (
        kind_edited(
            "boost-binary-one-hot",
            '<Apply function="+"><Apply function="*">',
            '<Apply function="max"><Apply function="*">',
        ),
        P.PmmlStructureError,
        'an Apply of "/", "+" or "if", found \'max\'',
    ),
    "indicator constant": (
        kind_edited(
            "linear-regression",
            '<Constant dataType="double">1.0</Constant><Constant',
            '<Constant dataType="double">2.0</Constant><Constant',
        ),
        P.PmmlStructureError,
        "differs at line",
    ),
    "tree ids": (
        kind_edited("boost-multiclass-ignore", '<Segment id="2">', '<Segment id="5">'),
        P.PmmlStructureError,
        "Segments for trees 0 to 2, found ids [0, 1, 5]",
    ),
    "tree id not a number": (
        kind_edited("boost-multiclass-ignore", '<Segment id="2">', '<Segment id="two">'),
        P.PmmlStructureError,
        "tree indices as ids, found 'two'",
    ),
    "other splits in a copy": (
        kind_edited("average-softmax", 'operator="lessOrEqual" value="1.0"', 'operator="lessOrEqual" value="1.5"', 2),
        P.PmmlStructureError,
        "the same splits in every score's copy",
    ),
    "set value": (kind_edited("sets-and-inf", ">0.0 3.0 8.0<", ">0.0 x 8.0<"), P.PmmlNumberError, "'x'"),
    "set twice": (kind_edited("sets-and-inf", ">0.0 3.0 8.0<", ">0.0 8.0 8.0<"), P.PmmlStructureError, "distinct"),
    "isolation spec": (
        kind_edited("isolation", "&quot;isolation&quot;:[7.25,-0.5]", "&quot;isolation&quot;:7.25"),
        P.PmmlHeaderError,
        "[denominator, offset]",
    ),
    "missing rule": (
        kind_edited(
            "boost-binary-one-hot", "&quot;missing&quot;:&quot;error&quot;", "&quot;missing&quot;:&quot;sometimes&quot;"
        ),
        P.PmmlStructureError,
        "'missing'",
    ),
    "link method": (
        kind_edited("boost-multiclass-ignore", 'normalizationMethod="softmax"', 'normalizationMethod="simplemax"'),
        P.PmmlStructureError,
        "differs at line",
    ),
    "refuse-missing half filled": (
        kind_edited("refuse-missing", '<FieldRef field="colour"/>', '<FieldRef field="colour" mapMissingTo="red"/>'),
        P.PmmlStructureError,
        "mapMissingTo on every feature (fill-missing) or on none (refuse-missing)",
    ),
    "refuse-missing optype": (
        kind_edited(
            "refuse-missing-derived", 'displayName="code" optype="continuous"', 'displayName="code" optype="ordinal"'
        ),
        P.PmmlStructureError,
        "a refuse-missing encoder of continuous or categorical fields, found optypes",
    ),
    "refuse-missing type": (
        kind_edited(
            "refuse-missing",
            'displayName="size" optype="continuous" dataType="double"',
            'displayName="size" optype="continuous" dataType="float"',
        ),
        P.PmmlStructureError,
        "differs at line",
    ),
    "top method": (
        kind_edited("linear-multinomial", 'multipleModelMethod="modelChain"', 'multipleModelMethod="selectFirst"'),
        P.PmmlStructureError,
        "selectFirst",
    ),
}


@pytest.mark.parametrize("name", sorted(KIND_BAD))
def test_crafted_1_2_files_are_refused_with_their_named_error(name):
    data, error, text = KIND_BAD[name]
    with pytest.raises(error) as caught:
        P.loads(data, where="model.pmml")
    assert "model.pmml" in str(caught.value) and text in str(caught.value), str(caught.value)


KIND_FUZZ = [
    P.dumps(KINDS[name])
    for name in ("boost-multiclass-ignore", "linear-binary-logistic", "sets-and-inf", "refuse-missing")
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_or_truncated_bytes_of_every_kind_raise_only_crossform_errors(data):
    read_or_refuse(P.loads, damaged(data, KIND_FUZZ))


# ---------------------------------------------------------------- random packages of every kind


def random_tree(rng, n_features: int, width: int, depth: int = 3) -> ir.Tree:
    """A random tree: thresholds, +inf thresholds and set splits, either missing side."""
    nodes: list = []

    def grow(d: int) -> int:
        i = len(nodes)
        nodes.append([-1, 0.0, -1, -1, False, [0.0] * width, None])
        if d < depth and rng.random() < 0.8:
            kind = rng.random()
            nodes[i][0] = int(rng.integers(n_features))
            if kind < 0.15:
                nodes[i][6] = tuple(sorted({float(v) for v in rng.integers(0, 4, 2)}))
            else:
                nodes[i][1] = math.inf if kind < 0.25 else float(np.round(rng.normal(), 2))
            nodes[i][4] = bool(rng.random() < 0.5)
            nodes[i][2] = grow(d + 1)
            nodes[i][3] = grow(d + 1)
        else:
            nodes[i][5] = np.round(rng.normal(size=width), 3).tolist()
        return i

    grow(0)
    f, t, left, right, ml, value, sets = map(list, zip(*nodes))
    return ir.Tree(f, t, left, right, ml, value, sets if any(s is not None for s in sets) else ())


def random_package(seed: int) -> ir.Package:
    """Encoders and a model drawn at random from every kind the writer knows (flat classifiers
    aside: random leaves are no probabilities)."""
    rng = np.random.default_rng(seed)
    inputs = (ir.Field("colour", ir.CATEGORICAL), ir.Field("size", ir.NUMERIC), ir.Field("weight", ir.NUMERIC))
    encoders, numeric = [], ["size", "weight"]

    def one_of(*values):
        return values[int(rng.integers(len(values)))]

    if np.random.default_rng(seed + 1000).random() < 0.3:  # its own draw: the other draws stay as they were
        encoders.append(ir.RefuseMissing(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL)))
    if rng.random() < 0.4:
        encoders.append(ir.MissingIndicator(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("size_m", "colour_m")))
        numeric += ["size_m", "colour_m"]
    pick = rng.random()
    if pick < 0.4:
        encoders.append(
            ir.OneHot(
                ("colour",),
                (("blue", "green", "red"),),
                ((0, -1, 1),),
                (3,),
                (one_of(None, 2, -1),),
                (one_of("error", "zeros", 2),),
                ("o0", "o1", "o2"),
            )
        )
        numeric += ["o0", "o1", "o2"]
    elif pick < 0.7:
        encoders.append(
            ir.CategoricalEncoding(
                ("colour",),
                (("blue", "red"),),
                ((0.0, 3.0),),
                (one_of(None, -1.0, math.nan),),
                one_of(None, 7.0, math.nan),
            )
        )
        numeric.append("colour")
    if rng.random() < 0.5:
        encoders.append(ir.Affine(("size",), [one_of(0.5, -2.0, 0.0, 1e-300)], [float(rng.normal())]))
    if rng.random() < 0.5:
        encoders.append(ir.Scale(("weight",), [float(rng.normal())], [one_of(3.0, -0.5, 1e300)]))
    if rng.random() < 0.3:
        encoders.append(ir.FillMissing(("weight",), (1.5,)))
    features = tuple(rng.choice(numeric, size=min(len(numeric), int(rng.integers(1, 4))), replace=False).tolist())
    n = len(features)
    if rng.random() < 0.3:
        k = int(rng.integers(1, 4))
        if k == 1:
            classes, post = (None if rng.random() < 0.4 else ("no", "yes")), one_of("none", "logistic")
        else:
            classes, post = tuple(f"k{i}" for i in range(k)), one_of("none", "softmax", "logistic")
        model = ir.LinearModel(
            features, np.round(rng.normal(size=(k, n)), 3), np.round(rng.normal(size=k), 3), post, classes
        )
    else:
        width = int(rng.integers(1, 4))
        aggregation = one_of("sum", "average")
        if width == 1:
            classes, post = (("no", "yes"), "logistic") if rng.random() < 0.5 else (None, one_of("none", "logistic"))
        else:
            classes, post = tuple(range(width)), one_of("none", "softmax", "logistic")
            if (aggregation, post) == ("average", "none"):
                aggregation = "sum"
        trees = tuple(random_tree(rng, n, width) for _ in range(int(rng.integers(1, 4))))
        model = ir.TreeEnsemble(
            features,
            trees,
            aggregation,
            post,
            classes,
            np.round(rng.normal(size=width), 2) if aggregation == "sum" else None,
            missing=one_of("route", "error"),
            infinite=one_of("error", "compare"),
        )
    return ir.Package(inputs, tuple(encoders), model)


RANDOM_ROWS = pd.DataFrame(
    {
        "colour": pd.Series(["blue", "green", "red", "teal", None, "blue", "green", None, "red", "blue"], dtype=object),
        "size": [0.0, 1.5, -2.0, np.inf, np.nan, 1e39, -1e300, 3.0, -0.0, 2.0],
        "weight": [1.0, np.nan, 0.5, -1.0, 2.0, np.inf, 0.0, -np.inf, 1e300, 0.25],
    }
)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference's inf * 0 and overflowing scales
@pytest.mark.parametrize("seed", range(24))
def test_random_packages_round_trip_and_score_in_jpmml_as_in_the_reference(seed):
    package = random_package(seed)
    assert P.unsupported(package) is None
    for leaves in (P.ON, P.OFF):
        data = P.dumps(package, leaves=leaves)
        back = P.loads(data)
        assert back.id == package.id and P.dumps(back, leaves=leaves) == data
        assert_jpmml_scores_like_the_reference(package, data, RANDOM_ROWS)


def test_a_classifier_leaf_without_a_distribution_per_class_is_refused():
    """Leaf values are sized nodes x classes before they are filled: each leaf must bring its
    classes' ScoreDistributions, so a few bytes of Nodes cannot ask for gigabytes of values."""
    text = P.dumps(small_package()).decode()
    dist = '<ScoreDistribution value="no" recordCount="0.25"/><ScoreDistribution value="yes" recordCount="0.75"/>'
    assert dist in text
    with pytest.raises(P.PmmlStructureError, match="2 ScoreDistributions.*one per class.*found 0"):
        P.loads(text.replace(dist, "", 1).encode(), where="model.pmml")
