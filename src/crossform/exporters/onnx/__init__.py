"""onnx: one file, an ONNX model built from the IR with the onnx package's helpers.

The graph (docs/formats/onnx.md is the spec) scores float64 inputs exactly as
docs/SEMANTICS.md says:

- one graph input per package field, shape [N, 1]: double for numeric fields
  (missing = NaN); string for categorical ones, plus a bool input
  ``<field>#missing`` (ONNX strings have no missing value);
- encoders as standard ops (Where, Sub, Div, Gather) and ai.onnx.ml
  LabelEncoder (string -> category position, then a Gather of the codes);
- each tree as an ai.onnx.ml TreeEnsemble (opset 5) of its own, BRANCH_LEQ
  on double splits, NaN routing per node. Each writes the node index of the
  leaf it reaches; a Concat gives the "leaves", and a Gather of the
  leaf-value table and a ReduceSum over the tree axis (axis 0: a left fold in
  tree order) aggregate. So a leaf carries a whole output vector in one tree
  (TreeEnsemble leaves carry one target each), and the trees are evaluated
  once, not once per class. Files of 1.0 and 1.1 hold all trees in one
  TreeEnsemble, a target per tree; the reader rebuilds either layout;
- post transforms as explicit Sigmoid / Softmax nodes (ORT #26596); from 1.3
  the logistic as Neg, Exp, Add, Div (ORT's double Sigmoid is not
  1 / (1 + exp(-x)) for x < 0), and [1 - p, p] for one score of two classes;
- from 1.3, linear models as Mul and a ReduceSum over the feature axis (a
  left fold, as the reference adds), in double; the affine (Mul, Add),
  missing-indicator (IsNaN / the string's mask), refuse-missing (IsInf, IsNaN /
  the string's mask into "error", the column unchanged) and one-hot
  (LabelEncoder to a column, Equal, Split) encoders; the trees' missing="error" (an IsNaN row
  check) and infinite="compare" (no overflow check) rules; set splits as
  threshold splits on membership columns (Equal, any per row); the isolation
  transform (Div, Neg, Pow, Neg, Sub). A package using none of these is
  written as 1.2 wrote it and records 1.2 (new_kind);
- outputs: the scores ("probabilities", "prediction", a linear
  classifier's "decision" or an isolation forest's "scores"), "error" (bool per row: the rows the reference
  refuses) and, for trees, "leaves" (per tree, the node index of the leaf
  reached, in the numbering the reader gives the trees).

``precision="float32"`` writes the float32 variant (format version 1.1, now 1.2):
float32 numeric inputs, cast to double before the encoders so every decision
is the reference's on those float32 values; float32 leaf values, sums and
outputs, within an absolute tolerance the file declares (``tolerance``) and
the metadata records. Its package is the source package with its leaf values
rounded to float32; ``crossform.source_id`` names the package it came from.

The reader runs onnx.checker, refuses external data and oversized files,
names the first op outside the subset written here, rebuilds the IR from the
graph's attributes and initializers, writes it again and requires the same
graph: anything but a graph this module writes is refused.

onnx is imported only inside functions, so crossform without the onnx extra
still lists the format and says what to install.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

from ... import checks as checks_module
from ... import ir
from ...errors import (
    CrossformError,
    IdMismatchError,
    IRValidationError,
    LimitExceededError,
    MalformedPackageError,
    UnsafePackageError,
    UnsupportedModelError,
    cut,
    shown,
)
from ...floats import FLOAT32_OVERFLOW, float32_threshold
from .. import MAX_FILE_BYTES, _json, _versions

NAME = "onnx"
# 1.1 added the float32 variant; 1.2 gives each tree its own TreeEnsemble; 1.3 adds linear models,
# the affine, missing-indicator, refuse-missing and one-hot encoders, binary logistic scores and the models'
# missing/infinite rules. 1.3 is a strict minor: a package using none of those is written as
# before, recording PLAIN_VERSION, byte for byte, so 0.4.0 still reads it.
VERSION = "1.3"
PLAIN_VERSION = "1.2"
NEW_KINDS_FROM = (1, 3)
FLOAT64, FLOAT32 = "float64", "float32"
# Graph layouts, by the format version a file records (the reader rebuilds the file's own):
# 1.0 (float64) and 1.1 (float32) hold every tree in one TreeEnsemble with a target per tree;
# from 1.2 each tree is a single-target TreeEnsemble of its own, whose rows onnxruntime walks
# tree by tree in blocks (1.3x-1.5x the rows/s on the bench forest), and a Concat joins their leaves.
SINGLE_ENSEMBLE = {FLOAT64: "1.0", FLOAT32: "1.1"}  # the version each precision recorded then
PER_TREE_FROM = (1, 2)
COLUMNS, MEMBER = "columns", "member"  # how set splits are written (see _set_columns, _native_set)
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
PRODUCER = "crossform"
GRAPH = "crossform"
# ONNX protobuf files hold a 2 GiB message at most; crossform's own limit is the same.
MAX_BYTES = min(MAX_FILE_BYTES, 2**31 - 1)

MISSING_SUFFIX = "#missing"
INTERNAL = "crossform:"
ERROR, LEAVES, PROBABILITIES, PREDICTION = "error", "leaves", "probabilities", "prediction"
OUTPUT_NAMES = (ERROR, LEAVES, PROBABILITIES, PREDICTION)
DECISION = "decision"  # a linear classifier's raw scores (post transform "none"), from 1.3
SCORES = "scores"  # an isolation forest's [score, decision], from 1.3

# metadata_props keys; everything in the IR that the graph does not compute
META = "crossform."
FORMAT_VERSION = META + "format_version"
ID = META + "id"
OWNER = META + "owner"
TAGS = META + "tags"
METADATA = META + "metadata"
PRODUCER_KEY = META + "producer"
CHECKS = META + "checks"
CLASSES = META + "classes"
PRECISION = META + "precision"
TOLERANCE = META + "tolerance"
SOURCE_ID = META + "source_id"

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


def _onnx():
    try:
        import onnx
    except ImportError:
        raise OnnxNotInstalledError("the onnx format needs the onnx package: pip install 'crossform[onnx]'") from None
    return onnx


def unsupported(package: ir.Package):
    """Why this package has no ONNX form here, or None."""
    try:
        _onnx()
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
    score = _score_output(package.model)
    if score in (DECISION, SCORES) and score in names:
        return f"input {score!r} collides with the graph output of the model's scores"
    if package.model.post_transform not in POST_TRANSFORMS:
        return f"post transform {package.model.post_transform!r} has no onnx {VERSION} form"
    return None


POST_TRANSFORMS = ("none", "logistic", "softmax", "isolation")  # what this writer writes


def new_kind(package: ir.Package):
    """What in ``package`` needs format version 1.3 (a few words), or None: a package
    without any is written as 1.2 was, so older releases still read it."""
    return _versions.first_feature_after(NAME, _versions.features_used(package), PLAIN_VERSION)


def _score_output(model: ir.Model) -> str:
    """The graph output holding the model's scores."""
    if model.post_transform == "isolation":
        return SCORES
    if not model.is_classifier:
        return PREDICTION
    return DECISION if model.post_transform == "none" and isinstance(model, ir.LinearModel) else PROBABILITIES


# ---------------------------------------------------------------- write


class _Graph:
    """Nodes, initializers and the current tensor of each column."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.h = onnx.helper
        self.nodes: list = []
        self.inits: list = []
        self.count = 0
        self.errors: list = []  # bool [N, 1] tensors, or'ed into the error output

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{INTERNAL}{self.count}:{hint}"

    def const(self, hint: str, array: np.ndarray) -> str:
        name = self.name(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def text(self, hint: str, values: list) -> str:
        name = self.name(hint)
        self.inits.append(
            self.h.make_tensor(name, self.onnx.TensorProto.STRING, [len(values)], [v.encode("utf-8") for v in values])
        )
        return name

    def op(self, op_type: str, inputs: list, hint: str, domain: str = "", doc: str = "", **attrs) -> str:
        out = self.name(hint)
        node = self.h.make_node(op_type, inputs, [out], name=out, domain=domain, **attrs)
        if doc:
            node.doc_string = doc
        self.nodes.append(node)
        return out

    def split(self, tensor: str, parts: int, hint: str) -> list:
        """Split [N, parts] into ``parts`` tensors [N, 1] (one node, ``parts`` outputs)."""
        name = self.name(hint)
        outs = [f"{name}.{k}" for k in range(parts)]
        self.nodes.append(self.h.make_node("Split", [tensor], outs, name=name, axis=1, num_outputs=parts))
        return outs

    def refuse(self, mask: str) -> None:
        self.errors.append(mask)

    def refuse_rows(self, mask: str, hint: str) -> None:
        """Refuse each row of a [N, F] mask with any true entry."""
        as_int = self.op("Cast", [mask], f"{hint}.int", to=self.onnx.TensorProto.INT32)
        axis = self.const("axis1", np.array([1], dtype=np.int64))
        self.refuse(
            self.op(
                "Cast",
                [self.op("ReduceMax", [as_int, axis], f"{hint}.any", keepdims=1)],
                f"{hint}.row",
                to=self.onnx.TensorProto.BOOL,
            )
        )


def _doc(kind: str, **fields) -> str:
    return json.dumps({"crossform": kind, **fields}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _fill_missing(g: _Graph, enc: ir.FillMissing, cols: dict, index: int) -> None:
    doc = _doc(
        "fill-missing",
        features=list(enc.features),
        outputs=list(enc.outputs),
        values=[v if isinstance(v, str) else None for v in enc.values],
    )
    new = {}
    for j, (name, value) in enumerate(zip(enc.features, enc.values)):
        tag = f"e{index}.{j}"
        if isinstance(value, str):
            text, missing = cols[name]
            fill = g.text(f"{tag}.fill", [value])
            filled = g.op("Where", [missing, fill, text], f"{tag}.filled", doc=doc if j == 0 else "")
            never = g.op("And", [missing, g.op("Not", [missing], f"{tag}.present")], f"{tag}.never")
            new[enc.outputs[j]] = (filled, never)
        else:
            x = cols[name]
            g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=doc if j == 0 else ""))
            fill = g.const(f"{tag}.fill", np.array([value], dtype=np.float64))
            new[enc.outputs[j]] = g.op("Where", [g.op("IsNaN", [x], f"{tag}.nan"), fill, x], f"{tag}.filled")
    cols.update(new)


def _categorical(g: _Graph, enc: ir.CategoricalEncoding, cols: dict, index: int) -> None:
    doc = _doc(
        "label-encoder",
        features=list(enc.features),
        outputs=list(enc.outputs),
        categories=[list(c) for c in enc.categories],
        missing=[m is not None for m in enc.missing_codes],
        unknown=enc.unknown_code is not None,
    )
    new = {}
    for j, (name, categories, codes, missing_code) in enumerate(
        zip(enc.features, enc.categories, enc.codes, enc.missing_codes)
    ):
        tag = f"e{index}.{j}"
        text, missing = cols[name]
        first = doc if j == 0 else ""
        if categories:
            position = g.op(
                "LabelEncoder",
                [text],
                f"{tag}.position",
                domain="ai.onnx.ml",
                doc=first,
                keys_strings=list(categories),
                values_int64s=list(range(len(categories))),
                default_int64=-1,
            )
        else:
            minus = g.const(f"{tag}.none", np.array([-1], dtype=np.int64))
            position = g.op("Where", [missing, minus, minus], f"{tag}.position", doc=first)
        # position -1 (unknown) reads the last entry: the unknown code (NaN when unknown is an error)
        fallback = np.nan if enc.unknown_code is None else enc.unknown_code
        table = g.const(f"{tag}.codes", np.append(np.asarray(codes, dtype=np.float64), fallback))
        code = g.op("Gather", [table, position], f"{tag}.code", axis=0)
        found = g.op(
            "GreaterOrEqual", [position, g.const(f"{tag}.zero", np.array([0], dtype=np.int64))], f"{tag}.found"
        )
        present = g.op("Not", [missing], f"{tag}.present")
        known = g.op("And", [found, present], f"{tag}.known")
        unknown = g.op("Not", [known], f"{tag}.unknown")
        if missing_code is not None:
            unknown = g.op("And", [unknown, present], f"{tag}.unknown.present")
        if enc.unknown_code is None:
            g.refuse(unknown)
        else:
            code = g.op(
                "Where", [unknown, g.const(f"{tag}.unknown.code", np.array([enc.unknown_code])), code], f"{tag}.coded"
            )
        if missing_code is not None:
            code = g.op(
                "Where",
                [missing, g.const(f"{tag}.missing.code", np.array([missing_code])), code],
                f"{tag}.coded.missing",
            )
        new[enc.outputs[j]] = code
    cols.update(new)


def _scale(g: _Graph, enc: ir.Scale, cols: dict, index: int) -> None:
    doc = _doc("standard-scaler", features=list(enc.features), outputs=list(enc.outputs))
    new = {}
    for j, (name, offset, scale) in enumerate(zip(enc.features, enc.offset, enc.scale)):
        tag = f"e{index}.{j}"
        x = cols[name]
        g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=doc if j == 0 else ""))
        shifted = g.op("Sub", [x, g.const(f"{tag}.offset", np.array([offset]))], f"{tag}.shifted")
        new[enc.outputs[j]] = g.op("Div", [shifted, g.const(f"{tag}.scale", np.array([scale]))], f"{tag}.scaled")
    cols.update(new)


def _affine(g: _Graph, enc: ir.Affine, cols: dict, index: int) -> None:
    doc = _doc("affine", features=list(enc.features), outputs=list(enc.outputs))
    new = {}
    for j, (name, scale, offset) in enumerate(zip(enc.features, enc.scale, enc.offset)):
        tag = f"e{index}.{j}"
        x = cols[name]
        g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=doc if j == 0 else ""))
        # two roundings, multiply first, as the reference (and MinMaxScaler): no fused multiply-add
        scaled = g.op("Mul", [x, g.const(f"{tag}.scale", np.array([scale]))], f"{tag}.scaled")
        new[enc.outputs[j]] = g.op("Add", [scaled, g.const(f"{tag}.offset", np.array([offset]))], f"{tag}.affine")
    cols.update(new)


def _missing_indicator(g: _Graph, enc: ir.MissingIndicator, cols: dict, index: int) -> None:
    doc = _doc("missing-indicator", features=list(enc.features), outputs=list(enc.outputs), kinds=list(enc.kinds_in))
    new = {}
    for j, (name, kind) in enumerate(zip(enc.features, enc.kinds_in)):
        tag = f"e{index}.{j}"
        first = doc if j == 0 else ""
        if kind == ir.NUMERIC:
            x = cols[name]
            g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=first))
            missing = g.op("IsNaN", [x], f"{tag}.nan")
        else:
            missing = cols[name][1]
        new[enc.outputs[j]] = g.op(
            "Cast", [missing], f"{tag}.indicator", doc=first if kind != ir.NUMERIC else "", to=g.onnx.TensorProto.DOUBLE
        )
    cols.update(new)


def _refuse_missing(g: _Graph, enc: ir.RefuseMissing, cols: dict, index: int) -> None:
    """Per feature: a numeric NaN or +-inf (IsInf, IsNaN) or a categorical mask (Identity) is a
    row error; the column itself passes unchanged. A numeric column under a new name is an
    Identity of its own (e<i>.<j>.value), so the model's Concat names the column it reads."""
    doc = _doc("refuse-missing", features=list(enc.features), outputs=list(enc.outputs), kinds=list(enc.kinds_in))
    new = {}
    for j, (name, kind) in enumerate(zip(enc.features, enc.kinds_in)):
        tag = f"e{index}.{j}"
        first = doc if j == 0 else ""
        if kind == ir.NUMERIC:
            x = cols[name]
            g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=first))
            g.refuse(g.op("IsNaN", [x], f"{tag}.nan"))
            new[enc.outputs[j]] = x if enc.outputs[j] == name else g.op("Identity", [x], f"{tag}.value")
        else:
            g.refuse(g.op("Identity", [cols[name][1]], f"{tag}.missing", doc=first))
            new[enc.outputs[j]] = cols[name]
    cols.update(new)


NO_COLUMN, UNKNOWN_COLUMN = -1, -2  # a dropped category's column; what LabelEncoder gives an unknown one


def _one_hot(g: _Graph, enc: ir.OneHot, cols: dict, index: int) -> None:
    """Per feature: LabelEncoder(category -> its column, unknown -> -2), Where for missing
    and unknown values, then Equal against 0..width-1: exactly one 1.0 where a column is
    set, none for -1 (dropped) or an unknown under "zeros"."""
    doc = _doc(
        "one-hot",
        features=list(enc.features),
        outputs=list(enc.outputs),
        categories=[list(c) for c in enc.categories],
        columns=[c.tolist() for c in enc.columns],
        widths=list(enc.widths),
        missing=list(enc.missing_columns),
        unknown=list(enc.unknown),
    )
    new = {}
    for j, (name, categories, columns, width, missing_column, unknown, block) in enumerate(
        zip(enc.features, enc.categories, enc.columns, enc.widths, enc.missing_columns, enc.unknown, enc.blocks())
    ):
        tag = f"e{index}.{j}"
        text, missing = cols[name]
        first = doc if j == 0 else ""
        if categories:
            column = g.op(
                "LabelEncoder",
                [text],
                f"{tag}.column",
                domain="ai.onnx.ml",
                doc=first,
                keys_strings=list(categories),
                values_int64s=columns.tolist(),
                default_int64=UNKNOWN_COLUMN,
            )
        else:
            none = g.const(f"{tag}.none", np.array([UNKNOWN_COLUMN], dtype=np.int64))
            column = g.op("Where", [missing, none, none], f"{tag}.column", doc=first)
        found = g.op(
            "GreaterOrEqual", [column, g.const(f"{tag}.dropped", np.array([NO_COLUMN], dtype=np.int64))], f"{tag}.found"
        )
        present = g.op("Not", [missing], f"{tag}.present")
        unknown_rows = g.op("Not", [g.op("And", [found, present], f"{tag}.known")], f"{tag}.unknown")
        if missing_column is not None:
            unknown_rows = g.op("And", [unknown_rows, present], f"{tag}.unknown.present")
        if unknown == "error":
            g.refuse(unknown_rows)
        else:
            # a missing value's placeholder "" may be a known category: never trust its column
            target = NO_COLUMN if unknown == "zeros" else unknown
            column = g.op(
                "Where",
                [unknown_rows, g.const(f"{tag}.unknown.column", np.array([target], dtype=np.int64)), column],
                f"{tag}.column.unknown",
            )
        if missing_column is not None:
            column = g.op(
                "Where",
                [missing, g.const(f"{tag}.missing.column", np.array([missing_column], dtype=np.int64)), column],
                f"{tag}.column.missing",
            )
        if width == 0:
            continue
        hot = g.op("Equal", [column, g.const(f"{tag}.columns", np.arange(width, dtype=np.int64))], f"{tag}.hot")
        indicators = g.op("Cast", [hot], f"{tag}.indicators", to=g.onnx.TensorProto.DOUBLE)
        parts = [indicators] if width == 1 else g.split(indicators, width, f"{tag}.split")
        new.update(zip(block, parts))
    cols.update(new)


ENCODERS = {
    ir.FillMissing: _fill_missing,
    ir.CategoricalEncoding: _categorical,
    ir.Scale: _scale,
    ir.Affine: _affine,
    ir.MissingIndicator: _missing_indicator,
    ir.OneHot: _one_hot,
    ir.RefuseMissing: _refuse_missing,
}
NEW_ENCODERS = (ir.Affine, ir.MissingIndicator, ir.OneHot, ir.RefuseMissing)  # 1.3 kinds


BRANCH_LEQ, BRANCH_GT, BRANCH_MEMBER = 0, 3, 6
# onnxruntime (1.32, tree_ensemble_attribute.h, convert_to_v3) unrolls a BRANCH_MEMBER set of fewer
# than 31 members, all in [0, 30], into BRANCH_EQ nodes (exact); any other set becomes a
# BRANCH_MEMBER_BIGSET, which truncates x to an integer (0.5 is "in" a set holding 0) and refuses
# members beyond int32 when the session starts. So only such small sets are written natively.
NATIVE_SET_SIZE, NATIVE_SET_MAX = 30, 30.0


def _native_set(values: tuple) -> bool:
    """Whether the "member" option writes this set as BRANCH_MEMBER (else as a column)."""
    return len(values) <= NATIVE_SET_SIZE and all(float(v).is_integer() and 0.0 <= v <= NATIVE_SET_MAX for v in values)


def _preorder(tree: ir.Tree) -> np.ndarray:
    """The tree's split nodes, root first, each followed by its true branch, then its false one:
    the order in which onnx's ReferenceEvaluator reads membership_values (build_node), made the
    node order, in which onnxruntime reads them (getMembershipValuesById)."""
    order, stack = [], [0]
    true = np.where(tree.missing_left, tree.right, tree.left)
    false = np.where(tree.missing_left, tree.left, tree.right)
    while stack:
        n = stack.pop()
        if tree.is_leaf[n]:
            continue
        order.append(n)
        stack += [int(false[n]), int(true[n])]
    return np.array(order, dtype=np.int64)


def _tree_arrays(trees: tuple, member: bool = False) -> dict:
    """TreeEnsemble attributes: per tree its split nodes in index order (the
    root first), then its leaves; a one-leaf tree gets one split whose two
    branches reach that leaf, as the operator's spec says.

    NaN routing is in the comparison, not in nodes_missing_value_tracks_true:
    a node that sends NaN right is ``x <= t`` (true: left), one that sends it
    left is ``x > t`` (true: right). Both comparisons are false for NaN, so NaN
    takes the false branch, the side the node asks for; onnxruntime's loop
    without the NaN test is 7% faster on the bench forest.
    """
    feature, split, true_id, true_leaf, false_id, false_leaf, modes = [], [], [], [], [], [], []
    roots, targets, node_of_leaf, offsets, values, members, sides = [], [], [], [], [], [], []
    n_splits = n_leaves = 0
    for t, tree in enumerate(trees):
        leaf = tree.is_leaf
        # ``member``: the splits in walk order, so both runtimes take the sets in the same order
        split_nodes = _preorder(tree) if member and tree.sets else np.flatnonzero(~leaf)
        leaf_nodes = np.flatnonzero(leaf)
        # global position of each node among the splits or among the leaves
        position = np.empty(tree.n_nodes, dtype=np.int64)
        position[split_nodes] = n_splits + np.arange(len(split_nodes))
        position[leaf_nodes] = n_leaves + np.arange(len(leaf_nodes))
        roots.append(n_splits)
        if len(split_nodes) == 0:
            feature.append(np.zeros(1, dtype=np.int64))
            split.append(np.zeros(1))
            for out, val in (
                (true_id, n_leaves),
                (false_id, n_leaves),
                (true_leaf, 1),
                (false_leaf, 1),
                (modes, BRANCH_LEQ),
            ):
                out.append(np.array([val], dtype=np.int64))
            n_splits += 1
        else:
            nan_left = tree.missing_left[split_nodes]
            left, right = tree.left[split_nodes], tree.right[split_nodes]
            true, false = np.where(nan_left, right, left), np.where(nan_left, left, right)
            feature.append(tree.feature[split_nodes].astype(np.int64))
            split.append(tree.threshold[split_nodes])
            true_id.append(position[true])
            true_leaf.append(leaf[true].astype(np.int64))
            false_id.append(position[false])
            false_leaf.append(leaf[false].astype(np.int64))
            mode = np.where(nan_left, BRANCH_GT, BRANCH_LEQ).astype(np.int64)
            for i, n in enumerate(split_nodes.tolist()):
                if tree.sets and tree.sets[n] is not None:  # true: in the set, away from the missing side
                    mode[i] = BRANCH_MEMBER
                    members += list(tree.sets[n]) + [np.nan]
                    sides.append(bool(tree.missing_left[n]))
            modes.append(mode)
            n_splits += len(split_nodes)
        targets.append(np.full(len(leaf_nodes), t, dtype=np.int64))
        # the reader numbers a tree's splits first, then its leaves
        node_of_leaf.append(len(split_nodes) + np.arange(len(leaf_nodes), dtype=np.int64))
        offsets.append(n_leaves - len(split_nodes))
        values.append(tree.value[leaf_nodes])
        n_leaves += len(leaf_nodes)
    cat = np.concatenate
    leaf_start = np.cumsum([0] + [len(v) for v in values])
    return dict(
        feature=cat(feature),
        split=cat(split),
        true_id=cat(true_id),
        true_leaf=cat(true_leaf),
        false_id=cat(false_id),
        false_leaf=cat(false_leaf),
        modes=cat(modes),
        roots=np.array(roots, dtype=np.int64),
        split_start=np.append(roots, n_splits).astype(np.int64),
        leaf_start=leaf_start.astype(np.int64),
        targets=cat(targets),
        node_of_leaf=cat(node_of_leaf),
        offsets=np.array(offsets, dtype=np.int64).reshape(-1, 1),
        values=cat(values),
        n_leaves=n_leaves,
        members=np.array(members, dtype=np.float64),
        sides=sides,
    )


def _float32_floor(t: np.ndarray) -> np.ndarray:
    """The largest float32 <= each double (-inf below the float32 range)."""
    with np.errstate(over="ignore"):
        f = t.astype(np.float32)
    return np.where(f.astype(np.float64) > t, np.nextafter(f, np.float32(-np.inf)), f).astype(np.float32)


def _float32_exact(splits: np.ndarray, n_leaves: int) -> bool:
    """Whether float32 trees decide exactly as the IR's double ones.

    A threshold t that the float32 rewrite of SEMANTICS note 1 leaves unchanged
    satisfies x <= t iff float32(x) <= t, for every double x with a finite
    float32 (rows with an infinite one are row errors), and for a float32 value
    that is iff float32(x) <= s, s the largest float32 <= t. Every threshold
    the scikit-learn frontend writes is such a fixed point; the reader gets t
    back as the rewrite of s. Leaf indices must stay exact as float32 weights.
    """
    return n_leaves <= 2**24 and bool(np.array_equal(float32_threshold(splits), splits))


def _ints(values: np.ndarray) -> list:
    return values.tolist()


def _logistic(g: _Graph, raw: str, real: type, binary: bool) -> str:
    """1 / (1 + exp(-x)) as written, and [1 - p, p] for one score of two classes.

    Not Sigmoid: onnxruntime's double Sigmoid computes 1 - 1 / (1 + exp(x)) for
    x < 0, 2e-12 off at x = -10 and 0.0 for 4e-18 at x = -40; onnx's
    ReferenceEvaluator uses exp(x) / (1 + exp(x)) there. Files of 1.2 and
    before keep their Sigmoid node (see _post_transform)."""
    one = g.const("one", np.array([1.0], dtype=real))
    exp = g.op("Exp", [g.op("Neg", [raw], "minus.raw")], "exp.minus.raw")
    p = g.op("Div", [one, g.op("Add", [one, exp], "logistic.denominator")], "logistic")
    if not binary:
        return p
    return g.op("Concat", [g.op("Sub", [one, p], "complement"), p], "binary", axis=1)


def _post_transform(g: _Graph, model: ir.Model, raw: str, real: type, exact: bool) -> str:
    """``exact``: the 1.3 graph (explicit logistic); 1.2 and before wrote Sigmoid."""
    if model.post_transform == "logistic":
        return _logistic(g, raw, real, model.is_binary) if exact else g.op("Sigmoid", [raw], "logistic")
    if model.post_transform == "softmax":
        return g.op("Softmax", [raw], "softmax", axis=1)
    if model.post_transform == "isolation":
        return _isolation(g, model, raw, real)
    return raw


# A set split is written as a threshold split on a column of its own: 1.0 for the values that
# go left, 0.0 for the rest (never NaN), compared with SET_THRESHOLD, which the float32 rewrite
# keeps (so float32 splits stay possible) and which lies between 0.0 and 1.0.
SET_THRESHOLD = float(float32_threshold(np.array([0.5]))[0])


def _set_columns(g: _Graph, model: ir.TreeEnsemble, cols: dict, sets: str = COLUMNS) -> tuple:
    """(the trees with each set split as a threshold split on an added column, the added
    columns). ai.onnx.ml's BRANCH_MEMBER is not used: onnx's ReferenceEvaluator ends a set at
    a member 0.0 and reads the sets in its own walk order, not node order.

    Column k (set split k, counting the forest's set nodes in tree and node order) is
    Equal(x, S) any per row, as a double: exact float64 equality, -0.0 equal to 0.0, NaN in
    no set. Members go away from the missing side, so the column is "member" when the
    missing side is left (members right: 1.0 > the threshold) and 1 - "member" when it is
    right (members left).

    ``sets`` "member" keeps the sets onnxruntime decides exactly (_native_set) as set nodes,
    for BRANCH_MEMBER; only the others get columns.
    """
    trees, columns = [], []
    width = len(model.features)
    for tree in model.trees:
        if not tree.sets:
            trees.append(tree)
            continue
        feature, threshold, missing_left = tree.feature.copy(), tree.threshold.copy(), tree.missing_left.copy()
        kept = list(tree.sets)
        for n, values in enumerate(tree.sets):
            if values is None or sets == MEMBER and _native_set(values):
                continue
            kept[n] = None
            k, j = len(columns), int(tree.feature[n])
            doc = _doc("set-split", feature=j, missing_left=bool(tree.missing_left[n]))
            hit = g.op(
                "Equal",
                [cols[model.features[j]], g.const(f"set.{k}.values", np.array(values, dtype=np.float64))],
                f"set.{k}.equal",
                doc=doc,
            )
            member = g.op(
                "Cast",
                [
                    g.op(
                        "ReduceMax",
                        [
                            g.op("Cast", [hit], f"set.{k}.int", to=g.onnx.TensorProto.INT32),
                            g.const("axis1", np.array([1], dtype=np.int64)),
                        ],
                        f"set.{k}.any",
                        keepdims=1,
                    )
                ],
                f"set.{k}.member",
                to=g.onnx.TensorProto.DOUBLE,
            )
            if not tree.missing_left[n]:
                member = g.op("Sub", [g.const("one", np.array([1.0])), member], f"set.{k}.outside")
            columns.append(member)
            feature[n], threshold[n], missing_left[n] = width + k, SET_THRESHOLD, False
        trees.append(
            ir.Tree(
                feature,
                threshold,
                tree.left,
                tree.right,
                missing_left,
                tree.value,
                tuple(kept) if any(v is not None for v in kept) else (),
            )
        )
    return tuple(trees), columns


def _isolation(g: _Graph, model: ir.TreeEnsemble, raw: str, real: type) -> str:
    """[score, decision] as the reference: score = -(2 ** -(s / d)), decision = score - offset.
    In double; a float32 graph casts its sum in and the two outputs out."""
    onnx = g.onnx
    if real == np.float32:
        raw = g.op("Cast", [raw], "isolation.in", to=onnx.TensorProto.DOUBLE)
    denominator, offset = model.isolation
    depth = g.op("Div", [raw, g.const("isolation.denominator", np.array([denominator]))], "isolation.depth")
    power = g.op(
        "Pow", [g.const("two", np.array([2.0])), g.op("Neg", [depth], "isolation.exponent")], "isolation.power"
    )
    score = g.op("Neg", [power], "isolation.score")
    decision = g.op("Sub", [score, g.const("isolation.offset", np.array([offset]))], "isolation.decision")
    out = g.op("Concat", [score, decision], "isolation", axis=1)
    if real == np.float32:
        out = g.op("Cast", [out], "isolation.out", to=onnx.TensorProto.FLOAT)
    return out


def _splits_in_float32(model: ir.TreeEnsemble, splits: np.ndarray, n_leaves: int) -> bool:
    """Whether the trees may compare float32 values (see _float32_exact). Under
    infinite="compare", x too large for float32 reaches the trees as +-inf there,
    which decides as x does only while every threshold t has -OVERFLOW <= t < OVERFLOW
    (the rewrite maps thresholds beyond the float32 range to +-DBL_MAX)."""
    if not _float32_exact(splits, n_leaves):
        return False
    return model.infinite == "error" or bool((np.abs(splits) < FLOAT32_OVERFLOW).all())


def _trees(
    g: _Graph, model: ir.TreeEnsemble, cols: dict, precision: str, per_tree: bool, exact: bool, sets: str = COLUMNS
) -> tuple:
    onnx = g.onnx
    X = g.op("Concat", [cols[name] for name in model.features], "X", axis=1)
    if model.infinite == "error":
        too_big = g.op(
            "GreaterOrEqual",
            [g.op("Abs", [X], "abs"), g.const("float32.overflow", np.array([FLOAT32_OVERFLOW]))],
            "too.big",
        )
        g.refuse_rows(too_big, "too.big")
    if model.missing == "error":
        g.refuse_rows(g.op("IsNaN", [X], "nan"), "nan")
    if not g.errors:  # nothing refuses any row: still an "error" output, all false
        g.refuse_rows(g.op("IsInf", [X], "never", detect_negative=0, detect_positive=0), "never")
    trees, set_columns = _set_columns(g, model, cols, sets)
    if set_columns:
        X = g.op("Concat", [X] + set_columns, "X.sets", axis=1)
    a = _tree_arrays(trees, member=sets == MEMBER)
    n_trees = len(model.trees)
    tensor = onnx.numpy_helper.from_array
    rules = {}
    if model.missing != "route":
        rules["missing"] = model.missing
    if model.infinite != "error":
        rules["infinite"] = model.infinite
    doc = _doc("tree-ensemble", aggregation=model.aggregation, post_transform=model.post_transform, **rules)
    splits = np.ascontiguousarray(a["split"], dtype=np.float64)
    # a leaf's weight is its node index in its tree: the "leaves" output as it is,
    # and, plus its tree's offset, its row in the leaf-value table
    weights = a["node_of_leaf"].astype(np.float64)
    # a set compares x for equality: float32 (x) == k for doubles x near k, so no float32 splits
    if not len(a["members"]) and _splits_in_float32(model, splits, a["n_leaves"]):
        # float32 splits halve the tree's memory and match skl2onnx's speed in onnxruntime,
        # and lose nothing: see _float32_exact
        X = g.op("Cast", [X], "X.float32", to=onnx.TensorProto.FLOAT)
        splits, weights = _float32_floor(splits), weights.astype(np.float32)

    def ensemble(hint: str, trees: slice) -> str:
        """One TreeEnsemble of ``trees``, its node and leaf ids counted from its first tree's."""
        first, end = trees.start, trees.stop
        s0, s1 = a["split_start"][first], a["split_start"][end]
        l0, l1 = a["leaf_start"][first], a["leaf_start"][end]
        modes = a["modes"][s0:s1]
        m0 = int((a["modes"][:s0] == BRANCH_MEMBER).sum())
        m1 = m0 + int((modes == BRANCH_MEMBER).sum())
        extra, node_doc = {}, doc
        if m1 > m0:
            # NaN ends each set; a set's members in increasing order, its node's missing side in the doc
            cuts = np.flatnonzero(np.isnan(a["members"]))
            lo = cuts[m0 - 1] + 1 if m0 else 0
            extra["membership_values"] = tensor(a["members"][lo : cuts[m1 - 1] + 1])
            node_doc = _doc(
                "tree-ensemble",
                aggregation=model.aggregation,
                post_transform=model.post_transform,
                sets_missing_left=a["sides"][m0:m1],
                **rules,
            )

        def ids(kind):
            local = a[f"{kind}_id"][s0:s1]
            return _ints(np.where(a[f"{kind}_leaf"][s0:s1] == 1, local - l0, local - s0))

        return g.op(
            "TreeEnsemble",
            [X],
            hint,
            domain="ai.onnx.ml",
            doc=node_doc,
            aggregate_function=1,
            post_transform=0,
            n_targets=end - first,
            tree_roots=_ints(a["roots"][first:end] - s0),
            nodes_modes=tensor(a["modes"][s0:s1].astype(np.uint8)),
            nodes_featureids=_ints(a["feature"][s0:s1]),
            nodes_splits=tensor(splits[s0:s1]),
            nodes_truenodeids=ids("true"),
            nodes_trueleafs=_ints(a["true_leaf"][s0:s1]),
            nodes_falsenodeids=ids("false"),
            nodes_falseleafs=_ints(a["false_leaf"][s0:s1]),
            leaf_targetids=_ints(a["targets"][l0:l1] - first),
            leaf_weights=tensor(weights[l0:l1]),
            **extra,
        )

    if per_tree:
        # one target each: onnxruntime then walks blocks of rows through one tree at a time
        # (its multi-target loop walks every tree per row), and a one-term sum is exact
        reached = g.op("Concat", [ensemble(f"reached.{t}", slice(t, t + 1)) for t in range(n_trees)], "reached", axis=1)
    else:
        reached = ensemble("reached", slice(0, n_trees))
    # leaf indices are exact in the weight type: below 2**53 (double) or 2**24 (float)
    index = g.op("Cast", [reached], "leaf.index", to=onnx.TensorProto.INT64)
    leaves = index
    by_tree = g.op(
        "Add",
        [g.op("Transpose", [index], "leaf.node.by.tree", perm=[1, 0]), g.const("leaf.offset", a["offsets"])],
        "leaf.index.by.tree",
    )
    real = np.float32 if precision == FLOAT32 else np.float64
    if model.aggregation == "average" or not exact:
        # 1.2 and before also wrote this table, unused, beside the one with the base value
        table = g.const("leaf.values", np.ascontiguousarray(a["values"], dtype=real))
    if model.aggregation == "sum":
        # the base value is the first term of the fold: a leaf row of its own, reached by every row
        base_row = g.const("base.index", np.array([[a["n_leaves"]]], dtype=np.int64))
        first = g.op(
            "Mul",
            [
                g.op("Gather", [by_tree, g.const("zero", np.array([0], dtype=np.int64))], "first.tree", axis=0),
                g.const("zero.int", np.array(0, dtype=np.int64)),
            ],
            "zeros.row",
        )
        by_tree = g.op("Concat", [g.op("Add", [first, base_row], "base.row"), by_tree], "with.base", axis=0)
        table = g.const("leaf.values.base", np.vstack([a["values"], model.base_value[None, :]]).astype(real))
    gathered = g.op("Gather", [table, by_tree], "leaf.values.reached", axis=0)
    # ReduceSum over axis 0 of [trees, N, outputs]: a left fold in tree order, as SEMANTICS asks
    raw = g.op("ReduceSum", [gathered, g.const("axis0", np.array([0], dtype=np.int64))], "sum", keepdims=0)
    if model.aggregation == "average":
        raw = g.op("Div", [raw, g.const("tree.count", np.array([float(n_trees)], dtype=real))], "average")
    return _post_transform(g, model, raw, real, exact), leaves


def _linear(g: _Graph, model: ir.LinearModel, cols: dict, precision: str, per_tree: bool, exact: bool) -> tuple:
    """raw[n, k] = sum_j x[n, j] * coefficient[k, j] + intercept[k], in double in both precisions.

    The products are laid out [features, N, outputs] and ReduceSum adds them over
    axis 0, a left fold in feature order in onnxruntime and in numpy, as the
    reference adds them; MatMul would leave the order (and fused multiply-adds)
    to BLAS. No ai.onnx.ml LinearRegressor/LinearClassifier: their outputs are float.
    """
    X = g.op("Concat", [cols[name] for name in model.features], "X", axis=1)
    g.refuse_rows(g.op("Or", [g.op("IsNaN", [X], "nan"), g.op("IsInf", [X], "inf")], "not.finite"), "not.finite")
    by_feature = g.op(
        "Unsqueeze",
        [g.op("Transpose", [X], "X.by.feature", perm=[1, 0]), g.const("axis2", np.array([2], dtype=np.int64))],
        "X.by.feature.3d",
    )
    weights = np.ascontiguousarray(model.coefficients.T[:, None, :], dtype=np.float64)  # [features, 1, outputs]
    doc = _doc("linear-model", post_transform=model.post_transform)
    products = g.op("Mul", [by_feature, g.const("coefficients", weights)], "linear.products", doc=doc)
    total = g.op("ReduceSum", [products, g.const("axis0", np.array([0], dtype=np.int64))], "linear.sum", keepdims=0)
    raw = g.op("Add", [total, g.const("intercepts", np.asarray(model.intercepts, dtype=np.float64))], "linear.raw")
    return _post_transform(g, model, raw, np.float64, exact), None


MODELS = {ir.TreeEnsemble: _trees, ir.LinearModel: _linear}


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def written_version(precision: str = FLOAT64, per_tree: bool = True, package: Any = None, sets: str = COLUMNS) -> str:
    """The format version a file of this precision and layout records: for
    ``package``, 1.3 only when it uses a kind 1.3 added (new_kind), else the
    version it recorded before; without one, the newest this writer writes.
    ``sets`` does not change it: set splits are a 1.3 kind either way."""
    _precision(precision)
    _option("sets", sets)
    if package is not None and new_kind(package) is None or not per_tree:
        return PLAIN_VERSION if per_tree else SINGLE_ENSEMBLE[precision]
    return VERSION


def _exact_logistic(version: str) -> bool:
    """Whether a file of ``version`` writes the logistic as explicit ops (1.3 on)."""
    return _versions.parse_version(version, "format version") >= NEW_KINDS_FROM


def _per_tree(version: str) -> bool:
    """Whether a file of ``version`` has a TreeEnsemble per tree (1.2 on; a newer minor too)."""
    return _versions.parse_version(version, "format version") >= PER_TREE_FROM


def _option(key: str, value: str) -> str:
    if value not in OPTIONS[key]:
        raise CrossformError(f"onnx: expected {key} {' or '.join(OPTIONS[key])}, got {shown(value)}")
    return value


def _precision(precision: str) -> str:
    if precision not in OPTIONS["precision"]:
        raise CrossformError(f"onnx: expected precision {' or '.join(OPTIONS['precision'])}, got {shown(precision)}")
    return precision


def float32_package(package: ir.Package) -> ir.Package:
    """``package`` with its leaf and base values rounded to float32: what the
    float32 variant stores (rounding twice changes nothing)."""

    def rounded(a):
        return None if a is None else np.asarray(a, dtype=np.float32).astype(np.float64)

    model = package.model
    if isinstance(model, ir.LinearModel):
        return package  # computed and written in double in both precisions: nothing to round
    trees = tuple(dataclasses.replace(t, value=rounded(t.value)) for t in model.trees)
    return package.replace(model=dataclasses.replace(model, trees=trees, base_value=rounded(model.base_value)))


UNIT = 2.0**-24  # float32 unit roundoff


def float32_tolerance(package: ir.Package) -> float:
    """An absolute bound on |float32 graph - reference| for any row, from the
    stored values alone (docs/formats/onnx.md derives it).

    Each leaf value is rounded once (u = 2^-24 relative) and the float32 sum of
    m terms, in any order, is within (m - 1) u / (1 - (m - 1) u) of the sum of
    their magnitudes; S bounds that sum over every row: the largest leaf
    magnitude per tree, summed, plus the base value. Averaging divides the
    bound by the tree count (one more rounding). Sigmoid moves an error at
    most by a quarter, softmax by at most twice; each adds its own float32
    rounding, taken as 2^-20 (four times what the kernels we run produce);
    ``1 - p`` for a binary model one more, u. A linear model's graph is double
    throughout (only its inputs are float32), so its bound is 0.0: exact.
    """
    model = package.model
    if isinstance(model, ir.LinearModel):
        return 0.0
    largest = np.zeros(model.n_outputs)
    for tree in model.trees:
        leaf = tree.value[tree.is_leaf]
        largest += np.abs(leaf).max(axis=0) if len(leaf) else 0.0
    terms = len(model.trees)
    if model.base_value is not None:
        largest += np.abs(model.base_value)
        terms += 1
    total = float(largest.max())
    # the values' own rounding and the sum's: (terms + 1) roundings of at most u * total each
    bound = total * (terms + 1) * UNIT / (1 - (terms + 1) * UNIT)
    if model.aggregation == "average":
        bound = (bound + UNIT * total) / len(model.trees)  # the division rounds once more
    if model.post_transform == "logistic":
        bound = bound / 4 + 2.0**-20 + (UNIT if model.is_binary else 0.0)
    elif model.post_transform == "softmax":
        bound = 2 * bound + 2.0**-20
    elif model.post_transform == "isolation":
        bound = _isolation_bound(model, bound)
    # two significant digits, rounded up: a number a person can read in the metadata
    exponent = math.floor(math.log10(bound)) - 1
    up = float(f"{math.ceil(bound / 10.0**exponent)}e{exponent}")
    return up if up >= bound else float(f"{math.ceil(bound / 10.0**exponent) + 1}e{exponent}")


def _isolation_bound(model: ir.TreeEnsemble, bound: float) -> float:
    """The float32 sum's bound carried through score = -(2 ** -(s / d)), computed in double,
    and decision = score - offset, each cast to float once.

    |2^-a - 2^-b| <= ln 2 |a - b| 2^-min(a, b), and 2^-(s / d) <= M = 2^(max(0, -s_min) / d)
    with s_min the sum of each tree's smallest leaf; twice that covers |a - b| up to 1 and the
    double arithmetic. The casts round |score| <= M and |decision| <= M + |offset| once each.
    """
    denominator, offset = model.isolation
    smallest = sum(float(t.value[t.is_leaf].min()) for t in model.trees)
    largest = 2.0 ** (max(0.0, -smallest) / denominator)
    return 2 * math.log(2) * largest * bound / denominator + UNIT * (largest + abs(offset))


def float32_checks(checks, package: ir.Package):
    """The checks a float32 file carries: the rows whose numeric values are
    float32 (the only rows its inputs take as written), within the bound."""
    if checks is None:
        return None
    return checks_module.restrict(
        checks, checks_module.float32_rows(checks), float32_tolerance(package), "float32 rows"
    )


def stored(package: ir.Package, checks: Any, precision: str = FLOAT64, sets: str = COLUMNS) -> tuple:
    """(the package a file of this precision holds, the checks it can be held
    to): for float32, the rounded package, and the float32 rows of ``checks``
    within the declared tolerance. ``sets`` changes neither: both forms are exact."""
    _option("sets", sets)
    if _precision(precision) == FLOAT64:
        return package, checks
    rounded = float32_package(package)
    return rounded, float32_checks(checks, rounded)


def build(package: ir.Package, precision: str = FLOAT64, per_tree: bool = True, sets: str = COLUMNS):
    """The ModelProto for ``package`` (already rounded, for float32), in the
    layout of this version (``per_tree``) or of 1.0/1.1, as the reader rebuilds
    a file of theirs. ``sets``: set splits as columns, or (``member``) as BRANCH_MEMBER where
    onnxruntime decides them exactly."""
    onnx = _onnx()
    reason = unsupported(package)
    if reason is not None:
        raise UnsupportedModelError(reason)
    _precision(precision)
    _option("sets", sets)
    if not per_tree and new_kind(package) is not None:
        raise UnsupportedModelError(
            f"the 1.0/1.1 layout (one TreeEnsemble) cannot hold {new_kind(package)}; it needs onnx {VERSION}"
        )
    version = written_version(precision, per_tree, package)
    h = onnx.helper
    g = _Graph(onnx)
    inputs, cols = [], {}
    for k, f in enumerate(package.inputs):
        if f.kind == ir.NUMERIC and precision == FLOAT32:
            inputs.append(h.make_tensor_value_info(f.name, onnx.TensorProto.FLOAT, ["N", 1]))
            # exact: the encoders and the trees see the float32 value as the double it is
            cols[f.name] = g.op("Cast", [f.name], f"in.{k}", to=onnx.TensorProto.DOUBLE)
        elif f.kind == ir.NUMERIC:
            inputs.append(h.make_tensor_value_info(f.name, onnx.TensorProto.DOUBLE, ["N", 1]))
            cols[f.name] = f.name
        else:
            inputs.append(h.make_tensor_value_info(f.name, onnx.TensorProto.STRING, ["N", 1]))
            inputs.append(h.make_tensor_value_info(f.name + MISSING_SUFFIX, onnx.TensorProto.BOOL, ["N", 1]))
            cols[f.name] = (f.name, f.name + MISSING_SUFFIX)
    for i, enc in enumerate(package.encoders):
        ENCODERS[type(enc)](g, enc, cols, i)
    model = package.model
    scores, leaves = MODELS[type(model)](
        g,
        model,
        cols,
        precision,
        per_tree,
        _exact_logistic(version),
        **({"sets": sets} if isinstance(model, ir.TreeEnsemble) else {}),
    )
    error = g.errors[0]
    for more in g.errors[1:]:
        error = g.op("Or", [error, more], "error.any")
    score_name = _score_output(model)
    g.nodes.append(h.make_node("Identity", [scores], [score_name], name=score_name))
    g.nodes.append(
        h.make_node("Squeeze", [error, g.const("axis1.out", np.array([1], dtype=np.int64))], [ERROR], name=ERROR)
    )
    real = (
        onnx.TensorProto.FLOAT
        if precision == FLOAT32 and isinstance(model, ir.TreeEnsemble)
        else onnx.TensorProto.DOUBLE
    )
    outputs = [
        h.make_tensor_value_info(score_name, real, ["N", len(model.outputs)]),
        h.make_tensor_value_info(ERROR, onnx.TensorProto.BOOL, ["N"]),
    ]
    if leaves is not None:  # a linear model has no trees, so no leaves
        g.nodes.append(h.make_node("Identity", [leaves], [LEAVES], name=LEAVES))
        outputs.append(h.make_tensor_value_info(LEAVES, onnx.TensorProto.INT64, ["N", len(model.trees)]))
    graph = h.make_graph(g.nodes, GRAPH, inputs, outputs, g.inits)
    proto = h.make_model(
        graph,
        producer_name=PRODUCER,
        ir_version=IR_VERSION,
        opset_imports=[h.make_opsetid("", OPSET), h.make_opsetid("ai.onnx.ml", ML_OPSET)],
    )
    props = {
        FORMAT_VERSION: version,
        ID: package.id,
        TAGS: _json_text(list(package.tags)),
        METADATA: _json_text(dict(package.metadata)),
        PRODUCER_KEY: _json_text(dict(package.producer)),
    }
    if package.owner is not None:
        props[OWNER] = package.owner
    if model.is_classifier:
        props[CLASSES] = _json_text(list(model.classes))
    if package.checks is not None:
        doc = checks_module.to_document(package.checks)
        _json.validate(doc, checks_module.SCHEMA, "checks")
        props[CHECKS] = _json.dumps(doc, compact=True).decode("utf-8").rstrip("\n")
    if precision == FLOAT32:
        props[PRECISION] = precision
        props[TOLERANCE] = _json_text({"absolute": float32_tolerance(package)})
    h.set_model_props(proto, props)
    return proto


def dumps(package: ir.Package, precision: str = FLOAT64, sets: str = COLUMNS) -> bytes:
    if _precision(precision) == FLOAT32:
        source = package
        rounded, checks = stored(package, package.checks, precision)
        proto = build(rounded.replace(checks=checks), precision, sets=sets)
        proto.metadata_props.add(key=SOURCE_ID, value=source.id)
        return proto.SerializeToString(deterministic=True)
    return build(package, sets=sets).SerializeToString(deterministic=True)


# ---------------------------------------------------------------- read


def sniff(source: Any) -> bool:
    """A ModelProto (field 1, ir_version, comes first) whose metadata names our
    format version; the key is stored as plain text, so no parse is needed."""
    return isinstance(source, bytes) and source[:1] == b"\x08" and FORMAT_VERSION.encode("ascii") in source


def _parse(data: bytes, where: str):
    onnx = _onnx()
    if len(data) > MAX_BYTES:
        raise LimitExceededError(where, f"expected at most {MAX_BYTES} bytes, found {len(data)}")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError, and RuntimeWarning-free variants of it
        raise OnnxDecodeError(where, f"expected a serialized ONNX ModelProto; protobuf says: {exc}") from None
    return onnx, proto


def _props(proto, where: str) -> dict:
    props: dict = {}
    for entry in proto.metadata_props:
        if entry.key in props:
            raise OnnxMetadataError(where, f"expected each metadata key once, found {shown(entry.key)} twice")
        props[entry.key] = entry.value
    return props


def properties(source: bytes, where: str = WHERE) -> dict:
    """What ``crossform info`` shows besides the package: the precision, and
    for float32 the declared tolerance and the id of the source package."""
    _, proto = _parse(source, where)
    props = _props(proto, where)
    out = {"precision": props.get(PRECISION, FLOAT64)}
    if TOLERANCE in props:
        out["tolerance"] = _json_prop(props, TOLERANCE, where)
    if SOURCE_ID in props:
        out["source id"] = props[SOURCE_ID]
    return out


def read_version(source: bytes, where: str = WHERE) -> str:
    _, proto = _parse(source, where)
    found = _props(proto, where).get(FORMAT_VERSION)
    _versions.parse_version(found, where)
    return found


def _tensors(proto) -> Any:
    """Every tensor a model holds: initializers, sparse initializers (values and
    indices) and attribute tensors, in the main graph, in every subgraph an
    attribute holds (If, Loop, Scan bodies) and in local functions."""
    graphs, nodes = [proto.graph], [n for f in proto.functions for n in f.node]
    while graphs or nodes:
        if graphs:
            graph = graphs.pop()
            yield from graph.initializer
            for sparse in graph.sparse_initializer:
                yield from (sparse.values, sparse.indices)
            nodes.extend(graph.node)
            continue
        for attr in nodes.pop().attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            for sparse in ([attr.sparse_tensor] if attr.HasField("sparse_tensor") else []) + list(attr.sparse_tensors):
                yield from (sparse.values, sparse.indices)
            graphs.extend(([attr.g] if attr.HasField("g") else []) + list(attr.graphs))


def _external(proto) -> Any:
    """The first tensor that keeps its data outside the file, or None."""
    onnx = _onnx()
    for t in _tensors(proto):
        if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data):
            return t
    return None


def _json_prop(props: dict, key: str, where: str, default: Any = None) -> Any:
    if key not in props:
        if default is not None:
            return default
        raise OnnxMetadataError(where, f"expected metadata key {key!r}, found none")
    try:
        return json.loads(props[key])
    except ValueError as exc:
        raise OnnxMetadataError(where, f"expected JSON in metadata {key!r}; {exc}") from None


def _node_doc(node, where: str) -> dict:
    try:
        doc = json.loads(node.doc_string)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or "crossform" not in doc:
        raise OnnxStructureError(
            where, f"expected node {node.name!r} to describe its step in doc_string, found {shown(node.doc_string)}"
        )
    return doc


def _initializers(proto) -> dict:
    onnx = _onnx()
    return {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}


def _attrs(node) -> dict:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _const_of(node, k: int, inits: dict, where: str) -> np.ndarray:
    if k >= len(node.input) or node.input[k] not in inits:
        raise OnnxStructureError(where, f"expected input {k} of node {node.name!r} to be an initializer")
    return inits[node.input[k]]


def _tag(node) -> str:
    """The hint part of a node name: 'crossform:12:e0.1.filled' -> 'e0.1.filled'."""
    return node.name.split(":", 2)[-1] if node.name.startswith(INTERNAL) else node.name


def _read_inputs(proto, where: str, precision: str) -> tuple:
    onnx = _onnx()
    fields = []
    names = [i.name for i in proto.graph.input]
    real = onnx.TensorProto.FLOAT if precision == FLOAT32 else onnx.TensorProto.DOUBLE
    for value in proto.graph.input:
        elem = value.type.tensor_type.elem_type
        if value.name.endswith(MISSING_SUFFIX) and value.name[: -len(MISSING_SUFFIX)] in names:
            continue
        if elem == real:
            fields.append(ir.Field(value.name, ir.NUMERIC))
        elif elem == onnx.TensorProto.STRING:
            fields.append(ir.Field(value.name, ir.CATEGORICAL))
        else:
            raise OnnxStructureError(
                where,
                f"expected {'float' if real == onnx.TensorProto.FLOAT else 'double'} or "
                f"string graph inputs ({precision} precision), found input "
                f"{value.name!r} of type {onnx.TensorProto.DataType.Name(elem)}",
            )
    return tuple(fields)


class _EncoderNodes:
    """The nodes of encoder ``index`` (tagged e<index>.<feature>.<step>), for its reader."""

    def __init__(self, by_tag: dict, index: int, kind: str, inits: dict, where: str):
        self.by_tag, self.index, self.kind, self.inits, self.where = by_tag, index, kind, inits, where

    def node(self, j: int, part: str):
        found = self.by_tag.get(f"e{self.index}.{j}.{part}")
        if found is None:
            raise OnnxStructureError(
                self.where, f"expected a node e{self.index}.{j}.{part} for encoder {self.index}, found none"
            )
        return found

    def number(self, j: int, part: str, k: int = 1) -> float:
        """The one number initializer ``k`` of node e<index>.<j>.<part> holds."""
        node = self.node(j, part)
        value = _const_of(node, k, self.inits, self.where)
        if value.size != 1 or value.dtype.kind != "f":
            raise OnnxStructureError(
                self.where,
                f"expected input {k} of node {node.name!r} to be one float, "
                f"found {value.dtype} of shape {list(value.shape)}",
            )
        return float(value.reshape(-1)[0])

    def entries(self, doc: dict, key: str, n: int, what: str, ok) -> list:
        """doc[key]: a list of ``n`` entries each passing ``ok`` (``what`` says what they must be)."""
        value = doc.get(key)
        if not isinstance(value, list) or len(value) != n or not all(ok(v) for v in value):
            found = cut(json.dumps(value)) if value is not None else "none"
            raise OnnxStructureError(
                self.where,
                f"expected doc_string key {key!r} of encoder {self.index} "
                f"({self.kind}) to be a list of {n} {what}, found {found}",
            )
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _read_fill_missing(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    n = len(features)
    texts = doc.get("values", [None] * n)
    values = []
    for j in range(n):
        if j < len(texts) and isinstance(texts[j], str):
            values.append(texts[j])
        else:
            values.append(nodes.number(j, "filled"))
    return ir.FillMissing(features, tuple(values), outputs)


def _read_scale(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    offset = [nodes.number(j, "shifted") for j in range(len(features))]
    scale = [nodes.number(j, "scaled") for j in range(len(features))]
    return ir.Scale(features, offset, scale, outputs)


def _read_label_encoder(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    n = len(features)
    categories = doc.get("categories", [])
    has_missing = doc.get("missing", [])
    codes, missing = [], []
    for j in range(n):
        table = _const_of(nodes.node(j, "code"), 0, nodes.inits, nodes.where).astype(np.float64)
        codes.append(table[:-1])
        missing.append(nodes.number(j, "coded.missing") if j < len(has_missing) and has_missing[j] else None)
    unknown = None
    if doc.get("unknown"):
        unknown = nodes.number(0, "coded") if n else 0.0
    return ir.CategoricalEncoding(
        features, tuple(tuple(c) for c in categories), tuple(codes), tuple(missing), unknown, outputs
    )


def _read_affine(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    scale = [nodes.number(j, "scaled") for j in range(len(features))]
    offset = [nodes.number(j, "affine") for j in range(len(features))]
    return ir.Affine(features, scale, offset, outputs)


def _read_missing_indicator(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    kinds = nodes.entries(doc, "kinds", len(features), f"kinds ({', '.join(ir.KINDS)})", lambda k: k in ir.KINDS)
    return ir.MissingIndicator(features, tuple(kinds), outputs)


def _read_refuse_missing(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    kinds = nodes.entries(doc, "kinds", len(features), f"kinds ({', '.join(ir.KINDS)})", lambda k: k in ir.KINDS)
    return ir.RefuseMissing(features, tuple(kinds), outputs)


def _read_one_hot(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    """Everything is in the doc_string; the rebuilt graph must then match the file's nodes."""
    n = len(features)
    categories = nodes.entries(doc, "categories", n, "lists of category strings", _is_names)
    columns = nodes.entries(
        doc, "columns", n, "lists of column indices", lambda c: isinstance(c, list) and all(_is_int(v) for v in c)
    )
    widths = nodes.entries(doc, "widths", n, "column counts", lambda w: _is_int(w) and w >= 0)
    missing = nodes.entries(doc, "missing", n, "column indices or null", lambda m: m is None or _is_int(m))
    unknown = nodes.entries(
        doc,
        "unknown",
        n,
        f"column indices or one of {', '.join(ir.UNKNOWN_POLICIES)}",
        lambda u: _is_int(u) or u in ir.UNKNOWN_POLICIES,
    )
    return ir.OneHot(
        features, tuple(map(tuple, categories)), tuple(columns), tuple(widths), tuple(missing), tuple(unknown), outputs
    )


ENCODER_READERS = {
    "fill-missing": _read_fill_missing,
    "standard-scaler": _read_scale,
    "label-encoder": _read_label_encoder,
    "affine": _read_affine,  # from 1.3
    "missing-indicator": _read_missing_indicator,  # from 1.3
    "one-hot": _read_one_hot,  # from 1.3
    "refuse-missing": _read_refuse_missing,  # from 1.3 (crossform 0.5.0)
}


def _read_encoders(proto, inits: dict, where: str) -> tuple:
    encoders = []
    by_tag = {_tag(n): n for n in proto.graph.node}
    index = 0
    while True:
        first = [n for n in proto.graph.node if _tag(n).startswith(f"e{index}.0.") and n.doc_string]
        if not first:
            return tuple(encoders)
        doc = _node_doc(first[0], where)
        kind = doc["crossform"]
        reader = ENCODER_READERS.get(kind) if isinstance(kind, str) else None
        if reader is None:
            raise OnnxStructureError(where, f"expected an encoder kind crossform writes, found {shown(kind)}")
        nodes = _EncoderNodes(by_tag, index, kind, inits, where)
        features = tuple(
            nodes.entries(
                doc, "features", len(doc.get("features") or ()), "feature names", lambda f: isinstance(f, str)
            )
        )
        outputs = doc.get("outputs", [])
        if not _is_names(outputs):
            raise OnnxStructureError(
                where,
                f"expected doc_string key 'outputs' of encoder {index} ({kind}) to be "
                f"a list of names, found {cut(json.dumps(outputs))}",
            )
        encoders.append(reader(nodes, doc, features, tuple(outputs)))
        index += 1


def _read_trees(node, inits: dict, where: str) -> tuple:
    attrs = _attrs(node)
    onnx = _onnx()

    def arr(name: str, dtype) -> np.ndarray:
        value = attrs.get(name)
        if value is None:
            raise OnnxStructureError(where, f"expected TreeEnsemble attribute {name!r}, found none")
        if isinstance(value, onnx.TensorProto):
            value = onnx.numpy_helper.to_array(value)
        return np.asarray(value, dtype=dtype).reshape(-1)

    feature = arr("nodes_featureids", np.int64)
    raw_split = attrs.get("nodes_splits")
    split = arr("nodes_splits", np.float64)
    if isinstance(raw_split, onnx.TensorProto) and raw_split.data_type == onnx.TensorProto.FLOAT:
        split = float32_threshold(split)  # the double threshold whose float32 floor was written
    true_id, true_leaf = arr("nodes_truenodeids", np.int64), arr("nodes_trueleafs", np.int64)
    false_id, false_leaf = arr("nodes_falsenodeids", np.int64), arr("nodes_falseleafs", np.int64)
    modes = arr("nodes_modes", np.int64)
    roots = arr("tree_roots", np.int64)
    targets = arr("leaf_targetids", np.int64)
    weights = arr("leaf_weights", np.float64)
    n_nodes, n_leaves = len(feature), len(targets)
    for name, a in (
        ("nodes_splits", split),
        ("nodes_truenodeids", true_id),
        ("nodes_trueleafs", true_leaf),
        ("nodes_falsenodeids", false_id),
        ("nodes_falseleafs", false_leaf),
        ("nodes_modes", modes),
    ):
        if len(a) != n_nodes:
            raise OnnxStructureError(where, f"expected {n_nodes} entries in {name}, found {len(a)}")
    if ((modes != BRANCH_LEQ) & (modes != BRANCH_GT) & (modes != BRANCH_MEMBER)).any():
        raise OnnxStructureError(
            where, "expected every node in mode BRANCH_LEQ (0), BRANCH_GT (3) or BRANCH_MEMBER (6)"
        )
    node_sets = _read_membership(node, attrs, modes, arr, where)
    n_trees = len(roots)
    if n_trees == 0 or roots[0] != 0 or (np.diff(roots) <= 0).any() or roots[-1] >= max(n_nodes, 1):
        raise OnnxStructureError(where, "expected tree_roots increasing from 0, one per tree, inside nodes_*")
    if len(targets) and (
        (np.diff(targets) < 0).any()
        or targets[0] != 0
        or targets[-1] != n_trees - 1
        or len(np.unique(targets)) != n_trees
    ):
        raise OnnxStructureError(where, "expected the leaves of tree t to target t, in tree order")
    split_end = np.append(roots[1:], n_nodes)
    leaf_start = np.searchsorted(targets, np.arange(n_trees))
    leaf_end = np.append(leaf_start[1:], n_leaves)
    node_of_leaf = np.arange(n_leaves) - np.repeat(leaf_start - (split_end - roots), leaf_end - leaf_start)
    node_of_leaf[np.repeat((split_end - roots == 1) & (leaf_end - leaf_start == 1), leaf_end - leaf_start)] = 0
    if len(weights) != n_leaves or not np.array_equal(weights, node_of_leaf):
        raise OnnxStructureError(
            where,
            "expected each leaf's weight to be its node index in its tree (the tree's splits first, then its leaves)",
        )
    trees = []
    for t in range(n_trees):
        lo, hi, llo, lhi = int(roots[t]), int(split_end[t]), int(leaf_start[t]), int(leaf_end[t])
        s, k = hi - lo, lhi - llo
        if s == 1 and true_leaf[lo] and false_leaf[lo] and true_id[lo] == false_id[lo] == llo and k == 1:
            trees.append((np.array([-1]), np.zeros(1), np.array([-1]), np.array([-1]), np.zeros(1, bool), [llo], ()))
            continue
        if k != s + 1:
            # before any per-node work: the caller sizes each tree's leaf values by nodes x outputs
            raise OnnxStructureError(
                where, f"expected tree {t} to have one leaf more than its {s} splits, found {k} leaves"
            )

        def local(ids, leafs, what):
            ids, leafs = ids[lo:hi], leafs[lo:hi].astype(bool)
            bad = (leafs & ((ids < llo) | (ids >= lhi))) | (~leafs & ((ids <= lo) | (ids >= hi)))
            if bad.any():
                raise OnnxStructureError(
                    where,
                    f"expected {what} of tree {t} inside that tree, found "
                    f"{int(ids[bad][0])} at node {lo + int(np.argmax(bad))}",
                )
            return np.where(leafs, s + ids - llo, ids - lo)

        true = local(true_id, true_leaf, "nodes_truenodeids")
        false = local(false_id, false_leaf, "nodes_falsenodeids")
        # x > t: true goes right, NaN (false) left; a set: true (in it) goes away from the missing side
        nan_left = (modes[lo:hi] == BRANCH_GT) | np.array(
            [node_sets[n] is not None and node_sets[n][0] for n in range(lo, hi)], dtype=bool
        )
        trees.append(
            (
                np.concatenate([feature[lo:hi], np.full(k, -1)]),
                np.concatenate([split[lo:hi], np.zeros(k)]),
                np.concatenate([np.where(nan_left, false, true), np.full(k, -1)]),
                np.concatenate([np.where(nan_left, true, false), np.full(k, -1)]),
                np.concatenate([nan_left, np.zeros(k, bool)]),
                list(range(llo, lhi)),
                tuple(None if v is None else v[1] for v in node_sets[lo:hi]) + (None,) * k
                if any(v is not None for v in node_sets[lo:hi])
                else (),
            )
        )
    return trees, n_leaves


def _read_membership(node, attrs: dict, modes: np.ndarray, arr, where: str) -> list:
    """Per node, None or (missing_left, the set) of a BRANCH_MEMBER node: membership_values holds
    each set in node order, increasing, ended by NaN; the doc_string's sets_missing_left a side each."""
    n_sets = int((modes == BRANCH_MEMBER).sum())
    out = [None] * len(modes)
    if not n_sets:
        if "membership_values" in attrs:
            raise OnnxStructureError(where, "expected no membership_values without BRANCH_MEMBER nodes, found some")
        return out
    values = arr("membership_values", np.float64)
    sides = _node_doc(node, where).get("sets_missing_left")
    if not isinstance(sides, list) or len(sides) != n_sets or not all(isinstance(v, bool) for v in sides):
        raise OnnxStructureError(
            where,
            f"expected doc_string key 'sets_missing_left' of node {node.name!r} to be "
            f"{n_sets} booleans, one per BRANCH_MEMBER node, found "
            f"{cut(json.dumps(sides))}",
        )
    cuts = np.flatnonzero(np.isnan(values))
    if len(cuts) != n_sets or (len(values) and not np.isnan(values[-1])):
        raise OnnxStructureError(
            where,
            f"expected membership_values to hold {n_sets} sets, each ended by NaN, "
            f"found {len(cuts)} NaN separators in {len(values)} values",
        )
    starts = np.concatenate([[0], cuts[:-1] + 1])
    for k, (n, lo, hi) in enumerate(zip(np.flatnonzero(modes == BRANCH_MEMBER).tolist(), starts, cuts)):
        members = values[lo:hi]
        if not len(members) or (np.diff(members) <= 0).any():
            raise OnnxStructureError(
                where,
                f"expected set {k} of membership_values (node {n}) to be non-empty and "
                f"strictly increasing, found {members.tolist()[:8]}",
            )
        out[n] = (sides[k], tuple(members.tolist()))
    return out


def _const_of_name(inits: dict, hint: str, where: str) -> np.ndarray:
    for name, value in inits.items():
        if name.startswith(INTERNAL) and name.split(":", 2)[-1] == hint:
            return value
    raise OnnxStructureError(where, f"expected an initializer {hint!r}, found none")


def _read_model(proto, inits: dict, props: dict, where: str, per_tree: bool) -> ir.Model:
    """A TreeEnsemble from the file's TreeEnsemble nodes, or (from 1.3) a LinearModel."""
    ensembles = [n for n in proto.graph.node if n.op_type == "TreeEnsemble"]
    linear = [n for n in proto.graph.node if _tag(n) == "linear.products"]
    if linear and not ensembles:
        return _read_linear(proto, linear, inits, props, where)
    concats = [n for n in proto.graph.node if _tag(n) == "X"]
    if (len(ensembles) == 0 if per_tree else len(ensembles) != 1) or len(concats) != 1:
        raise OnnxStructureError(
            where,
            f"expected {'a TreeEnsemble per tree' if per_tree else 'one TreeEnsemble'} "
            f"reading one Concat 'X', found {len(ensembles)} and {len(concats)}",
        )
    doc = _node_doc(ensembles[0], where)
    features = _model_features(proto, concats[0], where)
    trees, n_leaves = [], 0
    for t, node in enumerate(ensembles):
        part, count = _read_trees(node, inits, where)
        if per_tree and len(part) != 1:
            raise OnnxStructureError(where, f"expected one tree in TreeEnsemble {t} ({node.name!r}), found {len(part)}")
        trees += [(*tree[:5], [row + n_leaves for row in tree[5]], tree[6]) for tree in part]
        n_leaves += count
    aggregation = doc.get("aggregation")
    base = None
    if aggregation == "sum":
        values = _const_of_name(inits, "leaf.values.base", where)
        values, base = values[:-1], (values[-1].astype(np.float64) if values.ndim == 2 and len(values) else None)
    else:
        values = _const_of_name(inits, "leaf.values", where)
    if values.ndim != 2 or len(values) != n_leaves:
        raise OnnxStructureError(where, f"expected a leaf-value table of {n_leaves} rows, found shape {values.shape}")
    set_splits = _read_set_columns(proto, inits, len(features), where)
    built, used = [], 0
    for feature, threshold, left, right, missing_left, rows, native in trees:
        value = np.zeros((len(feature), values.shape[1]))
        value[feature < 0] = values[rows]
        sets = list(native) if native else [None] * len(feature)
        for n in np.flatnonzero(feature >= len(features)).tolist():
            k = int(feature[n]) - len(features)
            if k >= len(set_splits) or threshold[n] != SET_THRESHOLD or missing_left[n]:
                raise OnnxStructureError(
                    where,
                    f"expected node {n} of a tree to split a set column (one of "
                    f"{len(set_splits)}) at {SET_THRESHOLD!r} in mode BRANCH_LEQ, found "
                    f"column {int(feature[n])}, threshold {threshold[n]!r}",
                )
            feature[n], (missing_left[n], sets[n]) = set_splits[k][0], set_splits[k][1:]
            threshold[n] = 0.0
            used += 1
        built.append(
            ir.Tree(
                feature,
                threshold,
                left,
                right,
                missing_left,
                value,
                tuple(sets) if any(v is not None for v in sets) else (),
            )
        )
    if used != len(set_splits):
        raise OnnxStructureError(
            where, f"expected each of the {len(set_splits)} set columns to be split once, found {used} set splits"
        )
    classes = _classes(props, where)
    rules = {
        key: _doc_choice(doc, key, choices, default, where)
        for key, choices, default in (("missing", ir.MISSING_RULES, "route"), ("infinite", ir.INFINITE_RULES, "error"))
    }
    post = doc.get("post_transform")
    isolation = None
    if post == "isolation":
        isolation = tuple(_scalar_of_name(inits, hint, where) for hint in ("isolation.denominator", "isolation.offset"))
    return ir.TreeEnsemble(features, tuple(built), aggregation, post, classes, base, isolation=isolation, **rules)


def _scalar_of_name(inits: dict, hint: str, where: str) -> float:
    value = _const_of_name(inits, hint, where)
    if value.dtype != np.float64 or value.size != 1:
        raise OnnxStructureError(
            where, f"expected initializer {hint!r} to be one double, found {value.dtype} of shape {list(value.shape)}"
        )
    return float(value.reshape(-1)[0])


def _read_set_columns(proto, inits: dict, width: int, where: str) -> list:
    """(feature, missing_left, values) of each set split, from the columns the Concat
    'X.sets' adds after X (see _set_columns): the Equal node set.<k>.equal holds the
    values and, in its doc_string, the feature and the missing side."""
    concats = [n for n in proto.graph.node if _tag(n) == "X.sets"]
    if not concats:
        return []
    by_tag = {_tag(n): n for n in proto.graph.node}
    out = []
    for k in range(len(concats[0].input) - 1):
        node = by_tag.get(f"set.{k}.equal")
        if node is None:
            raise OnnxStructureError(where, f"expected a node set.{k}.equal for set column {k}, found none")
        doc = _node_doc(node, where)
        feature, missing_left = doc.get("feature"), doc.get("missing_left")
        if not _is_int(feature) or not 0 <= feature < width or not isinstance(missing_left, bool):
            raise OnnxStructureError(
                where,
                f"expected set split {k} to name a feature below {width} and its "
                f"missing side (true or false), found {cut(json.dumps(doc))}",
            )
        values = _const_of(node, 1, inits, where)
        if values.dtype != np.float64 or values.ndim != 1:
            raise OnnxStructureError(
                where,
                f"expected the values of set split {k} as a 1-D double tensor, found "
                f"{values.dtype} of shape {list(values.shape)}",
            )
        out.append((feature, missing_left, tuple(values.tolist())))
    return out


def _classes(props: dict, where: str):
    classes = _json_prop(props, CLASSES, where) if CLASSES in props else None
    if classes is not None and not isinstance(classes, list):
        raise OnnxMetadataError(where, f"expected a JSON list in metadata {CLASSES!r}, found {type(classes).__name__}")
    return tuple(classes) if classes is not None else None


def _doc_choice(doc: dict, key: str, choices: tuple, default: str, where: str) -> str:
    """doc[key], one of ``choices``; absent means ``default`` (the writer leaves defaults out)."""
    value = doc.get(key, default)
    if value not in choices or (key in doc and value == default):
        raise OnnxStructureError(
            where,
            f"expected the model's {key!r} rule to be one of {', '.join(choices)} "
            f"(absent for {default!r}), found {cut(json.dumps(doc.get(key)))}",
        )
    return value


def _read_linear(proto, linear: list, inits: dict, props: dict, where: str) -> ir.LinearModel:
    """Coefficients from the Mul's [features, 1, outputs] initializer, intercepts from the Add's."""
    concats = [n for n in proto.graph.node if _tag(n) == "X"]
    raws = [n for n in proto.graph.node if _tag(n) == "linear.raw"]
    if len(linear) != 1 or len(concats) != 1 or len(raws) != 1:
        raise OnnxStructureError(
            where,
            f"expected one linear model (nodes 'X', 'linear.products', 'linear.raw'), "
            f"found {len(concats)}, {len(linear)} and {len(raws)}",
        )
    doc = _node_doc(linear[0], where)
    features = _model_features(proto, concats[0], where)
    weights = _const_of(linear[0], 1, inits, where)
    if weights.dtype != np.float64 or weights.ndim != 3 or weights.shape[:2] != (len(features), 1):
        raise OnnxStructureError(
            where,
            f"expected coefficients of type double and shape [{len(features)}, 1, "
            f"outputs], found {weights.dtype} of shape {list(weights.shape)}",
        )
    intercepts = _const_of(raws[0], 1, inits, where)
    if intercepts.dtype != np.float64 or intercepts.shape != (weights.shape[2],):
        raise OnnxStructureError(
            where,
            f"expected intercepts of type double and shape [{weights.shape[2]}], "
            f"found {intercepts.dtype} of shape {list(intercepts.shape)}",
        )
    post = _doc_choice(doc, "post_transform", ir.LINEAR_POST_TRANSFORMS, None, where)
    return ir.LinearModel(features, weights[:, 0, :].T, intercepts, post, _classes(props, where))


def _model_features(proto, concat, where: str) -> tuple:
    """Column names from the tensors the Concat reads: a graph input, or an encoder output."""
    producers = {out: n for n in proto.graph.node for out in n.output}
    names = []
    for tensor in concat.input:
        if tensor in producers and _tag(producers[tensor]).startswith("in.") and producers[tensor].op_type == "Cast":
            names.append(producers[tensor].input[0])  # a float32 input, cast to double
        elif tensor in producers:
            node = producers[tensor]
            names.append(_output_column(proto, node, tensor, where))
        else:
            names.append(tensor)
    return tuple(names)


def _output_column(proto, node, tensor, where) -> str:
    tag = _tag(node)  # e{i}.{j}.<step>
    parts = tag.split(".")
    if len(parts) < 3 or not parts[0].startswith("e"):
        raise OnnxStructureError(
            where, f"expected the model to read graph inputs or encoder outputs, found {shown(tensor)}"
        )
    i, j = parts[0][1:], parts[1]
    for n in proto.graph.node:
        if _tag(n).startswith(f"e{i}.{j}.") and n.doc_string:
            doc = _node_doc(n, where)
            break
    else:
        first = [n for n in proto.graph.node if _tag(n).startswith(f"e{i}.0.") and n.doc_string]
        if not first:
            raise OnnxStructureError(where, f"expected encoder {i} to describe itself, found nothing")
        doc = _node_doc(first[0], where)
    outputs = doc.get("outputs", [])
    try:
        k = int(j)
        if doc.get("crossform") == "one-hot":  # feature j's block; a Split names the column by its output
            k = sum(doc["widths"][:k]) + list(node.output).index(tensor)
        return outputs[k]
    except (ValueError, IndexError, KeyError, TypeError):
        raise OnnxStructureError(where, f"expected output {j} of encoder {i}, found none") from None


def _checks(props: dict, where: str):
    if CHECKS not in props:
        return None
    label = f"{where}#metadata[{CHECKS}]"
    doc = _json.parse(props[CHECKS].encode("utf-8"), label)
    _json.validate(doc, checks_module.SCHEMA, label)
    return checks_module.from_document(doc, label)


def _string_map(value: Any, key: str, where: str) -> dict:
    if not isinstance(value, dict):
        raise OnnxMetadataError(where, f"expected a JSON object in metadata {key!r}, found {type(value).__name__}")
    return value


def loads(source: bytes, where: str = WHERE) -> ir.Package:
    onnx, proto = _parse(source, where)
    props = _props(proto, where)
    newer = _versions.check_version(NAME, VERSION, props.get(FORMAT_VERSION), where)
    per_tree = _per_tree(props[FORMAT_VERSION])
    precision = props.get(PRECISION, FLOAT64)
    if precision not in OPTIONS["precision"]:
        raise OnnxMetadataError(
            where,
            f"expected metadata {PRECISION!r} to be one of {', '.join(OPTIONS['precision'])}, found {shown(precision)}",
        )
    external = _external(proto)
    if external is not None:
        raise OnnxExternalDataError(
            where,
            f"tensor {external.name!r} keeps its data outside the file; crossform reads only self-contained models",
        )
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:  # onnx.checker.ValidationError, and C++ errors it surfaces as others
        raise OnnxCheckerError(
            where, f"onnx.checker refuses the model: {str(exc).splitlines()[0] if str(exc) else exc}"
        ) from None
    for node in proto.graph.node:
        if (node.domain, node.op_type) not in OPS:
            raise UnsupportedModelError(
                f"{where}: op {node.domain + '.' if node.domain else ''}{node.op_type} "
                f"(node {node.name!r}) is not one crossform writes"
            )
    try:
        inits = _initializers(proto)
        package = ir.Package(
            inputs=_read_inputs(proto, where, precision),
            encoders=_read_encoders(proto, inits, where),
            model=_read_model(proto, inits, props, where, per_tree),
            owner=props.get(OWNER),
            tags=tuple(_json_prop(props, TAGS, where, default=[])),
            metadata=_string_map(_json_prop(props, METADATA, where, default={}), METADATA, where),
            producer=_string_map(_json_prop(props, PRODUCER_KEY, where, default={}), PRODUCER_KEY, where),
            checks=_checks(props, where),
        )
    except IRValidationError as exc:
        raise OnnxStructureError(where, str(exc)) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise OnnxStructureError(where, f"expected the graph crossform writes; {type(exc).__name__}: {exc}") from None
    recorded, expected = props[FORMAT_VERSION], written_version(precision, per_tree, package)
    if not newer and recorded != expected:
        # a writer records 1.3 exactly when the package uses a kind 1.3 added, so that
        # 0.4.0 refuses those files and still reads the rest
        uses = new_kind(package)
        raise OnnxStructureError(
            where,
            f"expected format version {expected} for this package "
            f"({'it uses ' + uses if uses else 'it uses nothing 1.3 added'}), "
            f"found {recorded}",
        )
    member = any(
        n.op_type == "TreeEnsemble" and any(a.name == "membership_values" for a in n.attribute)
        for n in proto.graph.node
    )
    again = build(package, precision, per_tree, sets=MEMBER if member else COLUMNS)
    if again.graph.SerializeToString(deterministic=True) != proto.graph.SerializeToString(deterministic=True):
        raise OnnxStructureError(
            where,
            f"expected the graph crossform writes for the package it describes; "
            f"the graph differs ({_first_difference(again.graph, proto.graph)})",
        )
    if props.get(ID) != package.id:
        raise IdMismatchError(
            where,
            f"the file records id {props.get(ID) or 'none'} but the content hashes to "
            f"{package.id}: the content changed after the package was written",
            package=package,
        )
    return package


def _first_difference(ours, theirs) -> str:
    for i, (a, b) in enumerate(zip(ours.node, theirs.node)):
        if a != b:
            return f"node {i} {b.name!r} ({b.op_type})"
    if len(ours.node) != len(theirs.node):
        return f"{len(theirs.node)} nodes, expected {len(ours.node)}"
    for a, b in zip(ours.initializer, theirs.initializer):
        if a != b:
            return f"initializer {b.name!r}"
    return "inputs, outputs or initializers"


def runtime_versions(version: str) -> dict:
    """Which runtime releases run a package of ``version``.

    onnxruntime implements ai.onnx.ml TreeEnsemble (opset 5) from 1.21: the
    kernel came with microsoft/onnxruntime PR #22333, merged after the 1.20
    release branch. onnx's ReferenceEvaluator has it from onnx 1.16, the
    release that added the operator (onnx/onnx PR #5874).
    """
    graph = f"IR {IR_VERSION}, opsets ai.onnx {OPSET} and ai.onnx.ml {ML_OPSET}"
    return {"onnxruntime": f">=1.21 ({graph})", "onnx-reference": f"onnx>=1.16 ({graph})"}
