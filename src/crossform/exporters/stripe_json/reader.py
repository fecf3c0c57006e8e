"""stripe-json's reader: the MODEL manifest first, then each file it names, each checked
against the schema of the version the manifest records before anything is built from it.
The package id is recomputed and compared with the manifest's (the envelope's verify_id)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import ir
from ...errors import IRValidationError, MalformedPackageError, shown
from .. import Files, _envelope, _json, _versions
from . import bonsai, reader_1, rules
from .encoders import ENCODERS
from .rules import (
    ISOLATION_KEYS,
    MANIFEST,
    NAME,
    OLDER,
    TREE_RULES,
    model_family,
    model_type,
    schemas_for,
)

# ---------------------------------------------------------------- models


def _trees(files: Files, doc: dict, major: int, width: int, where: str) -> tuple:
    if major == 1:
        return tuple(reader_1.tree(t, width, i) for i, t in enumerate(doc["trees"]))
    path = doc["trees"]["path"]
    trees = bonsai.loads(files.read(path), files.where(path), len(doc["features"]))
    if trees[0].n_outputs != width:
        raise MalformedPackageError(
            files.where(path), f"expected leaves of {width} outputs as {where} says, found {trees[0].n_outputs}"
        )
    return trees


def _tree_model(files: Files, doc: dict, major: int, where: str) -> ir.TreeEnsemble:
    classes = doc.get("classes")
    if "leafWidth" in doc and classes is None:
        raise MalformedPackageError(
            where,
            f"expected leafWidth only in a classifier (two classes from one score), "
            f"found leafWidth {doc['leafWidth']} and no classes",
        )
    width = doc.get("leafWidth", len(classes) if classes is not None else 1)
    trees = _construct(lambda d: _trees(files, d, major, width, where), doc, where)
    rules = {field: doc.get(key, default) for key, (field, default) in TREE_RULES.items()}
    isolation = tuple(doc["isolation"][k] for k in ISOLATION_KEYS) if "isolation" in doc else None
    return _construct(
        lambda d: ir.TreeEnsemble(
            d["features"],
            trees,
            d["aggregation"],
            d["postTransform"],
            None if classes is None else tuple(classes),
            d.get("baseValue"),
            **rules,
            isolation=isolation,
            divisors=tuple(d.get("divisors", ())),
            tree_weights=tuple(d.get("treeWeights", ())),
        ),
        doc,
        where,
    )


def _linear_model(files: Files, doc: dict, major: int, where: str) -> ir.LinearModel:
    n = len(doc["features"])
    for k, row in enumerate(doc["coefficients"]):
        if len(row) != n:  # a ragged matrix is no array at all: say so before numpy is asked
            raise MalformedPackageError(
                where, f"expected {n} coefficients in row {k}, one per feature, found {len(row)}"
            )
    classes = doc.get("classes")
    return _construct(
        lambda d: ir.LinearModel(
            d["features"],
            d["coefficients"],
            d["intercepts"],
            d["postTransform"],
            None if classes is None else tuple(classes),
        ),
        doc,
        where,
    )


def _composite_model(files: Files, doc: dict, major: int, where: str, schemas: dict) -> ir.Composite:
    members = []
    for entry in doc["members"]:
        kind, path = entry["modelType"], entry["path"]
        family = model_family(kind)
        if family == "composite":
            raise MalformedPackageError(where, f"expected members that are trees or linear models, found {kind!r}")
        member_doc = _document(files, path, schemas[family])
        if member_doc["modelType"] != kind:
            raise MalformedPackageError(
                files.where(path),
                f"expected modelType {kind!r} as {where} says, found {shown(member_doc['modelType'])}",
            )
        member = MODEL_READERS[family](files, member_doc, major, files.where(path), schemas)
        if model_type(member, major) != kind:
            raise MalformedPackageError(
                files.where(path), f"expected modelType {model_type(member, major)!r} for this model, found {kind!r}"
            )
        members.append(member)
    classes = doc.get("classes")
    final = None
    if "final" in doc:
        path = doc["final"]["path"]
        final = _linear_model(files, _document(files, path, schemas["linear"]), major, files.where(path))
    if "calibration" in doc and "isotonicCalibration" in doc:
        raise MalformedPackageError(where, "expected one of calibration (sigmoid) and isotonicCalibration, found both")
    return _construct(
        lambda d: ir.Composite(
            tuple(members),
            d["combination"],
            d["weights"],
            d["divisor"],
            None if classes is None else tuple(classes),
            final,
            d.get("passthrough", False),
            d.get("isotonicCalibration", d.get("calibration")),
            "isotonic" if "isotonicCalibration" in d else "sigmoid",
            tuple((step["operation"], step.get("number")) for step in d.get("targetSteps", ())),
        ),
        doc,
        where,
    )


# the VERSION_SCHEMAS key of a model file's schema -> its reader
MODEL_READERS: dict[str, Callable] = {
    "trees": lambda files, doc, major, where, schemas: _tree_model(files, doc, major, where),
    "linear": lambda files, doc, major, where, schemas: _linear_model(files, doc, major, where),
    "composite": _composite_model,
}


# ---------------------------------------------------------------- package


def sniff(files: Files) -> bool:
    return isinstance(files, Files) and files.exists(MANIFEST)


def read_version(files: Files) -> str:
    """The formatVersion MODEL records, as written; reads MODEL and nothing else."""
    where = files.where(MANIFEST)
    manifest = _json.parse(files.read(MANIFEST), where)
    found = manifest.get("formatVersion") if isinstance(manifest, dict) else None
    if not isinstance(found, str):
        _versions.parse_version(found, where)  # raises, with the message loads would give
    return found


def _document(files: Files, path: str, schema: str) -> Any:
    doc = _json.parse(files.read(path), files.where(path))
    _json.validate(doc, schema, files.where(path))
    return doc


def _construct(build: Callable, doc: Any, where: str):
    try:
        return build(doc)
    except IRValidationError as exc:
        raise MalformedPackageError(where, str(exc)) from None


def loads(files: Files) -> ir.Package:
    where = files.where(MANIFEST)
    manifest = _json.parse(files.read(MANIFEST), where)
    is_object = isinstance(manifest, dict)
    found = manifest.get("formatVersion") if is_object else None
    major, minor = _versions.parse_version(found, where)
    schemas = schemas_for((major, minor))
    known = _json.schema_text(schemas["manifest"])["properties"]
    unknown = {key for key in manifest if key not in known} if is_object else set()
    if _versions.check_version(NAME, rules.VERSION, found, where, unknown, older=OLDER):
        # a newer minor only adds keys an older reader may ignore (docs/FORMATS.md)
        manifest = {key: value for key, value in manifest.items() if key not in unknown}
    _json.validate(manifest, schemas["manifest"], where)
    encoders = []
    for step in manifest["encoders"]["apply"]:
        kind, path = step["encoderType"], step["path"]
        doc = _document(files, path, ENCODERS[kind].schema)
        encoders.append(_construct(ENCODERS[kind].read, doc, files.where(path)))
    model_path, kind = manifest["model"]["path"], manifest["model"]["modelType"]
    # the manifest's schema for this version admits only the model types it knows
    family = model_family(kind)
    if family not in schemas:
        raise MalformedPackageError(where, f"expected a model type format version {found} holds, found {kind!r}")
    model_doc = _document(files, model_path, schemas[family])
    if model_doc["modelType"] != kind:
        raise MalformedPackageError(
            files.where(model_path),
            f"expected modelType {kind!r} as the manifest says, found {shown(model_doc['modelType'])}",
        )
    model = MODEL_READERS[family](files, model_doc, major, files.where(model_path), schemas)
    expected = model_type(model, major)
    if kind != expected:
        raise MalformedPackageError(
            files.where(model_path), f"expected modelType {expected!r} for this model, found {shown(kind)}"
        )
    checks = None
    if "checks" in manifest:
        checks_path = manifest["checks"]["path"]
        checks = _envelope.read_checks(files.read(checks_path), files.where(checks_path))
    package = _construct(
        lambda m: ir.Package(
            inputs=tuple(ir.Field(f["name"], f["type"]) for f in m["inputs"]),
            encoders=tuple(encoders),
            model=model,
            owner=m.get("owner"),
            tags=tuple(m["tags"]),
            metadata=m["metadata"],
            producer=m.get("producer", {}),
            checks=checks,
        ),
        manifest,
        where,
    )
    if "outputs" in manifest and tuple(manifest["outputs"]) != package.outputs:
        raise MalformedPackageError(
            where, f"expected outputs {list(package.outputs)} for this model, found {manifest['outputs']}"
        )
    return _envelope.verify_id(manifest["id"], package, where, holder="the manifest")
