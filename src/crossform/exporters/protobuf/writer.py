"""protobuf's writer: the IR as one deterministic serialization of a ``crossform.v1.Package``.

Each IR kind fills its oneof member (WRITERS, MODEL_WRITERS); a tree ensemble 1.0 can state
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
from .rules import (
    AGGREGATIONS,
    INFINITE_RULES,
    KINDS,
    MAGIC,
    MISSING_RULES,
    POST_TRANSFORMS,
    UNKNOWN_POLICIES,
    is_plain_ensemble,
    recorded_version,
)


def _fill_missing(enc: ir.FillMissing, msg: pb.Encoder) -> None:
    out = msg.fill_missing
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for value in enc.values:
        if isinstance(value, str):
            out.values.add(text=value)
        else:
            out.values.add(number=value)


def _categorical_encoding(enc: ir.CategoricalEncoding, msg: pb.Encoder) -> None:
    out = msg.categorical_encoding
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for categories, codes, missing in zip(enc.categories, enc.codes, enc.missing_codes):
        entry = out.encodings.add(categories=categories, codes=codes.tolist())
        if missing is not None:
            entry.missing_code = missing
    if enc.unknown_code is not None:
        out.unknown_code = enc.unknown_code


def _scale(enc: ir.Scale, msg: pb.Encoder) -> None:
    msg.scale.features.extend(enc.features)
    msg.scale.outputs.extend(enc.outputs)
    msg.scale.offset.extend(enc.offset.tolist())
    msg.scale.scale.extend(enc.scale.tolist())


def _affine(enc: ir.Affine, msg: pb.Encoder) -> None:
    msg.affine.features.extend(enc.features)
    msg.affine.outputs.extend(enc.outputs)
    msg.affine.scale.extend(enc.scale.tolist())
    msg.affine.offset.extend(enc.offset.tolist())


def _missing_indicator(enc: ir.MissingIndicator, msg: pb.Encoder) -> None:
    out = msg.missing_indicator
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    out.kinds.extend(KINDS[kind] for kind in enc.kinds_in)


def _refuse_missing(enc: ir.RefuseMissing, msg: pb.Encoder) -> None:
    out = msg.refuse_missing
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    out.kinds.extend(KINDS[kind] for kind in enc.kinds_in)


def _one_hot(enc: ir.OneHot, msg: pb.Encoder) -> None:
    out = msg.one_hot
    out.features.extend(enc.features)
    out.outputs.extend(enc.outputs)
    for categories, columns, width, missing, unknown in zip(
        enc.categories, enc.columns, enc.widths, enc.missing_columns, enc.unknown
    ):
        block = out.blocks.add(categories=categories, columns=columns.tolist(), width=width)
        if missing is not None:
            block.missing_column = missing
        if isinstance(unknown, str):
            block.unknown_policy = UNKNOWN_POLICIES[unknown]
        else:
            block.unknown_column = unknown  # a oneof member: set even when 0


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


WRITERS: dict[type, Callable] = {
    ir.FillMissing: _fill_missing,
    ir.CategoricalEncoding: _categorical_encoding,
    ir.Scale: _scale,
    ir.Affine: _affine,
    ir.MissingIndicator: _missing_indicator,
    ir.OneHot: _one_hot,
    ir.RefuseMissing: _refuse_missing,
}
MODEL_WRITERS: dict[type, Callable] = {
    ir.TreeEnsemble: _ensemble,
    ir.LinearModel: _linear,
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
        WRITERS[type(encoder)](encoder, msg.encoders.add())
    MODEL_WRITERS[type(package.model)](package.model, msg.model)
    msg.format_version = recorded_version(package)  # field 2 whatever the order it is set in
    checks = _envelope.checks_document(package, "checks_json")
    if checks is not None:
        msg.checks_json = _json.dumps(checks, compact=True)
    return msg.SerializeToString(deterministic=True)
