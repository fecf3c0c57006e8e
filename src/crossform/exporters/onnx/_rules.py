"""The onnx format's own rules: its names and options, the versions its files record, the ops
and graph names it uses, its errors, what it cannot express and which runtimes run it."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import ir
from ...errors import CrossformError, MalformedPackageError, UnsafePackageError, shown
from ...floats import float32_threshold
from .. import _envelope, _limits, _versions

NAME = "onnx"
# 1.1 added the float32 variant; 1.2 gives each tree its own TreeEnsemble; 1.3 adds linear models,
# the affine, missing-indicator, refuse-missing and one-hot encoders, binary logistic scores and the models'
# missing/infinite rules (_versions.FEATURES_SINCE). 1.3 is a strict minor: a package using none of
# those is written as before, recording PER_TREE_VERSION, byte for byte, so 0.4.0 still reads it.
# 1.4 (a strict minor) adds the exp post transform, tree ensembles accumulated in float32
# (XGBoost's predictor), written with explicit float32 Adds and transforms, and the
# number-category and binning encoders.
VERSION = "1.4"
FLOAT64, FLOAT32 = "float64", "float32"
# Graph layouts, by the format version a file records (the reader rebuilds the file's own):
# 1.0 (float64) and 1.1 (float32) hold every tree in one TreeEnsemble with a target per tree;
# from 1.2 each tree is a single-target TreeEnsemble of its own, whose rows onnxruntime walks
# tree by tree in blocks (1.3x-1.5x the rows/s on the bench forest), and a Concat joins their leaves.
SINGLE_ENSEMBLE = {FLOAT64: "1.0", FLOAT32: "1.1"}  # the version each precision recorded then
PER_TREE_VERSION = "1.2"  # the first version of the per-tree layout: what a package records by default
# the first version writing the logistic as explicit ops; a package needs it for a FEATURES_SINCE
# feature, and any logistic in such a package is then written the exact way too
EXPLICIT_LOGISTIC_VERSION = "1.3"
COLUMNS, MEMBER = "columns", "member"  # how set splits are written (see _write_trees._set_columns and native_set)
OPTIONS = {"precision": (FLOAT64, FLOAT32), "sets": (COLUMNS, MEMBER)}  # dumps() options, the default first
# run by the conformance suite besides the default
VARIANTS = {FLOAT32: {"precision": FLOAT32}, MEMBER: {"sets": MEMBER}}
LAYOUT = "file"
EXTENSIONS = (".onnx",)  # the file name ending that names this format (save picks it)
RUNTIMES = ("onnxruntime", "onnx-reference")
WHERE = f"<{NAME}>"

IR_VERSION = 10  # ONNX 1.16, the first release with ai.onnx.ml opset 5
OPSET = 18
ML_OPSET = 5
PRODUCER_NAME = "crossform"
GRAPH = "crossform"

MISSING_SUFFIX = "#missing"
INTERNAL = "crossform:"
ERROR, LEAVES, PROBABILITIES, PREDICTION = "error", "leaves", "probabilities", "prediction"
OUTPUT_NAMES = (ERROR, LEAVES, PROBABILITIES, PREDICTION)
DECISION = "decision"  # a linear classifier's raw scores (post transform "none"), from 1.3
SCORES = "scores"  # an isolation forest's [score, decision], from 1.3
VOTES = "votes"  # a hard-voting composite's votes per class, from 1.4

# metadata_props keys: the envelope's (_envelope.FORMAT_VERSION, ID, ...) and the float32 variant's own
PRECISION = _envelope.PREFIX + "precision"
TOLERANCE = _envelope.PREFIX + "tolerance"
SOURCE_ID = _envelope.PREFIX + "source_id"

# every op the writer uses; the reader names any other as unsupported
OPS = {
    ("", "Where"),
    ("", "IsNaN"),
    ("", "IsInf"),
    ("", "Or"),
    ("", "And"),
    ("", "Not"),
    ("", "Sub"),
    ("", "Div"),
    ("", "Gather"),
    ("", "GreaterOrEqual"),
    ("", "Concat"),
    ("", "Abs"),
    ("", "Cast"),
    ("", "ReduceMax"),
    ("", "Transpose"),
    ("", "ReduceSum"),
    ("", "Sigmoid"),
    ("", "Softmax"),
    ("", "Squeeze"),
    ("", "Identity"),
    ("", "Add"),
    ("", "Mul"),
    ("", "Equal"),
    ("", "Split"),
    ("", "Unsqueeze"),
    ("", "Neg"),
    ("", "Exp"),
    ("", "Pow"),  # from 1.3
    ("", "Min"),  # from 1.4
    ("", "Max"),  # from 1.4
    ("", "Mod"),  # from 1.4
    ("", "Greater"),  # from 1.4: integer codes, a hard-voting composite's member classes
    ("", "Less"),  # from 1.4
    ("", "Floor"),  # from 1.4
    ("", "TopK"),  # from 1.4: the weighted median
    ("", "GatherElements"),  # from 1.4
    ("", "CumSum"),  # from 1.4
    ("", "ArgMax"),  # from 1.4
    ("ai.onnx.ml", "LabelEncoder"),
    ("ai.onnx.ml", "TreeEnsemble"),
}

FormatVersionWarning = _versions.FormatVersionWarning


class OnnxNotInstalledError(CrossformError, ImportError):
    """The onnx package is not installed: pip install 'crossform[onnx]'."""


class OnnxDecodeError(MalformedPackageError):
    """Bytes that do not parse as an ONNX ModelProto."""


class OnnxCheckerError(MalformedPackageError):
    """onnx.checker refuses the model."""


class OnnxExternalDataError(UnsafePackageError):
    """A tensor stored outside the file (external data is never read)."""


class OnnxMetadataError(MalformedPackageError):
    """metadata_props missing a crossform key, or holding a value that does not parse."""


class OnnxStructureError(MalformedPackageError):
    """A graph built from our ops that is not the graph crossform writes for its package."""


def load_onnx():
    """The onnx package; imported only when used, so crossform without the onnx extra still lists the format."""
    try:
        import onnx
    except ImportError:
        raise OnnxNotInstalledError("the onnx format needs the onnx package: pip install 'crossform[onnx]'") from None
    return onnx


def unsupported(package: ir.Package):
    """Why this package has no ONNX form here, or None."""
    try:
        load_onnx()
    except OnnxNotInstalledError as exc:
        return str(exc)
    names = {f.name for f in package.inputs}
    for f in package.inputs:
        if f.name.startswith(INTERNAL) or f.name in OUTPUT_NAMES or f.name + MISSING_SUFFIX in names:
            return (
                f"input {f.name!r} collides with a name the graph uses ({INTERNAL}*, "
                f"{', '.join(OUTPUT_NAMES)}, or <field>{MISSING_SUFFIX})"
            )
    for enc in package.encoders:
        for out in enc.outputs:
            if out.startswith(INTERNAL):
                return f"encoder output {out!r} uses the reserved prefix {INTERNAL!r}"
    score = score_output(package.model)
    if score in (DECISION, SCORES, VOTES) and score in names:
        return f"input {score!r} collides with the graph output of the model's scores"
    models = package.model.members if isinstance(package.model, ir.Composite) else (package.model,)
    if isinstance(package.model, ir.Composite) and ("expm1", None) in package.model.target_steps:
        return (
            "the target step expm1: onnx has no expm1 operator, and Exp(x) - 1 is not numpy's expm1 "
            "(it loses the low bits of small x)"
        )
    for model in models:
        if model.post_transform not in POST_TRANSFORMS:
            return f"post transform {model.post_transform!r} has no onnx {VERSION} form"
    if sum(len(m.trees) for m in models if isinstance(m, ir.TreeEnsemble)) > _limits.MAX_TREES:
        return f"more than {_limits.MAX_TREES} trees"
    return None


POST_TRANSFORMS = ("none", "logistic", "softmax", "isolation", "exp")  # what this writer writes


def needs(package: ir.Package):
    """What in ``package`` needs a version after PER_TREE_VERSION (a few words), or None: a
    package without any is written as 1.2 was, so older releases still read it."""
    return _versions.first_feature_after(NAME, _versions.features_used(package), PER_TREE_VERSION)


def score_output(model: ir.Model) -> str:
    """The graph output holding the model's scores."""
    if isinstance(model, ir.Composite):
        if model.final is not None:
            return score_output(model.final)
        if model.combination == "vote":
            return VOTES
        return PROBABILITIES if model.is_classifier else PREDICTION
    if model.post_transform == "isolation":
        return SCORES
    if not model.is_classifier:
        return PREDICTION
    return DECISION if model.post_transform == "none" and isinstance(model, ir.LinearModel) else PROBABILITIES


BRANCH_LEQ, BRANCH_GT, BRANCH_MEMBER = 0, 3, 6
# onnxruntime (1.32, tree_ensemble_attribute.h, convert_to_v3) unrolls a BRANCH_MEMBER set of fewer
# than 31 members, all in [0, 30], into BRANCH_EQ nodes (exact); any other set becomes a
# BRANCH_MEMBER_BIGSET, which truncates x to an integer (0.5 is "in" a set holding 0) and refuses
# members beyond int32 when the session starts. So only such small sets are written natively.
NATIVE_SET_SIZE, NATIVE_SET_MAX = 30, 30.0


# A set split is written as a threshold split on a column of its own: 1.0 for the values that
# go left, 0.0 for the rest (never NaN), compared with SET_THRESHOLD, which the float32 rewrite
# keeps (so float32 splits stay possible) and which lies between 0.0 and 1.0.
SET_THRESHOLD = float(float32_threshold(np.array([0.5]))[0])


def written_version(precision: str = FLOAT64, per_tree: bool = True, package: Any = None, sets: str = COLUMNS) -> str:
    """The format version a file of this precision and layout records: for ``package``, the
    version the FEATURES_SINCE features it uses need (PER_TREE_VERSION when none); without
    one, the newest this writer writes; in the one-ensemble layout, the version that layout
    recorded. ``sets`` does not change it: set splits are a feature of their own either way."""
    check_option("precision", precision)
    check_option("sets", sets)
    if not per_tree:
        return SINGLE_ENSEMBLE[precision]
    if package is None:
        return VERSION
    return _versions.version_needed(NAME, _versions.features_used(package), PER_TREE_VERSION)


def _at_least(version: str, first: str) -> bool:
    return _versions.parse_version(version, "format version") >= _versions.parse_version(first, "format version")


def explicit_logistic(version: str) -> bool:
    """Whether a file of ``version`` writes the logistic as explicit ops (1.3 on)."""
    return _at_least(version, EXPLICIT_LOGISTIC_VERSION)


def per_tree_layout(version: str) -> bool:
    """Whether a file of ``version`` has a TreeEnsemble per tree (1.2 on; a newer minor too)."""
    return _at_least(version, PER_TREE_VERSION)


def check_option(key: str, value: str) -> str:
    """``value`` when it is one of the values OPTIONS allows for ``key``."""
    if value not in OPTIONS[key]:
        raise CrossformError(f"onnx: expected {key} {' or '.join(OPTIONS[key])}, got {shown(value)}")
    return value


def runtime_versions(version: str) -> dict:
    """Which runtime releases run a package of ``version``.

    onnxruntime implements ai.onnx.ml TreeEnsemble (opset 5) from 1.21: the
    kernel came with microsoft/onnxruntime PR #22333, merged after the 1.20
    release branch. onnx's ReferenceEvaluator has it from onnx 1.16, the
    release that added the operator (onnx/onnx PR #5874).
    """
    graph = f"IR {IR_VERSION}, opsets ai.onnx {OPSET} and ai.onnx.ml {ML_OPSET}"
    return {"onnxruntime": f">=1.21 ({graph})", "onnx-reference": f"onnx>=1.16 ({graph})"}
