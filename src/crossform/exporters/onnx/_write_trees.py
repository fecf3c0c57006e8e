"""The onnx writer's trees: TreeEnsemble attributes from the IR's trees, set splits as
membership columns or BRANCH_MEMBER nodes, float32 splits where they decide as double ones,
and the leaf-value table the reached leaves are gathered from."""

from __future__ import annotations

import dataclasses

import numpy as np

from ... import ir
from ...floats import FLOAT32_OVERFLOW, float32_threshold
from ._graph import Graph, step_doc
from ._rules import (
    BRANCH_GT,
    BRANCH_LEQ,
    BRANCH_MEMBER,
    COLUMNS,
    FLOAT32,
    MEMBER,
    NATIVE_SET_MAX,
    NATIVE_SET_SIZE,
    SET_THRESHOLD,
)


def native_set(values: tuple) -> bool:
    """Whether the "member" option writes this set as BRANCH_MEMBER (else as a column)."""
    return len(values) <= NATIVE_SET_SIZE and all(float(v).is_integer() and 0.0 <= v <= NATIVE_SET_MAX for v in values)


def _preorder(tree: ir.Tree) -> np.ndarray:
    """The tree's split nodes, root first, each followed by its true branch, then its false one:
    the order in which onnx's ReferenceEvaluator reads membership_values (build_node), made the
    node order, in which onnxruntime reads them (getMembershipValuesById)."""
    order, stack = [], [0]
    true = np.where(tree.missing_left, tree.right, tree.left)
    false = np.where(tree.missing_left, tree.left, tree.right)
    while stack:
        n = stack.pop()
        if tree.is_leaf[n]:
            continue
        order.append(n)
        stack += [int(false[n]), int(true[n])]
    return np.array(order, dtype=np.int64)


def _tree_arrays(trees: tuple, member: bool = False) -> dict:
    """TreeEnsemble attributes: per tree its split nodes in index order (the
    root first), then its leaves; a one-leaf tree gets one split whose two
    branches reach that leaf, as the operator's spec says.

    NaN routing is in the comparison, not in nodes_missing_value_tracks_true:
    a node that sends NaN right is ``x <= t`` (true: left), one that sends it
    left is ``x > t`` (true: right). Both comparisons are false for NaN, so NaN
    takes the false branch, the side the node asks for; onnxruntime's loop
    without the NaN test is 7% faster on the bench forest.
    """
    feature, split, true_id, true_leaf, false_id, false_leaf, modes = [], [], [], [], [], [], []
    roots, targets, node_of_leaf, offsets, values, members, sides = [], [], [], [], [], [], []
    n_splits = n_leaves = 0
    for t, tree in enumerate(trees):
        leaf = tree.is_leaf
        # ``member``: the splits in walk order, so both runtimes take the sets in the same order
        split_nodes = _preorder(tree) if member and tree.sets else np.flatnonzero(~leaf)
        leaf_nodes = np.flatnonzero(leaf)
        # global position of each node among the splits or among the leaves
        position = np.empty(tree.n_nodes, dtype=np.int64)
        position[split_nodes] = n_splits + np.arange(len(split_nodes))
        position[leaf_nodes] = n_leaves + np.arange(len(leaf_nodes))
        roots.append(n_splits)
        if len(split_nodes) == 0:
            feature.append(np.zeros(1, dtype=np.int64))
            split.append(np.zeros(1))
            for out, val in (
                (true_id, n_leaves),
                (false_id, n_leaves),
                (true_leaf, 1),
                (false_leaf, 1),
                (modes, BRANCH_LEQ),
            ):
                out.append(np.array([val], dtype=np.int64))
            n_splits += 1
        else:
            nan_left = tree.missing_left[split_nodes]
            left, right = tree.left[split_nodes], tree.right[split_nodes]
            true, false = np.where(nan_left, right, left), np.where(nan_left, left, right)
            feature.append(tree.feature[split_nodes].astype(np.int64))
            split.append(tree.threshold[split_nodes])
            true_id.append(position[true])
            true_leaf.append(leaf[true].astype(np.int64))
            false_id.append(position[false])
            false_leaf.append(leaf[false].astype(np.int64))
            mode = np.where(nan_left, BRANCH_GT, BRANCH_LEQ).astype(np.int64)
            for i, n in enumerate(split_nodes.tolist()):
                if tree.sets and tree.sets[n] is not None:  # true: in the set, away from the missing side
                    mode[i] = BRANCH_MEMBER
                    members += list(tree.sets[n]) + [np.nan]
                    sides.append(bool(tree.missing_left[n]))
            modes.append(mode)
            n_splits += len(split_nodes)
        targets.append(np.full(len(leaf_nodes), t, dtype=np.int64))
        # the reader numbers a tree's splits first, then its leaves
        node_of_leaf.append(len(split_nodes) + np.arange(len(leaf_nodes), dtype=np.int64))
        offsets.append(n_leaves - len(split_nodes))
        values.append(tree.value[leaf_nodes])
        n_leaves += len(leaf_nodes)
    cat = np.concatenate
    leaf_start = np.cumsum([0] + [len(v) for v in values])
    return dict(
        feature=cat(feature),
        split=cat(split),
        true_id=cat(true_id),
        true_leaf=cat(true_leaf),
        false_id=cat(false_id),
        false_leaf=cat(false_leaf),
        modes=cat(modes),
        roots=np.array(roots, dtype=np.int64),
        split_start=np.append(roots, n_splits).astype(np.int64),
        leaf_start=leaf_start.astype(np.int64),
        targets=cat(targets),
        node_of_leaf=cat(node_of_leaf),
        offsets=np.array(offsets, dtype=np.int64).reshape(-1, 1),
        values=cat(values),
        n_leaves=n_leaves,
        members=np.array(members, dtype=np.float64),
        sides=sides,
    )


def float32_floor(t: np.ndarray) -> np.ndarray:
    """The largest float32 <= each double (-inf below the float32 range)."""
    with np.errstate(over="ignore"):
        f = t.astype(np.float32)
    return np.where(f.astype(np.float64) > t, np.nextafter(f, np.float32(-np.inf)), f).astype(np.float32)


def _float32_exact(splits: np.ndarray, n_leaves: int) -> bool:
    """Whether float32 trees decide exactly as the IR's double ones.

    A threshold t that the float32 rewrite of SEMANTICS note 1 leaves unchanged
    satisfies x <= t iff float32(x) <= t, for every double x with a finite
    float32 (rows with an infinite one are row errors), and for a float32 value
    that is iff float32(x) <= s, s the largest float32 <= t. Every threshold
    the scikit-learn frontend writes is such a fixed point; the reader gets t
    back as the rewrite of s. Leaf indices must stay exact as float32 weights.
    """
    return n_leaves <= 2**24 and bool(np.array_equal(float32_threshold(splits), splits))


def _ints(values: np.ndarray) -> list:
    return values.tolist()


def _set_columns(g: Graph, model: ir.TreeEnsemble, cols: dict, sets: str = COLUMNS) -> tuple:
    """(the trees with each set split as a threshold split on an added column, the added
    columns). ai.onnx.ml's BRANCH_MEMBER is not used: onnx's ReferenceEvaluator ends a set at
    a member 0.0 and reads the sets in its own walk order, not node order.

    Column k (set split k, counting the forest's set nodes in tree order, and in a tree in the
    order the file lists its nodes: _column_order) is
    Equal(x, S) any per row, as a double: exact float64 equality, -0.0 equal to 0.0, NaN in
    no set. Members go away from the missing side, so the column is "member" when the
    missing side is left (members right: 1.0 > the threshold) and 1 - "member" when it is
    right (members left).

    ``sets`` "member" keeps the sets onnxruntime decides exactly (native_set) as set nodes,
    for BRANCH_MEMBER; only the others get columns.
    """
    trees, columns = [], []
    width = len(model.features)
    for tree in model.trees:
        if not tree.sets:
            trees.append(tree)
            continue
        feature, threshold, missing_left = tree.feature.copy(), tree.threshold.copy(), tree.missing_left.copy()
        kept = list(tree.sets)
        for n in _column_order(tree, sets):
            values = tree.sets[n]
            kept[n] = None
            k, j = len(columns), int(tree.feature[n])
            doc = step_doc("set-split", feature=j, missing_left=bool(tree.missing_left[n]))
            hit = g.op(
                "Equal",
                [cols[model.features[j]], g.const(f"set.{k}.values", np.array(values, dtype=np.float64))],
                f"set.{k}.equal",
                doc=doc,
            )
            member = g.op(
                "Cast",
                [
                    g.op(
                        "ReduceMax",
                        [
                            g.op("Cast", [hit], f"set.{k}.int", to=g.onnx.TensorProto.INT32),
                            g.const("axis1", np.array([1], dtype=np.int64)),
                        ],
                        f"set.{k}.any",
                        keepdims=1,
                    )
                ],
                f"set.{k}.member",
                to=g.onnx.TensorProto.DOUBLE,
            )
            if not tree.missing_left[n]:
                member = g.op("Sub", [g.const("one", np.array([1.0])), member], f"set.{k}.outside")
            columns.append(member)
            feature[n], threshold[n], missing_left[n] = width + k, SET_THRESHOLD, False
        trees.append(
            ir.Tree(
                feature,
                threshold,
                tree.left,
                tree.right,
                missing_left,
                tree.value,
                tuple(kept) if any(v is not None for v in kept) else (),
            )
        )
    return tuple(trees), columns


def _column_order(tree: ir.Tree, sets: str) -> list:
    """The set splits of a tree that become columns, in the order the file lists the tree's
    nodes (_tree_arrays): the walk order (_preorder) of the tree as written, where a column
    split sends NaN right, when sets native to BRANCH_MEMBER remain in it, else node order.
    The reader numbers a tree's nodes in file order, so the graph rebuilt from the package it
    reads numbers the columns as the writer did (a tree grown best-first, as histogram
    boosting grows them, is numbered otherwise in node order)."""
    native = [v is not None and sets == MEMBER and native_set(v) for v in tree.sets]
    columns = [n for n, v in enumerate(tree.sets) if v is not None and not native[n]]
    if not any(native):
        return columns
    written = tree.missing_left.copy()
    written[columns] = False
    order = _preorder(dataclasses.replace(tree, missing_left=written)).tolist()
    return [n for n in order if n in set(columns)]


def _splits_in_float32(model: ir.TreeEnsemble, splits: np.ndarray, n_leaves: int) -> bool:
    """Whether the trees may compare float32 values (see _float32_exact). Under
    infinite="compare", x too large for float32 reaches the trees as +-inf there,
    which decides as x does only while every threshold t has -OVERFLOW <= t < OVERFLOW
    (the rewrite maps thresholds beyond the float32 range to +-DBL_MAX)."""
    if not _float32_exact(splits, n_leaves):
        return False
    return model.infinite == "error" or bool((np.abs(splits) < FLOAT32_OVERFLOW).all())


def write_trees(
    g: Graph, model: ir.TreeEnsemble, cols: dict, precision: str, per_tree: bool, exact: bool, sets: str = COLUMNS
) -> tuple:
    """(the aggregated raw scores, their dtype, the leaves output): a TreeEnsemble per tree
    (``per_tree``) or one for all, each writing the leaf it reaches, then a Gather of the leaf
    values and a ReduceSum in tree order. ``exact``: the 1.3 graph, which leaves out the unused
    table 1.2 wrote beside the one holding the base value."""
    onnx = g.onnx
    X = g.op("Concat", [cols[name] for name in model.features], "X", axis=1)
    if model.infinite == "error":
        too_big = g.op(
            "GreaterOrEqual",
            [g.op("Abs", [X], "abs"), g.const("float32.overflow", np.array([FLOAT32_OVERFLOW]))],
            "too.big",
        )
        g.refuse_rows(too_big, "too.big")
    if model.missing == "error":
        g.refuse_rows(g.op("IsNaN", [X], "nan"), "nan")
    if not g.errors:  # nothing refuses any row: still an "error" output, all false
        g.refuse_rows(g.op("IsInf", [X], "never", detect_negative=0, detect_positive=0), "never")
    trees, set_columns = _set_columns(g, model, cols, sets)
    if set_columns:
        X = g.op("Concat", [X] + set_columns, "X.sets", axis=1)
    a = _tree_arrays(trees, member=sets == MEMBER)
    n_trees = len(model.trees)
    tensor = onnx.numpy_helper.from_array
    rules = {}
    if model.missing != "route":
        rules["missing"] = model.missing
    if model.infinite != "error":
        rules["infinite"] = model.infinite
    if model.accumulate != "float64":
        rules["accumulate"] = model.accumulate
    if model.divisors:
        rules["divisors"] = len(model.divisors)  # their values: the initializers divisor.<i>
    doc = step_doc("tree-ensemble", aggregation=model.aggregation, post_transform=model.post_transform, **rules)
    splits = np.ascontiguousarray(a["split"], dtype=np.float64)
    # a leaf's weight is its node index in its tree: the "leaves" output as it is,
    # and, plus its tree's offset, its row in the leaf-value table
    weights = a["node_of_leaf"].astype(np.float64)
    # a set compares x for equality: float32 (x) == k for doubles x near k, so no float32 splits
    if not len(a["members"]) and _splits_in_float32(model, splits, a["n_leaves"]):
        # float32 splits halve the tree's memory and match skl2onnx's speed in onnxruntime,
        # and lose nothing: see _float32_exact
        X = g.op("Cast", [X], "X.float32", to=onnx.TensorProto.FLOAT)
        splits, weights = float32_floor(splits), weights.astype(np.float32)

    def ensemble(hint: str, trees: slice) -> str:
        """One TreeEnsemble of ``trees``, its node and leaf ids counted from its first tree's."""
        first, end = trees.start, trees.stop
        s0, s1 = a["split_start"][first], a["split_start"][end]
        l0, l1 = a["leaf_start"][first], a["leaf_start"][end]
        modes = a["modes"][s0:s1]
        m0 = int((a["modes"][:s0] == BRANCH_MEMBER).sum())
        m1 = m0 + int((modes == BRANCH_MEMBER).sum())
        extra, node_doc = {}, doc
        if m1 > m0:
            # NaN ends each set; a set's members in increasing order, its node's missing side in the doc
            cuts = np.flatnonzero(np.isnan(a["members"]))
            lo = cuts[m0 - 1] + 1 if m0 else 0
            extra["membership_values"] = tensor(a["members"][lo : cuts[m1 - 1] + 1])
            node_doc = step_doc(
                "tree-ensemble",
                aggregation=model.aggregation,
                post_transform=model.post_transform,
                sets_missing_left=a["sides"][m0:m1],
                **rules,
            )

        def ids(kind):
            local = a[f"{kind}_id"][s0:s1]
            return _ints(np.where(a[f"{kind}_leaf"][s0:s1] == 1, local - l0, local - s0))

        return g.op(
            "TreeEnsemble",
            [X],
            hint,
            domain="ai.onnx.ml",
            doc=node_doc,
            aggregate_function=1,
            post_transform=0,
            n_targets=end - first,
            tree_roots=_ints(a["roots"][first:end] - s0),
            nodes_modes=tensor(a["modes"][s0:s1].astype(np.uint8)),
            nodes_featureids=_ints(a["feature"][s0:s1]),
            nodes_splits=tensor(splits[s0:s1]),
            nodes_truenodeids=ids("true"),
            nodes_trueleafs=_ints(a["true_leaf"][s0:s1]),
            nodes_falsenodeids=ids("false"),
            nodes_falseleafs=_ints(a["false_leaf"][s0:s1]),
            leaf_targetids=_ints(a["targets"][l0:l1] - first),
            leaf_weights=tensor(weights[l0:l1]),
            **extra,
        )

    if per_tree:
        # one target each: onnxruntime then walks blocks of rows through one tree at a time
        # (its multi-target loop walks every tree per row), and a one-term sum is exact
        reached = g.op("Concat", [ensemble(f"reached.{t}", slice(t, t + 1)) for t in range(n_trees)], "reached", axis=1)
    else:
        reached = ensemble("reached", slice(0, n_trees))
    # leaf indices are exact in the weight type: below 2**53 (double) or 2**24 (float)
    index = g.op("Cast", [reached], "leaf.index", to=onnx.TensorProto.INT64)
    leaves = index
    by_tree = g.op(
        "Add",
        [g.op("Transpose", [index], "leaf.node.by.tree", perm=[1, 0]), g.const("leaf.offset", a["offsets"])],
        "leaf.index.by.tree",
    )
    real = np.float32 if precision == FLOAT32 or model.accumulate == "float32" else np.float64
    if model.aggregation == "weighted-median":
        real = np.float64  # the median picks a stored value: both precisions keep it in double, exact
    if model.aggregation != "sum" or not exact:
        # 1.2 and before also wrote this table, unused, beside the one with the base value
        table = g.const("leaf.values", np.ascontiguousarray(a["values"], dtype=real))
    if model.aggregation == "sum":
        # the base value is the first term of the fold: a leaf row of its own, reached by every row
        base_row = g.const("base.index", np.array([[a["n_leaves"]]], dtype=np.int64))
        first = g.op(
            "Mul",
            [
                g.op("Gather", [by_tree, g.const("zero", np.array([0], dtype=np.int64))], "first.tree", axis=0),
                g.const("zero.int", np.array(0, dtype=np.int64)),
            ],
            "zeros.row",
        )
        by_tree = g.op("Concat", [g.op("Add", [first, base_row], "base.row"), by_tree], "with.base", axis=0)
        table = g.const("leaf.values.base", np.vstack([a["values"], model.base_value[None, :]]).astype(real))
    gathered = g.op("Gather", [table, by_tree], "leaf.values.reached", axis=0)
    if model.aggregation == "weighted-median":
        return _weighted_median(g, gathered, model.tree_weights), real, leaves
    if model.accumulate == "float32":
        return _float32_fold(g, gathered, n_trees + 1), real, leaves
    # ReduceSum over axis 0 of [trees, N, outputs]: a left fold in tree order, as SEMANTICS asks
    raw = g.op("ReduceSum", [gathered, g.const("axis0", np.array([0], dtype=np.int64))], "sum", keepdims=0)
    if model.aggregation == "average":
        raw = g.op("Div", [raw, g.const("tree.count", np.array([float(n_trees)], dtype=real))], "average")
    if model.divisors:
        raw = _divide(g, raw, model.divisors, real)
    return raw, real, leaves


def _weighted_median(g: Graph, gathered: str, weights: tuple) -> str:
    """Each row's weighted median of its tree values ([trees, N, 1] doubles), as the rule takes it:
    TopK ascending over all trees (equal values keep the lower tree index first, as the ONNX spec
    says), the weights in that order, their CumSum (a left fold), and the first position whose
    running sum is >= half the last (ArgMax of the comparison picks the first true)."""
    onnx = g.onnx
    n_trees = len(weights)
    values = g.op(
        "Transpose",
        [g.op("Squeeze", [gathered, g.const("axis2", np.array([2], dtype=np.int64))], "tree.values")],
        "row.values",
        perm=[1, 0],
    )
    name = g.name("sorted")
    order = f"{name}.order"
    g.nodes.append(
        g.h.make_node(
            "TopK",
            [values, g.const("tree.count.k", np.array([n_trees], dtype=np.int64))],
            [f"{name}.values", order],
            name=name,
            axis=1,
            largest=0,
            sorted=1,
        )
    )
    sorted_values = g.op("GatherElements", [values, order], "sorted.values", axis=1)
    sorted_weights = g.op(
        "Gather", [g.const("tree.weights", np.array(weights, dtype=np.float64)), order], "sorted.weights"
    )
    cdf = g.op("CumSum", [sorted_weights, g.const("axis1.scalar", np.array(1, dtype=np.int64))], "weight.cdf")
    last = g.op("Gather", [cdf, g.const("last.tree", np.array([n_trees - 1], dtype=np.int64))], "weight.total", axis=1)
    half = g.op("Mul", [last, g.const("half", np.array([0.5]))], "weight.half")
    reached = g.op(
        "Cast",
        [g.op("GreaterOrEqual", [cdf, half], "median.or.above")],
        "median.or.above.int",
        to=onnx.TensorProto.INT32,
    )
    pick = g.op("ArgMax", [reached], "median.position", axis=1, keepdims=1)
    return g.op("GatherElements", [sorted_values, pick], "weighted.median", axis=1)


def _divide(g: Graph, raw: str, divisors: tuple, real: type) -> str:
    """raw divided by each divisor in turn, in double (the rule's arithmetic); a float32 graph
    casts its sum in and the quotient out."""
    onnx = g.onnx
    if real == np.float32:
        raw = g.op("Cast", [raw], "divide.in", to=onnx.TensorProto.DOUBLE)
    for i, divisor in enumerate(divisors):
        raw = g.op("Div", [raw, g.const(f"divisor.{i}", np.array([divisor]))], f"divided.{i}")
    if real == np.float32:
        raw = g.op("Cast", [raw], "divide.out", to=onnx.TensorProto.FLOAT)
    return raw


def _float32_fold(g: Graph, gathered: str, terms: int) -> str:
    """The base value, then each tree's leaf value, added in float32 one Add at a time, in tree
    order (XGBoost's ``preds[i] += leaf``): each sum rounds to float32, as the rule asks, whatever
    order a runtime's ReduceSum would take."""

    def term(k: int) -> str:
        index = g.const(f"term.{k}", np.array(k, dtype=np.int64))
        return g.op("Gather", [gathered, index], f"fold.term.{k}", axis=0)

    acc = term(0)
    for k in range(1, terms):
        acc = g.op("Add", [acc, term(k)], f"fold.{k}")
    return acc
