"""The Java reader refuses what the Python reader refuses: the same bad files, fed to both.

Each case changes one value of a real package (a golden or conformance package as written) to
one the JSON Schemas or the IR refuse, or to one they allow. A change to hashed content gets the
id the Java reader computes for it, so the refusal under test is the value's, not the id's.
Python refusing (a CrossformError) and Java refusing (a named PackageException) must agree.
"""

from __future__ import annotations

import json
import re

import pytest

from crossform.errors import CrossformError
from crossform.exporters import Files, stripe_json
from crossform.runtime import jvm, unavailable
from helpers.paths import CONFORMANCE

GOLDEN = CONFORMANCE / "golden" / "stripe-json"
PACKAGES = CONFORMANCE / "packages"
FLOAT_LABELS = PACKAGES / "rf-float-classes"  # classes 0.0, 1.0 and 2.0: outputs probability(0.0), ...


def _set(key, value):
    def change(doc):
        doc[key] = value

    return change


def _drop(key):
    return lambda doc: doc.pop(key)


def _at(path, change):
    """Apply ``change`` to the object at ``path`` (keys and indices) inside the document."""

    def apply(doc):
        node = doc
        for step in path:
            node = node[step]
        change(node)

    return apply


def _rename_kind(old, new):
    def change(doc):
        for step in doc["encoders"]["apply"]:
            if step["encoderType"] == old:
                step["encoderType"] = new

    return change


# (description, package directory, file, change, whether the schemas and the IR allow the result)
CASES = [
    # the manifest: values and the kinds each version names
    ("2.0 names affine", PACKAGES / "pca-columns-one-hot", "MODEL", _set("formatVersion", "2.0"), False),
    ("2.1 names a projection", PACKAGES / "pca-columns-one-hot", "MODEL", _set("formatVersion", "2.1"), False),
    (
        "2.0 names refuse-missing",
        GOLDEN / "2.1" / "packages" / "missing-indicator-strict",
        "MODEL",
        _set("formatVersion", "2.0"),
        False,
    ),
    (
        "2.0 names a linear model",
        GOLDEN / "2.1" / "packages" / "logistic-binary",
        "MODEL",
        _set("formatVersion", "2.0"),
        False,
    ),
    ("2.1 names a composite", PACKAGES / "target-log-stacking", "MODEL", _set("formatVersion", "2.1"), False),
    (
        "2.3 (a newer minor) reads",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "MODEL",
        _set("formatVersion", "2.3"),
        True,
    ),
    ("duplicate tags", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("tags", ["a", "a"]), False),
    ("an empty tag", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("tags", [""]), False),
    ("two tags", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("tags", ["b", "a"]), True),
    ("an id of another shape", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("id", "sha256.abc"), False),
    ("owner a number", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("owner", 5), False),
    ("owner a string", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("owner", "ml-team"), True),
    ("producer a number", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("producer", {"sklearn": 1}), False),
    (
        "producer strings",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "MODEL",
        _set("producer", {"sklearn": "1.9"}),
        True,
    ),
    ("metadata a number", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("metadata", {"k": 1}), False),
    ("no inputs", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("inputs", []), False),
    (
        "an empty input name",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "MODEL",
        _at(["inputs", 0], _set("name", "")),
        False,
    ),
    (
        "an input key no schema names",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "MODEL",
        _at(["inputs", 0], _set("unit", "cm")),
        False,
    ),
    (
        "a model path with a space",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "MODEL",
        _at(["model"], _set("path", "my model.json")),
        False,
    ),
    (
        "a checks path leaving the package",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "MODEL",
        _set("checks", {"path": "../checks.json"}),
        False,
    ),
    ("checks without a path", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _set("checks", {}), False),
    (
        "outputs of another model",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "MODEL",
        _set("outputs", ["prediction"]),
        False,
    ),
    (
        "outputs reordered",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "MODEL",
        _at(["outputs"], lambda o: o.reverse()),
        False,
    ),
    ("no outputs (optional)", GOLDEN / "2.0" / "packages" / "rf-binary", "MODEL", _drop("outputs"), True),
    (
        "float labels named as integers",
        FLOAT_LABELS,
        "MODEL",
        _set("outputs", ["probability(0)", "probability(1)", "probability(2)"]),
        False,
    ),
    # encoder files
    (
        "encoder features empty",
        GOLDEN / "2.0" / "packages" / "impute-then-scale",
        "standard-scaler.json",
        _set("features", []),
        False,
    ),
    (
        "an empty feature name",
        PACKAGES / "pca-columns-one-hot",
        "projection.json",
        _at(["features"], lambda f: f.__setitem__(0, "")),
        False,
    ),
    (
        "a projection centring no schema names",
        PACKAGES / "pca-columns-one-hot",
        "projection.json",
        _set("centring", "middle"),
        False,
    ),
    (
        "a projection without components",
        PACKAGES / "pca-columns-one-hot",
        "projection.json",
        _set("components", []),
        False,
    ),
    (
        "a projection with a zero divisor",
        PACKAGES / "pca-columns-one-hot",
        "projection.json",
        _set("divisors", [0.0, 1.0]),
        False,
    ),
    (
        "a projection with divisors",
        PACKAGES / "pca-columns-one-hot",
        "projection.json",
        _set("divisors", [2.0, 3.0]),
        True,
    ),
    (
        "a projection mean as text",
        PACKAGES / "pca-columns-one-hot",
        "projection.json",
        _at(["mean"], lambda m: m.__setitem__(0, "NaN")),
        False,
    ),
    (
        "a negative one-hot width",
        PACKAGES / "pca-columns-one-hot",
        "one-hot.json",
        _at(["widths"], lambda w: w.__setitem__(next(iter(w)), -1)),
        False,
    ),
    # model files
    (
        "a 2.1 tree rule at its default",
        GOLDEN / "2.1" / "packages" / "hgb-regression",
        "model.json",
        _set("missing", "route"),
        False,
    ),
    (
        "a 2.1 infinite rule at its default",
        GOLDEN / "2.1" / "packages" / "hgb-regression",
        "model.json",
        _set("infinite", "error"),
        False,
    ),
    (
        "a 2.0 model with a 2.2 post transform",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "model.json",
        _set("postTransform", "exp"),
        False,
    ),
    ("empty divisors", GOLDEN / "2.0" / "packages" / "rf-binary", "model.json", _set("divisors", []), False),
    ("no classes", GOLDEN / "2.0" / "packages" / "rf-binary", "model.json", _set("classes", []), False),
    (
        "a class label that is an object",
        GOLDEN / "2.0" / "packages" / "rf-binary",
        "model.json",
        _set("classes", [{}, 1]),
        False,
    ),
    (
        "a regressor named a classifier",
        GOLDEN / "2.1" / "packages" / "hgb-regression",
        "model.json",
        _set("modelType", "simple-bonsai-classification-boosted-trees"),
        False,
    ),
    (
        "a linear model of one class",
        GOLDEN / "2.1" / "packages" / "logistic-binary",
        "model.json",
        _at(["classes"], lambda c: c.pop()),
        False,
    ),
    ("passthrough as text", PACKAGES / "target-log-stacking", "model.json", _set("passthrough", "false"), False),
    (
        "a target step no schema names",
        PACKAGES / "target-log-stacking",
        "model.json",
        _set("targetSteps", [{"operation": "log"}]),
        False,
    ),
    (
        "exp with a number",
        PACKAGES / "target-log-stacking",
        "model.json",
        _set("targetSteps", [{"operation": "exp", "number": 1.0}]),
        False,
    ),
    (
        "divide without a number",
        PACKAGES / "target-log-stacking",
        "model.json",
        _set("targetSteps", [{"operation": "divide"}]),
        False,
    ),
    (
        "divide by zero",
        PACKAGES / "target-log-stacking",
        "model.json",
        _set("targetSteps", [{"operation": "divide", "number": 0}]),
        False,
    ),
    ("no target steps", PACKAGES / "target-log-stacking", "model.json", _set("targetSteps", []), False),
    (
        "two target steps",
        PACKAGES / "target-log-stacking",
        "model.json",
        _set("targetSteps", [{"operation": "multiply", "number": 2.5}, {"operation": "expm1"}]),
        True,
    ),
    (
        "target steps on a classifier",
        PACKAGES / "stacking-binary",
        "model.json",
        _set("targetSteps", [{"operation": "exp"}]),
        False,
    ),
    ("target steps without them", PACKAGES / "target-log-stacking", "model.json", _drop("targetSteps"), True),
    # 1.x
    (
        "1.0 names affine",
        GOLDEN / "1.0" / "packages" / "impute-then-scale",
        "MODEL",
        _rename_kind("standard-scaler", "affine"),
        False,
    ),
    (
        "1.0 with an exp post transform",
        GOLDEN / "1.0" / "packages" / "rf-binary",
        "model.json",
        _set("postTransform", "exp"),
        False,
    ),
    (
        "1.0 tree with a cycle",
        GOLDEN / "1.0" / "packages" / "rf-binary",
        "model.json",
        _at(["trees", 0, "left"], lambda a: a.__setitem__(0, 0)),
        False,
    ),
    (
        "1.0 tree with a short value",
        GOLDEN / "1.0" / "packages" / "rf-binary",
        "model.json",
        _at(["trees", 0, "value"], lambda a: a.pop()),
        False,
    ),
]


def _refusal(read):
    try:
        read()
    except CrossformError as exc:
        return exc
    return None


@pytest.mark.skipif(unavailable("jvm") is not None, reason=f"jvm runtime: {unavailable('jvm')}")
@pytest.mark.parametrize(("description", "directory", "name", "change", "allowed"), CASES, ids=[c[0] for c in CASES])
def test_java_refuses_what_python_refuses(description, directory, name, change, allowed):
    content = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    doc = json.loads(content[name])
    change(doc)
    content[name] = json.dumps(doc, indent=2).encode()
    java = _refusal(lambda: jvm._loaded(content))
    hashed = java is not None and java.name == "IdMismatch" and re.search(r"hashes to (sha256\.[A-Z2-7]+)", str(java))
    if hashed:  # the content changed what the id covers: give it the id it hashes to
        manifest = json.loads(content["MODEL"])
        manifest["id"] = hashed.group(1)
        content["MODEL"] = json.dumps(manifest, indent=2).encode()
        java = _refusal(lambda: jvm._loaded(content))
    python = _refusal(lambda: stripe_json.FORMAT.loads(Files.from_mapping(content, label=str(directory))))
    assert (python is None) == allowed, f"{description}: Python {'accepts' if python is None else python}"
    assert (java is None) == (python is None), (
        f"{description}: Java {'accepts' if java is None else java}; Python {python}"
    )
    if java is not None:
        assert java.name not in ("IdMismatch", "UnsupportedKind"), java  # a named refusal of the value itself
        assert name in str(java) or "MODEL" in str(java), java
