"""What the onnx format's tests share: the runtimes and rows they score, the check that both runtimes
score a file as the reference does, packages of every kind, and edits that craft bad files."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.checks import leaf_positions
from crossform.exporters import onnx as O
from crossform.runtime import onnx_reference
from crossform.runtime import onnxruntime as ort_runtime
from helpers.packages import small_package

onnx = pytest.importorskip("onnx")


RUNTIMES = (ort_runtime, onnx_reference)

ROWS = [
    {"colour": c, "size": s}
    for c in ("red", "blue", "green", None, "")
    for s in (-30.0, 9.0, 14.0, 30.0, math.nan, math.inf, -math.inf, 1e39, -3.5e38, None)
]
ROWS += [{"colour": 3, "size": 9.0}, {"colour": "red", "size": "big"}]  # wrong types: row errors before the graph


def assert_scores_like_the_reference(package: ir.Package, content: bytes, rows=ROWS) -> None:
    back = O.loads(content)
    want = crossform.score(package, rows)
    for runtime in RUNTIMES:
        got = runtime.prepare(content, O)(rows)
        assert got.outputs == want.outputs and got.classes == want.classes
        assert [e is None for e in got.errors] == [e is None for e in want.errors], runtime.NAME
        np.testing.assert_array_equal(got.values, want.values)  # exact, NaN in the same rows
        np.testing.assert_array_equal(
            leaf_positions(back.model, got.leaves), leaf_positions(package.model, want.leaves)
        )


def assert_runtimes_pass(data: bytes, checks, model, leaves=True, runtimes=RUNTIMES) -> list:
    """Each runtime scores the rows of ``checks`` with the file ``data`` as they record, comparing
    the leaves of every tree when ``leaves`` (None: whether it compares them is not asserted);
    the comparisons, for what a test asserts beyond that."""
    comparisons = []
    for runtime in runtimes:
        comparison = checks_module.compare(checks, runtime.prepare(data, O)(checks.data()), model)
        assert comparison.ok, (runtime.NAME, comparison.summary(), comparison.mismatches[:3])
        assert leaves is None or comparison.leaves_compared == leaves, runtime.NAME
        comparisons.append(comparison)
    return comparisons


def export_onnx(source, target, option: str, value: str, checks: int) -> int:
    """``crossform export source target --format onnx --<option> value --checks N``: its exit code."""
    from crossform.cli import main

    return main(["export", str(source), str(target), "--format", "onnx", f"--{option}", value, "--checks", str(checks)])


# ---------------------------------------------------------------- crafting files


GOOD = O.dumps(small_package())


def edited_file(data: bytes, edit) -> bytes:
    """The file ``data`` after ``edit`` (a function changing a ModelProto in place)."""
    model = onnx.ModelProto()
    model.ParseFromString(data)
    edit(model)
    return model.SerializeToString()


def set_prop(key, value):
    """An edit setting metadata ``key`` to ``value``."""

    def edit(model):
        for p in model.metadata_props:
            if p.key == key:
                p.value = value

    return edit


def tree_node(model):
    return next(n for n in model.graph.node if n.op_type == "TreeEnsemble")


def by_tag(model, tag):
    """The node whose name ends in ``:<tag>`` (see _nodes.node_tag)."""
    return next(n for n in model.graph.node if n.name.split(":", 2)[-1] == tag)


def edit_doc(tag, change):
    def edit(model):
        node = by_tag(model, tag)
        doc = json.loads(node.doc_string)
        change(doc)
        node.doc_string = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    return edit


def set_init(input_of_tag, k, transform):
    def edit(model):
        name = by_tag(model, input_of_tag).input[k]
        init = next(t for t in model.graph.initializer if t.name == name)
        init.CopyFrom(onnx.numpy_helper.from_array(transform(onnx.numpy_helper.to_array(init).copy()), name))

    return edit


def set_attr(tag, name, value):
    def edit(model):
        attr = next(a for a in by_tag(model, tag).attribute if a.name == name)
        attr.CopyFrom(onnx.helper.make_attribute(name, value))

    return edit


def both(*edits):
    def edit(model):
        for e in edits:
            e(model)

    return edit


def remove_node(tag):
    def edit(model):
        model.graph.node.remove(by_tag(model, tag))

    return edit


def plus_one(a):
    a.flat[0] += 1.0
    return a


def nudge_first_split(model):
    """Move the first threshold of the first TreeEnsemble up by one ulp."""
    attr = next(a for a in by_tag(model, "reached.0").attribute if a.name == "nodes_splits")
    splits = onnx.numpy_helper.to_array(attr.t).copy()
    splits[0] = np.nextafter(splits[0], np.inf)
    attr.t.CopyFrom(onnx.numpy_helper.from_array(splits))


def branch_modes(data: bytes) -> list:
    """The nodes_modes of every TreeEnsemble in the file, in order."""
    proto = onnx.load_from_string(data)
    return [
        int(m)
        for n in proto.graph.node
        if n.op_type == "TreeEnsemble"
        for m in onnx.numpy_helper.to_array(next(a.t for a in n.attribute if a.name == "nodes_modes"))
    ]


# ---------------------------------------------------------------- packages of every kind


def every_kind_packages() -> dict:
    """helpers.every_kind's packages, plus each kind alone (so it alone makes its file 1.3)."""
    from helpers import every_kind

    out = dict(every_kind.packages())
    fields, tree = every_kind.fields(), every_kind.regression_stump
    # each kind alone, so each is what makes its file 1.3
    out["binary-alone"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.TreeEnsemble(
            ("size", "weight"), (tree(0), tree(1)), "sum", "logistic", classes=("a", "b"), base_value=[0.5]
        ),
    )
    out["missing-error-alone"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.TreeEnsemble(("size", "weight"), (tree(0), tree(1)), "sum", base_value=[0.5], missing="error"),
    )
    out["compare-alone-average"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.TreeEnsemble(("size", "weight"), (tree(0), tree(1)), infinite="compare"),
    )
    out["affine-alone"] = ir.Package(
        inputs=fields[1:],
        encoders=(ir.Affine(("size",), [0.5], [1.0]),),
        model=ir.TreeEnsemble(("size", "weight"), (tree(0), tree(1))),
    )
    out["indicator-alone"] = ir.Package(
        inputs=fields,
        encoders=(
            ir.MissingIndicator(
                ("colour", "weight"), (ir.CATEGORICAL, ir.NUMERIC), ("colour_missing", "weight_missing")
            ),
        ),
        model=ir.TreeEnsemble(("colour_missing", "weight_missing"), (tree(0), tree(1))),
    )
    # one-hot after fill-missing (the missing mask is then never set), zero-width and empty blocks,
    # "" as a known category (the placeholder of a missing string), several features in one encoder
    one_hot = ir.OneHot(
        ("colour", "shade"),
        (("", "blue", "red"), ()),
        ((0, 1, -1), ()),
        (2, 1),
        (None, 0),
        ("zeros", "error"),
        ("c_empty", "c_blue", "s_missing"),
    )
    out["one-hot-edges"] = ir.Package(
        inputs=fields + (ir.Field("shade", ir.CATEGORICAL),),
        encoders=(
            ir.FillMissing(("weight",), (0.0,)),
            one_hot,
            ir.OneHot(("colour",), (("green",),), ((0,),), (1,), (-1,), (0,), ("c_green",)),
        ),
        model=ir.LinearModel(
            ("c_empty", "c_blue", "s_missing", "c_green", "weight"),
            [[1.0, 2.0, 4.0, 8.0, 0.5], [-1.0, 0.0, 0.25, 3.0, -2.0]],
            [0.0, 1.0],
            "softmax",
            classes=("p", "q"),
        ),
    )
    # a linear regressor over huge finite values, and a one-output logistic regressor (no classes)
    out["linear-huge"] = ir.Package(
        inputs=fields[1:], encoders=(), model=ir.LinearModel(("size", "weight"), [[1e5, -3.0]], [1e-300])
    )  # 1e305 at most: overflow to inf would not compare
    out["linear-multi-logistic"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.LinearModel(("size", "weight"), [[1.0, -3.0], [0.5, 0.5]], [0.0, -40.0], "logistic", classes=(3, 7)),
    )
    # set splits (histogram boosting's categories): members away from the missing side, 0.0 a member
    # (-0.0 too), a set on a label-encoded column, a threshold split beside them, a +inf threshold
    set_tree = ir.Tree(
        feature=[0, 2, -1, -1, 1, -1, -1],
        threshold=[0.0, 0.0, 0.0, 0.0, np.inf, 0.0, 0.0],
        left=[1, 2, -1, -1, 5, -1, -1],
        right=[4, 3, -1, -1, 6, -1, -1],
        missing_left=[True, False, False, False, False, False, False],
        value=[[0.0], [0.0], [-1.0], [0.5], [0.0], [2.0], [4.0]],
        sets=((0.0, 3.0, 8.0), (0.0, 2.0), None, None, None, None, None),
    )
    colour_code = ir.CategoricalEncoding(
        ("colour",), (("blue", "green", "red"),), ((0.0, 1.0, 2.0),), (None,), np.nan, ("colour_code",)
    )
    out["set-splits"] = ir.Package(
        inputs=fields,
        encoders=(colour_code,),
        model=ir.TreeEnsemble(
            ("size", "weight", "colour_code"),
            (set_tree, tree(1)),
            "sum",
            "logistic",
            classes=("no", "yes"),
            base_value=[-0.25],
            infinite="compare",
        ),
    )
    # an isolation forest: score = -(2 ** -(s / d)), decision = score - offset
    depth = ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[0.5, 0.0, 2.0, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[False] * 5,
        value=[[0.0], [1.0], [0.0], [2.5], [3.25]],
    )
    out["isolation"] = ir.Package(
        inputs=fields[1:],
        encoders=(),
        model=ir.TreeEnsemble(
            ("size", "weight"),
            (depth, depth),
            "sum",
            "isolation",
            base_value=[0.0],
            infinite="compare",
            isolation=(2.75, -0.5),
        ),
    )
    # refuse-missing: a numeric and a categorical feature in place before a label encoder and set
    # splits (no member 0.0, so both runtimes run the member variant), and under new names after a
    # categorical fill (its mask then never set) before a one-hot and a linear model
    checked_tree = dataclasses.replace(set_tree, sets=((1.0, 3.0, 8.0), (2.0,), None, None, None, None, None))
    out["refuse-missing"] = ir.Package(
        inputs=fields,
        encoders=(ir.RefuseMissing(("colour", "size"), (ir.CATEGORICAL, ir.NUMERIC)), colour_code),
        model=ir.TreeEnsemble(
            ("size", "weight", "colour_code"),
            (checked_tree, tree(1)),
            "sum",
            "logistic",
            classes=("no", "yes"),
            base_value=[-0.25],
        ),
    )
    out["refuse-missing-renamed"] = ir.Package(
        inputs=fields,
        encoders=(
            ir.FillMissing(("colour",), ("red",)),
            ir.RefuseMissing(("weight", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("weight_ok", "colour_ok")),
            ir.OneHot(("colour_ok",), (("blue", "red"),), ((0, 1),), (2,), (None,), ("zeros",), ("c_blue", "c_red")),
        ),
        model=ir.LinearModel(("c_blue", "c_red", "weight_ok", "weight"), [[1.0, -2.0, 0.5, 0.25]], [0.125]),
    )
    out["refuse-missing-alone"] = ir.Package(
        inputs=fields,
        encoders=(ir.RefuseMissing(("colour", "size"), (ir.CATEGORICAL, ir.NUMERIC), ("c", "s")),),
        model=ir.TreeEnsemble(("s", "weight"), (tree(0), tree(1))),
    )
    return out


KINDS = every_kind_packages()


def every_kind_rows() -> pd.DataFrame:
    """Rows reaching every branch of KINDS: known, unknown and missing categories, NaN, +-inf, huge values."""
    from helpers import every_kind

    frame = every_kind.rows()
    shade = ["dark", None, "light", None, "", "dark", None, None, "x", None, None, None]
    frame["shade"] = pd.Series(shade, dtype=object)
    more = pd.DataFrame(
        {
            "colour": ["", None, "blue", "green", "red"],
            "size": [-40.0, -1e300, 2.0**128, -7.5, 0.5],
            "weight": [20.0, 3.0, -1e39, 1e38, 0.0],
            "shade": [None, None, "dark", None, None],
        }
    )
    return pd.concat([frame, more], ignore_index=True)


KIND_ROWS = every_kind_rows()


def _cell(value, kind: str):
    if kind == ir.NUMERIC:
        return float(value)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def reference_checks(package: ir.Package, frame) -> checks_module.Checks:
    """What crossform.evaluator gives for ``frame``, as Checks that checks.compare holds a runtime to."""
    columns = package.inputs
    rows = tuple(tuple(_cell(frame[f.name][i], f.kind) for f in columns) for i in range(len(frame)))
    data = {f.name: [row[j] for row in rows] for j, f in enumerate(columns)}
    want = crossform.score(package, data)
    leaves = leaf_positions(package.model, want.leaves) if want.leaves is not None else None
    predicted = tuple(want.labels()) if package.model.is_classifier else None
    return checks_module.Checks(
        "crossform.evaluator",
        columns,
        rows,
        tuple(f"row {i}" for i in range(len(rows))),
        package.outputs,
        want.values,
        ~want.ok,
        predicted,
        leaves,
        expected_by="crossform.evaluator",
    )
