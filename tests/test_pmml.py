"""The pmml format: exact round trips, JPMML against the reference, and one named error per bad input."""

from __future__ import annotations

import io
import json
import math
import re
import tracemalloc
import warnings

import numpy as np
import pytest
from conftest import small_package, small_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_protobuf import PACKAGES, changed_value, fit_pipeline, leaf_only_tree

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
from crossform.exporters import pmml as P
from crossform.floats import FLOAT32_OVERFLOW
from crossform.runtime import unavailable

ROWS = [{"colour": c, "size": s} for c in ("red", "blue", "green", None, "", "purple")
        for s in (-30.0, 9.0, 14.0, 30.0, math.nan, math.inf, -math.inf, 1e39, -3.5e38, None)]
ROWS += [{"colour": 3, "size": 9.0}, {"colour": "red", "size": "big"}]  # wrong types: row errors before JPMML
UNSUPPORTED = {"softmax"}  # a summed classifier with softmax: no PMML form here (docs/formats/pmml.md)


def jpmml_or_skip():
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml runtime unavailable: {reason}")
    from crossform.runtime import jpmml

    return jpmml


def assert_jpmml_scores_like_the_reference(package: ir.Package, content: bytes, rows=ROWS) -> None:
    """The same rows in error, every value within 1e-12 relative, the same leaf in every tree."""
    jpmml = jpmml_or_skip()
    back = P.loads(content)
    want = crossform.score(package, rows)
    got = jpmml.prepare(content, P)(rows)
    assert got.outputs == want.outputs and got.classes == want.classes
    assert [e is None for e in got.errors] == [e is None for e in want.errors], list(zip(rows, got.errors,
                                                                                          want.errors))
    ok = np.equal(want.errors, None)
    np.testing.assert_allclose(got.values[ok], want.values[ok], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(checks_module.leaf_positions(back.model, got.leaves),
                                  checks_module.leaf_positions(package.model, want.leaves))


def assert_same(a: ir.Package, b: ir.Package, rows=ROWS) -> None:
    assert b.id == a.id
    assert b.producer == a.producer and b.owner == a.owner and b.tags == a.tags
    assert [type(c) for c in a.model.classes or ()] == [type(c) for c in b.model.classes or ()]
    sa, sb = crossform.score(a, rows), crossform.score(b, rows)
    np.testing.assert_array_equal(sa.values, sb.values)
    assert sa.errors == sb.errors
    np.testing.assert_array_equal(checks_module.leaf_positions(a.model, sa.leaves),
                                  checks_module.leaf_positions(b.model, sb.leaves))


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_hand_built_packages_round_trip(name):
    package = PACKAGES[name]
    if name in UNSUPPORTED:
        assert "softmax" in P.unsupported(package)
        with pytest.raises(UnsupportedModelError, match="no PMML form"):
            P.dumps(package)
        return
    data = P.dumps(package)
    assert P.sniff(data) and data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<PMML xmlns="')
    back = P.loads(data)
    assert_same(package, back)
    assert P.dumps(back) == data


@pytest.mark.parametrize("name", sorted(set(PACKAGES) - UNSUPPORTED))
def test_hand_built_packages_score_in_jpmml_as_in_the_reference(name):
    package = PACKAGES[name]
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
            ir.CategoricalEncoding(("colour & <shade>",), (cats,), (tuple(float(i) for i in range(len(cats))),),
                                   (None,), None, ("code\n<1>",)),
            ir.Scale(('size "cm"\t',), [0.1], [1e-300], ("scaled & co",)),
        ),
        model=ir.TreeEnsemble(("code\n<1>", "scaled & co"), (small_tree(4.5), small_tree(1.5)),
                              classes=("<no>", 'y"es')),
        owner="owner\x01with a control character", tags=("t\x02",), metadata={"k\n": "v\x7f"},
    )


def test_names_and_categories_are_escaped_and_kept():
    package = odd_package()
    data = P.dumps(package)
    back = P.loads(data)
    assert back.id == package.id and back.owner == package.owner
    assert back.encoders[1].categories == package.encoders[1].categories
    rows = [{"colour & <shade>": c, 'size "cm"\t': s} for c in ODD + ("other", None)
            for s in (0.1, 1e-290, -1e-290, 0.1 + 1e-262, math.nan, 3.4e-262)]
    assert_same(package, back, rows)
    assert_jpmml_scores_like_the_reference(package, data, rows)


def test_interval_ends_are_the_last_values_the_reference_accepts():
    """Through a scaler the float32 limit moves: the declared interval is exact to the last double."""
    package = small_package()
    low, high = P._Plan(package).validity["size"].interval
    assert high == -low and abs((high - 10.0) / 4.0 - FLOAT32_OVERFLOW) < FLOAT32_OVERFLOW * 1e-15
    edges = [low, high, np.nextafter(low, -np.inf), np.nextafter(high, np.inf), 0.0, -0.0]
    rows = [{"colour": "red", "size": float(x)} for x in edges]
    scores = crossform.score(package, rows)
    assert [e is None for e in scores.errors] == [True, True, False, False, True, True]
    assert_jpmml_scores_like_the_reference(package, P.dumps(package), rows)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e300, 1e300), st.floats(1e-300, 1e300), st.booleans(), st.floats(-1e300, 1e300),
       st.floats(1e-300, 1e300))
def test_intervals_through_two_scalers_match_the_reference(m1, s1, negative, m2, s2):
    package = small_package(encoders=(
        ir.FillMissing(("colour",), ("red",)),
        ir.CategoricalEncoding(("colour",), (("blue", "red"),), ((0.0, 2.0),), (None,), None),
        ir.Scale(("size",), [m1], [-s1 if negative else s1], ("size_scaled",)),
        ir.Scale(("size_scaled",), [m2], [s2]),
    ))
    interval = P._interval(package, "size")  # raises when the ends disagree with the reference
    if interval:
        low, high = interval
        assert P._accepts(package, "size", low) and P._accepts(package, "size", high)


def test_what_a_field_accepts_is_declared_in_the_data_dictionary():
    text = P.dumps(PACKAGES["missing code and unknown code"]).decode()
    # unknown categories become a code: no Values, nothing invalid; missing takes its code
    assert '<DataField name="colour" optype="categorical" dataType="string"/>' in text
    assert 'missingValueTreatment="returnInvalid"' not in text
    text = P.dumps(small_package(encoders=small_package().encoders[1:])).decode()
    # no fill and the error policy: the known categories only, and a missing value is refused
    assert ('<DataField name="colour" optype="categorical" dataType="string"><Value value="blue"/>'
            '<Value value="green"/><Value value="red"/></DataField>') in text
    assert '<MiningField name="colour" invalidValueTreatment="returnInvalid" missingValueTreatment="returnInvalid"/>' \
        in text
    # JPMML reads fields lazily: the first segment reads each field that refuses something
    assert '<Segment id="0"><CompoundPredicate booleanOperator="and"><CompoundPredicate booleanOperator="or">' \
           '<SimplePredicate field="colour" operator="isMissing"/>' in text


def test_sum_writes_its_base_value_as_the_first_segment():
    text = P.dumps(PACKAGES["sum logistic"]).decode()
    assert '<Segmentation multipleModelMethod="sum">\n<Segment id="base">' in text
    assert '<Node id="0" score="0.25"><True/></Node>' in text
    assert 'feature="transformedValue"><Apply function="/">' in text


# ---------------------------------------------------------------- what has no PMML form


def classifier_with(values) -> ir.Package:
    tree = changed_value(small_tree(), width=2)
    value = tree.value.copy()
    value[tree.is_leaf] = values
    return small_package(model=ir.TreeEnsemble(("colour", "size_scaled"),
                                               (ir.Tree(tree.feature, tree.threshold, tree.left, tree.right,
                                                        tree.missing_left, value),), classes=("no", "yes")))


UNSUPPORTED_PACKAGES = {
    "softmax": (PACKAGES["softmax"], "post transform 'softmax'"),
    "not probabilities": (classifier_with([[0.5, 0.6], [0.1, 0.9], [0.5, 0.5]]), "sum to 1.1"),
    "negative": (classifier_with([[-0.5, 1.5], [0.1, 0.9], [0.5, 0.5]]), "outside [0, 1]"),
    "reserved prefix": (small_package(encoders=(
        ir.FillMissing(("colour",), ("red",)),
        ir.CategoricalEncoding(("colour",), (("blue", "red", "green"),), ((0.0, 2.0, 1.0),), (None,), None),
        ir.Scale(("size",), [10.0], [4.0], ("crossform:x",)),
    ), model=ir.TreeEnsemble(("colour", "crossform:x"), (small_tree(),), classes=("no", "yes"))), "prefix"),
    "output name": (small_package(inputs=(ir.Field("colour", ir.CATEGORICAL), ir.Field("leaf(0)", ir.NUMERIC)),
                                  encoders=small_package().encoders[:2],
                                  model=ir.TreeEnsemble(("colour", "leaf(0)"), (small_tree(),),
                                                        classes=("no", "yes"))), "collides"),
    "control character": (small_package(encoders=(
        ir.CategoricalEncoding(("colour",), (("blue", "r\x00d"),), ((0.0, 2.0),), (None,), None),
        ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)))), "XML 1.0"),
    "no categories": (small_package(encoders=(
        ir.CategoricalEncoding(("colour",), ((),), ((),), (4.0,), None),
        ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)))), "no categories"),
    "one column twice": (small_package(model=ir.TreeEnsemble(("colour", "colour"), (small_tree(),),
                                                             classes=("no", "yes"))), "twice"),
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
    assert len(chunks) == len(package.model.trees) + 2
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
    fast = P._parse(data, "f")
    assert all(isinstance(text, str) for _, text in fast.segments)  # the fast path
    slow = P._load(P._slow_parse(data, "f"), data, "f")
    assert P.loads(data).id == slow.id == package.id


# ---------------------------------------------------------------- named errors


GOOD = P.dumps(small_package())
GOOD_TEXT = GOOD.decode()


def edited(old: str, new: str, count: int = 1) -> bytes:
    assert old in GOOD_TEXT, old
    return GOOD_TEXT.replace(old, new, count).encode()


DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
BAD = {
    "doctype": (edited(DECL, DECL + '<!DOCTYPE PMML SYSTEM "http://example.invalid/pmml.dtd">\n'),
                P.PmmlDoctypeError, "DOCTYPE"),
    "entity": (edited(DECL, DECL + '<!DOCTYPE PMML [<!ENTITY lol "lol">]>\n'), P.PmmlDoctypeError, "DOCTYPE"),
    "undefined entity": (edited('value="0.5"', 'value="&lol;"'), P.PmmlDecodeError, "undefined entity"),
    "not xml": (b"<?xml version='1.0'?><PMML", P.PmmlDecodeError, "expected well-formed XML"),
    "truncated": (GOOD[:-40], P.PmmlDecodeError, "expected well-formed XML"),
    "wrong namespace": (edited("http://www.dmg.org/PMML-4_4", "http://www.dmg.org/PMML-4_3"), P.PmmlNamespaceError,
                        "namespace"),
    "wrong pmml version": (edited('version="4.4"', 'version="4.3"'), P.PmmlNamespaceError, "version '4.4'"),
    "unknown element": (edited("<True/>", "<True/><Extension/><Surprise/>"), UnsupportedModelError,
                        "element <Surprise>"),
    "unknown element in a tree": (edited('<Node id="3" score="no">', '<Node id="3" score="no"><SimpleSetPredicate/>'),
                                  UnsupportedModelError, "element <SimpleSetPredicate>"),
    "foreign namespace": (edited("<True/>", '<x:True xmlns:x="urn:x"/>'), UnsupportedModelError, "urn:x"),
    "bad number": (edited('value="0.5"', 'value="half"'), P.PmmlNumberError, "'half'"),
    "infinite number": (edited('value="0.5"', 'value="INF"'), P.PmmlNumberError, "finite"),
    "no id": (edited(f'<Extension extender="crossform" name="crossform.id" value="{small_package().id}"/>\n', ""),
              P.PmmlHeaderError, "crossform.id"),
    "recorded id": (edited(small_package().id, "sha256.X"), IdMismatchError, "records id sha256.X"),
    "threshold": (edited('value="0.5"', 'value="0.625"'), IdMismatchError, "content hashes to"),
    "leaf value": (edited('recordCount="0.9"/><ScoreDistribution value="yes" recordCount="0.1"',
                          'recordCount="0.875"/><ScoreDistribution value="yes" recordCount="0.125"'), IdMismatchError,
                   "content changed"),
    "leaf score": (edited('<Node id="3" score="no">', '<Node id="3" score="yes">'), P.PmmlStructureError,
                   "differs at line"),
    "missing routing": (edited('<Node id="0" defaultChild="1">', '<Node id="0" defaultChild="2">'), IdMismatchError,
                        "content changed"),
    "other major": (edited('name="crossform.format_version" value="1.0"', 'name="crossform.format_version" '
                                                                          'value="2.0"'), FormatVersionError,
                    "pmml 2.0"),
    "bad version": (edited('name="crossform.format_version" value="1.0"', 'name="crossform.format_version" '
                                                                          'value="1"'), FormatVersionError, "major"),
    "no version": (edited('<Extension extender="crossform" name="crossform.format_version" value="1.0"/>\n', ""),
                   FormatVersionError, "found none"),
    "twice": (edited("<Header>\n", '<Header>\n<Extension extender="crossform" name="crossform.tags" value="[]"/>\n'),
              P.PmmlHeaderError, "twice"),
    "unknown header key": (edited("<Header>\n", '<Header>\n<Extension extender="crossform" name="crossform.x" '
                                                'value="1"/>\n'), P.PmmlHeaderError, "'crossform.x'"),
    "bad json": (edited('value="[&quot;golden&quot;]"', 'value="[golden"'), MalformedPackageError, "JSON"),
    "not the layout": (edited("</Node></Node></Node>\n</TreeModel>", "</Node></Node></Node></TreeModel>"),
                       P.PmmlStructureError, "differs at line"),
    "an extra attribute": (edited('<Node id="1" score="yes">', '<Node id="1" score="yes" recordCount="3">'),
                           P.PmmlStructureError, "differs at line"),
    "three children": (edited('<Node id="4" score="no">', '<Node id="5" score="no"><True/></Node><Node id="4" '
                                                          'score="no">'), P.PmmlStructureError, "two child Nodes"),
    "wrong method": (edited('multipleModelMethod="average"', 'multipleModelMethod="median"'), P.PmmlStructureError,
                     "median"),
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


def test_oversized_files_are_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(P, "MAX_BYTES", 100)
    with pytest.raises(LimitExceededError, match="at most 100 bytes"):
        P.loads(GOOD)


def test_nesting_is_limited(monkeypatch):
    monkeypatch.setattr(P, "MAX_NESTING", 5)
    with pytest.raises(LimitExceededError, match="nested deeper than 5"):
        P.loads(GOOD)


def test_too_many_trees_are_refused(monkeypatch):
    monkeypatch.setattr(P, "MAX_TREES", 0)
    with pytest.raises(LimitExceededError, match="at most 0 trees"):
        P.loads(GOOD)


def test_a_newer_minor_warns_drops_what_it_does_not_know_and_reads():
    data = edited('name="crossform.format_version" value="1.0"/>\n',
                  'name="crossform.format_version" value="1.3"/>\n<Extension extender="crossform" '
                  'name="crossform.future" value="{}"/>\n')
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


FUZZ = P.dumps(PACKAGES["nan codes"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_or_truncated_bytes_raise_only_crossform_errors(data):
    raw = bytearray(FUZZ)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    candidate = bytes(raw[:data.draw(st.integers(len(raw) // 2, len(raw)))])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P.loads(candidate)
    except CrossformError:
        pass


def test_single_leaf_trees_and_the_base_segment_read_back():
    package = small_package(model=ir.TreeEnsemble(("colour", "size_scaled"), (leaf_only_tree((2.5,)),
                                                                              leaf_only_tree((-1.0,))),
                                                  "sum", "none", None, [0.125]))
    data = P.dumps(package)
    assert P.loads(data).id == package.id
    assert_jpmml_scores_like_the_reference(package, data)


@pytest.mark.parametrize("row, written", [
    ((0.25, 0.75), (0.25, 0.75)),  # sums to exactly 1: the values themselves
    ((1.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
    ((1 / 3, 1 / 3, 1 / 3), (1 / 3, 1 / 3, 1 / 3)),
    ((1 / 6, 4 / 6, 1 / 6), (1.0, 4.0, 1.0)),  # sums to 0.9999999999999999: counts that divide to it
    ((1 / 7, 4 / 7, 2 / 7), (1.0, 4.0, 2.0)),
    ((3 / 59, 17 / 59, 39 / 59), None),
])
def test_leaf_record_counts_divide_to_the_leaf_values_exactly(row, written):
    counts = P.leaf_record_counts(row)
    if written is not None:
        assert counts == written
    total = P._fold(counts)
    # what JPMML computes: recordCount / their sum, unless the sum is exactly 1
    assert tuple(c if total == 1.0 else c / total for c in counts) == row
    np.testing.assert_array_equal(P.leaf_values(np.array([counts])), np.array([row]))


def test_leaves_without_counts_are_written_as_fractions_and_read_back_as_written():
    row = (0.1 + 1e-15, 0.9)  # within PROBABILITY_SLACK of summing to 1, and no small counts
    assert P._counts(row) is None and P.leaf_record_counts(row) == row
    package = classifier_with([row, (0.5, 0.5), (1.0, 0.0)])
    assert P.unsupported(package) is None
    data = P.dumps(package)
    assert P.loads(data).id == package.id
    assert_jpmml_scores_like_the_reference(package, data)  # JPMML divides by the sum: within 1e-12


# ---------------------------------------------------------------- without leaf outputs (1.1)


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
    as_10 = without.replace(b'name="crossform.format_version" value="1.1"', b'name="crossform.format_version" value="1.0"')
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
    code = main(["export", str(tmp_path / "m.joblib"), str(tmp_path / "m.pmml"), "--format", "pmml",
                 "--leaves", "off", "--checks", "100", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["leaves"] == "off" and doc["id"] == doc["sourceId"]
    assert main(["info", str(tmp_path / "m.pmml")]) == 0
    assert re.search(r"^leaves +off$", capsys.readouterr().out, re.M)
    assert main(["validate", str(tmp_path / "m.pmml")]) == 0
