"""Crafted onnx files of every kind: each refused with its named error, and flipped bytes only ever raise
crossform errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossform.errors import IdMismatchError
from crossform.exporters import onnx as O
from helpers.fuzz import damaged, read_or_refuse
from helpers.onnx_files import (
    KINDS,
    both,
    by_tag,
    edit_doc,
    edited_file,
    nudge_first_split,
    plus_one,
    remove_node,
    set_attr,
    set_init,
    set_prop,
    tree_node,
)
from helpers.packages import small_package

onnx = pytest.importorskip("onnx")


ONE_HOT = O.dumps(KINDS["one-hot-edges"])  # encoder 1 one-hot, 2 one-hot; a softmax linear model
AFFINE = O.dumps(KINDS["boost-binary-one-hot"])  # encoder 0 one-hot, 1 affine; binary logistic boosting
INDICATOR = O.dumps(KINDS["linear-regression"])  # encoder 0 missing-indicator; a linear regressor
MISSING_ERROR = O.dumps(KINDS["missing-error-alone"])
REFUSE = O.dumps(KINDS["refuse-missing-alone"])  # encoder 0 refuse-missing (colour, size) -> (c, s)
SETS = O.dumps(KINDS["set-splits"])  # set columns 0 (size, NaN left) and 1 (colour code, NaN right)
ISOLATION = O.dumps(KINDS["isolation"])


def refuse_doc(key, value):
    """Set ``key`` in the doc_string of REFUSE's refuse-missing encoder."""
    return edit_doc("e0.0.missing", lambda d: d.__setitem__(key, value))


CRAFTED = {
    "one-hot unknown policy": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("unknown", ["maybe", "error"])),
        O.OnnxStructureError,
        (
            r"'unknown' of encoder 1 \(one-hot\) to be a list of 2 column "
            r"indices or one of error, zeros"
        ),
    ),
    "one-hot widths": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("widths", ["2", 1])),
        O.OnnxStructureError,
        "'widths' of encoder 1 .* column counts",
    ),
    "one-hot missing": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("missing", [None])),
        O.OnnxStructureError,
        "'missing' of encoder 1 .* a list of 2 column indices or null",
    ),
    "one-hot categories": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("categories", [[1], []])),
        O.OnnxStructureError,
        "'categories' of encoder 1 .* lists of category strings",
    ),
    "one-hot column range": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("columns", [[0, 5, -1], []])),
        O.OnnxStructureError,
        "column index from -1 to 1",
    ),
    "one-hot label encoder": (
        ONE_HOT,
        set_attr("e1.0.column", "values_int64s", [1, 0, -1]),
        O.OnnxStructureError,
        "the graph differs",
    ),
    "one-hot both edited": (
        ONE_HOT,
        both(
            set_attr("e1.0.column", "values_int64s", [1, 0, -1]),
            edit_doc("e1.0.column", lambda d: d.__setitem__("columns", [[1, 0, -1], []])),
        ),
        IdMismatchError,
        "content changed",
    ),
    "one-hot outputs": (
        ONE_HOT,
        edit_doc("e1.0.column", lambda d: d.__setitem__("outputs", "c_empty")),
        O.OnnxStructureError,
        "'outputs' of encoder 1 .* a list of names",
    ),
    "indicator kinds": (
        INDICATOR,
        edit_doc("e0.0.inf", lambda d: d.__setitem__("kinds", ["numeric", "text"])),
        O.OnnxStructureError,
        r"'kinds' of encoder 0 \(missing-indicator\) to be a list of 2 kinds",
    ),
    "indicator kind swapped": (
        INDICATOR,
        edit_doc("e0.0.inf", lambda d: d.__setitem__("kinds", ["numeric"] * 2)),
        O.OnnxStructureError,
        "must be a numeric column for 'colour'",
    ),
    "refuse-missing kinds": (
        REFUSE,
        refuse_doc("kinds", ["categorical"]),
        O.OnnxStructureError,
        r"'kinds' of encoder 0 \(refuse-missing\) to be a list of 2 kinds",
    ),
    "refuse-missing kind unknown": (
        REFUSE,
        refuse_doc("kinds", ["text", "numeric"]),
        O.OnnxStructureError,
        r"'kinds' of encoder 0 \(refuse-missing\)",
    ),
    "refuse-missing kind swapped": (
        REFUSE,
        refuse_doc("kinds", ["numeric"] * 2),
        O.OnnxStructureError,
        "must be a numeric column for 'colour'",
    ),
    "refuse-missing features": (
        REFUSE,
        refuse_doc("features", ["colour", 1]),
        O.OnnxStructureError,
        r"'features' of encoder 0 \(refuse-missing\) to be a list of 2 feature names",
    ),
    "refuse-missing outputs": (
        REFUSE,
        refuse_doc("outputs", "c"),
        O.OnnxStructureError,
        r"'outputs' of encoder 0 \(refuse-missing\) to be a list of names",
    ),
    "refuse-missing renamed": (REFUSE, refuse_doc("outputs", ["c", "size"]), O.OnnxStructureError, "the graph differs"),
    "refuse-missing feature dropped": (
        REFUSE,
        refuse_doc("features", ["colour"]),
        O.OnnxStructureError,
        r"'kinds' of encoder 0 \(refuse-missing\) to be a list of 1",
    ),
    "refuse-missing check dropped": (REFUSE, remove_node("e0.1.nan"), O.OnnxCheckerError, "onnx.checker refuses"),
    "refuse-missing value dropped": (REFUSE, remove_node("e0.1.value"), O.OnnxCheckerError, "onnx.checker refuses"),
    "refuse-missing check swapped": (
        REFUSE,
        lambda m: setattr(by_tag(m, "e0.1.nan"), "op_type", "IsInf"),
        O.OnnxStructureError,
        r"the graph differs \(node 2 'crossform:3:e0.1.nan'",
    ),
    "refuse-missing as indicator": (
        REFUSE,
        refuse_doc("crossform", "missing-indicator"),
        O.OnnxStructureError,
        "the graph differs",
    ),
    "refuse-missing version": (
        REFUSE,
        set_prop("crossform.format_version", "1.2"),
        O.OnnxStructureError,
        r"expected format version 1\.3 for this package \(it uses a refuse-missing encoder\)",
    ),
    "affine scale shape": (
        AFFINE,
        set_init("e1.0.scaled", 1, lambda a: np.array([0.125, 1.0])),
        O.OnnxStructureError,
        "to be one float, found float64 of shape \\[2\\]",
    ),
    "affine scale": (AFFINE, set_init("e1.0.scaled", 1, plus_one), IdMismatchError, "content changed"),
    "affine offset": (AFFINE, set_init("e1.0.affine", 1, plus_one), IdMismatchError, "content changed"),
    "coefficient shape": (
        ONE_HOT,
        set_init("linear.products", 1, lambda a: a[:, 0, :]),
        O.OnnxStructureError,
        r"expected coefficients of type double and shape \[5, 1, outputs\]",
    ),
    "coefficient type": (
        ONE_HOT,
        set_init("linear.products", 1, lambda a: a.astype(np.float32)),
        O.OnnxStructureError,
        "found float32 of shape",
    ),
    "coefficient": (ONE_HOT, set_init("linear.products", 1, plus_one), IdMismatchError, "content changed"),
    "intercept": (ONE_HOT, set_init("linear.raw", 1, plus_one), IdMismatchError, "content changed"),
    "intercept shape": (
        ONE_HOT,
        set_init("linear.raw", 1, lambda a: a[:1]),
        O.OnnxStructureError,
        r"expected intercepts of type double and shape \[2\]",
    ),
    "linear post transform": (
        ONE_HOT,
        edit_doc("linear.products", lambda d: d.__setitem__("post_transform", "probit")),
        O.OnnxStructureError,
        "'post_transform' rule to be one of none, logistic, softmax",
    ),
    "missing rule": (
        MISSING_ERROR,
        edit_doc("reached.0", lambda d: d.__setitem__("missing", "sometimes")),
        O.OnnxStructureError,
        ("'missing' rule to be one of route, error .absent for 'route'., found \"sometimes\""),
    ),
    "default rule written": (
        MISSING_ERROR,
        edit_doc("reached.0", lambda d: d.__setitem__("infinite", "error")),
        O.OnnxStructureError,
        "'infinite' rule .* found \"error\"",
    ),
    "rule dropped": (
        MISSING_ERROR,
        edit_doc("reached.0", lambda d: d.pop("missing")),
        O.OnnxStructureError,
        r"expected format version 1\.2 .* found 1\.3",
    ),
    "missing check removed": (MISSING_ERROR, remove_node("nan"), O.OnnxCheckerError, "onnx.checker refuses"),
    "binary complement": (
        AFFINE,
        set_init("complement", 0, lambda a: a * 2),
        O.OnnxStructureError,
        "the graph differs",
    ),
    "classes": (
        AFFINE,
        set_prop("crossform.classes", '{"no": 1}'),
        O.OnnxMetadataError,
        "expected a JSON list in metadata 'crossform.classes'",
    ),
    "set feature": (
        SETS,
        edit_doc("set.0.equal", lambda d: d.__setitem__("feature", 3)),
        O.OnnxStructureError,
        "expected set split 0 to name a feature below 3 and its missing side",
    ),
    "set side": (
        SETS,
        edit_doc("set.1.equal", lambda d: d.__setitem__("missing_left", 0)),
        O.OnnxStructureError,
        "expected set split 1 to name a feature below 3",
    ),
    "set side flipped": (
        SETS,
        edit_doc("set.1.equal", lambda d: d.__setitem__("missing_left", True)),
        O.OnnxStructureError,
        "the graph differs",
    ),
    "set values type": (
        SETS,
        set_init("set.0.equal", 1, lambda a: a.astype(np.float32)),
        O.OnnxStructureError,
        "values of set split 0 as a 1-D double tensor, found float32",
    ),
    "set value": (SETS, set_init("set.0.equal", 1, plus_one), IdMismatchError, "content changed"),
    "set values unsorted": (
        SETS,
        set_init("set.0.equal", 1, lambda a: a[::-1].copy()),
        O.OnnxStructureError,
        "the graph differs .initializer 'crossform:17:set.0.values'",
    ),
    "set threshold": (
        SETS,
        nudge_first_split,
        O.OnnxStructureError,
        "expected node 0 of a tree to split a set column .* at 0.50000002",
    ),
    "isolation denominator": (ISOLATION, set_init("isolation.depth", 1, plus_one), IdMismatchError, "content changed"),
    "isolation offset type": (
        ISOLATION,
        set_init("isolation.decision", 1, lambda a: a.astype(np.float32)),
        O.OnnxStructureError,
        "expected initializer 'isolation.offset' to be one double",
    ),
    "encoder kind": (
        INDICATOR,
        edit_doc("e0.0.inf", lambda d: d.__setitem__("crossform", ["affine"])),
        O.OnnxStructureError,
        r"expected an encoder kind crossform writes, found \['affine'\]",
    ),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_files_of_every_kind_are_refused_with_their_named_error(name):
    data, edit, error, message = CRAFTED[name]
    with pytest.raises(error, match=message) as caught:
        O.loads(edited_file(data, edit), where="model.onnx")
    assert "model.onnx" in str(caught.value)


KIND_FUZZ = O.dumps(KINDS["boost-binary-one-hot"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_bytes_in_files_of_every_kind_raise_only_crossform_errors(data):
    read_or_refuse(O.loads, damaged(data, [KIND_FUZZ, ONE_HOT, INDICATOR, SETS, ISOLATION, REFUSE], keep=1.0))


def test_a_tree_with_fewer_leaves_than_splits_is_refused_before_its_leaf_values():
    """1000 splits (each to node 1 or leaf 0) over 3 leaves: were its leaf-value table
    sized by node count x outputs first, a wide table would ask for gigabytes."""
    model = onnx.load_from_string(O.dumps(small_package()))
    node = tree_node(model)
    s = 1000
    attrs = {
        "nodes_featureids": [0] * s,
        "nodes_modes": [0] * s,
        "nodes_truenodeids": [1] * s,
        "nodes_trueleafs": [0] * s,
        "nodes_falsenodeids": [0] * s,
        "nodes_falseleafs": [1] * s,
    }
    for attr in node.attribute:
        if attr.name in attrs:
            if attr.type == onnx.AttributeProto.TENSOR:
                attr.t.CopyFrom(onnx.numpy_helper.from_array(np.array(attrs[attr.name], np.int64)))
            else:
                del attr.ints[:]
                attr.ints.extend(attrs[attr.name])
        elif attr.name == "nodes_splits":
            attr.t.CopyFrom(onnx.numpy_helper.from_array(np.full(s, 0.5)))
        elif attr.name == "leaf_weights":
            attr.t.CopyFrom(onnx.numpy_helper.from_array(np.array([s, s + 1, s + 2], np.float64)))
    with pytest.raises(O.OnnxStructureError, match="one leaf more than its 1000 splits, found 3"):
        O.loads(model.SerializeToString(), where="model.onnx")
