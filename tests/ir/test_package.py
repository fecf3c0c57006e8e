"""Fields and the package: what each refuses, by field and whole message, and the dataflow rule.

A package's encoders read only inputs or the outputs of earlier encoders, each with the kind
it expects, and its model reads only numeric columns (docs/SEMANTICS.md).
"""

from __future__ import annotations

import pytest

from crossform import ir
from crossform.errors import IRValidationError
from helpers.packages import small_package, small_tree

REFUSED_FIELDS = {
    "empty name": (
        lambda: ir.Field("", ir.NUMERIC),
        "The 'name' field of Field must be a non-empty string. Got '' instead.",
    ),
    "name with a lone surrogate": (
        lambda: ir.Field("a\ud800", ir.NUMERIC),
        "The 'name' field of Field must be a non-empty string. Got 'a\\ud800' instead.",
    ),
    "name not a string": (
        lambda: ir.Field(3, ir.NUMERIC),
        "The 'name' field of Field must be a non-empty string. Got 3 instead.",
    ),
    "unknown kind": (
        lambda: ir.Field("a", "text"),
        "The 'kind' field of Field must be one of ('numeric', 'categorical'). Got 'text' instead.",
    ),
}


@pytest.mark.parametrize("name", REFUSED_FIELDS)
def test_field_refusals(name):
    build, message = REFUSED_FIELDS[name]
    with pytest.raises(IRValidationError) as info:
        build()
    assert str(info.value) == message


ENCODER_KINDS = (
    "FillMissing, CategoricalEncoding, Scale, Affine, MissingIndicator, OneHot, RefuseMissing, NumberCategory, Binning, "
    "Product, IntegerCode, MissingBand, Projection"
)
SIZE = ir.Field("size", ir.NUMERIC)
SCALE_SIZE = ir.Scale(("size",), [10.0], [4.0], ("size_scaled",))

REFUSED_PACKAGES = {
    "no inputs": (
        dict(inputs=()),
        "The 'inputs' field of Package must be a non-empty sequence of Field. Got () instead.",
    ),
    "an input that is not a Field": (
        dict(inputs=("size",)),
        "The 'inputs' field of Package must be Field objects. Got 'size' instead.",
    ),
    "two inputs of one name": (
        dict(inputs=(SIZE, SIZE)),
        "The 'inputs' field of Package must be fields with distinct names. Got ['size', 'size'] instead.",
    ),
    "encoders as one string": (
        dict(encoders="scale"),
        "The 'encoders' field of Package must be a sequence of encoders. Got 'scale' instead.",
    ),
    "an encoder that is not an encoder": (
        dict(encoders=("scale",)),
        f"The 'encoders' field of Package must be encoders ({ENCODER_KINDS}). Got 'scale' instead.",
    ),
    "a model that is not a model": (
        dict(model="forest"),
        "The 'model' field of Package must be a TreeEnsemble, LinearModel or Composite. Got 'forest' instead.",
    ),
    "owner not text": (
        dict(owner=3),
        "The 'owner' field of Package must be a string or None. Got 3 instead.",
    ),
    "empty tag": (
        dict(tags=("",)),
        "The 'tags' field of Package must be non-empty strings. Got '' instead.",
    ),
    "metadata value not text": (
        dict(metadata={"n": 1}),
        "The 'metadata' field of Package must be a mapping of strings to strings. Got 'n': 1 instead.",
    ),
    "producer not a mapping": (
        dict(producer=["crossform"]),
        "The 'producer' field of Package must be a mapping of strings to strings. Got ['crossform'] instead.",
    ),
    "checks of another type": (
        dict(checks="rows"),
        "The 'checks' field of Package must be a crossform.checks.Checks or None. Got 'rows' instead.",
    ),
    # the dataflow: every column read exists before it is read, with the kind the reader expects
    "an encoder reading an unknown column": (
        dict(encoders=(ir.Scale(("nope",), [0.0], [1.0]),)),
        "The 'features' field of Scale (encoder 0) must be names of inputs or of earlier encoder outputs. "
        "Got 'nope' instead.",
    ),
    "an encoder reading a later encoder's output": (
        dict(encoders=(ir.Scale(("size_scaled",), [0.0], [1.0]), SCALE_SIZE)),
        "The 'features' field of Scale (encoder 0) must be names of inputs or of earlier encoder outputs. "
        "Got 'size_scaled' instead.",
    ),
    "a numeric encoder reading a categorical column": (
        dict(encoders=(ir.Scale(("colour",), [0.0], [1.0]),)),
        "The 'features' field of Scale (encoder 0) must be a numeric column for 'colour'. "
        "Got a categorical column instead.",
    ),
    "a categorical encoder reading a numeric column": (
        dict(encoders=(ir.CategoricalEncoding(("size",), (("s",),), ((0.0,),), (None,)),)),
        "The 'features' field of CategoricalEncoding (encoder 0) must be a categorical column for 'size'. "
        "Got a numeric column instead.",
    ),
    "the model reading a categorical column": (
        dict(encoders=(SCALE_SIZE,)),
        "The 'features' field of TreeEnsemble must be numeric columns (encode 'colour' first). "
        "Got a categorical column instead.",
    ),
    "the model reading an unknown column": (
        dict(model=ir.TreeEnsemble(("size", "weight"), (small_tree(),), classes=("no", "yes"))),
        "The 'features' field of TreeEnsemble must be names of inputs or encoder outputs. Got 'weight' instead.",
    ),
}


@pytest.mark.parametrize("name", REFUSED_PACKAGES)
def test_package_refusals(name):
    changes, message = REFUSED_PACKAGES[name]
    with pytest.raises(IRValidationError) as info:
        small_package(**changes)
    assert str(info.value) == message


def test_the_model_may_read_an_input_directly():
    model = ir.TreeEnsemble(("size", "size_scaled"), (small_tree(),), classes=("no", "yes"))
    assert small_package(model=model).model.features == ("size", "size_scaled")


def test_tags_are_kept_sorted_and_distinct_and_maps_read_only():
    package = small_package(tags=("b", "a", "b"), metadata={"z": "1", "a": "2"})
    assert package.tags == ("a", "b")
    assert list(package.metadata) == ["a", "z"]
    with pytest.raises(TypeError):
        package.metadata["a"] = "3"


def test_replace_validates_again():
    package = small_package()
    assert package.replace(owner="someone").owner == "someone"
    with pytest.raises(IRValidationError, match="The 'owner' field of Package must be a string or None"):
        package.replace(owner=3)
