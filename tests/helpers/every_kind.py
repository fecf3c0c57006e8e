"""Hand-built packages using the one-hot, affine, missing-indicator, linear and boosting kinds, and (next_minor_packages) the
number-category and binning kinds, for
format tests.

Each format's tests write these, read them back (the id must not change) and
score them in the format's runtimes against the reference evaluator, with
rows that reach every branch: known, unknown and missing categories, NaN,
+-inf, huge values. Expected outputs against scikit-learn come from the
conformance suite, not from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crossform import ir
from helpers.packages import small_tree


def regression_stump(feature: int = 0) -> ir.Tree:
    return ir.Tree(
        feature=[feature, -1, -1],
        threshold=[0.5, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[True, False, False],
        value=[[0.0], [-1.25], [2.5]],
    )


def fields():
    return (ir.Field("colour", ir.CATEGORICAL), ir.Field("size", ir.NUMERIC), ir.Field("weight", ir.NUMERIC))


def _one_hot(unknown="error", missing=None, drop=False, infrequent=False):
    # colour: blue, green, red (+ "other" infrequent column when asked); drop=True drops blue
    cats = ("blue", "green", "red", "teal") if infrequent else ("blue", "green", "red")
    cols = [-1 if drop else 0, 1 - drop, 2 - drop] + ([3 - drop] if infrequent else [])
    width = 3 - drop + (1 if infrequent else 0)
    if infrequent:  # teal is infrequent: it shares the last column with unknown categories
        cols[3] = width - 1
        unknown = width - 1
    names = tuple(f"colour_{i}" for i in range(width))
    return ir.OneHot(("colour",), (cats,), (cols,), (width,), (missing,), (unknown,), names), names


def packages() -> dict:
    """name -> Package, each using one or more of the new kinds."""
    out = {}
    oh, oh_names = _one_hot()
    # binary logistic boosting over one-hot columns and an affine-scaled number
    boost_trees = tuple(
        ir.Tree(
            feature=[j, -1, -1],
            threshold=[0.5, 0.0, 0.0],
            left=[1, -1, -1],
            right=[2, -1, -1],
            missing_left=[False, False, False],
            value=[[0.0], [-0.75 + j], [1.5 - j / 3]],
        )
        for j in range(4)
    )
    out["boost-binary-one-hot"] = ir.Package(
        inputs=fields(),
        encoders=(oh, ir.Affine(("size",), [0.125], [-1.0], ("size_mm",))),
        model=ir.TreeEnsemble(
            oh_names + ("size_mm",),
            boost_trees,
            "sum",
            "logistic",
            classes=("no", "yes"),
            base_value=[0.3],
            missing="error",
        ),
    )
    # multiclass softmax boosting, one-hot with ignore and a missing category
    oh2, names2 = _one_hot(unknown="zeros", missing=1)
    vec = []
    for k in range(3):
        v = np.zeros((3, 3))
        v[1, k], v[2, k] = -0.5 * (k + 1), 0.25 * (k + 2)
        vec.append(
            ir.Tree(
                feature=[k, -1, -1],
                threshold=[0.5, 0.0, 0.0],
                left=[1, -1, -1],
                right=[2, -1, -1],
                missing_left=[True, False, False],
                value=v,
            )
        )
    out["boost-multiclass-ignore"] = ir.Package(
        inputs=fields(),
        encoders=(oh2,),
        model=ir.TreeEnsemble(
            names2, tuple(vec), "sum", "softmax", classes=(0, 1, 2), base_value=[0.1, -0.2, 0.3], missing="error"
        ),
    )
    # regression boosting that compares infinities (histogram boosting's rule)
    out["boost-regression-compare"] = ir.Package(
        inputs=fields()[1:],
        encoders=(),
        model=ir.TreeEnsemble(
            ("size", "weight"), (regression_stump(0), regression_stump(1)), "sum", base_value=[10.0], infinite="compare"
        ),
    )
    # linear models
    mi = ir.MissingIndicator(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("size_missing", "colour_missing"))
    fill = ir.FillMissing(("size",), (3.0,))
    out["linear-regression"] = ir.Package(
        inputs=fields(),
        encoders=(mi, fill, ir.Affine(("weight",), [2.0], [0.5])),
        model=ir.LinearModel(("size", "weight", "size_missing", "colour_missing"), [[0.5, -1.5, 2.0, 0.25]], [3.0]),
    )
    oh3, names3 = _one_hot(drop=True, infrequent=True)
    out["linear-binary-logistic"] = ir.Package(
        inputs=fields(),
        encoders=(oh3, ir.Scale(("size",), [1.0], [2.0])),
        model=ir.LinearModel(names3 + ("size",), [[0.7, -0.4, 1.1, 0.9]], [-0.2], "logistic", classes=(False, True)),
    )
    out["linear-multinomial"] = ir.Package(
        inputs=fields()[1:],
        encoders=(),
        model=ir.LinearModel(
            ("size", "weight"),
            [[0.5, -1.0], [0.0, 0.25], [-0.75, 1.5]],
            [0.1, 0.2, -0.3],
            "softmax",
            classes=("a", "b", "c"),
        ),
    )
    out["linear-decision-binary"] = ir.Package(
        inputs=fields()[1:],
        encoders=(),
        model=ir.LinearModel(("size", "weight"), [[1.5, -2.0]], [0.25], "none", classes=(-1, 1)),
    )
    out["linear-decision-multiclass"] = ir.Package(
        inputs=fields()[1:],
        encoders=(),
        model=ir.LinearModel(
            ("size", "weight"),
            [[1.5, -2.0], [0.5, 0.5], [-1.0, 0.0]],
            [0.25, 0.0, -0.5],
            "none",
            classes=("x", "y", "z"),
        ),
    )
    # a forest (average) with a one-hot input, the old model with a new encoder
    out["forest-one-hot"] = ir.Package(
        inputs=fields(),
        encoders=(oh,),
        model=ir.TreeEnsemble(oh_names[:2], (small_tree(), small_tree(0.25)), classes=("no", "yes")),
    )
    return out


def next_minor_packages() -> dict:
    """name -> Package, each using a kind the formats' next strict minor adds (stripe-json 2.2,
    protobuf 1.2, onnx 1.4, pmml 1.3): number-category, binning, integer-code, missing-band."""
    out = {}
    # numeric categories: size named by its category, then coded (unknown -1, missing -2) and
    # one-hot (an unknown number sets no column); -0.0 is the category 0
    numbers = ir.NumberCategory(
        ("size",), ([0.0, 1.0, 3.0, 7.0],), (("0", "1", "3", "7"),), "\u00abunknown number\u00bb", ("size_category",)
    )
    coded = ir.CategoricalEncoding(
        ("size_category",), (("0", "1", "3", "7"),), ([0.0, 1.0, 2.0, 2.0],), (-2.0,), -1.0, ("size_code",)
    )
    hot = ir.OneHot(
        ("size_category",), (("0", "1", "3", "7"),), ([0, 1, 2, -1],), (3,), (None,), ("zeros",), ("s0", "s1", "s3")
    )
    out["forest-number-category"] = ir.Package(
        inputs=fields()[1:],
        encoders=(numbers, coded, hot),
        model=ir.TreeEnsemble(
            ("size_code", "s3", "weight"), (regression_stump(0), regression_stump(1), regression_stump(2)), "average"
        ),
    )
    # binning: weight's bin (edges with a repeated one and 0.0), size scaled after it
    out["forest-binning"] = ir.Package(
        inputs=fields()[1:],
        encoders=(ir.Binning(("weight",), ([-1.0, 0.0, 0.5, 0.5, 2.0],), ("weight_bin",)),),
        model=ir.TreeEnsemble(("weight_bin", "size"), (regression_stump(0), regression_stump(1)), "average"),
    )
    # integer-code: size's int code (LightGBM's categorical split reads it), codes 0 and 3 left
    code_tree = ir.Tree(
        feature=[0, -1, -1],
        threshold=[0.0, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[False] * 3,
        value=[[0.0], [1.5], [-0.5]],
        sets=((0.0, 3.0), None, None),
    )
    out["boost-integer-code"] = ir.Package(
        inputs=fields()[1:],
        # the scale refuses weight's infinities (integer-code refuses nothing)
        encoders=(ir.IntegerCode(("size",), ("size_code",)), ir.Scale(("weight",), [0.0], [1.0])),
        model=ir.TreeEnsemble(
            ("size_code", "weight"),
            (code_tree, regression_stump(1)),
            "sum",
            base_value=[0.0],
            infinite="compare",
        ),
    )
    # missing-band: weight's band [-0.5, 0.5] made NaN, which the stump sends left
    out["boost-missing-band"] = ir.Package(
        inputs=fields()[1:],
        encoders=(ir.MissingBand(("weight",), [-0.5], [0.5], ("weight_band",)), ir.Scale(("size",), [0.0], [1.0])),
        model=ir.TreeEnsemble(
            ("weight_band", "size"),
            (regression_stump(0), regression_stump(1)),
            "sum",
            base_value=[0.0],
            infinite="compare",
        ),
    )
    return out


def product_packages() -> dict:
    """name -> Package using the product encoder (columns of several inputs, stripe-json 2.2,
    protobuf 1.2, onnx 1.4; pmml refuses it by name): a bias column, a square, a product of two
    inputs and a three-factor product in a fixed order, before a linear model and a forest."""
    product = ir.Product(
        ("size", "weight"), ((), (0, 0), (0, 1), (1, 0, 0), (1,)), ("bias", "size^2", "size weight", "w s s", "w")
    )
    columns = ("bias", "size", "size^2", "size weight", "w s s", "w")
    return {
        "linear-products": ir.Package(
            inputs=fields()[1:],
            encoders=(product, ir.Scale(("size^2",), [1.5], [4.0], ("size^2 scaled",))),
            model=ir.LinearModel(
                ("bias", "size", "size^2 scaled", "size weight", "w s s", "w"),
                [[0.5, -1.25, 2.0, 0.75, -0.125, 3.0]],
                [0.25],
            ),
        ),
        "forest-products": ir.Package(
            inputs=fields()[1:],
            encoders=(product,),
            model=ir.TreeEnsemble(columns, tuple(regression_stump(j) for j in range(6)), "average"),
        ),
    }


def projection_packages() -> dict:
    """name -> Package using the projection encoder (PCA's transform, stripe-json 2.2, protobuf 1.2,
    onnx 1.4; pmml refuses it by name): three components of size and weight, centred after the
    fold and whitened before a linear model; one component centred before the fold, then scaled,
    before a forest."""
    after = ir.Projection(
        ("size", "weight"),
        [1.25, -0.5],
        [[0.6, 0.8], [-0.8, 0.6], [0.0, -1.0]],
        ("pc0", "pc1", "pc2"),
        [2.0, 0.75, 1e-3],
        "after",
    )
    before = ir.Projection(("size", "weight"), [0.1, 3.0], [[0.28, -0.96]], ("pc",), None, "before")
    return {
        "linear-projection": ir.Package(
            inputs=fields()[1:],
            encoders=(after,),
            model=ir.LinearModel(("pc0", "pc1", "pc2", "weight"), [[0.5, -1.25, 2.0, 0.125]], [0.25]),
        ),
        "forest-projection": ir.Package(
            inputs=fields()[1:],
            encoders=(before, ir.Scale(("pc",), [0.5], [2.0], ("pc scaled",))),
            model=ir.TreeEnsemble(("pc scaled", "size"), (regression_stump(0), regression_stump(1)), "average"),
        ),
    }


def rows() -> pd.DataFrame:
    """Rows reaching every branch of the packages above."""
    colour = ["blue", "green", "red", "teal", "purple", None, "red", "blue", "green", None, "teal", "red"]
    size = [0.0, 1.0, -2.5, 3.0, np.nan, 7.0, np.inf, -np.inf, 1e39, 1e300, -0.0, 8.0]
    weight = [1.0, -1.0, 0.4, 0.6, 2.0, np.nan, 0.0, 0.5, 0.5, 1e-300, 5.0, -3.0]
    return pd.DataFrame({"colour": pd.Series(colour, dtype=object), "size": size, "weight": weight})


def log_link_packages() -> dict:
    """name -> Package using a kind added after crossform 0.5.0: the exp post transform (a log-link
    regressor, histogram boosting's poisson and gamma losses, LightGBM's poisson, gamma and tweedie)."""
    return {
        "boost-regression-exp": ir.Package(
            inputs=fields()[1:],
            encoders=(ir.Affine(("weight",), [0.5], [0.25]),),
            model=ir.TreeEnsemble(
                ("size", "weight"),
                (regression_stump(0), regression_stump(1)),
                "sum",
                "exp",
                base_value=[0.75],
                infinite="compare",
            ),
        ),
        "forest-regression-exp": ir.Package(
            inputs=fields()[1:],
            encoders=(),
            model=ir.TreeEnsemble(("size", "weight"), (regression_stump(0), regression_stump(1)), "average", "exp"),
        ),
    }


def composite_packages() -> dict:
    """name -> Package whose model is a Composite (a kind the formats' next strict minor adds):
    a classifier averaging a forest, a binary boosted model and a logistic regression with weights
    and a recorded divisor, a hard vote of a forest, a boosted model and a linear decision model
    (ties between weighted votes), a stack of the same members into a logistic regression with the
    features passed through, a sigmoid and an isotonic calibration of a forest's probability, a
    boosted raw score and a linear decision score, and a regressor over a forest, a boosted model and a linear one."""
    classes = ("no", "yes")
    features = ("size", "weight")
    forest = ir.TreeEnsemble(features, (small_tree(), small_tree(0.25)), classes=classes)
    boosted = ir.TreeEnsemble(features, (regression_stump(0), regression_stump(1)), "sum", "logistic", classes, [0.5])
    logistic = ir.LinearModel(features, [[0.75, -1.5]], [0.25], "logistic", classes)
    regressors = (
        ir.TreeEnsemble(features, (regression_stump(1),), "average"),
        ir.TreeEnsemble(features, (regression_stump(0), regression_stump(1)), "sum", base_value=[1.5], missing="error"),
        ir.LinearModel(features, [[2.0, -0.5]], [0.125]),
    )
    return {
        "composite-classifier": ir.Package(
            inputs=fields()[1:],
            encoders=(ir.Affine(("weight",), [0.5], [0.25]),),
            model=ir.Composite((forest, boosted, logistic), "average", [1.0, 2.5, 0.3], 3.8, classes),
        ),
        "composite-vote": ir.Package(
            inputs=fields()[1:],
            encoders=(),
            model=ir.Composite(
                (forest, boosted, ir.LinearModel(features, [[0.75, -1.5]], [0.25], "none", classes)),
                "vote",
                [1.0, 2.0, 1.0],
                classes=classes,
            ),
        ),
        "composite-stack": ir.Package(
            inputs=fields()[1:],
            encoders=(),
            model=ir.Composite(
                (forest, boosted, ir.LinearModel(features, [[0.75, -1.5]], [0.25], "none", classes)),
                "stack",
                final=ir.LinearModel(
                    ("stack(0)", "stack(1)", "stack(2)", "size", "weight"),
                    [[1.5, -2.0, 0.5, 0.25, -0.125]],
                    [0.1],
                    "logistic",
                    classes,
                ),
                passthrough=True,
            ),
        ),
        "composite-calibrate": ir.Package(
            inputs=fields()[1:],
            encoders=(),
            model=ir.Composite(
                (
                    forest,
                    ir.TreeEnsemble(features, (regression_stump(0), regression_stump(1)), "sum", base_value=[0.5]),
                    ir.LinearModel(features, [[0.75, -1.5]], [0.25], "none", classes),
                ),
                "calibrate",
                classes=classes,
                calibration=([[-2.5, 0.25]], [[-1.0, -0.5]], [[-0.75, 0.125]]),
            ),
        ),
        "composite-isotonic": ir.Package(
            inputs=fields()[1:],
            encoders=(),
            model=ir.Composite(
                (
                    forest,
                    ir.TreeEnsemble(features, (regression_stump(0), regression_stump(1)), "sum", base_value=[0.5]),
                    ir.LinearModel(features, [[0.75, -1.5]], [0.25], "none", classes),
                ),
                "calibrate",
                classes=classes,
                calibration=(
                    ([[0.0, 0.0], [0.25, 0.125], [0.5, 0.5], [1.0, 1.0]],),
                    ([[-1.0, 0.1], [0.3, 0.7]],),
                    ([[0.5, 0.375]],),  # one threshold: its y everywhere
                ),
                calibration_method="isotonic",
            ),
        ),
        "composite-regressor": ir.Package(inputs=fields()[1:], encoders=(), model=ir.Composite(regressors, "average")),
    }


def target_packages() -> dict:
    """name -> Package whose model is the composite "target" (one regressor, then inverse target
    steps): a forest scaled back (multiply, add), a linear model through every arithmetic step and
    exp, a boosted model through expm1 (which onnx refuses by name), and a weighted average and a
    stack of a forest and a linear model whose combined prediction goes through the steps."""
    features = ("size", "weight")
    forest = ir.TreeEnsemble(features, (regression_stump(1), regression_stump(0)), "average")
    linear = ir.LinearModel(features, [[2.0, -0.5]], [0.125])
    boosted = ir.TreeEnsemble(features, (regression_stump(0), regression_stump(1)), "sum", base_value=[1.5])

    def target(member, steps):
        return ir.Package(inputs=fields()[1:], encoders=(), model=ir.Composite((member,), "target", target_steps=steps))

    return {
        "target-scaled-forest": target(forest, (("multiply", 3.25), ("add", -7.5))),
        "target-linear-exp": target(
            linear, (("subtract", 0.1), ("divide", 3.0), ("multiply", 0.7), ("add", 0.2), ("exp", None))
        ),
        "target-boosted-expm1": target(boosted, (("expm1", None),)),
        "target-average-scaled": ir.Package(
            inputs=fields()[1:],
            encoders=(),
            model=ir.Composite(
                (forest, linear), "average", [2.0, 1.0], 3.0, target_steps=(("multiply", 1.5), ("add", 10.25))
            ),
        ),
        "target-stack-exp": ir.Package(
            inputs=fields()[1:],
            encoders=(),
            model=ir.Composite(
                (forest, linear),
                "stack",
                final=ir.LinearModel(("stack(0)", "stack(1)"), [[0.25, 0.125]], [0.5]),
                target_steps=(("exp", None),),
            ),
        ),
    }
