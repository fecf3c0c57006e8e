"""The onnx reader's models: the trees back from TreeEnsemble attributes (either layout, set
splits from BRANCH_MEMBER nodes or membership columns), their leaf values, rules and post
transform; a linear model from its Mul and Add initializers."""

from __future__ import annotations

import json

import numpy as np

from ... import ir
from ...errors import LimitExceededError, cut, shown
from ...floats import float32_threshold
from .. import _limits
from .._envelope import CLASSES
from ._nodes import (
    attributes,
    const_of,
    const_of_name,
    doc_choice,
    is_int,
    node_doc,
    node_tag,
    read_classes,
    scalar_of_name,
)
from ._rules import BRANCH_GT, BRANCH_LEQ, BRANCH_MEMBER, INTERNAL, SET_THRESHOLD, OnnxStructureError, load_onnx

MAX_DIVISORS = 16  # a count a hand-edited file cannot turn into a long search of initializers


def check_tree_count(n_trees: int, where: str) -> None:
    """Refuse more trees than the shared limit before reading any of them (each costs Python work)."""
    if n_trees > _limits.MAX_TREES:
        raise LimitExceededError(where, f"expected at most {_limits.MAX_TREES} trees, found {n_trees}")


def _read_trees(node, inits: dict, where: str) -> tuple:
    attrs = attributes(node)
    onnx = load_onnx()

    def arr(name: str, dtype) -> np.ndarray:
        value = attrs.get(name)
        if value is None:
            raise OnnxStructureError(where, f"expected TreeEnsemble attribute {name!r}, found none")
        if isinstance(value, onnx.TensorProto):
            value = onnx.numpy_helper.to_array(value)
        return np.asarray(value, dtype=dtype).reshape(-1)

    feature = arr("nodes_featureids", np.int64)
    raw_split = attrs.get("nodes_splits")
    split = arr("nodes_splits", np.float64)
    if isinstance(raw_split, onnx.TensorProto) and raw_split.data_type == onnx.TensorProto.FLOAT:
        split = float32_threshold(split)  # the double threshold whose float32 floor was written
    true_id, true_leaf = arr("nodes_truenodeids", np.int64), arr("nodes_trueleafs", np.int64)
    false_id, false_leaf = arr("nodes_falsenodeids", np.int64), arr("nodes_falseleafs", np.int64)
    modes = arr("nodes_modes", np.int64)
    roots = arr("tree_roots", np.int64)
    targets = arr("leaf_targetids", np.int64)
    weights = arr("leaf_weights", np.float64)
    n_nodes, n_leaves = len(feature), len(targets)
    for name, a in (
        ("nodes_splits", split),
        ("nodes_truenodeids", true_id),
        ("nodes_trueleafs", true_leaf),
        ("nodes_falsenodeids", false_id),
        ("nodes_falseleafs", false_leaf),
        ("nodes_modes", modes),
    ):
        if len(a) != n_nodes:
            raise OnnxStructureError(where, f"expected {n_nodes} entries in {name}, found {len(a)}")
    if ((modes != BRANCH_LEQ) & (modes != BRANCH_GT) & (modes != BRANCH_MEMBER)).any():
        raise OnnxStructureError(
            where, "expected every node in mode BRANCH_LEQ (0), BRANCH_GT (3) or BRANCH_MEMBER (6)"
        )
    node_sets = _read_membership(node, attrs, modes, arr, where)
    n_trees = len(roots)
    check_tree_count(n_trees, where)
    if n_trees == 0 or roots[0] != 0 or (np.diff(roots) <= 0).any() or roots[-1] >= max(n_nodes, 1):
        raise OnnxStructureError(where, "expected tree_roots increasing from 0, one per tree, inside nodes_*")
    if len(targets) and (
        (np.diff(targets) < 0).any()
        or targets[0] != 0
        or targets[-1] != n_trees - 1
        or len(np.unique(targets)) != n_trees
    ):
        raise OnnxStructureError(where, "expected the leaves of tree t to target t, in tree order")
    split_end = np.append(roots[1:], n_nodes)
    leaf_start = np.searchsorted(targets, np.arange(n_trees))
    leaf_end = np.append(leaf_start[1:], n_leaves)
    node_of_leaf = np.arange(n_leaves) - np.repeat(leaf_start - (split_end - roots), leaf_end - leaf_start)
    node_of_leaf[np.repeat((split_end - roots == 1) & (leaf_end - leaf_start == 1), leaf_end - leaf_start)] = 0
    if len(weights) != n_leaves or not np.array_equal(weights, node_of_leaf):
        raise OnnxStructureError(
            where,
            "expected each leaf's weight to be its node index in its tree (the tree's splits first, then its leaves)",
        )
    trees = []
    for t in range(n_trees):
        lo, hi, llo, lhi = int(roots[t]), int(split_end[t]), int(leaf_start[t]), int(leaf_end[t])
        s, k = hi - lo, lhi - llo
        if s == 1 and true_leaf[lo] and false_leaf[lo] and true_id[lo] == false_id[lo] == llo and k == 1:
            trees.append((np.array([-1]), np.zeros(1), np.array([-1]), np.array([-1]), np.zeros(1, bool), [llo], ()))
            continue
        if k != s + 1:
            # before any per-node work: the caller sizes each tree's leaf values by nodes x outputs
            raise OnnxStructureError(
                where, f"expected tree {t} to have one leaf more than its {s} splits, found {k} leaves"
            )

        def local(ids, leafs, what):
            ids, leafs = ids[lo:hi], leafs[lo:hi].astype(bool)
            bad = (leafs & ((ids < llo) | (ids >= lhi))) | (~leafs & ((ids <= lo) | (ids >= hi)))
            if bad.any():
                raise OnnxStructureError(
                    where,
                    f"expected {what} of tree {t} inside that tree, found "
                    f"{int(ids[bad][0])} at node {lo + int(np.argmax(bad))}",
                )
            return np.where(leafs, s + ids - llo, ids - lo)

        true = local(true_id, true_leaf, "nodes_truenodeids")
        false = local(false_id, false_leaf, "nodes_falsenodeids")
        # x > t: true goes right, NaN (false) left; a set: true (in it) goes away from the missing side
        nan_left = (modes[lo:hi] == BRANCH_GT) | np.array(
            [node_sets[n] is not None and node_sets[n][0] for n in range(lo, hi)], dtype=bool
        )
        trees.append(
            (
                np.concatenate([feature[lo:hi], np.full(k, -1)]),
                np.concatenate([split[lo:hi], np.zeros(k)]),
                np.concatenate([np.where(nan_left, false, true), np.full(k, -1)]),
                np.concatenate([np.where(nan_left, true, false), np.full(k, -1)]),
                np.concatenate([nan_left, np.zeros(k, bool)]),
                list(range(llo, lhi)),
                tuple(None if v is None else v[1] for v in node_sets[lo:hi]) + (None,) * k
                if any(v is not None for v in node_sets[lo:hi])
                else (),
            )
        )
    return trees, n_leaves


def _read_membership(node, attrs: dict, modes: np.ndarray, arr, where: str) -> list:
    """Per node, None or (missing_left, the set) of a BRANCH_MEMBER node: membership_values holds
    each set in node order, increasing, ended by NaN; the doc_string's sets_missing_left a side each."""
    n_sets = int((modes == BRANCH_MEMBER).sum())
    out = [None] * len(modes)
    if not n_sets:
        if "membership_values" in attrs:
            raise OnnxStructureError(where, "expected no membership_values without BRANCH_MEMBER nodes, found some")
        return out
    values = arr("membership_values", np.float64)
    sides = node_doc(node, where).get("sets_missing_left")
    if not isinstance(sides, list) or len(sides) != n_sets or not all(isinstance(v, bool) for v in sides):
        raise OnnxStructureError(
            where,
            f"expected doc_string key 'sets_missing_left' of node {node.name!r} to be "
            f"{n_sets} booleans, one per BRANCH_MEMBER node, found "
            f"{cut(json.dumps(sides))}",
        )
    cuts = np.flatnonzero(np.isnan(values))
    if len(cuts) != n_sets or (len(values) and not np.isnan(values[-1])):
        raise OnnxStructureError(
            where,
            f"expected membership_values to hold {n_sets} sets, each ended by NaN, "
            f"found {len(cuts)} NaN separators in {len(values)} values",
        )
    starts = np.concatenate([[0], cuts[:-1] + 1])
    for k, (n, lo, hi) in enumerate(zip(np.flatnonzero(modes == BRANCH_MEMBER).tolist(), starts, cuts)):
        members = values[lo:hi]
        if not len(members) or (np.diff(members) <= 0).any():
            raise OnnxStructureError(
                where,
                f"expected set {k} of membership_values (node {n}) to be non-empty and "
                f"strictly increasing, found {members.tolist()[:8]}",
            )
        out[n] = (sides[k], tuple(members.tolist()))
    return out


class _MemberGraph:
    """What the model readers read of a proto (``graph.node``), for member i of a composite: its
    nodes with their prefix m<i>. taken off the hint, and every node outside the members."""

    def __init__(self, nodes: list):
        self.node = nodes


class _MemberView:
    def __init__(self, nodes: list):
        self.graph = _MemberGraph(nodes)


def _member_view(proto, inits: dict, prefix: str) -> tuple:
    """(a proto-like view, initializers) in which member i (``prefix`` m<i>.) or a stack's final
    model (final.) reads as a model of its own: its initializers also under their names without
    the prefix, as const_of_name finds them. The final model sees the stack's columns too."""
    nodes, names = [], dict(inits)
    for node in proto.graph.node:
        tag = node_tag(node)
        if tag.startswith(prefix):
            copy = type(node)()
            copy.CopyFrom(node)
            copy.name = node.name[: len(node.name) - len(tag)] + tag[len(prefix) :]
            nodes.append(copy)
        elif tag.startswith(("composite.", "final.")):
            if prefix == "final." and tag.startswith("composite.stack."):
                copy = type(node)()  # a producer of the columns the final model reads, nothing more
                copy.CopyFrom(node)
                copy.doc_string = ""
                nodes.append(copy)
        elif not (tag.startswith("m") and tag.split(".", 1)[0][1:].isdigit()):
            nodes.append(node)
    for name, value in inits.items():
        hint = name.split(":", 2)[-1]
        if name.startswith(INTERNAL) and hint.startswith(prefix):
            names[name[: len(name) - len(hint)] + hint[len(prefix) :]] = value
    return _MemberView(nodes), names


def _read_composite(proto, first, inits: dict, props: dict, where: str, per_tree: bool) -> ir.Composite:
    """Each member from the nodes under its prefix, then the combination's weights and divisor."""
    doc = node_doc(first, where)
    count = doc.get("members")
    if not is_int(count) or not 1 <= count <= _limits.MAX_TREES:
        raise OnnxStructureError(
            where, f"expected doc_string key 'members' to be a member count, found {cut(json.dumps(count))}"
        )
    raw = doc.get("raw_members", [])
    if not isinstance(raw, list) or not all(is_int(i) and 0 <= i < count for i in raw):
        raise OnnxStructureError(
            where, f"expected doc_string key 'raw_members' to list members, found {cut(json.dumps(raw))}"
        )
    classless = {key: value for key, value in props.items() if key != CLASSES}
    members = []
    for i in range(count):
        view, names = _member_view(proto, inits, f"m{i}.")
        member_props = classless if i in raw else props
        members.append(read_model(view, names, member_props, f"{where} (member {i})", per_tree, composite=False))
    combination = doc_choice(doc, "combination", ir.COMBINATIONS, None, where)
    steps = _read_target_steps(proto, doc, inits, where) if combination == "target" or "steps" in doc else ()
    if combination == "stack":
        view, names = _member_view(proto, inits, "final.")
        final = read_model(view, names, props, f"{where} (final model)", per_tree, composite=False)
        if not isinstance(final, ir.LinearModel):
            raise OnnxStructureError(where, "expected the stack's final model to be a linear model")
        passthrough = len(final.features) > len(ir.stack_columns(tuple(members), False))
        return ir.Composite(tuple(members), combination, None, None, None, final, passthrough, target_steps=steps)
    if combination == "target":
        return ir.Composite(tuple(members), combination, target_steps=steps)
    classes = read_classes(props, where)
    if combination == "calibrate" and doc.get("calibration", "sigmoid") == "isotonic":
        widths = ir.calibration_widths(tuple(members), len(classes or ()))
        calibration = tuple(
            tuple(
                np.column_stack(
                    [
                        const_of_name(inits, f"composite.x.{i}.{c}", where),
                        const_of_name(inits, f"composite.y.{i}.{c}", where),
                    ]
                )
                for c in range(width)
            )
            for i, width in enumerate(widths)
        )
        divisor = scalar_of_name(inits, "composite.divisor", where)
        return ir.Composite(
            tuple(members), combination, None, divisor, classes, calibration=calibration, calibration_method="isotonic"
        )
    if doc.get("calibration", "sigmoid") != "sigmoid":
        raise OnnxStructureError(
            where,
            "expected doc_string key 'calibration' to be 'isotonic' under combination 'calibrate', or absent, "
            f"found {cut(json.dumps(doc.get('calibration')))}",
        )
    if combination == "calibrate":
        calibration = tuple(
            np.column_stack(
                [const_of_name(inits, f"composite.a.{i}", where), const_of_name(inits, f"composite.b.{i}", where)]
            )
            for i in range(count)
        )
        divisor = scalar_of_name(inits, "composite.divisor", where)
        return ir.Composite(tuple(members), combination, None, divisor, classes, calibration=calibration)
    weights = [scalar_of_name(inits, f"composite.weight.{i}", where) for i in range(count)]
    divisor = scalar_of_name(inits, "composite.divisor", where) if combination == "average" else None
    return ir.Composite(
        tuple(members), combination, np.array(weights), divisor, read_classes(props, where), target_steps=steps
    )


TARGET_NODES = {"Add": "add", "Sub": "subtract", "Mul": "multiply", "Div": "divide", "Exp": "exp"}


def _read_target_steps(proto, doc: dict, inits: dict, where: str) -> tuple:
    """Each step from its node "composite.target.<i>" (the op) and constant "composite.target.number.<i>"."""
    count = doc.get("steps")
    if not is_int(count) or not 1 <= count <= _limits.MAX_TREES:
        raise OnnxStructureError(
            where, f"expected doc_string key 'steps' to be a step count, found {cut(json.dumps(count))}"
        )
    nodes = {node_tag(n): n for n in proto.graph.node if node_tag(n).startswith("composite.target.")}
    steps = []
    for i in range(count):
        node = nodes.get(f"composite.target.{i}")
        if node is None or node.op_type not in TARGET_NODES:
            found = "none" if node is None else node.op_type
            raise OnnxStructureError(
                where, f"expected target step {i} as one of {sorted(TARGET_NODES)} nodes, found {found}"
            )
        op = TARGET_NODES[node.op_type]
        number = None if op == "exp" else scalar_of_name(inits, f"composite.target.number.{i}", where)
        steps.append((op, number))
    return tuple(steps)


def read_model(proto, inits: dict, props: dict, where: str, per_tree: bool, composite: bool = True) -> ir.Model:
    """A TreeEnsemble from the file's TreeEnsemble nodes, or (from 1.3) a LinearModel, or (from
    1.4) a Composite of them (``composite``: False for a composite's member, never one itself)."""
    first = [n for n in proto.graph.node if node_tag(n).startswith("composite.") and n.doc_string]
    if first:
        if not composite:
            raise OnnxStructureError(where, "expected a tree ensemble or a linear model, found a composite")
        return _read_composite(proto, first[0], inits, props, where, per_tree)
    ensembles = [n for n in proto.graph.node if n.op_type == "TreeEnsemble"]
    linear = [n for n in proto.graph.node if node_tag(n) == "linear.products"]
    if linear and not ensembles:
        return _read_linear(proto, linear, inits, props, where)
    concats = [n for n in proto.graph.node if node_tag(n) == "X"]
    if (len(ensembles) == 0 if per_tree else len(ensembles) != 1) or len(concats) != 1:
        raise OnnxStructureError(
            where,
            f"expected {'a TreeEnsemble per tree' if per_tree else 'one TreeEnsemble'} "
            f"reading one Concat 'X', found {len(ensembles)} and {len(concats)}",
        )
    doc = node_doc(ensembles[0], where)
    features = _model_features(proto, concats[0], where)
    trees, n_leaves = [], 0
    for t, node in enumerate(ensembles):
        part, count = _read_trees(node, inits, where)
        if per_tree and len(part) != 1:
            raise OnnxStructureError(where, f"expected one tree in TreeEnsemble {t} ({node.name!r}), found {len(part)}")
        trees += [(*tree[:5], [row + n_leaves for row in tree[5]], tree[6]) for tree in part]
        n_leaves += count
    aggregation = doc.get("aggregation")
    base = None
    if aggregation == "sum":
        values = const_of_name(inits, "leaf.values.base", where)
        values, base = values[:-1], (values[-1].astype(np.float64) if values.ndim == 2 and len(values) else None)
    else:
        values = const_of_name(inits, "leaf.values", where)
    if values.ndim != 2 or len(values) != n_leaves:
        raise OnnxStructureError(where, f"expected a leaf-value table of {n_leaves} rows, found shape {values.shape}")
    set_splits = _read_set_columns(proto, inits, len(features), where)
    built, used = [], 0
    for feature, threshold, left, right, missing_left, rows, native in trees:
        value = np.zeros((len(feature), values.shape[1]))
        value[feature < 0] = values[rows]
        sets = list(native) if native else [None] * len(feature)
        for n in np.flatnonzero(feature >= len(features)).tolist():
            k = int(feature[n]) - len(features)
            if k >= len(set_splits) or threshold[n] != SET_THRESHOLD or missing_left[n]:
                raise OnnxStructureError(
                    where,
                    f"expected node {n} of a tree to split a set column (one of "
                    f"{len(set_splits)}) at {SET_THRESHOLD!r} in mode BRANCH_LEQ, found "
                    f"column {int(feature[n])}, threshold {threshold[n]!r}",
                )
            feature[n], (missing_left[n], sets[n]) = set_splits[k][0], set_splits[k][1:]
            threshold[n] = 0.0
            used += 1
        built.append(
            ir.Tree(
                feature,
                threshold,
                left,
                right,
                missing_left,
                value,
                tuple(sets) if any(v is not None for v in sets) else (),
            )
        )
    if used != len(set_splits):
        raise OnnxStructureError(
            where, f"expected each of the {len(set_splits)} set columns to be split once, found {used} set splits"
        )
    classes = read_classes(props, where)
    rules = {
        key: doc_choice(doc, key, choices, default, where)
        for key, choices, default in (
            ("missing", ir.MISSING_RULES, "route"),
            ("infinite", ir.INFINITE_RULES, "error"),
            ("accumulate", ir.ACCUMULATE_RULES, "float64"),
        )
    }
    post = doc.get("post_transform")
    isolation = None
    if post == "isolation":
        isolation = tuple(scalar_of_name(inits, hint, where) for hint in ("isolation.denominator", "isolation.offset"))
    count = doc.get("divisors", 0)
    if not is_int(count) or not 0 <= count <= MAX_DIVISORS or ("divisors" in doc and count == 0):
        raise OnnxStructureError(
            where,
            f"expected the model's 'divisors' to be their count, 1 to {MAX_DIVISORS} (absent for none), "
            f"found {cut(json.dumps(doc.get('divisors')))}",
        )
    divisors = tuple(scalar_of_name(inits, f"divisor.{i}", where) for i in range(count))
    tree_weights = ()
    if aggregation == "weighted-median":
        weights = const_of_name(inits, "tree.weights", where)
        if weights.ndim != 1 or weights.dtype != np.float64:
            raise OnnxStructureError(
                where,
                f"expected 'tree.weights' to be a vector of doubles, found {weights.dtype} of shape {weights.shape}",
            )
        tree_weights = tuple(weights.tolist())
    return ir.TreeEnsemble(
        features,
        tuple(built),
        aggregation,
        post,
        classes,
        base,
        isolation=isolation,
        divisors=divisors,
        tree_weights=tree_weights,
        **rules,
    )


def _read_set_columns(proto, inits: dict, width: int, where: str) -> list:
    """(feature, missing_left, values) of each set split, from the columns the Concat
    'X.sets' adds after X (see _write_trees._set_columns): the Equal node set.<k>.equal holds the
    values and, in its doc_string, the feature and the missing side."""
    concats = [n for n in proto.graph.node if node_tag(n) == "X.sets"]
    if not concats:
        return []
    by_tag = {node_tag(n): n for n in proto.graph.node}
    out = []
    for k in range(len(concats[0].input) - 1):
        node = by_tag.get(f"set.{k}.equal")
        if node is None:
            raise OnnxStructureError(where, f"expected a node set.{k}.equal for set column {k}, found none")
        doc = node_doc(node, where)
        feature, missing_left = doc.get("feature"), doc.get("missing_left")
        if not is_int(feature) or not 0 <= feature < width or not isinstance(missing_left, bool):
            raise OnnxStructureError(
                where,
                f"expected set split {k} to name a feature below {width} and its "
                f"missing side (true or false), found {cut(json.dumps(doc))}",
            )
        values = const_of(node, 1, inits, where)
        if values.dtype != np.float64 or values.ndim != 1:
            raise OnnxStructureError(
                where,
                f"expected the values of set split {k} as a 1-D double tensor, found "
                f"{values.dtype} of shape {list(values.shape)}",
            )
        out.append((feature, missing_left, tuple(values.tolist())))
    return out


def _read_linear(proto, linear: list, inits: dict, props: dict, where: str) -> ir.LinearModel:
    """Coefficients from the Mul's [features, 1, outputs] initializer, intercepts from the Add's."""
    concats = [n for n in proto.graph.node if node_tag(n) == "X"]
    raws = [n for n in proto.graph.node if node_tag(n) == "linear.raw"]
    if len(linear) != 1 or len(concats) != 1 or len(raws) != 1:
        raise OnnxStructureError(
            where,
            f"expected one linear model (nodes 'X', 'linear.products', 'linear.raw'), "
            f"found {len(concats)}, {len(linear)} and {len(raws)}",
        )
    doc = node_doc(linear[0], where)
    features = _model_features(proto, concats[0], where)
    weights = const_of(linear[0], 1, inits, where)
    if weights.dtype != np.float64 or weights.ndim != 3 or weights.shape[:2] != (len(features), 1):
        raise OnnxStructureError(
            where,
            f"expected coefficients of type double and shape [{len(features)}, 1, "
            f"outputs], found {weights.dtype} of shape {list(weights.shape)}",
        )
    intercepts = const_of(raws[0], 1, inits, where)
    if intercepts.dtype != np.float64 or intercepts.shape != (weights.shape[2],):
        raise OnnxStructureError(
            where,
            f"expected intercepts of type double and shape [{weights.shape[2]}], "
            f"found {intercepts.dtype} of shape {list(intercepts.shape)}",
        )
    post = doc_choice(doc, "post_transform", ir.LINEAR_POST_TRANSFORMS, None, where)
    return ir.LinearModel(features, weights[:, 0, :].T, intercepts, post, read_classes(props, where))


def _model_features(proto, concat, where: str) -> tuple:
    """Column names from the tensors the Concat reads: a graph input, or an encoder output."""
    producers = {out: n for n in proto.graph.node for out in n.output}
    names = []
    for tensor in concat.input:
        if (
            tensor in producers
            and node_tag(producers[tensor]).startswith("in.")
            and producers[tensor].op_type == "Cast"
        ):
            names.append(producers[tensor].input[0])  # a float32 input, cast to double
        elif tensor in producers and node_tag(producers[tensor]).startswith("composite.stack."):
            node = producers[tensor]  # a stack's column j: the node's first column, plus the output
            first = node_tag(node).split(".")[2]
            if not first.isdigit():
                raise OnnxStructureError(
                    where, f"expected a stack column node composite.stack.<j>, found {node.name!r}"
                )
            names.append(f"stack({int(first) + list(node.output).index(tensor)})")
        elif tensor in producers:
            node = producers[tensor]
            names.append(_output_column(proto, node, tensor, where))
        else:
            names.append(tensor)
    return tuple(names)


def _output_column(proto, node, tensor, where) -> str:
    tag = node_tag(node)  # e{i}.{j}.<step>
    parts = tag.split(".")
    if len(parts) < 3 or not parts[0].startswith("e"):
        raise OnnxStructureError(
            where, f"expected the model to read graph inputs or encoder outputs, found {shown(tensor)}"
        )
    i, j = parts[0][1:], parts[1]
    for n in proto.graph.node:
        if node_tag(n).startswith(f"e{i}.{j}.") and n.doc_string:
            doc = node_doc(n, where)
            break
    else:
        first = [n for n in proto.graph.node if node_tag(n).startswith(f"e{i}.0.") and n.doc_string]
        if not first:
            raise OnnxStructureError(where, f"expected encoder {i} to describe itself, found nothing")
        doc = node_doc(first[0], where)
    outputs = doc.get("outputs", [])
    try:
        k = int(j)
        if doc.get("crossform") == "one-hot":  # feature j's block; a Split names the column by its output
            k = sum(doc["widths"][:k]) + list(node.output).index(tensor)
        elif doc.get("crossform") == "projection":  # one Split: output k is column k
            k = list(node.output).index(tensor)
        return outputs[k]
    except (ValueError, IndexError, KeyError, TypeError):
        raise OnnxStructureError(where, f"expected output {j} of encoder {i}, found none") from None
