"""protobuf's writer: the IR as one deterministic serialization of a ``crossform.v1.Package``.

Each IR kind fills its oneof member (encoders.ENCODER_WRITERS, MODEL_WRITERS); a tree ensemble 1.0 can state
goes to tree_ensemble and any other to tree_ensemble_with_rules, so the recorded version
(rules.recorded_version) and the members set always agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ... import ir
from ...v1 import package_pb2 as pb
from .. import _envelope, _json
from .encoders import ENCODER_WRITERS
from .rules import (
    AGGREGATIONS,
    COMBINATIONS,
    INFINITE_RULES,
    KINDS,
    MAGIC,
    MISSING_RULES,
    POST_TRANSFORMS,
    TARGET_STEPS,
    is_plain_ensemble,
    recorded_version,
)


def _label(label: Any, msg: pb.ClassLabel) -> None:
    # bool before int: True is an int to Python, and the label's type is part of the id
    if isinstance(label, bool):
        msg.boolean = label
    elif isinstance(label, int):
        msg.integer = label
    elif isinstance(label, float):
        msg.number = label
    else:
        msg.text = label


def _tree(tree: ir.Tree, msg: pb.Tree) -> None:
    split = ~tree.is_leaf
    msg.feature.extend(tree.feature.tolist())
    msg.left.extend(tree.left.tolist())
    msg.right.extend(tree.right.tolist())
    msg.threshold.extend(tree.threshold[split].tolist())
    msg.missing_left.extend(tree.missing_left[split].tolist())
    msg.leaf_value.extend(tree.value[tree.is_leaf].ravel().tolist())


def _ensemble_body(model: ir.TreeEnsemble, out: pb.TreeEnsemble) -> None:
    out.features.extend(model.features)
    if model.aggregation != "weighted-median":  # tree_ensemble_weighted_median states its own
        out.aggregation = AGGREGATIONS[model.aggregation]
    out.post_transform = POST_TRANSFORMS[model.post_transform]
    for label in model.classes or ():
        _label(label, out.classes.add())
    if model.base_value is not None:
        out.base_value.extend(model.base_value.tolist())
    for tree in model.trees:
        _tree(tree, out.trees.add())


def _tree_sets(tree: ir.Tree, msg: pb.TreeSets) -> None:
    nodes = np.flatnonzero(tree.is_set).tolist()
    msg.nodes.extend(nodes)
    msg.sizes.extend(len(tree.sets[n]) for n in nodes)
    msg.values.extend(v for n in nodes for v in tree.sets[n])  # the IR keeps each set sorted


def _ensemble(model: ir.TreeEnsemble, msg: pb.Model) -> None:
    if is_plain_ensemble(model):
        _ensemble_body(model, msg.tree_ensemble)
        return
    # float32 accumulation and divisors have members of their own, which 1.1 readers find unset
    # and refuse (the IR never has both)
    if model.accumulate == "float32":
        out = msg.tree_ensemble_float32.rules
    elif model.divisors:
        msg.tree_ensemble_divided.divisors.extend(model.divisors)
        out = msg.tree_ensemble_divided.rules
    elif model.aggregation == "weighted-median":
        msg.tree_ensemble_weighted_median.tree_weights.extend(model.tree_weights)
        out = msg.tree_ensemble_weighted_median.rules
    else:
        out = msg.tree_ensemble_with_rules
    _ensemble_body(model, out.ensemble)
    out.leaf_width = model.n_outputs
    out.missing = MISSING_RULES[model.missing]
    out.infinite = INFINITE_RULES[model.infinite]
    if model.has_sets:
        for tree in model.trees:
            _tree_sets(tree, out.tree_sets.add())
    if model.isolation is not None:
        out.isolation.denominator, out.isolation.offset = model.isolation


def _linear(model: ir.LinearModel, msg: pb.Model) -> None:
    out = msg.linear_model
    out.features.extend(model.features)
    out.coefficients.extend(model.coefficients.ravel().tolist())  # row-major: output by output
    out.intercepts.extend(model.intercepts.tolist())
    out.post_transform = POST_TRANSFORMS[model.post_transform]
    for label in model.classes or ():
        _label(label, out.classes.add())


def _composite(model: ir.Composite, msg: pb.Model) -> None:
    out = msg.composite
    out.combination = COMBINATIONS[model.combination]
    for member in model.members:
        MODEL_WRITERS[type(member)](member, out.members.add())
    out.weights.extend(model.weights.tolist())
    out.divisor = model.divisor
    for label in model.classes or ():
        _label(label, out.classes.add())
    if model.final is not None:
        _linear(model.final, out.final)
        out.passthrough = model.passthrough
    for op, number in model.target_steps:
        step = out.target_steps.add()
        step.operation = TARGET_STEPS[op]
        if number is not None:
            step.number = number
    if model.calibration_method == "isotonic":
        out.calibration_method = pb.Composite.CALIBRATION_METHOD_ISOTONIC
        for columns in model.calibration:
            for points in columns:
                out.calibration_points.append(len(points))
                out.calibration.extend(points.ravel().tolist())
        return
    for params in model.calibration or ():
        out.calibration.extend(params.ravel().tolist())


MODEL_WRITERS: dict[type, Callable] = {
    ir.TreeEnsemble: _ensemble,
    ir.LinearModel: _linear,
    ir.Composite: _composite,
}


def dumps(package: ir.Package) -> bytes:
    msg = pb.Package(
        magic=MAGIC, id=package.id, tags=package.tags, metadata=dict(package.metadata), producer=dict(package.producer)
    )
    if package.owner is not None:
        msg.owner = package.owner
    for field in package.inputs:
        msg.inputs.add(name=field.name, kind=KINDS[field.kind])
    for encoder in package.encoders:
        ENCODER_WRITERS[type(encoder)](encoder, msg.encoders.add())
    MODEL_WRITERS[type(package.model)](package.model, msg.model)
    msg.format_version = recorded_version(package)  # field 2 whatever the order it is set in
    checks = _envelope.checks_document(package, "checks_json")
    if checks is not None:
        msg.checks_json = _json.dumps(checks, compact=True)
    return msg.SerializeToString(deterministic=True)
