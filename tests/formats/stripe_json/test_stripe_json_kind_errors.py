"""stripe-json 2.1's structures: each bad input refused by name; damaged 2.1 files raise only named errors."""

from __future__ import annotations

import pytest

from crossform import errors
from crossform.exporters.stripe_json import bonsai
from helpers.stripe_json import (
    KINDS_2_1,
    edit_json,
    files_of,
    load_files,
    refused_mutations,
    set_in,
)


def drop(*keys):
    def edit(doc):
        for key in keys[:-1]:
            doc = doc[key]
        del doc[keys[-1]]

    return edit


# case -> (package, file, edit, error, words in the message): each new structure's failure modes
BREAKS_2_1 = {
    # one-hot
    "one-hot widths per feature": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("widths", "shade", value=3),
        errors.MalformedPackageError,
        "one entry per feature",
    ),
    "one-hot columns per feature": (
        "boost-binary-one-hot",
        "one-hot.json",
        drop("columns", "colour"),
        errors.MalformedPackageError,
        "'columns' object must have one entry per feature",
    ),
    "one-hot column beyond width": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("columns", "colour", "red", value=3),
        errors.MalformedPackageError,
        "column index from -1 to 2",
    ),
    "one-hot column below -1": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("columns", "colour", "red", value=-2),
        errors.SchemaError,
        "less than the minimum of -1",
    ),
    "one-hot column a fraction": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("columns", "colour", "red", value=1.5),
        errors.SchemaError,
        "not of type 'integer'",
    ),
    "one-hot column a float": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("columns", "colour", "red", value=1.0),
        errors.MalformedPackageError,
        "int32 values",
    ),
    "one-hot negative width": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("widths", "colour", value=-1),
        errors.SchemaError,
        "minimum",
    ),
    "one-hot huge width": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("widths", "colour", value=10**7),
        errors.MalformedPackageError,
        "from 0 to 1000000",
    ),
    "one-hot outputs count": (
        "boost-binary-one-hot",
        "one-hot.json",
        lambda d: d["outputs"].pop(),
        errors.MalformedPackageError,
        "3 names, one per column",
    ),
    "one-hot missing column": (
        "boost-multiclass-ignore",
        "one-hot.json",
        set_in("missing", "colour", value=5),
        errors.MalformedPackageError,
        "missing_columns",
    ),
    "one-hot missing policy": (
        "boost-multiclass-ignore",
        "one-hot.json",
        set_in("missing", "colour", value="zeros"),
        errors.SchemaError,
        "one-hot-2.schema.json",
    ),
    "one-hot unknown policy": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("unknown", "colour", value="ignore"),
        errors.SchemaError,
        "one-hot-2.schema.json",
    ),
    "one-hot unknown column": (
        "linear-binary-logistic",
        "one-hot.json",
        set_in("unknown", "colour", value=9),
        errors.MalformedPackageError,
        "'unknown'",
    ),
    "one-hot output over input": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("outputs", 0, value="colour"),
        errors.MalformedPackageError,
        "overwrite no input",
    ),
    "one-hot extra key": (
        "boost-binary-one-hot",
        "one-hot.json",
        set_in("drop", value="first"),
        errors.SchemaError,
        "'drop' was unexpected",
    ),
    # affine
    "affine lengths": (
        "boost-binary-one-hot",
        "affine.json",
        lambda d: d["scale"].append(1.0),
        errors.MalformedPackageError,
        "1 numbers, one per feature",
    ),
    "affine special float": (
        "boost-binary-one-hot",
        "affine.json",
        set_in("offset", 0, value="NaN"),
        errors.SchemaError,
        "affine-2.schema.json",
    ),
    "affine no scale": ("boost-binary-one-hot", "affine.json", drop("scale"), errors.SchemaError, "'scale'"),
    # missing-indicator
    "indicator type": (
        "linear-regression",
        "missing-indicator.json",
        set_in("types", 0, value="text"),
        errors.SchemaError,
        "missing-indicator-2.schema.json",
    ),
    "indicator types count": (
        "linear-regression",
        "missing-indicator.json",
        lambda d: d["types"].pop(),
        errors.MalformedPackageError,
        "kinds_in",
    ),
    "indicator wrong type": (
        "linear-regression",
        "missing-indicator.json",
        set_in("types", 0, value="categorical"),
        errors.MalformedPackageError,
        "a categorical column for 'size'",
    ),
    "indicator over a categorical": (
        "linear-regression",
        "missing-indicator.json",
        set_in("outputs", 1, value="colour"),
        errors.MalformedPackageError,
        "cannot overwrite a categorical column",
    ),
    # refuse-missing
    "refuse type": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        set_in("types", 0, value="text"),
        errors.SchemaError,
        "refuse-missing-2.schema.json",
    ),
    "refuse no types": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        set_in("types", value=[]),
        errors.SchemaError,
        "refuse-missing-2.schema.json",
    ),
    "refuse types count": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        lambda d: d["types"].pop(),
        errors.MalformedPackageError,
        "kinds_in",
    ),
    "refuse wrong type": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        set_in("types", 0, value="categorical"),
        errors.MalformedPackageError,
        "a categorical column for 'size'",
    ),
    "refuse outputs count": (
        "refuse-missing-renamed",
        "refuse-missing.json",
        lambda d: d["outputs"].pop(),
        errors.MalformedPackageError,
        "2 names, one per feature",
    ),
    "refuse output over another input": (
        "refuse-missing-renamed",
        "refuse-missing.json",
        set_in("outputs", 0, value="colour"),
        errors.MalformedPackageError,
        "overwrite no other input",
    ),
    "refuse no outputs key": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        drop("outputs"),
        errors.SchemaError,
        "'outputs' is a required property",
    ),
    "refuse extra key": (
        "refuse-missing-in-place",
        "refuse-missing.json",
        set_in("error_on_new", value=True),
        errors.SchemaError,
        "'error_on_new' was unexpected",
    ),
    "refuse read as an indicator": (
        "refuse-missing-in-place",
        "MODEL",
        set_in("encoders", "apply", 0, "encoderType", value="missing-indicator"),
        errors.MalformedPackageError,
        "cannot overwrite a categorical column",
    ),
    "indicator read as a refusal": (
        "linear-regression",
        "MODEL",
        set_in("encoders", "apply", 0, "encoderType", value="refuse-missing"),
        errors.MalformedPackageError,
        "encode 'colour_missing' first",
    ),
    # linear model
    "linear ragged row": (
        "linear-multinomial",
        "model.json",
        lambda d: d["coefficients"][1].pop(),
        errors.MalformedPackageError,
        "expected 2 coefficients in row 1",
    ),
    "linear long row": (
        "linear-multinomial",
        "model.json",
        lambda d: d["coefficients"][0].append(1.0),
        errors.MalformedPackageError,
        "expected 2 coefficients in row 0",
    ),
    "linear intercepts": (
        "linear-multinomial",
        "model.json",
        lambda d: d["intercepts"].pop(),
        errors.MalformedPackageError,
        "3 numbers, one per output",
    ),
    "linear classes": (
        "linear-multinomial",
        "model.json",
        lambda d: d["classes"].append("d"),
        errors.MalformedPackageError,
        "3 labels, one per output",
    ),
    "linear softmax of one": (
        "linear-decision-binary",
        "model.json",
        set_in("postTransform", value="softmax"),
        errors.MalformedPackageError,
        "'softmax' only with two or more outputs",
    ),
    "linear binary softmax": (
        "linear-binary-logistic",
        "model.json",
        set_in("postTransform", value="softmax"),
        errors.MalformedPackageError,
        "softmax",
    ),
    "linear no coefficients": (
        "linear-regression",
        "model.json",
        set_in("coefficients", value=[]),
        errors.SchemaError,
        "linear-model-2.schema.json",
    ),
    "linear string coefficient": (
        "linear-regression",
        "model.json",
        set_in("coefficients", 0, 0, value="NaN"),
        errors.SchemaError,
        "linear-model-2.schema.json",
    ),
    "linear post transform": (
        "linear-regression",
        "model.json",
        set_in("postTransform", value="probit"),
        errors.SchemaError,
        "'probit' is not one of",
    ),
    "linear trees key": (
        "linear-regression",
        "model.json",
        set_in("trees", value={"path": "trees.bonsai", "encoding": "bonsai"}),
        errors.SchemaError,
        "'trees' was unexpected",
    ),
    "linear regressor named a classifier": (
        "linear-regression",
        "model.json",
        set_in("modelType", value="linear-classification"),
        errors.MalformedPackageError,
        "as the manifest says",
    ),
    "linear classifier without classes": (
        "linear-multinomial",
        "model.json",
        drop("classes"),
        errors.MalformedPackageError,
        "class labels for 3 outputs",
    ),
    # trees
    "tree leaf width 2": (
        "boost-binary-one-hot",
        "model.json",
        set_in("leafWidth", value=2),
        errors.SchemaError,
        "1 was expected",
    ),
    "tree leaf width without classes": (
        "boost-regression-compare",
        "model.json",
        set_in("leafWidth", value=1),
        errors.MalformedPackageError,
        "leafWidth only in a classifier",
    ),
    "tree leaf width against bonsai": (
        "boost-multiclass-ignore",
        "model.json",
        set_in("leafWidth", value=1),
        errors.MalformedPackageError,
        "expected leaves of 1 outputs",
    ),
    "tree binary without leaf width": (
        "boost-binary-one-hot",
        "model.json",
        drop("leafWidth"),
        errors.MalformedPackageError,
        "expected leaves of 2 outputs",
    ),
    "tree binary softmax": (
        "boost-binary-one-hot",
        "model.json",
        set_in("postTransform", value="softmax"),
        errors.MalformedPackageError,
        "softmax",
    ),
    "tree missing route spelled out": (
        "boost-regression-compare",
        "model.json",
        set_in("missing", value="route"),
        errors.SchemaError,
        "'error' was expected",
    ),
    "tree infinite error spelled out": (
        "boost-binary-one-hot",
        "model.json",
        set_in("infinite", value="error"),
        errors.SchemaError,
        "'compare' was expected",
    ),
    "tree unknown rule": (
        "boost-regression-compare",
        "model.json",
        set_in("infinite", value="clip"),
        errors.SchemaError,
        "'compare' was expected",
    ),
    # isolation forests
    "isolation without its parameters": (
        "isolation",
        "model.json",
        drop("isolation"),
        errors.MalformedPackageError,
        "denominator, offset",
    ),
    "isolation parameters elsewhere": (
        "boost-regression-compare",
        "model.json",
        set_in("isolation", value={"denominator": 2.0, "offset": 0.5}),
        errors.MalformedPackageError,
        "None unless post transform is 'isolation'",
    ),
    "isolation denominator 0": (
        "isolation",
        "model.json",
        set_in("isolation", "denominator", value=0),
        errors.SchemaError,
        "less than or equal to the minimum of 0",
    ),
    "isolation extra key": (
        "isolation",
        "model.json",
        set_in("isolation", "scale", value=1.0),
        errors.SchemaError,
        "'scale' was unexpected",
    ),
    "isolation as a classifier": (
        "isolation",
        "model.json",
        set_in("classes", value=["a"]),
        errors.MalformedPackageError,
        "'isolation' only for a regressor",
    ),
    "isolation named a forest": (
        "isolation",
        "model.json",
        set_in("modelType", value="simple-bonsai-regression-forest"),
        errors.MalformedPackageError,
        "as the manifest says",
    ),
    # manifest
    "manifest encoder type": (
        "linear-regression",
        "MODEL",
        set_in("encoders", "apply", 0, "encoderType", value="min-max-scaler"),
        errors.SchemaError,
        "manifest-2.1.schema.json",
    ),
    "manifest wrong encoder file": (
        "linear-regression",
        "MODEL",
        set_in("encoders", "apply", 0, "encoderType", value="affine"),
        errors.SchemaError,
        "affine-2.schema.json",
    ),
    "manifest model type": (
        "linear-regression",
        "MODEL",
        set_in("model", "modelType", value="linear-classification"),
        errors.MalformedPackageError,
        "as the manifest says",
    ),
    "manifest linear names trees": (
        "linear-regression",
        "MODEL",
        set_in("model", "modelType", value="simple-bonsai-regression-forest"),
        errors.SchemaError,
        "model-2.1.schema.json",
    ),
    "manifest outputs": (
        "linear-decision-binary",
        "MODEL",
        set_in("outputs", value=["probability(-1)", "probability(1)"]),
        errors.MalformedPackageError,
        "expected outputs \\['decision'\\]",
    ),
}


@pytest.mark.parametrize("case", BREAKS_2_1)
def test_new_structures_refuse_bad_input_by_name(case):
    name, target, edit, error, words = BREAKS_2_1[case]
    files = edit_json(files_of(KINDS_2_1[name]), target, edit)
    with pytest.raises(error, match=words) as info:
        load_files(files)
    assert type(info.value) is error
    assert info.value.path.startswith("pkg/")


def test_new_structures_duplicate_category_is_refused():
    files = files_of(KINDS_2_1["boost-binary-one-hot"])
    data = files["one-hot.json"].replace(b'"blue": 0,', b'"blue": 0, "blue": 1,')
    with pytest.raises(errors.MalformedPackageError, match="'blue' appears twice"):
        load_files({**files, "one-hot.json": data})


def test_a_binary_logistic_forest_keeps_its_one_output_leaves_in_bonsai():
    files = files_of(KINDS_2_1["boost-binary-one-hot"])
    trees = bonsai.loads(files["trees.bonsai"], "pkg/trees.bonsai", 4)
    assert {t.n_outputs for t in trees} == {1}


@pytest.mark.parametrize(
    "name", ["boost-binary-one-hot", "linear-regression", "linear-binary-logistic", "refuse-missing-renamed"]
)
def test_mutations_of_2_1_files_only_raise_named_errors(name):
    assert refused_mutations(KINDS_2_1[name], 240, seed=1) > 180
