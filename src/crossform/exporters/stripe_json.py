"""stripe-json: a directory with a MODEL manifest, one JSON file per encoder, and the model.

The layout follows the Stripe scoring-service packages: the manifest lists
the encoders to apply in order and the model, each by type and path. Every
file has a JSON Schema in schemas/ (checked on write and on read), and the
reader recomputes the package id and refuses a package whose content does
not hash to the id its manifest records. The spec is docs/formats/stripe-json.md.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from .. import checks as checks_module
from .. import ir
from ..errors import IdMismatchError, IRValidationError, MalformedPackageError
from . import Files, _json, _stripe_json_v1, _versions, bonsai

NAME = "stripe-json"
VERSION = "2.0"
MAJOR = 2
# Older majors this reader still reads, each with its last minor; their
# readers are frozen (1.x: trees as JSON arrays, _stripe_json_v1).
OLDER = ("1.0",)
LAYOUT = "directory"
RUNTIMES = ("reference",)

MANIFEST = "MODEL"
MODEL_FILE = "model.json"
TREES_FILE = "trees.bonsai"
CHECKS_FILE = "checks.json"
SCHEMAS = {
    "fill-missing": "stripe-json-fill-missing-1.schema.json",
    "label-encoder": "stripe-json-label-encoder-1.schema.json",
    "standard-scaler": "stripe-json-standard-scaler-1.schema.json",
    "checks": checks_module.SCHEMA,
}
# major -> the schemas of the files that changed between majors
MAJOR_SCHEMAS = {
    1: {"manifest": "stripe-json-manifest-1.schema.json", "model": "stripe-json-model-1.schema.json"},
    2: {"manifest": "stripe-json-manifest-2.schema.json", "model": "stripe-json-model-2.schema.json"},
}


# Kept here too: callers filter warnings on stripe_json.FormatVersionWarning.
FormatVersionWarning = _versions.FormatVersionWarning


def model_type(model: ir.TreeEnsemble, major: int = MAJOR) -> str:
    """The seed's name: trees in bonsai since 2.0, in JSON before."""
    return f"{'simple-bonsai' if major >= 2 else 'simple-json'}-{model.model_type}"


# ---------------------------------------------------------------- encoders


def _fill_missing_doc(enc: ir.FillMissing) -> dict:
    return {"features": list(enc.features), "outputs": list(enc.outputs), "values": list(enc.values)}


def _fill_missing(doc: dict) -> ir.FillMissing:
    return ir.FillMissing(doc["features"], doc["values"], doc["outputs"])


def _label_encoder_doc(enc: ir.CategoricalEncoding) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "encodings": {
            name: dict(zip(categories, codes.tolist()))
            for name, categories, codes in zip(enc.features, enc.categories, enc.codes)
        },
        "missing": {
            name: "unknown" if code is None else _json.encode_float(code)
            for name, code in zip(enc.features, enc.missing_codes)
        },
        "unknown": "error" if enc.unknown_code is None else _json.encode_float(enc.unknown_code),
    }


def _label_encoder(doc: dict) -> ir.CategoricalEncoding:
    features = doc["features"]
    for key in ("encodings", "missing"):
        if sorted(doc[key]) != sorted(features):
            raise IRValidationError(f"The {key!r} object must have one entry per feature {features}. "
                                    f"Got entries for {sorted(doc[key])} instead.")
    encodings = [doc["encodings"][f] for f in features]
    missing = [None if doc["missing"][f] == "unknown" else _json.decode_float(doc["missing"][f]) for f in features]
    unknown = None if doc["unknown"] == "error" else _json.decode_float(doc["unknown"])
    return ir.CategoricalEncoding(
        features,
        tuple(tuple(e) for e in encodings),
        tuple(list(e.values()) for e in encodings),
        tuple(missing),
        unknown,
        doc["outputs"],
    )


def _scaler_doc(enc: ir.Scale) -> dict:
    return {"features": list(enc.features), "outputs": list(enc.outputs),
            "mean": enc.offset.tolist(), "scale": enc.scale.tolist()}


def _scaler(doc: dict) -> ir.Scale:
    return ir.Scale(doc["features"], doc["mean"], doc["scale"], doc["outputs"])


ENCODERS: dict[str, tuple[type, Callable, Callable]] = {
    "fill-missing": (ir.FillMissing, _fill_missing_doc, _fill_missing),
    "label-encoder": (ir.CategoricalEncoding, _label_encoder_doc, _label_encoder),
    "standard-scaler": (ir.Scale, _scaler_doc, _scaler),
}


# ---------------------------------------------------------------- model


def _model_doc(model: ir.TreeEnsemble) -> dict:
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
    doc["trees"] = {"path": TREES_FILE, "encoding": "bonsai"}
    return doc


def _trees(files: Files, doc: dict, major: int, width: int, where: str) -> tuple:
    if major == 1:
        return tuple(_stripe_json_v1.tree(t, width, i) for i, t in enumerate(doc["trees"]))
    path = doc["trees"]["path"]
    trees = bonsai.loads(files.read(path), files.where(path), len(doc["features"]))
    if trees[0].n_outputs != width:
        raise MalformedPackageError(files.where(path), f"expected leaves of {width} outputs as {where} says, "
                                    f"found {trees[0].n_outputs}")
    return trees


def _model(files: Files, doc: dict, major: int, where: str) -> ir.TreeEnsemble:
    classes = doc.get("classes")
    width = len(classes) if classes is not None else 1
    trees = _construct(lambda d: _trees(files, d, major, width, where), doc, where)
    model = _construct(lambda d: ir.TreeEnsemble(
        d["features"], trees, d["aggregation"], d["postTransform"],
        None if classes is None else tuple(classes), d.get("baseValue"),
    ), doc, where)
    expected = model_type(model, major)
    if doc["modelType"] != expected:
        raise MalformedPackageError(where, f"expected modelType {expected!r} for this model, found {doc['modelType']!r}")
    return model


# ---------------------------------------------------------------- package


def dumps(package: ir.Package) -> dict:
    files: dict[str, bytes] = {}
    apply = []
    seen: Counter = Counter()
    for encoder in package.encoders:
        kind = encoder.encoder_type
        seen[kind] += 1
        path = f"{kind}.json" if seen[kind] == 1 else f"{kind}-{seen[kind]}.json"
        doc = ENCODERS[kind][1](encoder)
        _json.validate(doc, SCHEMAS[kind], path)
        files[path] = _json.dumps(doc)
        apply.append({"encoderType": kind, "path": path})
    model = _model_doc(package.model)
    _json.validate(model, MAJOR_SCHEMAS[MAJOR]["model"], MODEL_FILE)
    files[MODEL_FILE] = _json.dumps(model)
    files[TREES_FILE] = bonsai.dumps(package.model)
    manifest = {
        "formatVersion": VERSION,
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
    if package.checks is not None:
        doc = checks_module.to_document(package.checks)
        _json.validate(doc, SCHEMAS["checks"], CHECKS_FILE)
        files[CHECKS_FILE] = _json.dumps(doc, compact=True)
        manifest["checks"] = {"path": CHECKS_FILE}
    _json.validate(manifest, MAJOR_SCHEMAS[MAJOR]["manifest"], MANIFEST)
    files[MANIFEST] = _json.dumps(manifest)
    return files


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
    major, _ = _versions.parse_version(found, where)
    schemas = MAJOR_SCHEMAS.get(major, MAJOR_SCHEMAS[MAJOR])
    known = _json.schema_text(schemas["manifest"])["properties"]
    unknown = {key for key in manifest if key not in known} if is_object else set()
    if _versions.check_version(NAME, VERSION, found, where, unknown, older=OLDER):
        # a newer minor only adds keys an older reader may ignore (docs/FORMATS.md)
        manifest = {key: value for key, value in manifest.items() if key not in unknown}
    _json.validate(manifest, schemas["manifest"], where)
    encoders = []
    for step in manifest["encoders"]["apply"]:
        kind, path = step["encoderType"], step["path"]
        doc = _document(files, path, SCHEMAS[kind])
        encoders.append(_construct(ENCODERS[kind][2], doc, files.where(path)))
    model_path = manifest["model"]["path"]
    model_doc = _document(files, model_path, schemas["model"])
    if model_doc["modelType"] != manifest["model"]["modelType"]:
        raise MalformedPackageError(files.where(model_path), f"expected modelType {manifest['model']['modelType']!r} "
                                    f"as the manifest says, found {model_doc['modelType']!r}")
    model = _model(files, model_doc, major, files.where(model_path))
    checks = None
    if "checks" in manifest:
        checks_path = manifest["checks"]["path"]
        doc = _document(files, checks_path, SCHEMAS["checks"])
        checks = checks_module.from_document(doc, files.where(checks_path))
    package = _construct(lambda m: ir.Package(
        inputs=tuple(ir.Field(f["name"], f["type"]) for f in m["inputs"]),
        encoders=tuple(encoders),
        model=model,
        owner=m.get("owner"),
        tags=tuple(m["tags"]),
        metadata=m["metadata"],
        producer=m.get("producer", {}),
        checks=checks,
    ), manifest, where)
    if "outputs" in manifest and tuple(manifest["outputs"]) != package.outputs:
        raise MalformedPackageError(where, f"expected outputs {list(package.outputs)} for this model, "
                                    f"found {manifest['outputs']}")
    if manifest["id"] != package.id:
        raise IdMismatchError(where, f"the manifest records id {manifest['id']} but the content hashes to "
                              f"{package.id}: a file changed after the package was written", package=package)
    return package
