"""The pmml reader's models: the trees (from their Node lines, or from what expat gathered)
and linear models rebuilt from the parsed document, laid out as model_writer lays them out.
"""

from __future__ import annotations

import math
import re
import types
from typing import Any, Union

import numpy as np

from ... import ir
from ...errors import LimitExceededError, shown
from .. import _envelope, _limits
from . import composite_writer
from .parse import _floats, _header_json, _number, _Reader, _Slow, _Tree
from .rules import (
    BASE_SEGMENT,
    INF,
    MAX_OUTPUTS,
    MODEL,
    PmmlHeaderError,
    PmmlStructureError,
    leaf_values,
)

_NODE = re.compile(
    r'<Node id="([0-9]+)" (?:defaultChild="([0-9]+)"|score="([^"]*)")>'
    r'(?:<True/>|<SimplePredicate field="([^"]*)" operator="lessOrEqual" value="([^"]*)"/>'
    r'|<SimpleSetPredicate field="([^"]*)" booleanOperator="is(?:Not)?In"><Array type="real" '
    r'n="[0-9]+">([^<]*)</Array></SimpleSetPredicate>)'
    r'((?:<ScoreDistribution value="[^"]*" recordCount="[^"]*"/>)*)((?:</Node>)*)'
)
_DIST = re.compile(r'<ScoreDistribution value="([^"]*)" recordCount="([^"]*)"/>')
_UNESCAPE = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#9;": "\t", "&#10;": "\n", "&#13;": "\r"}
_ENTITY = re.compile("&(?:amp|lt|gt|quot|#9|#10|#13);")


def _unescape(text: Union[str, None]) -> Union[str, None]:
    if text is None or "&" not in text:
        return text
    return _ENTITY.sub(lambda m: _UNESCAPE[m.group(0)], text)


def _lines_tree(text: str, index: dict, labels: Union[dict, None], width: int, where: str) -> ir.Tree:
    """A tree from its Node lines, in numpy: node i is line i (preorder). A
    split node is followed by its left child; a leaf closes itself and the
    splits whose subtrees it ends, so depths follow by a cumulative sum, and a
    node's parent is the last node before it one level up."""
    rows = _NODE.findall(text)
    n = len(rows)
    if n == 0 or n > _limits.MAX_NODES or n != text.count("\n"):
        raise _Slow()
    _, default, score, field, value, set_field, set_values, dist, closes = zip(*rows)
    closes = np.fromiter(map(len, closes), dtype=np.int64, count=n) // 7
    split = closes == 0
    depth = np.zeros(n, dtype=np.int64)
    np.cumsum(np.where(split, 1, 1 - closes)[:-1], out=depth[1:])
    if depth[-1] - closes[-1] != -1 or (depth[1:] < 1).any():
        raise _Slow()  # the last leaf closes the root; nothing before it does
    nodes = np.arange(n, dtype=np.int64)
    key = depth * (n + 1) + nodes
    order = np.sort(key)
    parent = np.full(n, -1, dtype=np.int64)
    at = np.searchsorted(order, key[1:] - (n + 1)) - 1
    parent[1:] = order[at] - (depth[1:] - 1) * (n + 1)
    children = np.bincount(parent[1:], minlength=n)
    if (children[split] != 2).any() or (children[~split] != 0).any() or (parent[1:][split[:-1]] < 0).any():
        raise _Slow()
    left = np.where(split, nodes + 1, -1)
    right = np.full(n, -1, dtype=np.int64)
    second = np.flatnonzero(parent >= 0)
    second = second[second != parent[second] + 1]
    right[parent[second]] = second
    splits = np.flatnonzero(split)
    first = splits + 1
    try:
        feature = np.full(n, -1, dtype=np.int64)
        feature[splits] = [index[_unescape(field[i] or set_field[i])] for i in first.tolist()]
    except KeyError as exc:
        raise PmmlStructureError(where, f"expected Nodes to test model features, found {shown(exc.args[0])}") from None
    threshold = np.zeros(n)
    sets: Any = ()
    if any(set_field):  # a field name is never empty: these are set splits
        sets = [None] * n
        for p in splits.tolist():
            if set_field[p + 1]:
                sets[p] = tuple(_floats(set_values[p + 1].split(" "), "a set value", where).tolist())
    plain = [p for p in splits.tolist() if not set_field[p + 1]]
    threshold[plain] = _floats([value[p + 1] for p in plain], "a threshold", where, infinity=INF)
    try:
        defaults = np.array([int(default[i]) for i in splits.tolist()], dtype=np.int64)
    except (TypeError, ValueError):
        raise _Slow() from None
    missing_left = np.zeros(n, dtype=bool)
    missing_left[splits] = defaults == first
    leaves = np.flatnonzero(~split)
    if labels is not None:  # before the (nodes x classes) values: each leaf brings a value per class
        found = _DIST.findall("".join(dist[i] for i in leaves.tolist()))
        if len(found) != len(leaves) * width:
            raise _Slow()
    values = np.zeros((n, width))
    if labels is None:
        values[leaves, 0] = _floats([score[i] for i in leaves.tolist()], "a leaf score", where)
    else:
        values[leaves] = leaf_values(_floats([v for _, v in found], "a recordCount", where).reshape(len(leaves), width))
    return ir.Tree(feature, threshold, left, right, missing_left, values, sets)


def _read_tree(tree: _Tree, index: dict, labels: Union[dict, None], width: int, where: str) -> ir.Tree:
    n = len(tree.ids)
    if n == 0:
        raise PmmlStructureError(where, "expected a TreeModel with a root Node, found none")
    kids: list = [[] for _ in range(n)]
    for i, p in enumerate(tree.parent):
        if p >= 0:
            kids[p].append(i)
    feature, threshold, sets = [-1] * n, [0.0] * n, [None] * n
    left, right, missing_left = [-1] * n, [-1] * n, [False] * n
    # a leaf's values are made only from the ScoreDistributions it holds, one per class, and
    # the (nodes x classes) table only once every node is read: a few bytes of Nodes under
    # many classes cannot ask for gigabytes
    leaf_rows: dict = {}
    ids, field, raw, default, dist, score = tree.ids, tree.field, tree.value, tree.default, tree.dist, tree.score
    for p in range(n):
        k = kids[p]
        if not k:
            if labels is None:
                leaf_rows[p] = _number(score[p], f"the score of node {shown(ids[p])}", where)
                continue
            if len(dist[p] or ()) != width:
                raise PmmlStructureError(
                    where,
                    f"expected {width} ScoreDistributions (one per class) in leaf node "
                    f"{shown(ids[p])}, found {len(dist[p] or ())}",
                )
            row = np.zeros((1, width))
            for label, probability in dist[p]:
                if label not in labels:
                    raise PmmlStructureError(
                        where,
                        f"expected a class label in ScoreDistribution of node {shown(ids[p])}, found {shown(label)}",
                    )
                row[0, labels[label]] = _number(probability, f"a recordCount of node {shown(ids[p])}", where)
            leaf_rows[p] = leaf_values(row)[0]
            continue
        if len(k) != 2:
            raise PmmlStructureError(where, f"expected two child Nodes under node {shown(ids[p])}, found {len(k)}")
        a, b = k
        if field[a] not in index:
            raise PmmlStructureError(
                where, f"expected node {shown(ids[a])} to test a model feature, found {shown(field[a])}"
            )
        left[p], right[p] = a, b
        feature[p] = index[field[a]]
        if tree.op[a] in ("isIn", "isNotIn"):
            sets[p] = tuple(_floats((raw[a] or "").split(" "), f"a set value of node {shown(ids[a])}", where).tolist())
        else:
            threshold[p] = _floats([raw[a]], f"the threshold of node {shown(ids[a])}", where, infinity=INF)[0]
        missing_left[p] = default[p] == ids[a]
    value = np.zeros((n, width))
    value[list(leaf_rows)] = np.array(list(leaf_rows.values())).reshape(len(leaf_rows), width)
    return ir.Tree(
        feature, threshold, left, right, missing_left, value, sets if any(v is not None for v in sets) else ()
    )


def _read_model(reader: _Reader, ir_name: dict, where: str) -> ir.Model:
    header = reader.header
    spec = _header_json(header, MODEL, where)
    if not isinstance(spec, dict) or not isinstance(spec.get("features"), list):
        raise PmmlHeaderError(where, f'expected a JSON object with "features" in Extension {MODEL!r}')
    features = tuple(spec["features"])
    final = {}
    for pmml, name in ir_name.items():
        final[name] = pmml  # later bindings win, as the encoders overwrite
    index = {}
    for k, name in enumerate(features):
        if not isinstance(name, str) or name not in final:
            raise PmmlHeaderError(where, f"expected model features naming columns, found {shown(name)}")
        index[final[name]] = k
    classes = _header_json(header, _envelope.CLASSES, where) if _envelope.CLASSES in header else None
    if classes is not None and not isinstance(classes, list):
        raise PmmlHeaderError(where, f"expected a JSON list in Extension {_envelope.CLASSES!r}")
    if classes is not None and len(classes) > MAX_OUTPUTS:
        raise LimitExceededError(where, f"expected at most {MAX_OUTPUTS} classes, found {len(classes)}")
    kind = spec.get("type", "trees")
    if kind not in MODEL_READERS:
        raise PmmlHeaderError(
            where,
            f"expected a model type {' or '.join(map(repr, MODEL_READERS))} in Extension "
            f"{MODEL!r}, found {shown(kind)}",
        )
    return MODEL_READERS[kind](reader, spec, features, index, tuple(classes) if classes is not None else None, where)


def _read_one(tree: Any, index: dict, labels: Union[dict, None], width: int, where: str) -> ir.Tree:
    if isinstance(tree, str):
        return _lines_tree(tree, index, labels, width, where)
    return _read_tree(tree, index, labels, width, where)


def _read_trees(
    reader: _Reader, spec: dict, features: tuple, index: dict, classes: Union[tuple, None], where: str
) -> ir.TreeEnsemble:
    """Flat: the Segments are the trees (a sum's base first). Chained: per score a
    MiningModel (Segment raw or raw(k)) whose Segments are its base and the trees
    it adds, each with its tree index as id; tree t's k-th values come from score
    k's copy (zeros where a sum skipped it), its splits from the first copy."""
    aggregation = spec.get("aggregation")
    rules = {key: spec[key] for key in ("missing", "infinite", "accumulate") if key in spec}
    if "isolation" in spec:
        if not isinstance(spec["isolation"], list):
            raise PmmlHeaderError(
                where,
                f'expected a JSON list [denominator, offset] as "isolation" in '
                f"Extension {MODEL!r}, found {shown(spec['isolation'])}",
            )
        rules["isolation"] = tuple(spec["isolation"])
    if "divisors" in spec:
        if not isinstance(spec["divisors"], list) or not spec["divisors"]:
            raise PmmlHeaderError(
                where,
                f'expected a non-empty JSON list of numbers as "divisors" in Extension {MODEL!r}, '
                f"found {shown(spec['divisors'])}",
            )
        rules["divisors"] = tuple(spec["divisors"])
    if "tree_weights" in spec:
        if not isinstance(spec["tree_weights"], list):
            raise PmmlHeaderError(
                where,
                f'expected a JSON list of numbers as "tree_weights" in Extension {MODEL!r}, '
                f"found {shown(spec['tree_weights'])}",
            )
        rules["tree_weights"] = tuple(spec["tree_weights"])
    paths: dict = {}
    for path, sid, tree in reader.segments:
        if len(path) > 1:
            raise PmmlStructureError(
                where,
                f"expected TreeModels at most two Segments deep, found one in "
                f"Segment {'/'.join(map(str, path + (sid,)))!r}",
            )
        paths.setdefault(path, []).append((sid, tree))
    if not paths:
        raise PmmlStructureError(where, "expected Segments holding TreeModels, found none")
    if () in paths and len(paths) > 1:
        raise PmmlStructureError(where, "expected TreeModels either as the top Segments or one level below, not both")
    base, trees = [], None
    if () in paths:  # flat
        labels = {str(c): k for k, c in enumerate(classes)} if classes is not None else None
        width = len(classes) if classes is not None else 1
        segments = paths[()]
        if segments[0][0] == BASE_SEGMENT:
            base.append(_base_value(segments[0][1], index, where))
            segments = segments[1:]
        if len(segments) > _limits.MAX_TREES:
            raise LimitExceededError(where, f"expected at most {_limits.MAX_TREES} trees, found {len(segments)}")
        trees = tuple(_read_one(tree, index, labels, width, f"{where}#Segment[{sid}]") for sid, tree in segments)
    else:
        copies: dict = {}  # tree index -> {score k: tree}
        for k, (path, segments) in enumerate(paths.items()):
            label = f"{where}#Segment[{path[0]}]"
            if segments[0][0] == BASE_SEGMENT:
                base.append(_base_value(segments[0][1], index, label))
                segments = segments[1:]
            for sid, tree in segments:
                if not isinstance(sid, str) or re.fullmatch("0|[1-9][0-9]{0,8}", sid) is None:
                    raise PmmlStructureError(label, f"expected Segments with tree indices as ids, found {shown(sid)}")
                copies.setdefault(int(sid), {})[k] = _read_one(tree, index, None, 1, f"{label}/Segment[{sid}]")
        if len(copies) > _limits.MAX_TREES:
            raise LimitExceededError(where, f"expected at most {_limits.MAX_TREES} trees, found {len(copies)}")
        if sorted(copies) != list(range(len(copies))):
            raise PmmlStructureError(
                where, f"expected Segments for trees 0 to {len(copies) - 1}, found ids {sorted(copies)[:10]}"
            )
        trees = tuple(_combined(copies[t], len(paths), f"{where}#tree {t}") for t in range(len(copies)))
    return ir.TreeEnsemble(
        features,
        trees,
        aggregation,
        spec.get("post_transform"),
        classes,
        base if aggregation == "sum" else None,
        **rules,
    )


def _base_value(tree: Any, index: dict, where: str) -> float:
    if isinstance(tree, str):
        return float(_lines_tree(tree, index, None, 1, where).value[0, 0])
    return _number(tree.score[0] if tree.score else None, "the base value", where)


def _combined(copies: dict, width: int, where: str) -> ir.Tree:
    """One tree from its copies in the scores' sums: the first copy's splits, each copy's values."""
    first = copies[min(copies)]
    value = np.zeros((first.n_nodes, width))
    for k, tree in copies.items():
        same = (
            tree.n_nodes == first.n_nodes
            and tree.sets == first.sets
            and all(
                np.array_equal(getattr(tree, a), getattr(first, a))
                for a in ("feature", "threshold", "left", "right", "missing_left")
            )
        )
        if not same:
            raise PmmlStructureError(
                where, f"expected the same splits in every score's copy of the tree, found other splits in score {k}"
            )
        value[:, k] = tree.value[:, 0]
    return ir.Tree(first.feature, first.threshold, first.left, first.right, first.missing_left, value, first.sets)


def _read_linear(
    reader: _Reader, spec: dict, features: tuple, index: dict, classes: Union[tuple, None], where: str
) -> ir.LinearModel:
    """The scores are the RegressionTables with predictors, in document order (a
    logit link's second table, class 0's, has none); each names every model
    feature once."""
    if reader.segments:
        raise PmmlStructureError(where, "expected no TreeModel in a linear model's document")
    rows, intercepts = [], []
    for _path, _category, intercept, predictors in reader.tables:
        if not predictors:
            continue
        label = f"{where}#RegressionTable[{len(rows)}]"
        row = np.full(len(features), np.nan)
        for name, coefficient in predictors:
            k = index.get(name)
            if k is None or not math.isnan(row[k]):
                raise PmmlStructureError(
                    label, f"expected NumericPredictors naming each model feature once, found {shown(name)}"
                )
            row[k] = _number(coefficient, f"the coefficient of {shown(name)}", label)
        if np.isnan(row).any():
            raise PmmlStructureError(
                label,
                f"expected a NumericPredictor for each of the {len(features)} model features, found {len(predictors)}",
            )
        rows.append(row)
        intercepts.append(_number(intercept, "an intercept", label))
        if len(rows) > MAX_OUTPUTS:
            raise LimitExceededError(where, f"expected at most {MAX_OUTPUTS} scores, found more")
    if not rows:
        raise PmmlStructureError(where, "expected RegressionTables with NumericPredictors, found none")
    return ir.LinearModel(features, np.array(rows), np.array(intercepts), spec.get("post_transform"), classes)


def _view(segments: list, tables: list) -> types.SimpleNamespace:
    return types.SimpleNamespace(segments=segments, tables=tables)


def _read_composite(
    reader: _Reader, spec: dict, features: tuple, index: dict, classes: Union[tuple, None], where: str
) -> ir.Composite:
    """Member i from what Segment m<i> holds (its TreeModels and RegressionTables, their paths
    from inside it), read as that model alone is; a stack's final model from the chain's other
    Segments, over the member fields it names (composite_writer.stack_fields) and the features.
    The header says what the elements do not: the combination, weights, divisor, calibration."""
    members = spec.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, dict) for m in members):
        raise PmmlHeaderError(where, f'expected a non-empty JSON list of objects as "members" in Extension {MODEL!r}')
    if len(members) > MAX_OUTPUTS:
        raise LimitExceededError(where, f"expected at most {MAX_OUTPUTS} members, found {len(members)}")
    own: dict = {f"m{i}": ([], []) for i in range(len(members))}
    rest: tuple = ([], [])
    for path, sid, tree in reader.segments:
        bucket = own.get(path[0]) if path else None
        (bucket or rest)[0].append((path[1:], sid, tree) if bucket is not None else (path, sid, tree))
    for path, *table in reader.tables:
        bucket = own.get(path[0]) if path else None
        (bucket or rest)[1].append((path[1:], *table) if bucket is not None else (path, *table))
    models = []
    for i, member in enumerate(members):
        label = f"{where}#Segment[m{i}]"
        models.append(_read_part(_view(*own[f"m{i}"]), member, features, index, label))
    final = None
    combination = spec.get("combination")
    if combination == "stack":
        part = spec.get("final")
        if not isinstance(part, dict) or not isinstance(part.get("features"), list):
            raise PmmlHeaderError(where, f'expected a JSON object with "features" as "final" in Extension {MODEL!r}')
        names = composite_writer.stack_fields(types.SimpleNamespace(members=tuple(models)))
        final_index = {name: j for j, name in enumerate(names)}
        if spec.get("passthrough") is True:
            final_index.update({name: len(names) + k for name, k in index.items()})
        final = _read_part(_view(*rest), part, tuple(part["features"]), final_index, f"{where} (final model)")
    elif rest[0] or rest[1]:
        raise PmmlStructureError(where, "expected every model of a composite inside a member's Segment m<i>")
    calibration = spec.get("calibration")
    method = spec.get("calibration_method", "sigmoid")
    steps = spec.get("target_steps", [])
    if not isinstance(steps, list) or not all(isinstance(step, list) and len(step) == 2 for step in steps):
        raise PmmlHeaderError(
            where,
            f'expected a JSON list of [operation, number or null] pairs as "target_steps" in Extension {MODEL!r}, '
            f"found {shown(steps)}",
        )
    return ir.Composite(
        tuple(models),
        combination,
        spec.get("weights"),
        spec.get("divisor"),
        classes,
        final,
        spec.get("passthrough", False),
        tuple(calibration) if isinstance(calibration, list) else calibration,
        method,
        tuple(tuple(step) for step in steps),
    )


def _read_part(view: types.SimpleNamespace, spec: dict, features: tuple, index: dict, where: str) -> ir.Model:
    """A composite's member or final model, as its own "type" says (never a composite)."""
    kind = spec.get("type", "trees")
    if kind not in PART_READERS:
        raise PmmlHeaderError(
            where,
            f"expected a member type {' or '.join(map(repr, PART_READERS))} in Extension {MODEL!r}, found {shown(kind)}",
        )
    classes = spec.get("classes")
    if classes is not None and (not isinstance(classes, list) or len(classes) > MAX_OUTPUTS):
        raise PmmlHeaderError(where, f'expected a JSON list of at most {MAX_OUTPUTS} labels as "classes"')
    return PART_READERS[kind](view, spec, features, index, tuple(classes) if classes is not None else None, where)


PART_READERS = {"trees": _read_trees, "linear": _read_linear}
MODEL_READERS = {**PART_READERS, "composite": _read_composite}
