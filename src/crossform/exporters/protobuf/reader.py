"""protobuf's reader: a ``crossform.v1.Package`` back to the IR, trusting nothing.

The reader parses, then audits every count, index and enum, and only then constructs the
IR (STYLE.md 4): nothing is indexed by a number from the file before that number is checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from google.protobuf import unknown_fields
from google.protobuf.message import DecodeError

from ... import ir
from ...errors import IRValidationError, LimitExceededError, MalformedPackageError, shown
from ...v1 import package_pb2 as pb
from .. import _envelope, _limits, _versions
from ._messages import _array, _enum, _numbers, _which
from .encoders import ENCODER_READERS
from .rules import (
    AGGREGATIONS,
    CALIBRATION_METHODS,
    COMBINATIONS,
    INFINITE_RULES,
    KINDS,
    MAGIC,
    MEMBER_FEATURES,
    MISSING_RULES,
    NAME,
    PLAIN_POST_TRANSFORMS,
    POST_TRANSFORMS,
    PREFIX,
    TARGET_STEPS,
    VERSION,
    WHERE,
    ProtobufCountError,
    ProtobufDecodeError,
    ProtobufEnumError,
    ProtobufIndexError,
    ProtobufMagicError,
    ProtobufMissingError,
    ProtobufOrderError,
    ProtobufUnexpectedError,
    ProtobufUnknownFieldError,
    ProtobufValueError,
    member_version,
    recorded_version,
    version_key,
)

# protobuf's own limits beside the shared ones (_limits): what the IR allows
MAX_OUTPUTS = 2**16


def sniff(source: Any) -> bool:
    return isinstance(source, bytes) and source.startswith(PREFIX)


def _check_size(data: bytes, where: str) -> None:
    if len(data) > _limits.MAX_FILE_BYTES:
        raise LimitExceededError(where, f"expected at most {_limits.MAX_FILE_BYTES} bytes, found {len(data)}")


def _check_magic(data: bytes, where: str) -> None:
    if not data.startswith(PREFIX):
        raise ProtobufMagicError(
            where,
            f"expected a crossform protobuf package, starting with {PREFIX!r}; "
            f"found {shown(bytes(data[: len(PREFIX)]))}",
        )


def _varint(data: bytes, pos: int) -> tuple:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None, pos


def read_version(source: bytes, where: str = WHERE) -> str:
    """The recorded format_version, from the field right after the magic; the
    whole file is parsed only when a foreign writer put it elsewhere."""
    _check_size(source, where)
    _check_magic(source, where)
    pos = len(PREFIX)
    if source[pos : pos + 1] == b"\x12":
        length, start = _varint(source, pos + 1)
        if length is not None and start + length <= len(source):
            try:
                found = bytes(source[start : start + length]).decode("utf-8")
            except UnicodeDecodeError:
                found = None
            _versions.parse_version(found, where)
            return found
    found = _parse(source, where).format_version
    _versions.parse_version(found, where)
    return found


def _parse(data: bytes, where: str) -> pb.Package:
    msg = pb.Package()
    try:
        msg.ParseFromString(data)
    except DecodeError as exc:
        raise ProtobufDecodeError(where, f"expected a serialized crossform.v1.Package; protobuf says: {exc}") from None
    return msg


def _unknown(msg: Any, path: str, found: list, recorded: tuple) -> None:
    """Every unknown field under ``msg``, as "path: field N", and every oneof member
    added after the ``recorded`` (major, minor) (rules.MEMBER_FEATURES), which no file of
    that version holds."""
    numbers = sorted({f.field_number for f in unknown_fields.UnknownFieldSet(msg)})
    found.extend(f"{path}: field {n}" for n in numbers)
    for field, value in msg.ListFields():
        since = member_version(field.full_name) if field.full_name in MEMBER_FEATURES else None
        if since is not None and version_key(since) > recorded:
            found.append(f"{path}: field {field.number} ({field.name}, added in {NAME} {since})")
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        if field.is_repeated:
            for i, item in enumerate(value):
                _unknown(item, f"{path}.{field.name}[{i}]", found, recorded)
        else:
            _unknown(value, f"{path}.{field.name}", found, recorded)


def _read_tree(
    msg: pb.Tree, width: int, n_features: int, path: str, plain: bool = True, sets: Any = None, sets_path: str = ""
) -> ir.Tree:
    """One tree; ``plain`` in a tree_ensemble (finite thresholds only); ``sets`` is its
    TreeSets, None when the ensemble has no set splits."""
    n = len(msg.feature)
    if n == 0:
        raise ProtobufCountError(path, "expected at least one node, found none")
    if len(msg.left) != n or len(msg.right) != n:
        raise ProtobufCountError(
            path,
            f"expected feature, left and right of one length (one per node), "
            f"found {n}, {len(msg.left)} and {len(msg.right)}",
        )
    feature, left, right = (_array(a, np.int64) for a in (msg.feature, msg.left, msg.right))
    leaf = left == -1
    split = ~leaf
    n_leaves = int(leaf.sum())
    n_splits = n - n_leaves
    nodes = np.arange(n)
    for name, arr, lo, hi, expected_leaf in (
        ("left", left, 1, n, -1),
        ("right", right, 1, n, -1),
        ("feature", feature, 0, n_features, -1),
    ):
        bad = (split & ((arr < lo) | (arr >= hi))) | (leaf & (arr != expected_leaf))
        if bad.any():
            i = int(nodes[bad][0])
            kind = "split node" if split[i] else "leaf"
            wanted = f"in [{lo}, {hi})" if split[i] else f"{expected_leaf}"
            raise ProtobufIndexError(path, f"expected {name} {wanted} at {kind} {i}, found {int(arr[i])}")
    if n_leaves != n_splits + 1:
        # checked before the (nodes x outputs) leaf values are allocated: without leaves a
        # small file could ask for gigabytes of them
        raise ProtobufCountError(
            path,
            f"expected {n_splits + 1} leaves (left -1) for {n_splits} split nodes, as "
            f"every binary tree has, found {n_leaves}",
        )
    for name, count, want in (
        ("threshold", len(msg.threshold), n_splits),
        ("missing_left", len(msg.missing_left), n_splits),
        ("leaf_value", len(msg.leaf_value), n_leaves * width),
    ):
        if count != want:
            raise ProtobufCountError(
                path,
                f"expected {want} {name} entries for {n_splits} split nodes, "
                f"{n_leaves} leaves and {width} outputs; found {count}",
            )
    threshold = np.zeros(n)
    threshold[split] = _numbers(msg.threshold)
    missing_left = np.zeros(n, dtype=bool)
    missing_left[split] = _array(msg.missing_left, bool)
    value = np.zeros((n, width))
    value[leaf] = _numbers(msg.leaf_value).reshape(n_leaves, width)
    node_sets = () if sets is None else _read_sets(sets, leaf, sets_path)
    _check_thresholds(threshold, split, node_sets, path, plain)
    return ir.Tree(feature, threshold, left, right, missing_left, value, node_sets)


def _check_thresholds(threshold: np.ndarray, split: np.ndarray, sets: tuple, path: str, plain: bool) -> None:
    """NaN and -inf never; +inf only outside tree_ensemble (1.0 has none); 0.0 at set nodes."""
    bad = split & (np.isnan(threshold) | (threshold == -np.inf) | (plain & (threshold == np.inf)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        allowed = "finite" if plain else "finite or +inf"
        where = " (+inf only in tree_ensemble_with_rules, since 1.1)" if plain and threshold[i] == np.inf else ""
        raise ProtobufValueError(path, f"expected a {allowed} threshold at split node {i}{where}, found {threshold[i]}")
    for i, entry in enumerate(sets):
        if entry is not None and threshold[i] != 0.0:
            raise ProtobufValueError(path, f"expected threshold 0.0 at set node {i}, found {threshold[i]}")


def _read_sets(msg: pb.TreeSets, leaf: np.ndarray, path: str) -> tuple:
    """A tree's TreeSets as Tree.sets: () or one entry per node, None or the node's set."""
    n = len(leaf)
    if len(msg.sizes) != len(msg.nodes):
        raise ProtobufCountError(path, f"expected {len(msg.nodes)} sizes, one per set node, found {len(msg.sizes)}")
    nodes, sizes = _array(msg.nodes, np.int64), _array(msg.sizes, np.int64)
    if nodes.size:
        bad = np.flatnonzero(nodes >= n)
        if bad.size:
            raise ProtobufIndexError(f"{path}.nodes[{bad[0]}]", f"expected a node in [0, {n}), found {nodes[bad[0]]}")
        bad = np.flatnonzero(leaf[nodes])
        if bad.size:
            raise ProtobufIndexError(
                f"{path}.nodes[{bad[0]}]",
                f"expected a split node (a set is tested at split nodes only), found leaf {nodes[bad[0]]}",
            )
        bad = np.flatnonzero(np.diff(nodes) <= 0)
        if bad.size:
            raise ProtobufOrderError(
                f"{path}.nodes[{bad[0] + 1}]",
                f"expected set nodes strictly ascending, found {nodes[bad[0] + 1]} after {nodes[bad[0]]}",
            )
        bad = np.flatnonzero(sizes > ir.MAX_SET_SIZE)
        if bad.size:
            raise LimitExceededError(
                f"{path}.sizes[{bad[0]}]", f"expected at most {ir.MAX_SET_SIZE} values in a set, found {sizes[bad[0]]}"
            )
    if len(msg.values) != int(sizes.sum()):
        raise ProtobufCountError(
            path, f"expected {int(sizes.sum())} values (the sum of sizes), found {len(msg.values)}"
        )
    values = _numbers(msg.values)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ProtobufValueError(f"{path}.values[{bad[0]}]", f"expected finite set values, found {values[bad[0]]}")
    ends = np.cumsum(sizes)
    starts = ends - sizes
    # a value must exceed the one before it, except where a set starts
    rising = np.ones(len(values), dtype=bool)
    rising[1:] = values[1:] > values[:-1]
    rising[starts[starts < len(values)]] = True
    bad = np.flatnonzero(~rising)
    if bad.size:
        j = int(bad[0])
        raise ProtobufOrderError(
            f"{path}.values[{j}]",
            f"expected each set's values strictly ascending (distinct), found {values[j]} after {values[j - 1]}",
        )
    if not nodes.size:
        return ()
    out = [None] * n
    for node, start, end in zip(nodes.tolist(), starts.tolist(), ends.tolist()):
        out[node] = tuple(values[start:end].tolist())
    return tuple(out)


def _read_classes(msg: Any, path: str) -> tuple:
    if len(msg.classes) > MAX_OUTPUTS:
        raise LimitExceededError(path, f"expected at most {MAX_OUTPUTS} outputs, found {len(msg.classes)} classes")
    return tuple(_which(label, "label", f"{path}.classes[{i}]")[1] for i, label in enumerate(msg.classes))


def _check_width(classes: tuple, width: int, path: str, what: str) -> None:
    """``width`` scores: one per class, or one for a regressor or for two classes (binary)."""
    if width > MAX_OUTPUTS:
        raise LimitExceededError(path, f"expected at most {MAX_OUTPUTS} outputs, found {width}")
    if (width == 1 and len(classes) in (0, 2)) or (classes and width == len(classes)):
        return
    wanted = (
        f"{len(classes)} (one per class)" + (" or 1 (two classes from one score)" if len(classes) == 2 else "")
        if classes
        else "1 (a regressor, no classes)"
    )
    raise ProtobufCountError(path, f"expected {what} to be {wanted}, found {width}")


def _read_ensemble(
    msg: pb.TreeEnsemble,
    path: str,
    rules: Any = None,
    rules_path: str = "",
    accumulate: str = "float64",
    divisors: tuple = (),
    tree_weights: tuple = (),
) -> ir.TreeEnsemble:
    """A TreeEnsemble. With ``rules`` (the TreeEnsembleWithRules around it) the leaf width, the
    missing/infinite rules, set splits, isolation and +inf thresholds come from there; without,
    1.0's: a leaf value per class, missing "route", infinite "error", finite thresholds."""
    if tree_weights:  # tree_ensemble_weighted_median: the member states the aggregation
        if msg.aggregation != pb.TreeEnsemble.AGGREGATION_UNSPECIFIED:
            raise ProtobufUnexpectedError(
                f"{path}.aggregation",
                "expected no aggregation inside tree_ensemble_weighted_median, which states its own, "
                f"found the value {msg.aggregation}",
            )
        aggregation = "weighted-median"
    else:
        aggregation = _enum(msg.aggregation, AGGREGATIONS, pb.TreeEnsemble.Aggregation, f"{path}.aggregation")
    posts = PLAIN_POST_TRANSFORMS if rules is None else POST_TRANSFORMS
    post = _enum(msg.post_transform, posts, pb.TreeEnsemble.PostTransform, f"{path}.post_transform")
    classes = _read_classes(msg, path)
    missing, infinite, isolation, tree_sets = "route", "error", None, None
    if rules is None:
        width = len(classes) or 1
    else:
        width = rules.leaf_width
        _check_width(classes, width, path, "leaf_width")
        missing = _enum(rules.missing, MISSING_RULES, pb.TreeEnsembleWithRules.Missing, f"{rules_path}.missing")
        infinite = _enum(rules.infinite, INFINITE_RULES, pb.TreeEnsembleWithRules.Infinite, f"{rules_path}.infinite")
        isolation = _read_isolation(rules, post, rules_path)
        tree_sets = _read_tree_sets(rules, len(msg.trees), rules_path)
    if len(msg.trees) > _limits.MAX_TREES:
        raise LimitExceededError(path, f"expected at most {_limits.MAX_TREES} trees, found {len(msg.trees)}")
    nodes = sum(len(t.feature) for t in msg.trees)
    if nodes > _limits.MAX_NODES:
        raise LimitExceededError(path, f"expected at most {_limits.MAX_NODES} nodes over all trees, found {nodes}")
    trees = tuple(
        _read_tree(
            t,
            width,
            len(msg.features),
            f"{path}.trees[{i}]",
            rules is None,
            None if tree_sets is None else tree_sets[i],
            f"{rules_path}.tree_sets[{i}]",
        )
        for i, t in enumerate(msg.trees)
    )
    if tree_sets is not None and not any(t.has_sets for t in trees):
        raise ProtobufUnexpectedError(
            f"{rules_path}.tree_sets", "expected tree_sets only when a tree has a set node, found no set node in any"
        )
    base = _numbers(msg.base_value) if aggregation == "sum" or len(msg.base_value) else None
    return ir.TreeEnsemble(
        tuple(msg.features),
        trees,
        aggregation,
        post,
        classes or None,
        base,
        missing,
        infinite,
        isolation,
        accumulate,
        divisors,
        tree_weights,
    )


def _read_isolation(rules: pb.TreeEnsembleWithRules, post: str, path: str) -> tuple | None:
    if post != "isolation":
        if rules.HasField("isolation"):
            raise ProtobufUnexpectedError(
                f"{path}.isolation", f"expected no isolation with post transform {post!r}, found one"
            )
        return None
    if not rules.HasField("isolation"):
        raise ProtobufMissingError(f"{path}.isolation", "expected isolation with POST_TRANSFORM_ISOLATION, found none")
    msg = rules.isolation
    for name in ("denominator", "offset"):
        if not msg.HasField(name):
            raise ProtobufMissingError(f"{path}.isolation", f"expected the field {name!r} to be set, found none")
    if not (math.isfinite(msg.denominator) and msg.denominator > 0):
        raise ProtobufValueError(
            f"{path}.isolation.denominator", f"expected a finite number > 0, found {msg.denominator}"
        )
    if not math.isfinite(msg.offset):
        raise ProtobufValueError(f"{path}.isolation.offset", f"expected a finite number, found {msg.offset}")
    return msg.denominator, msg.offset


def _read_tree_sets(rules: pb.TreeEnsembleWithRules, n_trees: int, path: str) -> Any:
    """The TreeSets of each tree, or None when the ensemble has no set splits."""
    if not len(rules.tree_sets):
        return None
    if len(rules.tree_sets) != n_trees:
        raise ProtobufCountError(
            path, f"expected {n_trees} tree_sets, one per tree (or none), found {len(rules.tree_sets)}"
        )
    return rules.tree_sets


def _read_ensemble_with_rules(msg: pb.TreeEnsembleWithRules, path: str) -> ir.TreeEnsemble:
    if not msg.HasField("ensemble"):
        raise ProtobufMissingError(path, "expected the field 'ensemble' to be set, found none")
    return _read_ensemble(msg.ensemble, f"{path}.ensemble", msg, path)


def _read_ensemble_float32(msg: pb.TreeEnsembleFloat32, path: str) -> ir.TreeEnsemble:
    if not msg.HasField("rules"):
        raise ProtobufMissingError(path, "expected the field 'rules' to be set, found none")
    rules = msg.rules
    if not rules.HasField("ensemble"):
        raise ProtobufMissingError(f"{path}.rules", "expected the field 'ensemble' to be set, found none")
    return _read_ensemble(rules.ensemble, f"{path}.rules.ensemble", rules, f"{path}.rules", "float32")


def _read_ensemble_divided(msg: pb.TreeEnsembleDivided, path: str) -> ir.TreeEnsemble:
    if not msg.HasField("rules"):
        raise ProtobufMissingError(path, "expected the field 'rules' to be set, found none")
    rules = msg.rules
    if not rules.HasField("ensemble"):
        raise ProtobufMissingError(f"{path}.rules", "expected the field 'ensemble' to be set, found none")
    if not len(msg.divisors):
        raise ProtobufMissingError(f"{path}.divisors", "expected one or more divisors, found none")
    for i, d in enumerate(msg.divisors):
        if not (math.isfinite(d) and d > 0):
            raise ProtobufValueError(f"{path}.divisors[{i}]", f"expected a finite number > 0, found {d}")
    divisors = tuple(msg.divisors)
    return _read_ensemble(rules.ensemble, f"{path}.rules.ensemble", rules, f"{path}.rules", "float64", divisors)


def _read_ensemble_weighted_median(msg: pb.TreeEnsembleWeightedMedian, path: str) -> ir.TreeEnsemble:
    if not msg.HasField("rules"):
        raise ProtobufMissingError(path, "expected the field 'rules' to be set, found none")
    rules = msg.rules
    if not rules.HasField("ensemble"):
        raise ProtobufMissingError(f"{path}.rules", "expected the field 'ensemble' to be set, found none")
    if len(msg.tree_weights) != len(rules.ensemble.trees):
        raise ProtobufValueError(
            f"{path}.tree_weights",
            f"expected one weight per tree ({len(rules.ensemble.trees)}), found {len(msg.tree_weights)}",
        )
    for i, w in enumerate(msg.tree_weights):
        if not (math.isfinite(w) and w >= 0):
            raise ProtobufValueError(f"{path}.tree_weights[{i}]", f"expected a finite number >= 0, found {w}")
    if not sum(msg.tree_weights) > 0:
        raise ProtobufValueError(f"{path}.tree_weights", "expected weights summing to more than 0, found a sum of 0")
    weights = tuple(msg.tree_weights)
    return _read_ensemble(rules.ensemble, f"{path}.rules.ensemble", rules, f"{path}.rules", "float64", (), weights)


def _read_linear(msg: pb.LinearModel, path: str) -> ir.LinearModel:
    post = _enum(msg.post_transform, PLAIN_POST_TRANSFORMS, pb.TreeEnsemble.PostTransform, f"{path}.post_transform")
    classes = _read_classes(msg, path)
    k, n = len(msg.intercepts), len(msg.features)
    if k == 0:
        raise ProtobufCountError(path, "expected at least one intercept (one per output), found none")
    _check_width(classes, k, path, "the number of intercepts (outputs)")
    if len(msg.coefficients) != k * n:
        raise ProtobufCountError(
            path, f"expected {k * n} coefficients ({k} outputs x {n} features), found {len(msg.coefficients)}"
        )
    coefficients = _numbers(msg.coefficients).reshape(k, n)
    return ir.LinearModel(tuple(msg.features), coefficients, _numbers(msg.intercepts), post, classes or None)


def _read_composite(msg: pb.Composite, path: str) -> ir.Composite:
    combination = _enum(msg.combination, COMBINATIONS, pb.Composite.Combination, f"{path}.combination")
    if not msg.members:
        raise ProtobufCountError(path, "expected at least one member, found none")
    members = []
    for i, member_msg in enumerate(msg.members):
        where = f"{path}.members[{i}]"
        member, body = _which(member_msg, "model", where)
        if member == "composite":
            raise ProtobufUnexpectedError(where, "expected a tree ensemble or a linear model, found a composite")
        members.append(MODEL_READERS[member](body, f"{where}.{member}"))
    if len(msg.weights) != len(members):
        raise ProtobufCountError(path, f"expected {len(members)} weights, one per member, found {len(msg.weights)}")
    classes = _read_classes(msg, path)
    final = None
    if msg.HasField("final"):
        member, body = _which(msg.final, "model", f"{path}.final")
        if member != "linear_model":
            raise ProtobufUnexpectedError(f"{path}.final", f"expected a linear model, found {member}")
        final = _read_linear(body, f"{path}.final.linear_model")
    calibration = None
    method = _enum(
        msg.calibration_method, CALIBRATION_METHODS, pb.Composite.CalibrationMethod, f"{path}.calibration_method"
    )
    if combination != "calibrate" and (method != "sigmoid" or msg.calibration_points):
        raise ProtobufUnexpectedError(path, "expected a calibration method and points only under COMBINATION_CALIBRATE")
    if method != "isotonic" and msg.calibration_points:
        raise ProtobufUnexpectedError(path, "expected calibration points only under CALIBRATION_METHOD_ISOTONIC")
    if combination == "calibrate" and method == "isotonic":
        calibration = _read_breakpoints(msg, ir.calibration_widths(tuple(members), len(classes)), path)
    elif combination == "calibrate":
        widths = ir.calibration_widths(tuple(members), len(classes))
        if len(msg.calibration) != 2 * sum(widths):
            raise ProtobufCountError(
                path,
                f"expected {2 * sum(widths)} calibration numbers ((a, b) per response column), "
                f"found {len(msg.calibration)}",
            )
        flat = _numbers(msg.calibration).reshape(-1, 2)
        starts = np.cumsum([0] + widths)
        calibration = tuple(flat[a:b] for a, b in zip(starts[:-1], starts[1:]))
    elif msg.calibration:
        raise ProtobufUnexpectedError(path, "expected calibration numbers only under COMBINATION_CALIBRATE")
    if combination not in ir.TARGET_COMBINATIONS and msg.target_steps:
        raise ProtobufUnexpectedError(
            path, "expected target steps only under COMBINATION_TARGET, COMBINATION_AVERAGE or COMBINATION_STACK"
        )
    steps = []
    for i, step in enumerate(msg.target_steps):
        where = f"{path}.target_steps[{i}]"
        op = _enum(step.operation, TARGET_STEPS, pb.Composite.TargetStep.Operation, f"{where}.operation")
        if step.HasField("number") != (op in ir.TARGET_OPERATIONS):
            wanted = "a number" if op in ir.TARGET_OPERATIONS else "no number"
            raise ProtobufUnexpectedError(where, f"expected {wanted} with operation {op!r}")
        steps.append((op, step.number if step.HasField("number") else None))
    return ir.Composite(
        tuple(members),
        combination,
        _numbers(msg.weights),
        msg.divisor,
        classes or None,
        final,
        msg.passthrough,
        calibration,
        method,
        tuple(steps),
    )


def _read_breakpoints(msg: pb.Composite, widths: list, path: str) -> tuple:
    """Per member, per response column, its (x, y) rows: calibration_points says how many."""
    counts = list(msg.calibration_points)
    if len(counts) != sum(widths):
        raise ProtobufCountError(
            path, f"expected {sum(widths)} calibration point counts, one per response column, found {len(counts)}"
        )
    if 2 * sum(counts) != len(msg.calibration):
        raise ProtobufCountError(
            path,
            f"expected {2 * sum(counts)} calibration numbers ((x, y) per breakpoint), found {len(msg.calibration)}",
        )
    flat = _numbers(msg.calibration).reshape(-1, 2)
    ends = np.cumsum(counts)
    columns = [flat[end - n : end] for n, end in zip(counts, ends)]
    starts = np.cumsum([0] + widths)
    return tuple(tuple(columns[a:b]) for a, b in zip(starts[:-1], starts[1:]))


MODEL_READERS: dict[str, Callable] = {
    "tree_ensemble": _read_ensemble,
    "linear_model": _read_linear,
    "tree_ensemble_with_rules": _read_ensemble_with_rules,
    "tree_ensemble_float32": _read_ensemble_float32,
    "tree_ensemble_divided": _read_ensemble_divided,
    "composite": _read_composite,
    "tree_ensemble_weighted_median": _read_ensemble_weighted_median,
}


def _construct(build: Callable, msg: Any, path: str):
    try:
        return build(msg, path)
    except IRValidationError as exc:
        raise MalformedPackageError(path, str(exc)) from None


def loads(source: bytes, where: str = WHERE) -> ir.Package:
    _check_size(source, where)
    _check_magic(source, where)
    msg = _parse(source, where)
    if msg.magic != MAGIC:  # a later duplicate field 1 overrides the first
        raise ProtobufMagicError(where, f"expected magic {MAGIC!r}, found {shown(msg.magic)}")
    root = f"{where}#Package"  # errors name the file, then the message path inside it
    recorded = _versions.parse_version(msg.format_version, where)
    unknown: list = []
    _unknown(msg, "Package", unknown, recorded)
    if _versions.check_version(NAME, VERSION, msg.format_version, where, unknown):
        msg.DiscardUnknownFields()  # a newer minor only adds fields an older reader may drop
    elif unknown:
        raise ProtobufUnknownFieldError(
            where, f"expected only the fields of {NAME} {msg.format_version}, found unknown {', '.join(unknown)}"
        )
    inputs = []
    for i, field in enumerate(msg.inputs):
        path = f"{root}.inputs[{i}]"
        kind = _enum(field.kind, KINDS, pb.Field.Kind, f"{path}.kind")
        inputs.append(_construct(lambda f, _, kind=kind: ir.Field(f.name, kind), field, path))
    encoders = []
    for i, encoder in enumerate(msg.encoders):
        path = f"{root}.encoders[{i}]"
        member, body = _which(encoder, "encoder", path)
        encoders.append(_construct(ENCODER_READERS[member], body, f"{path}.{member}"))
    member, body = _which(msg.model, "model", f"{root}.model")
    model = _construct(MODEL_READERS[member], body, f"{root}.model.{member}")
    checks = _envelope.read_checks(msg.checks_json, f"{where}#checks_json") if msg.HasField("checks_json") else None
    package = _construct(
        lambda m, _: ir.Package(
            inputs=tuple(inputs),
            encoders=tuple(encoders),
            model=model,
            owner=m.owner if m.HasField("owner") else None,
            tags=tuple(m.tags),
            metadata=dict(m.metadata),
            producer=dict(m.producer),
            checks=checks,
        ),
        msg,
        root,
    )
    needed = recorded_version(package)
    if version_key(needed) > recorded:
        # a value added to an enum inside a member an older minor has (POST_TRANSFORM_EXP, 1.2)
        raise ProtobufEnumError(
            root,
            f"expected a file of {NAME} {needed} for what it holds "
            f"({_versions.first_feature_after(NAME, _versions.features_used(package), msg.format_version)}), "
            f"found one recording {msg.format_version}",
        )
    return _envelope.verify_id(msg.id, package, where)
