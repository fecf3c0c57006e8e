"""Crafted pmml files of every kind: each refused with its named error; damaged bytes only raise
crossform errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossform.exporters import pmml as P
from helpers.fuzz import damaged, read_or_refuse
from helpers.pmml import KINDS, kind_edited

# ---------------------------------------------------------------- named errors for crafted files of every kind


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
