"""The encoder kinds: what each refuses, by field and whole message, and what each keeps.

Each expected message is the IR's one template, "The 'field' of Owner must be <the rule>. Got
<what was given> instead.", with the rule as the kind's docstring states it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from crossform import ir
from crossform.errors import IRValidationError

NUMERIC, CATEGORICAL = ir.NUMERIC, ir.CATEGORICAL
KINDS = "('numeric', 'categorical')"


def one_hot(**changes) -> ir.OneHot:
    """Feature c with categories a, b in columns 0, 1 of a two-column block, with ``changes``."""
    parts = dict(
        features=("c",),
        categories=(("a", "b"),),
        columns=((0, 1),),
        widths=(2,),
        missing_columns=(None,),
        unknown=("error",),
        outputs=("c_a", "c_b"),
    )
    parts.update(changes)
    return ir.OneHot(**parts)


def categorical(**changes) -> ir.CategoricalEncoding:
    """Feature a with categories x, y coded 0, 1, with ``changes``."""
    parts = dict(features=("a",), categories=(("x", "y"),), codes=((0.0, 1.0),), missing_codes=(None,))
    parts.update(changes)
    return ir.CategoricalEncoding(**parts)


REFUSED = {
    # every encoder names its features and outputs the same way (shown here on FillMissing)
    "features as one string": (
        lambda: ir.FillMissing("a", (1.0,)),
        "The 'features' field of FillMissing must be a sequence of names. Got 'a' instead.",
    ),
    "no features": (
        lambda: ir.FillMissing((), ()),
        "The 'features' field of FillMissing must be a non-empty sequence of names. Got an empty sequence instead.",
    ),
    "an empty feature name": (
        lambda: ir.Scale(("",), [0.0], [1.0]),
        "The 'features' field of Scale must be non-empty strings. Got '' instead.",
    ),
    "repeated feature": (
        lambda: ir.FillMissing(("a", "a"), (1.0, 2.0)),
        "The 'features' field of FillMissing must be distinct names. Got ['a', 'a'] instead.",
    ),
    "an output per feature": (
        lambda: ir.FillMissing(("a", "b"), (1.0, 2.0), ("x",)),
        "The 'outputs' field of FillMissing must be 2 names, one per feature. Got 1 names instead.",
    ),
    "repeated output": (
        lambda: ir.FillMissing(("a", "b"), (1.0, 2.0), ("x", "x")),
        "The 'outputs' field of FillMissing must be distinct names. Got ['x', 'x'] instead.",
    ),
    "an output overwriting another input": (
        lambda: ir.FillMissing(("a", "b"), (1.0, 2.0), ("b", "c")),
        "The 'outputs' field of FillMissing must be names that overwrite no other input than their own "
        "(output 0). Got 'b' instead.",
    ),
    # FillMissing: a finite number or a string per feature
    "fill values as one string": (
        lambda: ir.FillMissing(("a",), "x"),
        "The 'values' field of FillMissing must be a sequence of fill values. Got 'x' instead.",
    ),
    "a fill value per feature": (
        lambda: ir.FillMissing(("a", "b"), (1.0,)),
        "The 'values' field of FillMissing must be 2 values, one per feature. Got 1 values instead.",
    ),
    "NaN fill value": (
        lambda: ir.FillMissing(("a",), (math.nan,)),
        "The 'values' field of FillMissing must be a finite number. Got nan instead.",
    ),
    "infinite fill value": (
        lambda: ir.FillMissing(("a",), (-math.inf,)),
        "The 'values' field of FillMissing must be a finite number. Got -inf instead.",
    ),
    "bytes fill value": (
        lambda: ir.FillMissing(("a",), (b"x",)),
        "The 'values' field of FillMissing must be a number. Got b'x' instead.",
    ),
    "boolean fill value": (
        lambda: ir.FillMissing(("a",), (True,)),
        "The 'values' field of FillMissing must be a number. Got True instead.",
    ),
    "fill text with a lone surrogate": (
        lambda: ir.FillMissing(("a",), ("\ud800",)),
        "The 'values' field of FillMissing must be valid Unicode text. Got '\\ud800' instead.",
    ),
    # CategoricalEncoding: per feature, distinct string categories paired with finite codes
    "categories for another number of features": (
        lambda: categorical(categories=(("x",), ("y",))),
        "The 'categories' field of CategoricalEncoding must be a sequence of 1 entries, one per feature. "
        "Got (('x',), ('y',)) instead.",
    ),
    "a feature's categories as one string": (
        lambda: categorical(categories=("xy",)),
        "The 'categories' field of CategoricalEncoding must be a sequence of strings per feature. Got 'xy' instead.",
    ),
    "a category that is not a string": (
        lambda: categorical(categories=(("x", 1),)),
        "The 'categories' field of CategoricalEncoding must be strings (feature 0). Got 1 instead.",
    ),
    "a category with a lone surrogate": (
        lambda: categorical(categories=(("x", "\ud800"),)),
        "The 'categories' field of CategoricalEncoding must be strings (feature 0). Got '\\ud800' instead.",
    ),
    "repeated category": (
        lambda: categorical(categories=(("x", "x"),)),
        "The 'categories' field of CategoricalEncoding must be distinct strings (feature 0). "
        "Got a repeated category instead.",
    ),
    "a code per category": (
        lambda: categorical(codes=((0.0,),)),
        "The 'codes' field of CategoricalEncoding must be 2 codes for feature 'a'. Got 1 codes instead.",
    ),
    "infinite code": (
        lambda: categorical(codes=((0.0, np.inf),)),
        "The 'codes' field of CategoricalEncoding must be finite numbers. Got inf at index (1,) instead.",
    ),
    "NaN code": (
        lambda: categorical(codes=((np.nan, 1.0),)),
        "The 'codes' field of CategoricalEncoding must be finite numbers. Got nan at index (0,) instead.",
    ),
    "text codes": (
        lambda: categorical(codes=(("0", "1"),)),
        "The 'codes' field of CategoricalEncoding must be an array of float64 values. "
        "Got an array of dtype <U1 and shape (2,) instead.",
    ),
    "a missing code per feature": (
        lambda: categorical(missing_codes=(None, None)),
        "The 'missing_codes' field of CategoricalEncoding must be a sequence of 1 entries, one per feature. "
        "Got (None, None) instead.",
    ),
    "infinite missing code": (
        lambda: categorical(missing_codes=(math.inf,)),
        "The 'missing_codes' field of CategoricalEncoding must be a finite number or NaN. Got inf instead.",
    ),
    "text unknown code": (
        lambda: categorical(unknown_code="x"),
        "The 'unknown_code' field of CategoricalEncoding must be a number. Got 'x' instead.",
    ),
    # Scale: (x - offset) / scale with finite offsets and non-zero finite scales
    "zero scale": (
        lambda: ir.Scale(("a", "b"), [0.0, 0.0], [1.0, 0.0]),
        "The 'scale' field of Scale must be non-zero numbers. Got 0.0 for feature 'b' instead.",
    ),
    "a scale per feature": (
        lambda: ir.Scale(("a", "b"), [0.0, 0.0], [1.0]),
        "The 'scale' field of Scale must be 2 numbers, one per feature. Got 1 numbers instead.",
    ),
    "infinite offset": (
        lambda: ir.Scale(("a",), [np.inf], [1.0]),
        "The 'offset' field of Scale must be finite numbers. Got inf at index (0,) instead.",
    ),
    "two-dimensional offset": (
        lambda: ir.Scale(("a",), [[0.0]], [1.0]),
        "The 'offset' field of Scale must be a 1-dimensional array. "
        "Got an array of dtype float64 and shape (1, 1) instead.",
    ),
    # Affine: x * scale + offset, finite numbers
    "infinite affine scale": (
        lambda: ir.Affine(("a",), [np.inf], [0.0]),
        "The 'scale' field of Affine must be finite numbers. Got inf at index (0,) instead.",
    ),
    "an affine offset per feature": (
        lambda: ir.Affine(("a", "b"), [1.0, 1.0], [0.0]),
        "The 'offset' field of Affine must be 2 numbers, one per feature. Got 1 numbers instead.",
    ),
    "affine outputs swapping two inputs": (
        lambda: ir.Affine(("a", "b"), [1.0, 1.0], [0.0, 0.0], ("b", "a")),
        "The 'outputs' field of Affine must be names that overwrite no other input than their own "
        "(output 0). Got 'b' instead.",
    ),
    # MissingIndicator and RefuseMissing: a kind per feature
    "indicator kinds for another number of features": (
        lambda: ir.MissingIndicator(("a", "b"), (NUMERIC,)),
        f"The 'kinds_in' field of MissingIndicator must be 2 kinds from {KINDS}, one per feature. "
        "Got ('numeric',) instead.",
    ),
    "indicator kinds as one string": (
        lambda: ir.MissingIndicator(("a",), NUMERIC),
        f"The 'kinds_in' field of MissingIndicator must be 1 kinds from {KINDS}, one per feature. "
        "Got 'numeric' instead.",
    ),
    "indicator of an unknown kind": (
        lambda: ir.MissingIndicator(("a",), ("text",)),
        f"The 'kinds_in' field of MissingIndicator must be 1 kinds from {KINDS}, one per feature. "
        "Got ('text',) instead.",
    ),
    "indicator overwriting its categorical feature": (
        lambda: ir.MissingIndicator(("c",), (CATEGORICAL,)),
        "The 'outputs' field of MissingIndicator must be new names for categorical features (a numeric "
        "indicator cannot overwrite a categorical column). Got 'c' instead.",
    ),
    "refusal kinds for another number of features": (
        lambda: ir.RefuseMissing(("a",), (NUMERIC, NUMERIC)),
        f"The 'kinds_in' field of RefuseMissing must be 1 kinds from {KINDS}, one per feature. "
        "Got ('numeric', 'numeric') instead.",
    ),
    "refusal of no feature": (
        lambda: ir.RefuseMissing((), ()),
        "The 'features' field of RefuseMissing must be a non-empty sequence of names. Got an empty sequence instead.",
    ),
    # OneHot: column blocks, indices within them, unknown policies
    "repeated one-hot feature": (
        lambda: one_hot(features=("c", "c")),
        "The 'features' field of OneHot must be distinct names. Got ['c', 'c'] instead.",
    ),
    "a width per feature": (
        lambda: one_hot(widths=(2, 2)),
        "The 'widths' field of OneHot must be a sequence of 1 entries, one per feature. Got (2, 2) instead.",
    ),
    "negative width": (
        lambda: one_hot(widths=(-1,)),
        "The 'widths' field of OneHot must be a number of columns from 0 to 1000000 (feature 'c'). Got -1 instead.",
    ),
    "boolean width": (
        lambda: one_hot(widths=(True,)),
        "The 'widths' field of OneHot must be a number of columns from 0 to 1000000 (feature 'c'). Got True instead.",
    ),
    "width beyond a million columns": (
        lambda: one_hot(widths=(1_000_001,)),
        "The 'widths' field of OneHot must be a number of columns from 0 to 1000000 (feature 'c'). "
        "Got 1000001 instead.",
    ),
    "a column per category": (
        lambda: one_hot(columns=((0,),)),
        "The 'columns' field of OneHot must be 2 column indices for feature 'c'. Got 1 instead.",
    ),
    "column beyond the block": (
        lambda: one_hot(columns=((0, 2),)),
        "The 'columns' field of OneHot must be a column index from -1 to 1 (feature 'c'). Got 2 instead.",
    ),
    "missing column beyond the block": (
        lambda: one_hot(missing_columns=(5,)),
        "The 'missing_columns' field of OneHot must be a column index from -1 to 1 (feature 'c'). Got 5 instead.",
    ),
    "unknown policy not known": (
        lambda: one_hot(unknown=("drop",)),
        "The 'unknown' field of OneHot must be one of ('error', 'zeros') or a column index. Got 'drop' instead.",
    ),
    "unknown column beyond the block": (
        lambda: one_hot(unknown=(2,)),
        "The 'unknown' field of OneHot must be a column index from -1 to 1 (feature 'c'). Got 2 instead.",
    ),
    "no column in all": (
        lambda: one_hot(categories=(("a",),), columns=((-1,),), widths=(0,), unknown=("zeros",), outputs=()),
        "The 'widths' field of OneHot must be at least one output column in all. Got 0 columns instead.",
    ),
    "no output names": (
        lambda: one_hot(outputs=()),
        "The 'outputs' field of OneHot must be a non-empty sequence of names. Got an empty sequence instead.",
    ),
    "an output name per column": (
        lambda: one_hot(outputs=("c_a",)),
        "The 'outputs' field of OneHot must be 2 names, one per column. Got 1 names instead.",
    ),
    "an output overwriting the input": (
        lambda: one_hot(outputs=("c", "c_b")),
        "The 'outputs' field of OneHot must be distinct names that overwrite no input. Got ['c', 'c_b'] instead.",
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_encoder_refusals(name):
    build, message = REFUSED[name]
    with pytest.raises(IRValidationError) as info:
        build()
    assert str(info.value) == message


def test_outputs_default_to_the_features():
    assert ir.FillMissing(("a", "b"), (1.0, "x")).outputs == ("a", "b")
    assert ir.Scale(("a",), [0.0], [2.0], ()).outputs == ("a",)


def test_an_output_may_overwrite_its_own_input():
    assert ir.FillMissing(("a", "b"), (1.0, 2.0), ("a", "b2")).outputs == ("a", "b2")


def test_fill_values_give_each_column_its_kind():
    assert ir.FillMissing(("a", "c"), (1, "x")).kinds() == ((NUMERIC, CATEGORICAL), (NUMERIC, CATEGORICAL))


def test_categories_are_kept_sorted_with_their_codes():
    enc = ir.CategoricalEncoding(("a",), (("zeta", "alpha", "mu"),), ((2.0, 0.0, 1.0),), (None,))
    assert enc.categories == (("alpha", "mu", "zeta"),)
    assert enc.codes[0].tolist() == [0.0, 1.0, 2.0]


def test_categorical_encoding_takes_nan_for_missing_and_unknown():
    enc = categorical(missing_codes=(math.nan,), unknown_code=math.nan)
    assert math.isnan(enc.missing_codes[0]) and math.isnan(enc.unknown_code)
    assert enc.encoder_type == "label-encoder"  # its name on disk, which the package id hashes
    assert enc.kinds() == ((CATEGORICAL,), (NUMERIC,))


def test_affine_multiplies_so_a_zero_scale_is_allowed():
    assert ir.Affine(("a",), [0.0], [1.0]).scale.tolist() == [0.0]


def test_a_numeric_missing_indicator_may_replace_its_feature():
    step = ir.MissingIndicator(("a", "c"), (NUMERIC, CATEGORICAL), ("a", "c_missing"))
    assert step.kinds() == ((NUMERIC, CATEGORICAL), (NUMERIC, NUMERIC))


def test_refuse_missing_passes_each_kind_through():
    assert ir.RefuseMissing(("a", "c"), (NUMERIC, CATEGORICAL)).kinds() == (
        (NUMERIC, CATEGORICAL),
        (NUMERIC, CATEGORICAL),
    )


def test_one_hot_keeps_categories_sorted_with_their_columns():
    enc = one_hot(categories=(("b", "a"),), columns=((1, 0),), missing_columns=(1,), unknown=(0,))
    assert enc.categories == (("a", "b"),) and enc.columns[0].tolist() == [0, 1]
    assert enc.missing_columns == (1,) and enc.unknown == (0,)


def test_one_hot_blocks_follow_the_widths():
    enc = one_hot(
        features=("c", "d"),
        categories=(("a", "b"), ("x",)),
        columns=((0, -1), (0,)),
        widths=(1, 2),
        missing_columns=(None, 1),
        unknown=("zeros", 1),
        outputs=("c_a", "d_x", "d_other"),
    )
    assert enc.blocks() == (("c_a",), ("d_x", "d_other"))


def number_category(**changes) -> ir.NumberCategory:
    parts = dict(features=("n",), values=([2.0, 0.0],), categories=(("2", "0"),), unknown="?")
    return ir.NumberCategory(**{**parts, **changes})


def test_number_category_keeps_values_sorted_with_their_categories():
    enc = number_category(values=([2.0, -0.0],))
    assert enc.values[0].tolist() == [0.0, 2.0] and math.copysign(1.0, enc.values[0][0]) == 1.0
    assert enc.categories == (("0", "2"),)
    assert enc.kinds() == ((NUMERIC,), (CATEGORICAL,))


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"values": ([1.0, np.inf],)},
            "The 'values' field of NumberCategory must be finite numbers. Got inf at index (1,) instead.",
        ),
        (
            {"values": ([1.0, 1.0],)},
            "The 'values' field of NumberCategory must be distinct numbers (feature 'n'). Got a repeated number "
            "instead.",
        ),
        (
            {"categories": (("2",),)},
            "The 'categories' field of NumberCategory must be 2 categories for feature 'n'. Got 1 instead.",
        ),
        (
            {"unknown": "2"},
            "The 'unknown' field of NumberCategory must be a string no category of feature 'n' is. Got '2' instead.",
        ),
        ({"unknown": None}, "The 'unknown' field of NumberCategory must be a string. Got None instead."),
        (
            {"values": ([1.0], [2.0])},
            "The 'values' field of NumberCategory must be a sequence of 1 entries, one per feature. Got",
        ),
    ],
)
def test_number_category_refusals(changes, message):
    with pytest.raises(IRValidationError) as err:
        number_category(**changes)
    assert str(err.value).startswith(message)


def test_binning_keeps_edges_and_refuses_decreasing_or_infinite_ones():
    enc = ir.Binning(("x",), ([-1.0, -0.0, 0.0, 2.5],))
    assert enc.edges[0].tolist() == [-1.0, 0.0, 0.0, 2.5] and math.copysign(1.0, enc.edges[0][1]) == 1.0
    assert enc.kinds() == ((NUMERIC,), (NUMERIC,))
    with pytest.raises(IRValidationError, match="must be non-decreasing numbers \\(feature 'x'\\)"):
        ir.Binning(("x",), ([1.0, 0.5],))
    with pytest.raises(IRValidationError, match="must be finite numbers"):
        ir.Binning(("x",), ([1.0, np.inf],))
    with pytest.raises(IRValidationError, match="must be a sequence of 1 entries, one per feature"):
        ir.Binning(("x",), ())


def test_product_keeps_factor_order_and_refuses_bad_factors_and_outputs_by_name():
    enc = ir.Product(("a", "b"), ((), (1, 0, 0), [0]), ("one", "b a a", "a copy"))
    assert enc.factors == ((), (1, 0, 0), (0,))
    assert enc.kinds() == ((ir.NUMERIC,) * 2, (ir.NUMERIC,) * 3)
    with pytest.raises(IRValidationError, match=r"'factors' field of Product must be feature indices from 0 to 1"):
        ir.Product(("a", "b"), ((0, 2),), ("p",))
    with pytest.raises(IRValidationError, match=r"'factors' field of Product must be a non-empty sequence"):
        ir.Product(("a",), (), ())
    with pytest.raises(IRValidationError, match=r"'factors' field of Product must be a sequence of at most 64"):
        ir.Product(("a",), ((0,) * 65,), ("p",))
    with pytest.raises(IRValidationError, match=r"'outputs' field of Product must be 1 names, one per product"):
        ir.Product(("a",), ((0, 0),), ("p", "q"))
    with pytest.raises(IRValidationError, match=r"'outputs' field of Product must be distinct names that overwrite"):
        ir.Product(("a", "b"), ((0, 1),), ("a",))
    with pytest.raises(IRValidationError, match=r"'features' field of Product must be distinct names"):
        ir.Product(("a", "a"), ((0, 1),), ("p",))


def test_projection_keeps_its_matrix_and_refuses_bad_shapes_and_values_by_name():
    enc = ir.Projection(("a", "b"), [1.0, -2.0], [[0.6, 0.8]], ("p",), [2.0], "before")
    assert enc.components.shape == (1, 2) and enc.divisors.tolist() == [2.0] and enc.centring == "before"
    assert enc.kinds() == ((ir.NUMERIC,) * 2, (ir.NUMERIC,))
    assert ir.Projection(("a",), [0.0], [[1.0]], ("p",)).divisors is None
    with pytest.raises(IRValidationError, match=r"'mean' field of Projection must be 2 numbers, one per feature"):
        ir.Projection(("a", "b"), [1.0], [[0.6, 0.8]], ("p",))
    with pytest.raises(IRValidationError, match=r"'mean' field of Projection must be finite numbers"):
        ir.Projection(("a", "b"), [1.0, np.nan], [[0.6, 0.8]], ("p",))
    with pytest.raises(IRValidationError, match=r"'components' field of Projection must be a 2-dimensional array"):
        ir.Projection(("a", "b"), [1.0, 2.0], [0.6, 0.8], ("p",))
    with pytest.raises(IRValidationError, match=r"'components' field of Projection must be a matrix of one row"):
        ir.Projection(("a", "b"), [1.0, 2.0], [[0.6, 0.8, 0.0]], ("p",))
    with pytest.raises(IRValidationError, match=r"'components' field of Projection must be finite numbers"):
        ir.Projection(("a", "b"), [1.0, 2.0], [[0.6, np.inf]], ("p",))
    with pytest.raises(IRValidationError, match=r"'outputs' field of Projection must be 1 names, one per component"):
        ir.Projection(("a", "b"), [1.0, 2.0], [[0.6, 0.8]], ("p", "q"))
    with pytest.raises(IRValidationError, match=r"'outputs' field of Projection must be distinct names that overwrite"):
        ir.Projection(("a", "b"), [1.0, 2.0], [[0.6, 0.8]], ("a",))
    with pytest.raises(IRValidationError, match=r"'divisors' field of Projection must be 1 numbers, one per component"):
        ir.Projection(("a", "b"), [1.0, 2.0], [[0.6, 0.8]], ("p",), [1.0, 2.0])
    with pytest.raises(IRValidationError, match=r"'divisors' field of Projection must be positive numbers"):
        ir.Projection(("a", "b"), [1.0, 2.0], [[0.6, 0.8]], ("p",), [0.0])
    with pytest.raises(IRValidationError, match=r"'centring' field of Projection must be one of \('after', 'before'\)"):
        ir.Projection(("a", "b"), [1.0, 2.0], [[0.6, 0.8]], ("p",), None, "middle")
    with pytest.raises(IRValidationError, match=r"'features' field of Projection must be distinct names"):
        ir.Projection(("a", "a"), [1.0, 2.0], [[0.6, 0.8]], ("p",))
