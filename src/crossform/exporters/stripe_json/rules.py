"""stripe-json's own rules: its names and files, the schemas each version fixed, the model
types of the manifest, and the version a package records.

The layout follows the Stripe scoring-service packages: a MODEL manifest lists the encoders
to apply in order and the model, each by type and path. The spec is docs/formats/stripe-json.md.
"""

from __future__ import annotations

from ... import checks as checks_module
from ... import ir
from .. import _versions

NAME = "stripe-json"
# 2.1 (a strict minor): linear models, the affine, missing-indicator, one-hot and
# refuse-missing encoders, the models' missing and infinite rules, binary scores from one tree
# output, isolation forests, and (bonsai 1.1) set splits and +inf thresholds: the features
# FEATURES_SINCE dates 2.1. 2.2 (a strict minor): the exp post transform, float32 accumulation
# (XGBoost's predictor), and the number-category and binning encoders. A package using none of
# them records LAYOUT_VERSION.
VERSION = "2.2"
MAJOR = 2
# The version the bonsai layout recorded when it was first written: a package using no feature
# FEATURES_SINCE dates later records it still, byte for byte as that release wrote it.
LAYOUT_VERSION = "2.0"
# The format's first version: what FEATURES_SINCE leaves out (the first encoders, plain trees)
# every version holds.
FIRST_VERSION = "1.0"
# Older majors this reader still reads, each with its last minor; their
# readers are frozen (1.x: trees as JSON arrays, reader_1).
OLDER = ("1.0",)
LAYOUT = "directory"
RUNTIMES = ("reference", "jvm")

MANIFEST = "MODEL"
MODEL_FILE = "model.json"
TREES_FILE = "trees.bonsai"
# a composite's member i: its model document and (tree members) its trees
MEMBER_FILE = "member-{}.json"
MEMBER_TREES_FILE = "member-{}-trees.bonsai"
FINAL_FILE = "final.json"  # a stack's final linear model
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
    "2.2": {
        "manifest": "stripe-json-manifest-2.2.schema.json",
        "trees": "stripe-json-model-2.2.schema.json",
        "linear": "stripe-json-linear-model-2.schema.json",
        "composite": "stripe-json-composite-model-2.schema.json",
    },
}
LINEAR_MODEL_TYPES = {"regression-linear": "linear-regression", "classification-linear": "linear-classification"}
# IR model class -> the VERSION_SCHEMAS key of its model file's schema
MODEL_FAMILIES = {ir.TreeEnsemble: "trees", ir.LinearModel: "linear", ir.Composite: "composite"}
COMPOSITE_MODEL_TYPES = {
    "regression-composite": "composite-regression",
    "classification-composite": "composite-classification",
}

# Model-level rules, written only when they are not the default (so a model
# without them is a 2.0 file): model.json key -> (IR field, its default).
TREE_RULES = {
    "missing": ("missing", "route"),
    "infinite": ("infinite", "error"),
    "accumulate": ("accumulate", "float64"),
}
ISOLATION_KEYS = ("denominator", "offset")  # model.json's "isolation", in the IR's order

# Kept here too: callers filter warnings on stripe_json.FormatVersionWarning.
FormatVersionWarning = _versions.FormatVersionWarning


def model_type(model: ir.Model, major: int = MAJOR) -> str:
    """The manifest's name: the seed's simple-bonsai-* for trees (simple-json-* in 1.x), linear-* for linear models."""
    if model.model_type in LINEAR_MODEL_TYPES:
        return LINEAR_MODEL_TYPES[model.model_type]
    if model.model_type in COMPOSITE_MODEL_TYPES:
        return COMPOSITE_MODEL_TYPES[model.model_type]
    return f"{'simple-bonsai' if major >= 2 else 'simple-json'}-{model.model_type}"


def model_family(kind: str) -> str:
    """Which model file a modelType names: "linear", "composite", or "trees"."""
    if kind in COMPOSITE_MODEL_TYPES.values():
        return "composite"
    return "linear" if kind in LINEAR_MODEL_TYPES.values() else "trees"


def version_key(version: str) -> tuple:
    return _versions.parse_version(version, f"{NAME} version")


def schemas_for(version: tuple) -> dict:
    """The schemas a package of ``version`` (major, minor) follows."""
    listed = [version_key(v) for v in VERSION_SCHEMAS]
    below = [v for v in listed if v[0] == version[0] and v <= version]
    chosen = max(below) if below else max(v for v in listed if v[0] == MAJOR)
    return VERSION_SCHEMAS[f"{chosen[0]}.{chosen[1]}"]


def recorded_version(package: ir.Package) -> str:
    """The version a file of ``package`` records: the newest any of its kinds needs, and
    never below LAYOUT_VERSION (a strict minor, docs/FORMATS.md: 2.0's kinds keep recording 2.0)."""
    return _versions.version_needed(NAME, _versions.features_used(package), LAYOUT_VERSION)


def needs(package: ir.Package) -> str | None:
    """What in ``package`` needs a version after 2.0 (a few words), or None (crossform compat says it)."""
    return _versions.first_feature_after(NAME, _versions.features_used(package), LAYOUT_VERSION)
