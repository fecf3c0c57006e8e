"""stripe-json: a directory with a MODEL manifest, one JSON file per encoder, and the model.

The layout follows the Stripe scoring-service packages: the manifest lists
the encoders to apply in order and the model, each by type and path. Every
file has a JSON Schema in schemas/ (checked on write and on read), and the
reader recomputes the package id and refuses a package whose content does
not hash to the id its manifest records. The spec is docs/formats/stripe-json.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from .. import checks as checks_module
from .. import ir
from ..errors import IdMismatchError, IRValidationError, MalformedPackageError, shown
from . import Files, _json, _stripe_json_v1, _versions, bonsai

NAME = "stripe-json"
# 2.1 (a strict minor): linear models, the affine, missing-indicator, one-hot and
# refuse-missing encoders, the models' missing and infinite rules, binary scores from one tree
# output, isolation forests, and (bonsai 1.1) set splits and +inf thresholds.
# A package using none of them records 2.0, byte for byte as before.
VERSION = "2.1"
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
CHECKS_SCHEMA = checks_module.SCHEMA
# version -> the schemas of the files whose shape it fixed; a package of a
# version not listed follows the newest listed one of its major below it
VERSION_SCHEMAS = {
    "1.0": {"manifest": "stripe-json-manifest-1.schema.json", "trees": "stripe-json-model-1.schema.json"},
    "2.0": {"manifest": "stripe-json-manifest-2.schema.json", "trees": "stripe-json-model-2.schema.json"},
    "2.1": {
        "manifest": "stripe-json-manifest-2.1.schema.json",
        "trees": "stripe-json-model-2.1.schema.json",
        "linear": "stripe-json-linear-model-2.schema.json",
    },
}
LINEAR_MODEL_TYPES = {"regression-linear": "linear-regression", "classification-linear": "linear-classification"}


# Kept here too: callers filter warnings on stripe_json.FormatVersionWarning.
FormatVersionWarning = _versions.FormatVersionWarning


def model_type(model: ir.Model, major: int = MAJOR) -> str:
    """The manifest's name: the seed's simple-bonsai-* for trees (simple-json-* in 1.x), linear-* for linear models."""
    if model.model_type in LINEAR_MODEL_TYPES:
        return LINEAR_MODEL_TYPES[model.model_type]
    return f"{'simple-bonsai' if major >= 2 else 'simple-json'}-{model.model_type}"


def _family(kind: str) -> str:
    """Which model file a modelType names: "linear", or "trees"."""
    return "linear" if kind in LINEAR_MODEL_TYPES.values() else "trees"


def _schemas(version: tuple) -> dict:
    listed = [_versions.parse_version(v, "stripe_json.VERSION_SCHEMAS") for v in VERSION_SCHEMAS]
    below = [v for v in listed if v[0] == version[0] and v <= version]
    chosen = max(below) if below else max(v for v in listed if v[0] == MAJOR)
    return VERSION_SCHEMAS[f"{chosen[0]}.{chosen[1]}"]


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
        _per_feature(doc, key, features)
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
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "mean": enc.offset.tolist(),
        "scale": enc.scale.tolist(),
    }


def _scaler(doc: dict) -> ir.Scale:
    return ir.Scale(doc["features"], doc["mean"], doc["scale"], doc["outputs"])


def _affine_doc(enc: ir.Affine) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "scale": enc.scale.tolist(),
        "offset": enc.offset.tolist(),
    }


def _affine(doc: dict) -> ir.Affine:
    return ir.Affine(doc["features"], doc["scale"], doc["offset"], doc["outputs"])


def _missing_indicator_doc(enc: ir.MissingIndicator) -> dict:
    return {"features": list(enc.features), "outputs": list(enc.outputs), "types": list(enc.kinds_in)}


def _missing_indicator(doc: dict) -> ir.MissingIndicator:
    return ir.MissingIndicator(doc["features"], doc["types"], doc["outputs"])


def _refuse_missing_doc(enc: ir.RefuseMissing) -> dict:
    return {"features": list(enc.features), "outputs": list(enc.outputs), "types": list(enc.kinds_in)}


def _refuse_missing(doc: dict) -> ir.RefuseMissing:
    return ir.RefuseMissing(doc["features"], doc["types"], doc["outputs"])


def _one_hot_doc(enc: ir.OneHot) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "widths": dict(zip(enc.features, enc.widths)),
        "columns": {
            name: dict(zip(categories, columns.tolist()))
            for name, categories, columns in zip(enc.features, enc.categories, enc.columns)
        },
        "missing": {
            name: "unknown" if column is None else column for name, column in zip(enc.features, enc.missing_columns)
        },
        "unknown": dict(zip(enc.features, enc.unknown)),
    }


def _one_hot(doc: dict) -> ir.OneHot:
    features = doc["features"]
    for key in ("widths", "columns", "missing", "unknown"):
        _per_feature(doc, key, features)
    return ir.OneHot(
        features,
        tuple(tuple(doc["columns"][f]) for f in features),
        tuple(list(doc["columns"][f].values()) for f in features),
        tuple(doc["widths"][f] for f in features),
        tuple(None if doc["missing"][f] == "unknown" else doc["missing"][f] for f in features),
        tuple(doc["unknown"][f] for f in features),
        doc["outputs"],
    )


def _per_feature(doc: dict, key: str, features: list) -> None:
    if sorted(doc[key]) != sorted(features):
        raise IRValidationError(
            f"The {key!r} object must have one entry per feature {features}. "
            f"Got entries for {sorted(doc[key])} instead."
        )


class _Encoder(NamedTuple):
    since: str  # the first version whose files hold it
    schema: str
    write: Callable
    read: Callable


ENCODERS: dict[str, _Encoder] = {
    "fill-missing": _Encoder("1.0", "stripe-json-fill-missing-1.schema.json", _fill_missing_doc, _fill_missing),
    "label-encoder": _Encoder("1.0", "stripe-json-label-encoder-1.schema.json", _label_encoder_doc, _label_encoder),
    "standard-scaler": _Encoder("1.0", "stripe-json-standard-scaler-1.schema.json", _scaler_doc, _scaler),
    "affine": _Encoder("2.1", "stripe-json-affine-2.schema.json", _affine_doc, _affine),
    "missing-indicator": _Encoder(
        "2.1", "stripe-json-missing-indicator-2.schema.json", _missing_indicator_doc, _missing_indicator
    ),
    "one-hot": _Encoder("2.1", "stripe-json-one-hot-2.schema.json", _one_hot_doc, _one_hot),
    "refuse-missing": _Encoder("2.1", "stripe-json-refuse-missing-2.schema.json", _refuse_missing_doc, _refuse_missing),
}


# ---------------------------------------------------------------- model

# Model-level rules, written only when they are not the default (so a model
# without them is a 2.0 file): model.json key -> (IR field, its default).
TREE_RULES = {"missing": ("missing", "route"), "infinite": ("infinite", "error")}
ISOLATION_KEYS = ("denominator", "offset")  # model.json's "isolation", in the IR's order


def _tree_model_doc(model: ir.TreeEnsemble) -> dict:
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
    doc["trees"] = {"path": TREES_FILE, "encoding": "bonsai"}
    return doc


def _tree_since(model: ir.TreeEnsemble) -> str:
    """2.1 for anything a 2.0 reader would refuse: its new keys, and bonsai 1.1 trees (set splits, +inf)."""
    return _versions.version_needed(NAME, _versions.model_features(model), "1.0")


def new_kind(package: ir.Package) -> str | None:
    """What in ``package`` needs format version 2.1 (a few words), or None (crossform compat says it)."""
    return _versions.first_feature_after(NAME, _versions.features_used(package), "2.0")


def _trees(files: Files, doc: dict, major: int, width: int, where: str) -> tuple:
    if major == 1:
        return tuple(_stripe_json_v1.tree(t, width, i) for i, t in enumerate(doc["trees"]))
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
        ),
        doc,
        where,
    )


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


class _Model(NamedTuple):
    family: str  # the VERSION_SCHEMAS key of its model file's schema
    write: Callable
    read: Callable
    since: Callable  # model -> the first version whose files hold it
    beside: Callable  # model -> the files that model.json points to


MODELS: dict[type, _Model] = {
    ir.TreeEnsemble: _Model(
        "trees", _tree_model_doc, _tree_model, _tree_since, lambda model: {TREES_FILE: bonsai.dumps(model)}
    ),
    ir.LinearModel: _Model("linear", _linear_model_doc, _linear_model, lambda model: "2.1", lambda model: {}),
}
FAMILIES = {kind.family: kind for kind in MODELS.values()}


def recorded_version(package: ir.Package) -> str:
    """The version a file of ``package`` records: the newest any of its kinds needs, and
    never below 2.0 (a strict minor, docs/FORMATS.md: 2.0's kinds keep recording 2.0)."""
    needs = ["2.0", MODELS[type(package.model)].since(package.model)]
    needs += [ENCODERS[e.encoder_type].since for e in package.encoders]
    return max(needs, key=lambda v: _versions.parse_version(v, "stripe-json written version"))


# ---------------------------------------------------------------- package


def dumps(package: ir.Package) -> dict:
    version = recorded_version(package)
    schemas = _schemas(_versions.parse_version(version, "stripe-json written version"))
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
    writer = MODELS[type(package.model)]
    model = writer.write(package.model)
    _json.validate(model, schemas[writer.family], MODEL_FILE)
    files[MODEL_FILE] = _json.dumps(model)
    files.update(writer.beside(package.model))
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
    if package.checks is not None:
        doc = checks_module.to_document(package.checks)
        _json.validate(doc, CHECKS_SCHEMA, CHECKS_FILE)
        files[CHECKS_FILE] = _json.dumps(doc, compact=True)
        manifest["checks"] = {"path": CHECKS_FILE}
    _json.validate(manifest, schemas["manifest"], MANIFEST)
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
    major, minor = _versions.parse_version(found, where)
    schemas = _schemas((major, minor))
    known = _json.schema_text(schemas["manifest"])["properties"]
    unknown = {key for key in manifest if key not in known} if is_object else set()
    if _versions.check_version(NAME, VERSION, found, where, unknown, older=OLDER):
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
    reader = FAMILIES[_family(kind)]
    model_doc = _document(files, model_path, schemas[reader.family])
    if model_doc["modelType"] != kind:
        raise MalformedPackageError(
            files.where(model_path),
            f"expected modelType {kind!r} as the manifest says, found {shown(model_doc['modelType'])}",
        )
    model = reader.read(files, model_doc, major, files.where(model_path))
    expected = model_type(model, major)
    if kind != expected:
        raise MalformedPackageError(
            files.where(model_path), f"expected modelType {expected!r} for this model, found {shown(kind)}"
        )
    checks = None
    if "checks" in manifest:
        checks_path = manifest["checks"]["path"]
        doc = _document(files, checks_path, CHECKS_SCHEMA)
        checks = checks_module.from_document(doc, files.where(checks_path))
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
    if manifest["id"] != package.id:
        raise IdMismatchError(
            where,
            f"the manifest records id {manifest['id']} but the content hashes to "
            f"{package.id}: a file changed after the package was written",
            package=package,
        )
    return package
