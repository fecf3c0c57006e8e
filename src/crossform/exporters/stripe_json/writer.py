"""stripe-json's writer: the MODEL manifest, one JSON file per encoder, model.json and the
trees as bonsai, each file checked against its schema before it is written."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ... import ir
from .. import _envelope, _json
from . import bonsai
from .encoders import ENCODERS
from .rules import (
    CHECKS_FILE,
    FINAL_FILE,
    ISOLATION_KEYS,
    MANIFEST,
    MEMBER_FILE,
    MEMBER_TREES_FILE,
    MODEL_FAMILIES,
    MODEL_FILE,
    TREE_RULES,
    TREES_FILE,
    model_type,
    recorded_version,
    schemas_for,
    version_key,
)

# ---------------------------------------------------------------- models


def _tree_model_doc(model: ir.TreeEnsemble, trees_path: str = TREES_FILE) -> dict:
    doc: dict[str, Any] = {
        "modelType": model_type(model),
        "features": list(model.features),
        "aggregation": model.aggregation,
        "postTransform": model.post_transform,
    }
    if model.classes is not None:
        doc["classes"] = list(model.classes)
    if model.base_value is not None:
        doc["baseValue"] = model.base_value.tolist()
    for key, (field, default) in TREE_RULES.items():
        if getattr(model, field) != default:
            doc[key] = getattr(model, field)
    if model.is_binary:
        doc["leafWidth"] = model.n_outputs
    if model.isolation is not None:
        doc["isolation"] = dict(zip(ISOLATION_KEYS, model.isolation))
    if model.divisors:
        doc["divisors"] = list(model.divisors)
    if model.tree_weights:
        doc["treeWeights"] = list(model.tree_weights)
    doc["trees"] = {"path": trees_path, "encoding": "bonsai"}
    return doc


def _linear_model_doc(model: ir.LinearModel) -> dict:
    doc: dict[str, Any] = {
        "modelType": model_type(model),
        "features": list(model.features),
        "coefficients": model.coefficients.tolist(),
        "intercepts": model.intercepts.tolist(),
        "postTransform": model.post_transform,
    }
    if model.classes is not None:
        doc["classes"] = list(model.classes)
    return doc


def _composite_doc(model: ir.Composite) -> dict:
    doc: dict[str, Any] = {
        "modelType": model_type(model),
        "combination": model.combination,
        "members": [
            {"modelType": model_type(member), "path": MEMBER_FILE.format(i)} for i, member in enumerate(model.members)
        ],
        "weights": model.weights.tolist(),
        "divisor": model.divisor,
    }
    if model.classes is not None:
        doc["classes"] = list(model.classes)
    if model.final is not None:
        doc["final"] = {"modelType": model_type(model.final), "path": FINAL_FILE}
        doc["passthrough"] = model.passthrough
    if model.calibration_method == "isotonic":
        doc["isotonicCalibration"] = [[points.tolist() for points in columns] for columns in model.calibration]
    elif model.calibration is not None:
        doc["calibration"] = [params.tolist() for params in model.calibration]
    if model.target_steps:
        doc["targetSteps"] = [
            {"operation": op} if number is None else {"operation": op, "number": number}
            for op, number in model.target_steps
        ]
    return doc


def _composite_files(model: ir.Composite, schemas: dict) -> dict:
    """Each member's model document, checked against its family's schema, and its trees."""
    files = {}
    for i, member in enumerate(model.members):
        path = MEMBER_FILE.format(i)
        if isinstance(member, ir.TreeEnsemble):
            doc = _tree_model_doc(member, MEMBER_TREES_FILE.format(i))
            files[MEMBER_TREES_FILE.format(i)] = bonsai.dumps(member)
        else:
            doc = _linear_model_doc(member)
        _json.validate(doc, schemas[MODEL_FAMILIES[type(member)]], path)
        files[path] = _json.dumps(doc)
    if model.final is not None:
        doc = _linear_model_doc(model.final)
        _json.validate(doc, schemas["linear"], FINAL_FILE)
        files[FINAL_FILE] = _json.dumps(doc)
    return files


# IR model class -> (model.json's document, the files model.json points to, given the schemas)
MODEL_WRITERS: dict[type, tuple[Callable, Callable]] = {
    ir.TreeEnsemble: (_tree_model_doc, lambda model, schemas: {TREES_FILE: bonsai.dumps(model)}),
    ir.LinearModel: (_linear_model_doc, lambda model, schemas: {}),
    ir.Composite: (_composite_doc, _composite_files),
}


# ---------------------------------------------------------------- package


def dumps(package: ir.Package) -> dict:
    version = recorded_version(package)
    schemas = schemas_for(version_key(version))
    files: dict[str, bytes] = {}
    apply = []
    seen: Counter = Counter()
    for encoder in package.encoders:
        kind = encoder.encoder_type
        seen[kind] += 1
        path = f"{kind}.json" if seen[kind] == 1 else f"{kind}-{seen[kind]}.json"
        doc = ENCODERS[kind].write(encoder)
        _json.validate(doc, ENCODERS[kind].schema, path)
        files[path] = _json.dumps(doc)
        apply.append({"encoderType": kind, "path": path})
    write, beside = MODEL_WRITERS[type(package.model)]
    model = write(package.model)
    _json.validate(model, schemas[MODEL_FAMILIES[type(package.model)]], MODEL_FILE)
    files[MODEL_FILE] = _json.dumps(model)
    files.update(beside(package.model, schemas))
    manifest = {
        "formatVersion": version,
        "id": package.id,
        "owner": package.owner,
        "tags": list(package.tags),
        "metadata": dict(package.metadata),
        "inputs": [{"name": f.name, "type": f.kind} for f in package.inputs],
        "encoders": {"apply": apply},
        "model": {"modelType": model["modelType"], "path": MODEL_FILE},
        "outputs": list(package.outputs),
        "producer": dict(package.producer),
    }
    checks = _envelope.checks_document(package, CHECKS_FILE)
    if checks is not None:
        files[CHECKS_FILE] = _json.dumps(checks, compact=True)
        manifest["checks"] = {"path": CHECKS_FILE}
    _json.validate(manifest, schemas["manifest"], MANIFEST)
    files[MANIFEST] = _json.dumps(manifest)
    return files
