"""crossform.rules, one encoder or model rule at a time.

Expected values come from the scikit-learn transformer each encoder stands for (fitted here, its
attributes copied into the IR by hand, its ``transform`` the answer), or, for what scikit-learn
has no transformer for (row errors, the float32 range of trees), from the rule as docs/SEMANTICS.md
writes it, worked out in the test. Never from crossform's evaluator.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler

from crossform import ir, rules
from helpers.packages import small_tree

RNG = np.random.default_rng(0)
NUMBERS = RNG.normal(3.0, 20.0, size=(200, 2))


def objects(values) -> np.ndarray:
    return np.array(list(values), dtype=object)


def refused_rows(refusals: list, n: int) -> list:
    rows = np.zeros(n, dtype=bool)
    for mask, _ in refusals:
        rows |= mask
    return np.flatnonzero(rows).tolist()


def reasons(refusals: list) -> list:
    return [why(int(i)) for mask, why in refusals for i in np.flatnonzero(mask)]


# ---------------------------------------------------------------- numeric encoders against scikit-learn


def test_scale_is_standard_scalers_transform_bit_for_bit():
    sk = StandardScaler().fit(NUMBERS)
    enc = ir.Scale(("a", "b"), sk.mean_, sk.scale_)
    expected = sk.transform(NUMBERS)
    for j in range(2):
        (out,), refused = rules.scale(enc, j, NUMBERS[:, j].copy())
        assert np.array_equal(out, expected[:, j])
        assert refused_rows(refused, len(out)) == []


def test_affine_is_min_max_scalers_transform_bit_for_bit():
    sk = MinMaxScaler().fit(NUMBERS)
    enc = ir.Affine(("a", "b"), sk.scale_, sk.min_)
    expected = sk.transform(NUMBERS)
    for j in range(2):
        (out,), _ = rules.affine(enc, j, NUMBERS[:, j].copy())
        assert np.array_equal(out, expected[:, j])


def test_fill_missing_is_simple_imputers_constant_fill():
    x = np.array([1.5, np.nan, -2.0, np.nan])
    sk = SimpleImputer(strategy="constant", fill_value=7.25).fit(x[:, None])
    (out,), refused = rules.fill_missing(ir.FillMissing(("a",), (7.25,)), 0, x)
    assert np.array_equal(out, sk.transform(x[:, None])[:, 0])
    assert refused_rows(refused, 4) == []


def test_missing_indicator_is_scikit_learns_on_numbers_and_none_on_categories():
    x = np.array([1.5, np.nan, -2.0, np.nan, 0.0])
    sk = MissingIndicator(features="all").fit(x[:, None])
    enc = ir.MissingIndicator(("a", "c"), (ir.NUMERIC, ir.CATEGORICAL), ("a_missing", "c_missing"))
    (out,), _ = rules.missing_indicator(enc, 0, x)
    assert np.array_equal(out, sk.transform(x[:, None])[:, 0].astype(np.float64))
    (out,), refused = rules.missing_indicator(enc, 1, objects(["u", None, "", None]))
    assert out.tolist() == [0.0, 1.0, 0.0, 1.0] and refused == []


@pytest.mark.parametrize(
    "encoder",
    [
        ir.FillMissing(("a",), (0.0,)),
        ir.Scale(("a",), np.array([1.0]), np.array([2.0])),
        ir.Affine(("a",), np.array([2.0]), np.array([1.0])),
        ir.MissingIndicator(("a",), (ir.NUMERIC,)),
        ir.RefuseMissing(("a",), (ir.NUMERIC,)),
    ],
    ids=lambda e: e.encoder_type,
)
def test_every_numeric_encoder_refuses_infinities_naming_the_value(encoder):
    x = np.array([math.inf, 1.0, -math.inf, 1e308])
    _, refused = rules.apply(encoder, 0, x)
    assert refused_rows(refused[:1], 4) == [0, 2]
    assert reasons(refused[:1]) == ["value inf is not finite", "value -inf is not finite"]


def test_refuse_missing_passes_values_and_refuses_missing_ones():
    enc = ir.RefuseMissing(("a", "c"), (ir.NUMERIC, ir.CATEGORICAL))
    x = np.array([2.5, np.nan, -0.0])
    (out,), refused = rules.refuse_missing(enc, 0, x)
    assert out is x
    assert refused_rows(refused, 3) == [1]
    assert reasons(refused) == ["missing value, which it had none of at fit"]
    (out,), refused = rules.refuse_missing(enc, 1, objects(["u", None]))
    assert out.tolist() == ["u", None] and refused_rows(refused, 2) == [1]


# ---------------------------------------------------------------- categorical encoders against scikit-learn

COLOURS = np.array([["red"], ["green"], ["blue"], ["green"], ["red"], ["red"], ["mauve"]], dtype=object)


def ordinal(sk: OrdinalEncoder, unknown_code) -> ir.CategoricalEncoding:
    cats = sk.categories_[0].tolist()
    return ir.CategoricalEncoding(
        ("colour",), (tuple(cats),), (np.arange(len(cats), dtype=float),), (None,), unknown_code
    )


def test_categorical_encoding_gives_ordinal_encoders_codes_and_unknown_value():
    sk = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(COLOURS)
    rows = objects(["green", "teal", "mauve", "red", "Red"])
    (out,), refused = rules.categorical_encoding(ordinal(sk, -1.0), 0, rows)
    assert np.array_equal(out, sk.transform(rows[:, None])[:, 0])
    assert refused == []


def test_categorical_encoding_without_an_unknown_code_refuses_unknown_and_missing_values():
    sk = OrdinalEncoder().fit(COLOURS)
    rows = objects(["green", "teal", None, "blue"])
    (out,), refused = rules.categorical_encoding(ordinal(sk, None), 0, rows)
    assert out[[0, 3]].tolist() == sk.transform(rows[[0, 3], None])[:, 0].tolist()
    assert refused_rows(refused, 4) == [1, 2]
    assert reasons(refused) == [
        "unknown category 'teal'",
        "missing value, and the encoder knows no missing category",
    ]


def test_categorical_encoding_gives_a_missing_value_its_own_code():
    enc = ir.CategoricalEncoding(("colour",), (("a", "b"),), (np.array([0.0, 1.0]),), (2.0,), None)
    (out,), refused = rules.categorical_encoding(enc, 0, objects([None, "b", "z"]))
    assert out[:2].tolist() == [2.0, 1.0] and refused_rows(refused, 3) == [2]


def one_hot_ir(sk: OneHotEncoder) -> ir.OneHot:
    """The IR of a one-feature OneHotEncoder: each category's column as scikit-learn sets it."""
    cats = sorted(sk.categories_[0].tolist())
    block = sk.transform(np.array(cats, dtype=object)[:, None]).toarray()
    width = block.shape[1]
    columns = [int(np.flatnonzero(r)[0]) if r.any() else -1 for r in block]
    if sk.handle_unknown == "error":
        unknown = "error"
    else:
        hot = np.flatnonzero(sk.transform(np.array([["never seen"]], dtype=object)).toarray()[0])
        unknown = int(hot[0]) if hot.size else "zeros"
    outputs = tuple(f"colour_{c}" for c in range(width))
    return ir.OneHot(("colour",), (tuple(cats),), (columns,), (width,), (None,), (unknown,), outputs)


@pytest.mark.parametrize(
    "options",
    [
        {"handle_unknown": "ignore"},
        {"handle_unknown": "infrequent_if_exist", "min_frequency": 2},
        {"handle_unknown": "ignore", "drop": "first"},
    ],
    ids=["zeros", "infrequent", "dropped"],
)
@pytest.mark.filterwarnings("ignore:Found unknown categories")  # scikit-learn's note that unknown gives zeros
def test_one_hot_block_is_one_hot_encoders_transform(options):
    sk = OneHotEncoder(**options).fit(COLOURS)
    rows = objects(["green", "teal", "mauve", "red", "blue", "Red"])
    outputs, refused = rules.one_hot(one_hot_ir(sk), 0, rows)
    expected = sk.transform(rows[:, None]).toarray()
    assert np.array_equal(np.column_stack(outputs), expected)
    assert refused == []


def test_one_hot_under_error_refuses_unknown_and_missing_values():
    sk = OneHotEncoder(handle_unknown="error").fit(COLOURS)
    outputs, refused = rules.one_hot(one_hot_ir(sk), 0, objects(["red", "teal", None]))
    assert np.array_equal(np.column_stack(outputs)[0], sk.transform(np.array([["red"]], dtype=object)).toarray()[0])
    assert reasons(refused) == [
        "unknown category 'teal'",
        "missing value, and the encoder knows no missing category",
    ]


# ---------------------------------------------------------------- model rules

BELOW = math.nextafter(2.0**128 - 2.0**103, 0.0)


def tree_model(**changes) -> ir.TreeEnsemble:
    return ir.TreeEnsemble(("x", "y"), (small_tree(),), classes=("no", "yes"), **changes)


def test_a_float32_tree_refuses_what_float32_cannot_hold():
    x = np.array([BELOW, -BELOW, 2.0**128 - 2.0**103, -1e39, math.inf, math.nan, 0.0])
    with np.errstate(over="ignore"):
        float32_infinite = np.isinf(x.astype(np.float32)).tolist()  # the rule: (float) x is infinite
    assert rules.model_refuses(tree_model(), x).tolist() == float32_infinite
    refused = rules.model_refusals(tree_model(), x)
    assert reasons(refused[:1]) == ["value inf is not finite"]
    assert all(r.endswith("is too large for float32, which trees compare") for r in reasons(refused[1:]))


def test_tree_rules_for_missing_and_infinite_values():
    x = np.array([math.nan, math.inf, 1e39])
    assert rules.model_refuses(tree_model(missing="error"), x).tolist() == [True, True, True]
    assert reasons(rules.model_refusals(tree_model(missing="error"), x[:1])) == [
        "missing value, which this model refuses"
    ]
    assert rules.model_refuses(tree_model(infinite="compare"), x).tolist() == [False, False, False]
    assert rules.number_bounds(tree_model(infinite="compare")) is None
    assert rules.number_bounds(tree_model()) == (-BELOW, BELOW)


def test_a_linear_model_refuses_missing_and_infinite_values():
    model = ir.LinearModel(("x",), np.array([[2.0]]), np.array([0.5]), "none", None)
    x = np.array([math.nan, math.inf, -math.inf, 1e300])
    assert rules.model_refuses(model, x).tolist() == [True, True, True, False]
    assert reasons(rules.model_refusals(model, x))[0] == "missing value, which a linear model cannot score"


# ---------------------------------------------------------------- chains from an input


def chained_package() -> ir.Package:
    """x -> scaled (negative scale) -> the tree; x -> a missing indicator the model ignores;
    colour -> one-hot (error on unknown) -> the tree reads its second column."""
    encoders = (
        ir.Scale(("x",), np.array([1.0]), np.array([-4.0]), ("x_scaled",)),
        ir.MissingIndicator(("x",), (ir.NUMERIC,), ("x_missing",)),
        ir.OneHot(("colour",), (("blue", "red"),), ([0, 1],), (2,), (None,), ("error",), ("c_blue", "c_red")),
    )
    model = ir.TreeEnsemble(("x_scaled", "c_red"), (small_tree(),), classes=("no", "yes"))
    inputs = (ir.Field("x", ir.NUMERIC), ir.Field("colour", ir.CATEGORICAL))
    return ir.Package(inputs=inputs, encoders=encoders, model=model)


def test_derivations_follow_each_column_back_to_its_input():
    package = chained_package()
    model_chains, every = rules.derivations(package)
    assert [(source, [(e.encoder_type, j, c) for e, j, c in steps]) for source, steps in model_chains] == [
        ("x", [("standard-scaler", 0, 0)]),
        ("colour", [("one-hot", 0, 1)]),
    ]
    assert sorted(source for source, steps in every if steps) == ["colour", "colour", "x", "x"]
    z, ok = rules.run_steps(model_chains[0][1], np.array([5.0, math.inf, math.nan]))
    assert z[0] == (5.0 - 1.0) / -4.0 and ok.tolist() == [True, False, True]
    assert rules.reverses(model_chains[0][1]) and not rules.reverses(())


def test_accepted_is_every_refusal_on_the_columns_of_one_input():
    package = chained_package()
    # (x - 1) / -4 leaves the float32 range below -4 * BELOW + 1 and above 4 * BELOW + 1 (rounded);
    # NaN goes through (the tree routes it)
    x = np.array([1.0, math.nan, math.inf, 8.0 * BELOW, -4.0 * BELOW + 1.0, -8.0 * BELOW])
    assert rules.accepted(package, "x", x).tolist() == [True, True, False, False, True, False]
    assert rules.accepted(package, "colour", objects(["red", "blue", "teal", None])).tolist() == [
        True,
        True,
        False,
        False,
    ]


def test_a_chain_of_numeric_steps_is_scikit_learns_pipeline_on_a_column_and_on_one_float():
    x = np.concatenate([NUMBERS[:, 0], [math.nan, -0.0, 1e300]])
    fit = NUMBERS[:, :1]  # 1e300 is only transformed: its square would overflow the fitted variance
    imputer = SimpleImputer(strategy="constant", fill_value=-3.5).fit(fit)
    standard = StandardScaler().fit(imputer.transform(fit))
    min_max = MinMaxScaler().fit(standard.transform(imputer.transform(fit)))
    expected = min_max.transform(standard.transform(imputer.transform(x[:, None])))[:, 0]
    steps = (
        (ir.FillMissing(("x",), (-3.5,)), 0, 0),
        (ir.Scale(("x",), standard.mean_, standard.scale_), 0, 0),
        (ir.Affine(("x",), min_max.scale_, min_max.min_), 0, 0),
    )
    z, ok = rules.run_steps(steps, x)
    assert np.array_equal(z, expected) and ok.all()
    for value, want in zip(x.tolist(), expected.tolist()):
        assert rules.run_number(steps, value) == (want, True)
    assert rules.run_number(steps, math.inf)[1] is False


# ---------------------------------------------------------------- one rule, three users


def path_inputs(vectors, column: int) -> list:
    """The values of one input on the rows that follow a path to a node or leaf."""
    return [row[column] for row, label in zip(vectors.rows, vectors.labels) if label.startswith("tree ")]


def test_the_evaluator_the_probe_rows_and_the_pmml_validity_all_read_the_rules(monkeypatch):
    """A changed scaler rule (refusing inputs above 1) shows in all three at once, so none keeps a copy."""
    from crossform import evaluator
    from crossform.exporters.pmml import accepts
    from crossform.vectors import generate

    package = ir.Package(
        inputs=(ir.Field("x", ir.NUMERIC), ir.Field("y", ir.NUMERIC)),
        encoders=(ir.Scale(("x",), np.array([0.0]), np.array([1.0])),),
        model=ir.TreeEnsemble(("x", "y"), (small_tree(),), classes=("no", "yes")),
    )
    assert accepts.interval(package, "x") == (-BELOW, BELOW)
    assert any(x > 1.0 for x in path_inputs(generate(package), 0))

    def capped_scale(enc, j, col):
        outputs, refused = rules.scale(enc, j, col)
        return outputs, [*refused, (col > 1.0, lambda i: "above 1")]

    monkeypatch.setitem(rules.ENCODERS, ir.Scale, capped_scale)
    assert evaluator.score(package, {"x": [0.75, 1.5], "y": [0.0, 0.0]}).errors == [None, "feature 'x': above 1"]
    assert accepts.accepts(package, "x", 1.5) is False and accepts.accepts(package, "x", 1.0)
    assert not any(x > 1.0 for x in path_inputs(generate(package), 0))


# ---------------------------------------------------------------- numeric categories


@pytest.mark.parametrize(
    "fit",
    [
        np.array([[3], [0], [1], [1], [7]]),  # integers
        np.array([[True], [False], [True]]),  # booleans
        np.array([[2.5], [0.0], [-1.25], [np.nan]]),  # floats, NaN a category
    ],
    ids=["int", "bool", "float-nan"],
)
def test_number_category_then_categorical_encoding_is_ordinal_encoders_transform(fit):
    """A number equal to a category in float64 (-0.0 to 0.0) takes its code, NaN the missing
    category's; an unknown number is unknown, coded -1 here: OrdinalEncoder on the float64 column."""
    sk = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(fit)
    cats = sk.categories_[0]
    known = [c for c in cats.tolist() if c == c]
    names = tuple(str(c) for c in known)
    missing = float(sk.transform(np.array([[np.nan]]))[0, 0]) if len(known) < len(cats) else None
    numbers = ir.NumberCategory(("x",), ([float(c) for c in known],), (names,), "\u00abunknown\u00bb")
    codes = ir.CategoricalEncoding(("x",), (names,), (np.arange(len(known), dtype=float),), (missing,), -1.0)
    rows = np.array([*map(float, known), -0.0, 0.5, 1e300, np.nan, math.nextafter(1.0, 2.0), -7.0])
    (named,), refused = rules.number_category(numbers, 0, rows)
    assert refused_rows(refused, len(rows)) == []
    (out,), _ = rules.categorical_encoding(codes, 0, named)
    assert np.array_equal(out, sk.transform(rows[:, None])[:, 0], equal_nan=True)


def test_number_category_refuses_infinities_and_names_unknown_numbers():
    enc = ir.NumberCategory(("x",), ([0.0, 2.0],), (("0", "2"),), "?")
    (out,), refused = rules.number_category(enc, 0, np.array([2.0, -0.0, np.inf, 3.0, np.nan, -np.inf]))
    assert out.tolist() == ["2", "0", "?", "?", None, "?"]
    assert refused_rows(refused, 6) == [2, 5]
    assert reasons(refused) == ["value inf is not finite", "value -inf is not finite"]


# ---------------------------------------------------------------- binning


@pytest.mark.parametrize("strategy", ["uniform", "quantile", "kmeans"])
def test_binning_is_kbins_discretizers_ordinal_transform(strategy):
    from sklearn.preprocessing import KBinsDiscretizer

    sk = KBinsDiscretizer(n_bins=5, encode="ordinal", strategy=strategy).fit(NUMBERS)
    enc = ir.Binning(("a", "b"), tuple(e[1:-1] for e in sk.bin_edges_))
    for j in range(2):
        inner = sk.bin_edges_[j][1:-1]
        # every inner edge, its float64 neighbours, beyond the outer edges, -0.0 and random values
        rows = np.concatenate(
            [inner, np.nextafter(inner, -np.inf), np.nextafter(inner, np.inf), [-1e300, 1e300, -0.0, 0.0]]
        )
        rows = np.concatenate([rows, NUMBERS[:, j]])
        (out,), refused = rules.binning(enc, j, rows.copy())
        table = np.zeros((len(rows), 2))
        table[:, j] = rows
        assert np.array_equal(out, sk.transform(table)[:, j])
        assert refused_rows(refused, len(rows)) == []
        # one number at a time (the probe rows' searches) gives the same bins
        assert [rules.binning(enc, j, float(x))[0][0] for x in rows[:20]] == out[:20].tolist()


def test_binning_refuses_nan_and_infinities_as_kbins_discretizer_does():
    from sklearn.preprocessing import KBinsDiscretizer

    sk = KBinsDiscretizer(n_bins=3, encode="ordinal").fit(NUMBERS[:, :1])
    enc = ir.Binning(("a",), (sk.bin_edges_[0][1:-1],))
    rows = np.array([0.0, np.nan, np.inf, -np.inf])
    _, refused = rules.binning(enc, 0, rows)
    assert refused_rows(refused, 4) == [1, 2, 3]
    for bad in rows[1:]:
        with pytest.raises(ValueError):
            sk.transform([[bad]])


# ---------------------------------------------------------------- integer-code against LightGBM

INTEGER_EDGES = [0.0, -0.0, -0.5, -0.999, -1.0, -1.5, 1.0, 1.5, 2.7, 3.999, 7.0, 8.5, 9.0, 9.999, 10.0, 1e6]
INTEGER_EDGES += [2.0**31 - 0.5, 2.0**31, 1e300, math.inf, -math.inf, math.nan, 1e-36, -1e-36, -3e9]


def test_integer_code_is_the_category_lightgbm_reads():
    # one categorical feature, every category 0..9 its own target: LightGBM predicts for x what it
    # predicts for the code the rule gives (NaN for the values it sends the missing way)
    lightgbm = pytest.importorskip("lightgbm")
    r = np.random.default_rng(1)
    codes = r.integers(0, 10, 3000).astype(np.float64)
    model = lightgbm.LGBMRegressor(
        n_estimators=1,
        num_leaves=16,
        min_data_per_group=1,
        min_child_samples=1,
        cat_smooth=0.0,
        max_cat_to_onehot=16,
        verbose=-1,
        n_jobs=1,
        deterministic=True,
        force_row_wise=True,
    ).fit(codes.reshape(-1, 1), codes * 3.0 + 1.0, categorical_feature=[0])
    x = np.array(INTEGER_EDGES)
    (out,), refused = rules.integer_code(ir.IntegerCode(("a",)), 0, x)
    assert refused == []
    assert len(set(model.predict(np.arange(10.0).reshape(-1, 1)).tolist())) > 5  # categories tell apart
    assert np.array_equal(model.predict(x.reshape(-1, 1)), model.predict(out.reshape(-1, 1)))
    assert [rules.integer_code(ir.IntegerCode(("a",)), 0, float(v))[0][0] for v in x] == pytest.approx(
        out.tolist(), nan_ok=True
    )
    whole = out[~np.isnan(out)]
    assert (np.trunc(whole) == whole).all() and (whole >= 0).all() and (whole < 2.0**31).all()


def test_missing_band_is_lightgbms_zero_as_missing():
    # under zero_as_missing, LightGBM predicts for a value in [-kZeroThreshold, kZeroThreshold] what it
    # predicts for NaN, and for any other value what it predicts for the value the rule passes
    lightgbm = pytest.importorskip("lightgbm")
    from crossform.sklearn.lightgbm import ZERO_THRESHOLD as z

    r = np.random.default_rng(2)
    x = r.normal(size=3000)
    x[r.random(3000) < 0.3] = 0.0
    x[r.random(3000) < 0.1] = np.nan
    y = np.where(np.isnan(x) | (x == 0.0), 3.0, np.nan_to_num(x))
    model = lightgbm.LGBMRegressor(
        n_estimators=3, num_leaves=8, zero_as_missing=True, verbose=-1, n_jobs=1, deterministic=True
    ).fit(x.reshape(-1, 1), y)
    rows = np.array([0.0, -0.0, z, -z, math.nextafter(z, 1.0), math.nextafter(-z, -1.0), 1e-36, 1e-30, -1e-30])
    rows = np.r_[rows, [math.nan, math.inf, -math.inf, 0.5, -0.5, 2.0]]
    (out,), refused = rules.missing_band(ir.MissingBand(("a",), [-z], [z]), 0, rows)
    assert refused == []
    band = [0, 1, 2, 3, 6]  # 0.0, -0.0, both ends and 1e-36; the doubles beyond the ends pass
    assert np.isnan(out[band]).all() and np.array_equal(out[[4, 5, 7, 8]], rows[[4, 5, 7, 8]])
    assert np.array_equal(model.predict(rows.reshape(-1, 1)), model.predict(out.reshape(-1, 1)))
    assert model.predict([[0.0]])[0] != model.predict([[1e-30]])[0]
    scalar = [rules.missing_band(ir.MissingBand(("a",), [-z], [z]), 0, float(v))[0][0] for v in rows]
    assert scalar == pytest.approx(out.tolist(), nan_ok=True)
