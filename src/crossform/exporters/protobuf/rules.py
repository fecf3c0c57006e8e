"""protobuf's own rules: its names, the enum tables between the IR and the schema, the
version a package records, and one named error per way a file can be wrong.

The schema is proto/crossform/v1/package.proto, and its comments are the spec
(docs/formats/protobuf.md summarises it). Version 1.1 adds oneof members (Encoder 4-7,
Model 2-3, listed in MEMBER_FEATURES); a file records 1.1 only when it sets one of them,
so every other package is written byte for byte as 1.0 wrote it. A 1.0 reader drops those
members as unknown fields of a newer minor and then refuses the encoder or model left with
no member set (ProtobufMissingError); it never misreads them. Whatever else 1.1 adds to
tree ensembles (set splits, +inf thresholds, the isolation transform) lives inside the 1.1
member tree_ensemble_with_rules, so a tree_ensemble is always exactly what 1.0 could state.
"""

from __future__ import annotations

from ... import ir
from ...errors import MalformedPackageError, SchemaError
from ...v1 import package_pb2 as pb
from .. import _versions

NAME = "protobuf"
# 1.2 (a strict minor): tree ensembles accumulated in float32 (Model.tree_ensemble_float32), the
# exp post transform, the number-category and binning encoders, and tree ensembles with output
# divisors (Model.tree_ensemble_divided) or a weighted median (Model.tree_ensemble_weighted_median).
VERSION = "1.2"
# The version the layout recorded when it was first written: a package using no feature
# FEATURES_SINCE dates later records it still, byte for byte as that release wrote it.
LAYOUT_VERSION = "1.0"
LAYOUT = "file"
EXTENSIONS = (".pb",)  # the file name ending that names this format (save picks it)
RUNTIMES = ("reference", "jvm")

MAGIC = "crossform.package"
# Field 1, wire type 2, then the length: deterministic serialization writes field 1 first.
PREFIX = b"\x0a" + bytes([len(MAGIC)]) + MAGIC.encode("ascii")
WHERE = f"<{NAME}>"

FormatVersionWarning = _versions.FormatVersionWarning


class ProtobufDecodeError(MalformedPackageError):
    """Bytes that protobuf cannot parse as a crossform.v1.Package."""


class ProtobufMagicError(MalformedPackageError):
    """The file does not start with the crossform.package magic."""


class ProtobufUnknownFieldError(SchemaError):
    """Fields this reader does not know, in a package of its own or an older minor."""


class ProtobufMissingError(MalformedPackageError):
    """A required field, or a oneof, that is not set."""


class ProtobufEnumError(MalformedPackageError):
    """An enum left UNSPECIFIED, or a value this reader does not know."""


class ProtobufCountError(MalformedPackageError):
    """Arrays whose lengths disagree with each other or with the model."""


class ProtobufIndexError(MalformedPackageError):
    """A child, feature, column or set-node index outside its range, or a set on a leaf."""


class ProtobufOrderError(MalformedPackageError):
    """Entries that must be strictly ascending (set nodes, a set's values) and are not."""


class ProtobufValueError(MalformedPackageError):
    """A number its field does not allow: a NaN or infinite set value, a threshold that is NaN,
    -inf, +inf outside tree_ensemble_with_rules or not 0.0 at a set node."""


class ProtobufUnexpectedError(MalformedPackageError):
    """A field set where the rules require it absent (isolation without its post transform,
    tree_sets that hold no set node)."""


KINDS = {ir.NUMERIC: pb.Field.KIND_NUMERIC, ir.CATEGORICAL: pb.Field.KIND_CATEGORICAL}
AGGREGATIONS = {"average": pb.TreeEnsemble.AGGREGATION_AVERAGE, "sum": pb.TreeEnsemble.AGGREGATION_SUM}
POST_TRANSFORMS = {
    "none": pb.TreeEnsemble.POST_TRANSFORM_NONE,
    "logistic": pb.TreeEnsemble.POST_TRANSFORM_LOGISTIC,
    "softmax": pb.TreeEnsemble.POST_TRANSFORM_SOFTMAX,
    "isolation": pb.TreeEnsemble.POST_TRANSFORM_ISOLATION,
    "exp": pb.TreeEnsemble.POST_TRANSFORM_EXP,
}
# tree_ensemble and linear_model: the values 1.0 has; isolation needs its parameters, which
# only tree_ensemble_with_rules holds, and exp came after 1.0
PLAIN_POST_TRANSFORMS = {k: v for k, v in POST_TRANSFORMS.items() if k not in ("isolation", "exp")}
UNKNOWN_POLICIES = {"error": pb.OneHotBlock.UNKNOWN_POLICY_ERROR, "zeros": pb.OneHotBlock.UNKNOWN_POLICY_ZEROS}
MISSING_RULES = {"route": pb.TreeEnsembleWithRules.MISSING_ROUTE, "error": pb.TreeEnsembleWithRules.MISSING_ERROR}
INFINITE_RULES = {
    "error": pb.TreeEnsembleWithRules.INFINITE_ERROR,
    "compare": pb.TreeEnsembleWithRules.INFINITE_COMPARE,
}

# The oneof members 1.0 lacks, by full field name -> the FEATURES_SINCE features a package is
# written through that member for. Only members of Encoder's and Model's oneofs: whatever a
# 1.x reader does not know must sit where dropping it leaves a oneof unset, which every 1.x
# reader refuses. The version that added a member is the first that holds one of its features.
# An encoder kind's member is named after the kind ("one-hot" -> Encoder.one_hot), so every
# encoder feature of FEATURES_SINCE names its member; the model's members are listed.
MEMBER_FEATURES = {
    **{
        f"crossform.v1.Encoder.{feature.removesuffix(' encoder').replace('-', '_')}": (feature,)
        for feature in _versions.FEATURES_SINCE
        if feature.endswith(" encoder") and NAME in _versions.FEATURES_SINCE[feature]
    },
    "crossform.v1.Model.linear_model": ("linear model",),
    "crossform.v1.Model.tree_ensemble_with_rules": (
        "binary score",
        "isolation transform",
        "set split",
        "infinite threshold",
        "missing rule",
        "infinite rule",
        "exp transform",
    ),
    "crossform.v1.Model.tree_ensemble_float32": ("float32 accumulation",),
    "crossform.v1.Model.tree_ensemble_divided": ("output divisors",),
    "crossform.v1.Model.composite": ("composite model", "isotonic calibration", "target steps"),
    "crossform.v1.Model.tree_ensemble_weighted_median": ("weighted median",),
}
COMBINATIONS = {
    "average": pb.Composite.COMBINATION_AVERAGE,
    "vote": pb.Composite.COMBINATION_VOTE,
    "stack": pb.Composite.COMBINATION_STACK,
    "calibrate": pb.Composite.COMBINATION_CALIBRATE,
    "target": pb.Composite.COMBINATION_TARGET,
}
TARGET_STEPS = {
    "add": pb.Composite.TargetStep.OPERATION_ADD,
    "subtract": pb.Composite.TargetStep.OPERATION_SUBTRACT,
    "multiply": pb.Composite.TargetStep.OPERATION_MULTIPLY,
    "divide": pb.Composite.TargetStep.OPERATION_DIVIDE,
    "exp": pb.Composite.TargetStep.OPERATION_EXP,
    "expm1": pb.Composite.TargetStep.OPERATION_EXPM1,
}
CALIBRATION_METHODS = {
    "sigmoid": pb.Composite.CALIBRATION_METHOD_SIGMOID,
    "isotonic": pb.Composite.CALIBRATION_METHOD_ISOTONIC,
}


def version_key(version: str) -> tuple:
    return _versions.parse_version(version, f"{NAME} version")


def member_version(member: str) -> str:
    """The version that added the oneof member ``member`` (a full field name), LAYOUT_VERSION
    for a member 1.0 has."""
    features = MEMBER_FEATURES.get(member)
    if features is None:
        return LAYOUT_VERSION
    return min((_versions.version_needed(NAME, [(f, f)], LAYOUT_VERSION) for f in features), key=version_key)


def recorded_version(package: ir.Package) -> str:
    """The version a file of ``package`` records (strict minor: docs/FORMATS.md)."""
    return _versions.version_needed(NAME, _versions.features_used(package), LAYOUT_VERSION)


def is_plain_ensemble(model: ir.TreeEnsemble) -> bool:
    """Whether 1.0's tree_ensemble states ``model``: a leaf value per class (one for a
    regressor), missing "route", infinite "error", finite thresholds, no set splits and no
    isolation. Any other ensemble needs the 1.1 member, which 1.0 readers refuse."""
    return _versions.version_needed(NAME, _versions.model_features(model), LAYOUT_VERSION) == LAYOUT_VERSION


def needs(package: ir.Package) -> str | None:
    """What in ``package`` needs a version after 1.0 (a few words), or None (crossform compat says it)."""
    return _versions.first_feature_after(NAME, _versions.features_used(package), LAYOUT_VERSION)
