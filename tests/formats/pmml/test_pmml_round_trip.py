"""The pmml format: exact round trips, escaping, the intervals a field accepts, what has no PMML
form, and the streaming writer."""

from __future__ import annotations

import io
import math
import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.errors import UnsupportedModelError
from crossform.exporters import pmml as P
from crossform.exporters.pmml import accepts, parse, reader, writer
from crossform.floats import FLOAT32_OVERFLOW
from helpers.fits import fit_pipeline
from helpers.packages import TREE_VARIANTS, small_package, small_tree
from helpers.pmml import (
    ODD,
    assert_jpmml_scores_like_the_reference,
    assert_same,
    classifier_with,
    forest_package,
    jpmml_or_skip,
    odd_package,
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
