"""pmml: one file, a PMML 4.4 document written from the IR, scored by JPMML.

docs/formats/pmml.md is the spec. The document scores exactly as
docs/SEMANTICS.md says in a PMML consumer that follows the standard (JPMML
is the one crossform runs):

- DataDictionary: one DataField per package field (numeric: continuous
  double; categorical: string) and the target ``crossform:target``. The
  values the reference refuses are *invalid* values of the field they come
  from (MiningField invalidValueTreatment="returnInvalid"): an Interval with
  the exact smallest and largest accepted double, computed through the
  encoders (which are monotone; _pmml_accepts); the accepted categories as
  Values (or the refused ones with property="invalid" when unknown
  categories are accepted); missingValueTreatment="returnInvalid" when a
  missing value is refused;
- TransformationDictionary: DerivedFields per encoder feature, named
  ``crossform:e<i>.<j>`` (encoder i, feature j), its IR name as displayName:
  fill-missing as FieldRef@mapMissingTo, label-encoder as MapValues over an
  InlineTable, standard-scaler as Apply "/" of Apply "-", affine as Apply "+"
  of Apply "*" (in double), missing-indicator as Apply "if" of "isMissing",
  refuse-missing as a bare FieldRef (the field declares the refused values),
  one-hot as the column a category sets (MapValues, integer) and a
  NormDiscrete per column ``crossform:e<i>.<j>.<c>``;
- the model (``_shape``): "flat", a MiningModel with one Segment per tree
  (regressors, averaged class probabilities: the 1.0 layout); "chain", a
  modelChain of one regression MiningModel per score (the sum or average of
  its trees' k-th values) and a classification RegressionModel linking the
  scores to probabilities (logit or softmax); "linear", a modelChain of
  RegressionModels. In a TreeModel node ids are preorder positions, the left
  child is ``x <= t`` (SimplePredicate lessOrEqual) or a set
  (SimpleSetPredicate), the right ``<True/>`` (taken when the left is false),
  NaN (missing) goes to Node@defaultChild. A classifier leaf's
  ScoreDistribution recordCounts divide to its values exactly
  (:func:`leaf_record_counts`). "average" and "sum" are PMML's own (a left
  fold in segment order, as SEMANTICS asks); a sum's base value is a one-leaf
  segment "base" in front of the trees;
- Output: ``probability(<class>)`` per class, ``prediction``, ``decision``
  or ``decision(<class>)``, ``score`` and ``decision`` (an isolation forest),
  and ``leaf(<t>)`` (feature="entityId" of segment t, or a FieldRef to the
  chain's): the preorder position of the leaf each tree reached;
  ``leaves="off"`` leaves the leaf outputs out, for JVM services that want
  JPMML's full speed.

A file records format version 1.2 when the package uses a kind 1.2 added
(:func:`new_kind`), else 1.0 with leaf outputs and 1.1 without, its bytes
those crossform 0.4.0 wrote, so released readers still read it.

JPMML reads input fields lazily, so a field whose value is refused must be
read for every row: the first Segment's predicate reads each such field
(``isMissing or isNotMissing``: true for every value it accepts).

The writer streams text (:func:`iter_chunks`); no element tree is built. The
reader refuses a DOCTYPE or any entity before anything else, parses the
trees' Node lines line by line and the rest with expat (any other layout:
all of it with expat), rebuilds the IR, writes it again and requires the
same bytes, so anything but a document this module writes is refused with a
named error.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterator
from typing import Any, Union
from xml.parsers import expat

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
    shown,
)
from .. import MAX_FILE_BYTES, _json, _pmml_accepts, _versions

NAME = "pmml"
VERSION = "1.2"  # 1.2: the kinds new_kind() names; other files record 1.1 without leaf outputs, 1.0 with them
LAYOUT = "file"
EXTENSIONS = (".pmml",)  # the file name ending that names this format (save picks it)
RUNTIMES = ("jpmml",)
ON, OFF = "on", "off"
# leaves="off" leaves out the leaf(<t>) outputs: JPMML computes them for every row, which
# halves its rows/s; such a file scores the same, but nobody can compare its leaves
OPTIONS = {"leaves": (ON, OFF)}
VARIANTS = {"no-leaves": {"leaves": OFF}}
VERSION_OF = {ON: "1.0", OFF: "1.1"}  # the version a file with / without leaf outputs records
WHERE = f"<{NAME}>"

NAMESPACE = "http://www.dmg.org/PMML-4_4"
PMML_VERSION = "4.4"
PREFIX = "crossform:"  # every name the writer makes up starts with it; package names may not
TARGET = PREFIX + "target"
RAW = PREFIX + "raw"  # the sum before a logistic post transform
EXTENDER = "crossform"
BASE_SEGMENT = "base"
PREDICTION = "prediction"


def leaf_output(t: int) -> str:
    """The output field holding the preorder position of the leaf reached in tree ``t``."""
    return f"leaf({t})"


def probability_output(label: Any) -> str:
    return f"probability({label})"


# Header Extension names, in the order they are written
EXT = "crossform."
FORMAT_VERSION = EXT + "format_version"
ID = EXT + "id"
OWNER = EXT + "owner"
TAGS = EXT + "tags"
METADATA = EXT + "metadata"
PRODUCER_KEY = EXT + "producer"
CLASSES = EXT + "classes"
MODEL = EXT + "model"
CHECKS = EXT + "checks"
HEADER_KEYS = (FORMAT_VERSION, ID, OWNER, TAGS, METADATA, PRODUCER_KEY, CLASSES, MODEL, CHECKS)
CODES = EXT + "codes"  # inside a label-encoder's DerivedField: its missing and unknown codes
ONE_HOT = EXT + "one-hot"  # inside a one-hot feature's column field: its missing and unknown columns

MAX_BYTES = MAX_FILE_BYTES
MAX_TREES = 2**17
MAX_OUTPUTS = 2**16
MAX_NODES = 2**31 - 1  # over all trees
MAX_TREE_MODELS = 2**22  # TreeModel elements: one per tree and score in a chain
MAX_DEPTH = 2000  # edges on a root-to-leaf path; deeper trees overflow JPMML's recursive walk
MAX_NESTING = MAX_DEPTH + 16  # XML element nesting the reader accepts
PROBABILITY_SLACK = 1e-13  # how far a leaf's probabilities may sum from 1 (JPMML divides by the sum)


FormatVersionWarning = _versions.FormatVersionWarning


class PmmlDecodeError(MalformedPackageError):
    """Bytes that are not well-formed XML."""


class PmmlDoctypeError(UnsafePackageError):
    """A DOCTYPE, an entity declaration or an external entity: refused before they are read."""


class PmmlNamespaceError(MalformedPackageError):
    """A root that is not <PMML version="4.4"> in the PMML 4.4 namespace, or an element outside it."""


class PmmlHeaderError(MalformedPackageError):
    """The crossform Extensions of the Header missing, repeated, or holding a value that does not parse."""


class PmmlNumberError(MalformedPackageError):
    """A number that does not parse as a finite double."""


class PmmlStructureError(MalformedPackageError):
    """Elements crossform writes, put together into a document it does not write for its package."""


# ---------------------------------------------------------------- text

_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r]')
_TEXT_SPECIAL = re.compile("[&<>\r]")
_ATTR_TABLE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)
_TEXT_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _attr(text: str) -> str:
    """Text for a double-quoted attribute value (tabs and newlines kept as character references)."""
    return text.translate(_ATTR_TABLE) if _ATTR_SPECIAL.search(text) else text


def _text(text: str) -> str:
    return text.translate(_TEXT_TABLE) if _TEXT_SPECIAL.search(text) else text


def _num(value: float) -> str:
    """The shortest text that reads back as the same double (Python's repr; Java's parseDouble reads it)."""
    return repr(float(value))


def _json_text(value: Any) -> str:
    # ASCII only: every character is one XML allows, whatever the strings hold
    return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _xml_safe(text: str) -> bool:
    return _XML_BAD.search(text) is None


# ---------------------------------------------------------------- what the reference refuses (_pmml_accepts)

_accepts = _pmml_accepts.accepts
_interval = _pmml_accepts.interval
_strings = _pmml_accepts.strings
_Validity = _pmml_accepts.Validity


def _validity(package: ir.Package, field: ir.Field, strings: list) -> _Validity:
    other = PREFIX + "other"
    while other in strings:
        other += "!"
    return _pmml_accepts.validity(package, field, strings, other)


# ---------------------------------------------------------------- what PMML can say


def _classifier_leaves_reason(model: ir.TreeEnsemble) -> Union[str, None]:
    """PMML probabilities lie in [0, 1], and JPMML divides a leaf's recordCounts
    by their sum unless it is exactly 1: the writer writes counts that divide
    to the values exactly when it can (leaf_record_counts), and otherwise a sum
    within PROBABILITY_SLACK of 1 moves each value by less than the 1e-12 a
    score may differ."""
    for t, tree in enumerate(model.trees):
        values = tree.value[tree.is_leaf]
        if ((values < 0) | (values > 1)).any():
            return f"tree {t} has a leaf value outside [0, 1], which a PMML probability cannot hold"
        total = np.zeros(len(values))
        for k in range(values.shape[1]):
            total = total + values[:, k]  # JPMML adds them in class order
        if (np.abs(total - 1.0) > PROBABILITY_SLACK).any():
            return (
                f"tree {t} has a leaf whose class values sum to {float(total[np.argmax(np.abs(total - 1))])!r}, "
                f"not 1: JPMML would rescale them"
            )
    return None


NEW_ENCODERS = (ir.Affine, ir.MissingIndicator, ir.OneHot, ir.RefuseMissing)


def new_kind(package: ir.Package) -> Union[str, None]:
    """What in ``package`` needs format version 1.2 (a few words), or None: a
    package without any is written as 1.1 wrote it (1.0 with leaf outputs), so
    older releases still read it."""
    return _versions.first_feature_after(NAME, _versions.features_used(package), VERSION_OF[OFF])


# How the model is laid out (docs/formats/pmml.md):
FLAT = "flat"  # a MiningModel whose Segments are the trees (regressors, averaged class probabilities)
CHAIN = "chain"  # a modelChain of one regression MiningModel per score, then a link or Output expressions
LINEAR = "linear"  # a modelChain of RegressionModels
LINKS = {"logistic": "logit", "softmax": "softmax"}  # post transform -> a classification RegressionModel's
# normalizationMethod: JPMML's logit gives [1 - p, p] from one score, its softmax exp(x - max) / sum


def _shape(model: ir.Model) -> str:
    if isinstance(model, ir.LinearModel):
        return LINEAR
    if not model.is_classifier or (model.aggregation, model.post_transform, model.is_binary) == (
        "average",
        "none",
        False,
    ):
        return FLAT
    return CHAIN


def _link(model: ir.Model) -> Union[str, None]:
    """The normalizationMethod of the classification RegressionModel that turns
    scores into probabilities, or None (a flat classifier's leaves are the
    probabilities; other scores are Output fields)."""
    if not model.is_classifier:
        return None
    if model.is_binary:
        return LINKS[model.post_transform] if model.post_transform == "logistic" else None
    if model.post_transform == "softmax":
        return LINKS["softmax"]
    return None


def _function(model: ir.Model) -> str:
    """The top model's functionName: classification when PMML computes the class probabilities."""
    if model.is_classifier and (_shape(model) == FLAT or _link(model) is not None):
        return "classification"
    return "regression"


def _score_name(model: ir.Model, k: int) -> str:
    """The field holding score k (a sum of trees or a linear score): ``crossform:raw``
    for a single score, ``crossform:raw(k)`` for one of several."""
    return RAW if model.n_outputs == 1 else f"{RAW}({k})"


def _chain_trees(model: ir.TreeEnsemble) -> list:
    """The trees whose k-th leaf values each score's sum adds, per score. A sum
    skips a tree whose k-th values are all +0.0 (x + 0.0 == x), but every tree
    is in some sum, so that its leaf can be reported; an average keeps them all."""
    width = model.n_outputs
    if model.aggregation == "average":
        return [list(range(len(model.trees))) for _ in range(width)]
    out: list = [[] for _ in range(width)]
    for t, tree in enumerate(model.trees):
        values = tree.value[tree.is_leaf]
        used = [k for k in range(width) if (values[:, k] != 0.0).any() or np.signbit(values[:, k]).any()]
        for k in used or [0]:
            out[k].append(t)
    return out


def _model_reason(model: ir.Model) -> Union[str, None]:
    """Why the model itself has no PMML form here, or None."""
    if model.post_transform not in ("none", "logistic", "softmax", "isolation"):
        return f"a model with post transform {model.post_transform!r}, which this writer does not know"
    if len(set(model.features)) != len(model.features):
        return "the model lists a column twice in its features, which PMML fields cannot tell apart"
    if model.n_outputs > MAX_OUTPUTS:
        return f"more than {MAX_OUTPUTS} outputs"
    if isinstance(model, ir.LinearModel):
        return None
    if len(model.trees) > MAX_TREES:
        return f"more than {MAX_TREES} trees"
    deep = max(t.depth for t in model.trees)
    if deep > MAX_DEPTH:
        return f"a tree of depth {deep}, deeper than the {MAX_DEPTH} this format writes"
    if _shape(model) == CHAIN and sum(map(len, _chain_trees(model))) > MAX_TREE_MODELS:
        return f"more than {MAX_TREE_MODELS} TreeModels (one per tree and score)"
    if _shape(model) == FLAT and model.is_classifier:
        return _classifier_leaves_reason(model)
    return None


def unsupported(package: ir.Package) -> Union[str, None]:
    """Why this package has no PMML form here, or None."""
    model = package.model
    n_trees = len(model.trees) if isinstance(model, ir.TreeEnsemble) else 0
    reserved = {PREDICTION, TARGET} | {leaf_output(t) for t in range(n_trees)} | set(package.outputs)
    names = [f.name for f in package.inputs] + [out for enc in package.encoders for out in enc.outputs]
    for name in names:
        if name.startswith(PREFIX):
            return f"the name {shown(name)} uses the prefix {PREFIX!r}, which the PMML writer keeps for its own fields"
        if not _xml_safe(name):
            return f"the name {shown(name)} holds a character XML 1.0 cannot carry"
    for f in package.inputs:
        if f.name in reserved:
            return f"input {f.name!r} collides with an output field of the PMML document"
    for text in _strings(package):
        if not _xml_safe(text):
            return f"the category {shown(text)} holds a character XML 1.0 cannot carry"
    for enc in package.encoders:
        if isinstance(enc, ir.CategoricalEncoding) and any(len(c) == 0 for c in enc.categories):
            return "a label-encoder feature with no categories (PMML's InlineTable needs a row)"
        if isinstance(enc, ir.OneHot) and any(len(c) == 0 for c in enc.categories):
            return "a one-hot feature with no categories (PMML's InlineTable needs a row)"
    if model.is_classifier:
        for label in model.classes:
            if not _xml_safe(str(label)):
                return f"the class label {shown(label)} holds a character XML 1.0 cannot carry"
    reason = _model_reason(model)
    if reason is not None:
        return reason
    strings = _strings(package)
    for f in package.inputs:
        v = _validity(package, f, strings)
        if v.empty:
            return f"every non-missing value of input {f.name!r} is refused, which PMML cannot declare"
    return None


# ---------------------------------------------------------------- write


class _Plan:
    """PMML names of every column, the DerivedFields, what each input accepts,
    and how the model is laid out."""

    def __init__(self, package: ir.Package):
        self.package = package
        model = package.model
        bound = {f.name: f.name for f in package.inputs}
        self.derived = []  # DerivedField texts
        for i, enc in enumerate(package.encoders):
            new = {}
            for j, (feature, outs) in enumerate(zip(enc.features, _outputs_of(enc))):
                texts, names = ENCODER_FIELDS[type(enc)](f"{PREFIX}e{i}.{j}", outs, enc, j, bound[feature])
                self.derived.extend(texts)
                new.update(zip(outs, names))
            bound.update(new)  # an encoder reads its features as they were before it ran
        self.features = [bound[name] for name in model.features]
        strings = _strings(package)
        self.validity = {f.name: _validity(package, f, strings) for f in package.inputs}
        self.shape = _shape(model)
        self.link = _link(model)
        self.function = _function(model)
        self.new_kind = new_kind(package) is not None

    def input_fields(self) -> str:
        """MiningFields of the input fields the model reads directly (a nested model
        lists them; JPMML resolves derived fields from the TransformationDictionary)."""
        inputs = {f.name for f in self.package.inputs}
        return "".join(f'<MiningField name="{_attr(name)}"/>' for name in sorted(set(self.features) & inputs))


def _outputs_of(enc: Any) -> tuple:
    """Each feature's output names: one, or a one-hot feature's block."""
    return enc.blocks() if isinstance(enc, ir.OneHot) else tuple((out,) for out in enc.outputs)


def _model_spec(package: ir.Package) -> dict:
    """The Header's crossform.model: what the elements do not say. 1.2 added the
    trees' missing and infinite rules and the linear model's "type"."""
    model = package.model
    if isinstance(model, ir.LinearModel):
        return {"features": list(model.features), "post_transform": model.post_transform, "type": "linear"}
    spec = {"aggregation": model.aggregation, "features": list(model.features), "post_transform": model.post_transform}
    if new_kind(package) is not None:
        spec.update(missing=model.missing, infinite=model.infinite)
    if model.isolation is not None:
        spec["isolation"] = list(model.isolation)
    return spec


def _header(package: ir.Package, version: str, recorded_id: str) -> str:
    model = package.model

    def ext(name: str, value: str) -> str:
        return f'<Extension extender="{EXTENDER}" name="{name}" value="{_attr(value)}"/>\n'

    parts = ["<Header>\n", ext(FORMAT_VERSION, version), ext(ID, recorded_id)]
    if package.owner is not None:
        parts.append(ext(OWNER, _json_text(package.owner)))
    parts.append(ext(TAGS, _json_text(list(package.tags))))
    parts.append(ext(METADATA, _json_text(dict(package.metadata))))
    parts.append(ext(PRODUCER_KEY, _json_text(dict(package.producer))))
    if model.is_classifier:
        parts.append(ext(CLASSES, _json_text(list(model.classes))))
    parts.append(ext(MODEL, _json_text(_model_spec(package))))
    if package.checks is not None:
        doc = checks_module.to_document(package.checks)
        _json.validate(doc, checks_module.SCHEMA, "checks")
        parts.append(f'<Extension extender="{EXTENDER}" name="{CHECKS}">{_text(_json_text(doc))}</Extension>\n')
    parts.append("</Header>\n")
    return "".join(parts)


def _data_dictionary(plan: _Plan) -> str:
    package = plan.package
    model = package.model
    parts = [f'<DataDictionary numberOfFields="{len(package.inputs) + 1}">\n']
    for f in package.inputs:
        v = plan.validity[f.name]
        name = _attr(f.name)
        if f.kind == ir.NUMERIC:
            if v.interval is None:
                parts.append(f'<DataField name="{name}" optype="continuous" dataType="double"/>\n')
            else:
                low, high = v.interval
                parts.append(
                    f'<DataField name="{name}" optype="continuous" dataType="double">'
                    f'<Interval closure="closedClosed" leftMargin="{_num(low)}" rightMargin="{_num(high)}"/>'
                    f"</DataField>\n"
                )
        else:
            values = (
                [f'<Value value="{_attr(s)}"/>' for s in v.valid]
                if v.valid is not None
                else [f'<Value value="{_attr(s)}" property="invalid"/>' for s in v.invalid]
            )
            if values:
                parts.append(
                    f'<DataField name="{name}" optype="categorical" dataType="string">'
                    + "".join(values)
                    + "</DataField>\n"
                )
            else:
                parts.append(f'<DataField name="{name}" optype="categorical" dataType="string"/>\n')
    if plan.function == "classification":
        parts.append(
            f'<DataField name="{TARGET}" optype="categorical" dataType="string">'
            + "".join(f'<Value value="{_attr(str(c))}"/>' for c in model.classes)
            + "</DataField>\n"
        )
    else:
        parts.append(f'<DataField name="{TARGET}" optype="continuous" dataType="double"/>\n')
    parts.append("</DataDictionary>\n")
    return "".join(parts)


def _code_json(code: Union[float, None]) -> Any:
    if code is None:
        return None
    return "NaN" if math.isnan(code) else float(code)


def _head(name: str, out: Union[str, None], optype: str = "continuous", data_type: str = "double") -> str:
    display = "" if out is None else f' displayName="{_attr(out)}"'
    return f'<DerivedField name="{name}"{display} optype="{optype}" dataType="{data_type}">'


# Each writes feature j's DerivedFields: (texts, the PMML names of its outputs ``outs``), reading ``source``.


def _fill_field(name: str, outs: tuple, enc: ir.FillMissing, j: int, source: str) -> tuple:
    value, src = enc.values[j], _attr(source)
    if isinstance(value, str):
        text = (
            _head(name, outs[0], "categorical", "string") + f'<FieldRef field="{src}" '
            f'mapMissingTo="{_attr(value)}"/></DerivedField>\n'
        )
    else:
        text = _head(name, outs[0]) + f'<FieldRef field="{src}" mapMissingTo="{_num(value)}"/></DerivedField>\n'
    return [text], [name]


def _codes_field(name: str, outs: tuple, enc: ir.CategoricalEncoding, j: int, source: str) -> tuple:
    missing, unknown = enc.missing_codes[j], enc.unknown_code
    codes = _json_text({"missing": _code_json(missing), "unknown": _code_json(unknown)})
    # a missing value takes the missing code, else the unknown code; NaN is a missing result
    for_missing = missing if missing is not None else unknown
    attrs = ""
    if for_missing is not None and not math.isnan(for_missing):
        attrs += f' mapMissingTo="{_num(for_missing)}"'
    if unknown is not None and not math.isnan(unknown):
        attrs += f' defaultValue="{_num(unknown)}"'
    rows = "".join(
        f"<row><in>{_text(c)}</in><out>{_num(v)}</out></row>" for c, v in zip(enc.categories[j], enc.codes[j].tolist())
    )
    return [
        _head(name, outs[0]) + f'<Extension extender="{EXTENDER}" name="{CODES}" '
        f'value="{_attr(codes)}"/><MapValues outputColumn="out" dataType="double"{attrs}>'
        f'<FieldColumnPair field="{_attr(source)}" column="in"/><InlineTable>{rows}</InlineTable></MapValues>'
        f"</DerivedField>\n"
    ], [name]


def _constant(value: float) -> str:
    return f'<Constant dataType="double">{_num(value)}</Constant>'


def _scale_field(name: str, outs: tuple, enc: ir.Scale, j: int, source: str) -> tuple:
    return [
        _head(name, outs[0]) + f'<Apply function="/"><Apply function="-"><FieldRef field="{_attr(source)}"/>'
        f"{_constant(enc.offset[j])}</Apply>{_constant(enc.scale[j])}</Apply></DerivedField>\n"
    ], [name]


def _affine_field(name: str, outs: tuple, enc: ir.Affine, j: int, source: str) -> tuple:
    # x * scale + offset, multiply first, in double: Java's * and + round as numpy's do
    return [
        _head(name, outs[0]) + f'<Apply function="+"><Apply function="*"><FieldRef field="{_attr(source)}"/>'
        f"{_constant(enc.scale[j])}</Apply>{_constant(enc.offset[j])}</Apply></DerivedField>\n"
    ], [name]


def _indicator_field(name: str, outs: tuple, enc: ir.MissingIndicator, j: int, source: str) -> tuple:
    return [
        _head(name, outs[0]) + f'<Apply function="if"><Apply function="isMissing"><FieldRef '
        f'field="{_attr(source)}"/></Apply>{_constant(1.0)}{_constant(0.0)}</Apply></DerivedField>\n'
    ], [name]


def _refuse_field(name: str, outs: tuple, enc: ir.RefuseMissing, j: int, source: str) -> tuple:
    """The value unchanged: a FieldRef without mapMissingTo (fill-missing's has one).
    The refused values (missing, and a numeric +-inf) are invalid values of the
    input field they come from (_pmml_accepts), so JPMML never computes this for them."""
    head = _head(name, outs[0]) if enc.kinds_in[j] == ir.NUMERIC else _head(name, outs[0], "categorical", "string")
    return [head + f'<FieldRef field="{_attr(source)}"/></DerivedField>\n'], [name]


def _one_hot_fields(name: str, outs: tuple, enc: ir.OneHot, j: int, source: str) -> tuple:
    """The column a category sets (-1: none) as an integer field ``name``, from a
    MapValues over every known category; then per column c a NormDiscrete: 1.0
    where that field is c, else 0.0. A missing value takes the missing column,
    else the unknown one; an unknown category the unknown (infrequent) column,
    -1 under "zeros", and under "error" it is an invalid value of the input."""
    missing, unknown = enc.missing_columns[j], enc.unknown[j]
    policy = _json_text({"missing": missing, "unknown": unknown})
    to_unknown = unknown if isinstance(unknown, int) else -1 if unknown == "zeros" else None
    for_missing = missing if missing is not None else to_unknown
    attrs = "" if for_missing is None else f' mapMissingTo="{for_missing}"'
    attrs += "" if to_unknown is None else f' defaultValue="{to_unknown}"'
    rows = "".join(
        f"<row><in>{_text(c)}</in><out>{column}</out></row>"
        for c, column in zip(enc.categories[j], enc.columns[j].tolist())
    )
    texts = [
        _head(name, None, "categorical", "integer") + f'<Extension extender="{EXTENDER}" name="{ONE_HOT}" '
        f'value="{_attr(policy)}"/><MapValues outputColumn="out" dataType="integer"{attrs}>'
        f'<FieldColumnPair field="{_attr(source)}" column="in"/><InlineTable>{rows}</InlineTable></MapValues>'
        f"</DerivedField>\n"
    ]
    names = [f"{name}.{c}" for c in range(len(outs))]
    texts += [
        _head(column, out) + f'<NormDiscrete field="{name}" value="{c}"/></DerivedField>\n'
        for c, (column, out) in enumerate(zip(names, outs))
    ]
    return texts, names


ENCODER_FIELDS = {
    ir.FillMissing: _fill_field,
    ir.CategoricalEncoding: _codes_field,
    ir.Scale: _scale_field,
    ir.Affine: _affine_field,
    ir.MissingIndicator: _indicator_field,
    ir.OneHot: _one_hot_fields,
    ir.RefuseMissing: _refuse_field,
}


def _transformations(plan: _Plan) -> str:
    if not plan.derived:
        return ""
    return "<TransformationDictionary>\n" + "".join(plan.derived) + "</TransformationDictionary>\n"


def _mining_schema(plan: _Plan) -> str:
    parts = ["<MiningSchema>\n"]
    for f in plan.package.inputs:
        v = plan.validity[f.name]
        missing = ' missingValueTreatment="returnInvalid"' if v.missing_invalid else ""
        parts.append(f'<MiningField name="{_attr(f.name)}" invalidValueTreatment="returnInvalid"{missing}/>\n')
    parts.append(f'<MiningField name="{TARGET}" usageType="target"/>\n</MiningSchema>\n')
    return "".join(parts)


def _logistic(field: str) -> str:
    """1 / (1 + exp(0 - x)): the reference's logistic, in double (0 - x is -x, and exp(+-0) is 1)."""
    return (
        '<Apply function="/"><Constant dataType="double">1.0</Constant><Apply function="+">'
        '<Constant dataType="double">1.0</Constant><Apply function="exp"><Apply function="-">'
        f'<Constant dataType="double">0.0</Constant><FieldRef field="{field}"/></Apply></Apply></Apply></Apply>'
    )


def _output(plan: _Plan, leaves: str) -> str:
    model = plan.package.model
    parts = ["<Output>\n"]
    if plan.function == "classification":
        for c in model.classes:
            parts.append(
                f'<OutputField name="{_attr(probability_output(c))}" optype="continuous" dataType="double" '
                f'feature="probability" value="{_attr(str(c))}"/>\n'
            )
    elif model.post_transform == "isolation":
        parts.append(_isolation_outputs(model))
    elif len(model.outputs) > 1:  # scores, or their logistic, from the chain's fields
        for k, name in enumerate(model.outputs):
            field = _score_name(model, k)
            value = f'<FieldRef field="{field}"/>' if model.post_transform == "none" else _logistic(field)
            parts.append(
                f'<OutputField name="{_attr(name)}" optype="continuous" dataType="double" '
                f'feature="transformedValue">{value}</OutputField>\n'
            )
    elif model.post_transform == "logistic":
        parts.append(
            f'<OutputField name="{RAW}" optype="continuous" dataType="double" feature="predictedValue" '
            f'isFinalResult="false"/>\n'
        )
        parts.append(
            f'<OutputField name="{model.outputs[0]}" optype="continuous" dataType="double" '
            f'feature="transformedValue">{_logistic(RAW)}</OutputField>\n'
        )
    else:  # a regressor's prediction, or a linear two-class decision
        parts.append(
            f'<OutputField name="{model.outputs[0]}" optype="continuous" dataType="double" feature="predictedValue"/>\n'
        )
    n_trees = len(model.trees) if leaves == ON and plan.shape != LINEAR else 0
    for t in range(n_trees):
        if plan.shape == FLAT:
            parts.append(
                f'<OutputField name="{leaf_output(t)}" optype="categorical" dataType="string" '
                f'feature="entityId" segmentId="{t}"/>\n'
            )
        else:  # reported by the score's MiningModel that holds tree t first
            parts.append(
                f'<OutputField name="{leaf_output(t)}" optype="categorical" dataType="string" '
                f'feature="transformedValue"><FieldRef field="{_leaf_field(t)}"/></OutputField>\n'
            )
    parts.append("</Output>\n")
    return "".join(parts)


def _isolation_outputs(model: ir.TreeEnsemble) -> str:
    """score = -(2 ** -(s / denominator)), decision = score - offset, in double:
    -x as -1.0 * x (exact, zeros too) and Java's Math.pow."""
    denominator, offset = model.isolation
    score, decision = ir.ISOLATION_OUTPUTS
    power = (
        f'<Apply function="pow">{_constant(2.0)}<Apply function="*">{_constant(-1.0)}<Apply function="/">'
        f'<FieldRef field="{RAW}"/>{_constant(denominator)}</Apply></Apply></Apply>'
    )
    return (
        f'<OutputField name="{RAW}" optype="continuous" dataType="double" feature="predictedValue" '
        f'isFinalResult="false"/>\n'
        f'<OutputField name="{score}" optype="continuous" dataType="double" feature="transformedValue">'
        f'<Apply function="*">{_constant(-1.0)}{power}</Apply></OutputField>\n'
        f'<OutputField name="{decision}" optype="continuous" dataType="double" feature="transformedValue">'
        f'<Apply function="-"><FieldRef field="{score}"/>{_constant(offset)}</Apply></OutputField>\n'
    )


def _leaf_field(t: int) -> str:
    return f"{PREFIX}leaf({t})"


def _reads_every_checked_field(plan: _Plan) -> str:
    """The first Segment's predicate: true for every value the fields accept,
    and it reads each field that refuses some, so JPMML checks them all."""
    checked = [f.name for f in plan.package.inputs if plan.validity[f.name].checked]
    if not checked:
        return "<True/>"
    reads = [
        f'<CompoundPredicate booleanOperator="or"><SimplePredicate field="{_attr(n)}" operator="isMissing"/>'
        f'<SimplePredicate field="{_attr(n)}" operator="isNotMissing"/></CompoundPredicate>'
        for n in checked
    ]
    if len(reads) == 1:
        return reads[0]
    return '<CompoundPredicate booleanOperator="and">' + "".join(reads) + "</CompoundPredicate>"


TREE_MODEL = (
    '<TreeModel functionName="{function}" missingValueStrategy="defaultChild" '
    'noTrueChildStrategy="returnNullPrediction" splitCharacteristic="binarySplit">'
    "<MiningSchema>{target}{fields}</MiningSchema>\n"
)
TARGET_FIELD = f'<MiningField name="{TARGET}" usageType="target"/>'


def _tree_model(plan: _Plan, function: str, target: bool = True) -> str:
    """A TreeModel's opening; a score's trees in a chain name no target (theirs is not the package's)."""
    return TREE_MODEL.format(function=function, target=TARGET_FIELD if target else "", fields=plan.input_fields())


def _tree_text(
    tree: ir.Tree, fields: list, labels: Union[list, None], leaf_cache: dict, values: Union[np.ndarray, None] = None
) -> str:
    """One TreeModel's nodes in preorder: ``<Node id="<position>">`` with the
    predicate its parent's split gives it. Built as a list of strings per node,
    from arrays: no element objects. ``values`` replaces the leaf values (a
    chain's tree scores one column of them)."""
    n = tree.n_nodes
    order = tree.preorder
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    left, right = tree.left, tree.right
    leaf = tree.is_leaf
    split = np.flatnonzero(~leaf)
    parent = np.full(n, -1, dtype=np.int64)
    parent[left[split]] = split
    parent[right[split]] = split
    is_left = np.zeros(n, dtype=bool)
    is_left[left[split]] = True
    # the last preorder position inside each node's subtree: its rightmost descendant
    last = position.copy()
    right_list, last_list = right.tolist(), last.tolist()
    for node in order[::-1].tolist():
        r = right_list[node]
        if r >= 0:
            last_list[node] = last_list[r]
    closes = np.bincount(np.asarray(last_list, dtype=np.int64)[split], minlength=n) + 1  # in position order
    # per split node: the two predicates its children carry
    feature, threshold = tree.feature.tolist(), tree.threshold.tolist()
    sets, missing_left = getattr(tree, "sets", ()), tree.missing_left.tolist()
    le = {
        q: _left_predicate(fields[feature[q]], threshold[q], sets[q] if sets else None, missing_left[q])
        for q in split.tolist()
    }
    default = np.where(tree.missing_left, position[np.maximum(left, 0)], position[np.maximum(right, 0)]).tolist()
    values = tree.value if values is None else values
    parent_l, is_left_l, leaf_l = parent.tolist(), is_left.tolist(), leaf.tolist()
    closes_l = closes.tolist()
    out = []
    append = out.append
    for pos, node in enumerate(order.tolist()):
        q = parent_l[node]
        # the right child is <True/>: a present x that is not <= t is > t, and a missing x
        # never gets there (the left child's predicate is unknown, so defaultChild decides)
        predicate = le[q] if q >= 0 and is_left_l[node] else "<True/>"
        if leaf_l[node]:
            row = tuple(values[node].tolist())
            body = leaf_cache.get(row)
            if body is None:
                body = _leaf_body(row, labels)
                leaf_cache[row] = body
            append(f'<Node id="{pos}" score="{body[0]}">{predicate}{body[1]}' + "</Node>" * closes_l[pos] + "\n")
        else:
            append(f'<Node id="{pos}" defaultChild="{default[node]}">{predicate}\n')
    return "".join(out)


def _threshold(t: float) -> str:
    """A threshold's text: repr, and +inf (histogram boosting: every number goes left) as XML Schema's INF."""
    return INF if t == math.inf else repr(t)


def _left_predicate(field: str, threshold: float, values: Union[tuple, None], missing_left: bool) -> str:
    """The left child's predicate: x <= t, or for a set split (values S) the side
    away from the missing side is S: isIn S when that is the left, else isNotIn S.
    A missing x makes either unknown, and defaultChild takes the missing side."""
    if values is None:
        return f'<SimplePredicate field="{field}" operator="lessOrEqual" value="{_threshold(threshold)}"/>'
    return (
        f'<SimpleSetPredicate field="{field}" booleanOperator="{"isNotIn" if missing_left else "isIn"}">'
        f'<Array type="real" n="{len(values)}">{" ".join(map(repr, values))}</Array></SimpleSetPredicate>'
    )


def _fold(values) -> float:
    total = 0.0
    for v in values:
        total += v  # in class order, as JPMML adds a leaf's recordCounts
    return total


def _counts(row: tuple) -> Union[tuple, None]:
    """Integer counts c with c[k] / sum(c) == row[k] exactly in double, or None.

    A fraction of scikit-learn's is count / total, so the smallest denominator
    that reproduces it (a continued fraction, exact for totals up to 2^24)
    gives the counts back; every class must then divide to its value exactly.
    """
    from fractions import Fraction

    denominator = 1
    for v in row:
        if v not in (0.0, 1.0):
            q = Fraction(v).limit_denominator(1 << 24).denominator
            denominator = denominator * q // math.gcd(denominator, q)
            if denominator > 1 << 40:
                return None
    for multiple in range(1, 5):
        total = denominator * multiple
        counts = tuple(float(round(v * total)) for v in row)
        if _fold(counts) == total and all(c / total == v for c, v in zip(counts, row)):
            return counts
    return None


def leaf_record_counts(row: tuple) -> tuple:
    """What a classifier leaf's ScoreDistributions hold: recordCounts from which
    PMML's probabilities, recordCount / their sum (JPMML: unless the sum is
    exactly 1), are the leaf's values to the last bit. The values themselves
    when they sum to exactly 1; else integer counts that divide to them; else
    (no such counts) the values, which JPMML then divides by their sum, within
    PROBABILITY_SLACK. :func:`leaf_values` reads them back."""
    if _fold(row) == 1.0:
        return row
    counts = _counts(row)
    return row if counts is None else counts


def leaf_values(counts: np.ndarray) -> np.ndarray:
    """A classifier leaf's values from its recordCounts (rows of leaves): whole
    numbers are counts, divided by their sum; otherwise they are the values."""
    counts = np.asarray(counts, dtype=np.float64)
    whole = (counts == np.floor(counts)).all(axis=1)
    total = np.zeros(len(counts))
    for k in range(counts.shape[1]):
        total = total + counts[:, k]  # a left fold in class order
    out = counts.copy()
    divide = whole & (total != 1.0) & (total != 0.0)
    out[divide] = counts[divide] / total[divide, None]
    return out


def _leaf_body(row: tuple, labels: Union[list, None]) -> tuple:
    if labels is None:
        return repr(row[0]), ""
    best = max(range(len(row)), key=lambda k: (row[k], -k))  # the first of equal maxima
    dist = "".join(
        f'<ScoreDistribution value="{label}" recordCount="{v!r}"/>' for label, v in zip(labels, leaf_record_counts(row))
    )
    return labels[best], dist


def written_version(leaves: str = ON, package: Union[ir.Package, None] = None) -> str:
    """The format version a file records: for ``package``, 1.2 when it uses a
    kind 1.2 added (:func:`new_kind`), else 1.0 with leaf outputs and 1.1
    without, as before; without a package, the newest this writer writes."""
    _leaves(leaves)
    if package is not None and new_kind(package) is None:
        return VERSION_OF[leaves]
    return VERSION


def _leaves(leaves: str) -> str:
    if leaves not in OPTIONS["leaves"]:
        raise CrossformError(f"pmml: expected leaves {' or '.join(OPTIONS['leaves'])}, got {shown(leaves)}")
    return leaves


def stored(package: ir.Package, checks: Any, leaves: str = ON) -> tuple:
    """What a file written with ``leaves`` holds and is held to: the package and its
    checks as they are (without leaf outputs the leaves are not compared)."""
    _leaves(leaves)
    return package, checks


def iter_chunks(
    package: ir.Package, *, leaves: str = ON, version: Union[str, None] = None, recorded_id: Union[str, None] = None
) -> Iterator[bytes]:
    """The document as UTF-8 chunks: the head, then one chunk per tree (per
    tree and score in a chain), then the end.

    ``version`` and ``recorded_id`` let the reader write again what a file
    records, to compare the rest; a writer leaves them alone.
    """
    version = written_version(leaves, package) if version is None else version
    reason = unsupported(package)
    if reason is not None:
        raise UnsupportedModelError(f"pmml: this package has no PMML form: {reason}")
    plan = _Plan(package)
    head = "".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<PMML xmlns="{NAMESPACE}" version="{PMML_VERSION}">\n',
            _header(package, version, package.id if recorded_id is None else recorded_id),
            _data_dictionary(plan),
            _transformations(plan),
            f'<MiningModel functionName="{plan.function}">\n',
            _mining_schema(plan),
            _output(plan, leaves),
        ]
    ).encode("utf-8")
    chunks = MODEL_WRITERS[plan.shape](plan, leaves)
    previous = head + next(chunks)  # the head goes with the model's first chunk, the end with its last
    for chunk in chunks:
        yield previous
        previous = chunk
    yield previous + b"</MiningModel>\n</PMML>\n"


def _flat(plan: _Plan, leaves: str) -> Iterator[bytes]:
    """The trees as the top model's Segments: PMML's average or sum, a sum's base value first."""
    model = plan.package.model
    head = [f'<Segmentation multipleModelMethod="{model.aggregation}">\n']
    first = _reads_every_checked_field(plan)
    tree_model = _tree_model(plan, plan.function)
    if model.aggregation == "sum":
        head.append(
            f'<Segment id="{BASE_SEGMENT}">{first}\n'
            + tree_model
            + f'<Node id="0" score="{_num(model.base_value[0])}"><True/></Node>\n</TreeModel>\n</Segment>\n'
        )
        first = "<True/>"
    yield "".join(head).encode("utf-8")
    fields = [_attr(name) for name in plan.features]
    labels = [_attr(str(c)) for c in model.classes] if model.is_classifier else None
    leaf_cache: dict = {}
    for t, tree in enumerate(model.trees):
        predicate = first if t == 0 else "<True/>"
        yield (
            f'<Segment id="{t}">{predicate}\n{tree_model}'
            + _tree_text(tree, fields, labels, leaf_cache)
            + "</TreeModel>\n</Segment>\n"
        ).encode("utf-8")
    yield b"</Segmentation>\n"


def _score_segment(k: int, width: int) -> str:
    return "raw" if width == 1 else f"raw({k})"


def _chain(plan: _Plan, leaves: str) -> Iterator[bytes]:
    """One regression MiningModel per score (the sum or average of its trees'
    k-th leaf values, PMML's own), each reporting its score and the leaves of
    the trees it holds first; then the link, a classification RegressionModel
    (logit or softmax) over the scores, unless the Output computes the outputs."""
    model = plan.package.model
    width = model.n_outputs
    fields = [_attr(name) for name in plan.features]
    tree_model = _tree_model(plan, "regression", target=False)
    reported: set = set()
    first = _reads_every_checked_field(plan)
    yield b'<Segmentation multipleModelMethod="modelChain">\n'
    for k, trees in enumerate(_chain_trees(model)):
        head = [
            (
                f'<Segment id="{_score_segment(k, width)}">{first if k == 0 else "<True/>"}\n'
                f'<MiningModel functionName="regression"><MiningSchema>{plan.input_fields()}</MiningSchema>\n'
                f'<Output>\n<OutputField name="{_score_name(model, k)}" optype="continuous" dataType="double" '
                f'feature="predictedValue"/>\n'
            )
        ]
        for t in trees if leaves == ON else ():
            if t not in reported:
                reported.add(t)
                head.append(
                    f'<OutputField name="{_leaf_field(t)}" optype="categorical" dataType="string" '
                    f'feature="entityId" segmentId="{t}"/>\n'
                )
        head.append(f'</Output>\n<Segmentation multipleModelMethod="{model.aggregation}">\n')
        if model.aggregation == "sum":
            head.append(
                f'<Segment id="{BASE_SEGMENT}"><True/>\n{tree_model}<Node id="0" '
                f'score="{_num(model.base_value[k])}"><True/></Node>\n</TreeModel>\n</Segment>\n'
            )
        yield "".join(head).encode("utf-8")
        leaf_cache: dict = {}
        for t in trees:
            tree = model.trees[t]
            yield (
                f'<Segment id="{t}"><True/>\n{tree_model}'
                + _tree_text(tree, fields, None, leaf_cache, tree.value[:, k : k + 1])
                + "</TreeModel>\n</Segment>\n"
            ).encode("utf-8")
        yield b"</Segmentation>\n</MiningModel>\n</Segment>\n"
    if plan.link is not None:
        scores = [_score_name(model, k) for k in range(width)]
        yield ('<Segment id="link"><True/>\n' + _link_model(plan, scores) + "</Segment>\n").encode("utf-8")
    yield b"</Segmentation>\n"


def _table(intercept: float, label: Union[str, None], names: list, coefficients: list) -> str:
    target = "" if label is None else f' targetCategory="{_attr(label)}"'
    if not names:
        return f'<RegressionTable intercept="{_num(intercept)}"{target}/>\n'
    return (
        f'<RegressionTable intercept="{_num(intercept)}"{target}>'
        + "".join(f'<NumericPredictor name="{name}" coefficient="{_num(c)}"/>' for name, c in zip(names, coefficients))
        + "</RegressionTable>\n"
    )


def _classification_tables(plan: _Plan, rows: list) -> str:
    """A link's tables from rows (intercept, field names, coefficients), one per
    score: JPMML's logit gives the first table's class p = 1 / (1 + exp(-y)) and
    the other 1 - p, so class 1's table comes first and class 0's is empty;
    softmax takes one table per class."""
    classes = [str(c) for c in plan.package.model.classes]
    if plan.link == LINKS["logistic"]:
        intercept, names, row = rows[0]
        return _table(intercept, classes[1], names, row) + _table(0.0, classes[0], [], [])
    return "".join(_table(b, c, names, row) for c, (b, names, row) in zip(classes, rows))


def _link_model(plan: _Plan, scores: list) -> str:
    """The chain's last model: each score with coefficient 1.0 and intercept 0.0
    (x * 1.0 + 0.0 is x) into PMML's probabilities."""
    tables = _classification_tables(plan, [(0.0, [score], [1.0]) for score in scores])
    fields = "".join(f'<MiningField name="{name}"/>' for name in scores)
    return (
        f'<RegressionModel functionName="classification" normalizationMethod="{plan.link}">'
        f"<MiningSchema>{fields}{TARGET_FIELD}</MiningSchema>\n{tables}</RegressionModel>\n"
    )


def _linear(plan: _Plan, leaves: str) -> Iterator[bytes]:
    """One RegressionModel: regression for one score (its Output computes a
    logistic), classification with a logit or softmax link; several scores
    without a link are a RegressionModel each, reporting its score. The
    products are added in feature order, then the intercept (JPMML's order,
    the reference's)."""
    model = plan.package.model
    names = [_attr(name) for name in plan.features]
    coefficients, intercepts = model.coefficients.tolist(), model.intercepts.tolist()
    first = _reads_every_checked_field(plan)
    parts = ['<Segmentation multipleModelMethod="modelChain">\n']
    if plan.link is not None:
        parts.append(
            f'<Segment id="linear">{first}\n<RegressionModel functionName="classification" '
            f'normalizationMethod="{plan.link}"><MiningSchema>{plan.input_fields()}{TARGET_FIELD}'
            f"</MiningSchema>\n"
            + _classification_tables(plan, [(b, names, row) for b, row in zip(intercepts, coefficients)])
            + "</RegressionModel>\n</Segment>\n"
        )
    elif model.n_outputs == 1:
        parts.append(
            f'<Segment id="linear">{first}\n<RegressionModel functionName="regression"><MiningSchema>'
            f"{plan.input_fields()}</MiningSchema>\n"
            + _table(intercepts[0], None, names, coefficients[0])
            + "</RegressionModel>\n</Segment>\n"
        )
    else:
        for k in range(model.n_outputs):
            parts.append(
                f'<Segment id="{_score_segment(k, model.n_outputs)}">{first if k == 0 else "<True/>"}\n'
                f'<RegressionModel functionName="regression"><MiningSchema>{plan.input_fields()}'
                f'</MiningSchema>\n<Output>\n<OutputField name="{_score_name(model, k)}" optype="continuous" '
                f'dataType="double" feature="predictedValue"/>\n</Output>\n'
                + _table(intercepts[k], None, names, coefficients[k])
                + "</RegressionModel>\n</Segment>\n"
            )
    parts.append("</Segmentation>\n")
    yield "".join(parts).encode("utf-8")


MODEL_WRITERS = {FLAT: _flat, CHAIN: _chain, LINEAR: _linear}


def dumps(package: ir.Package, leaves: str = ON) -> bytes:
    return b"".join(iter_chunks(package, leaves=leaves))


def write(package: ir.Package, fh, leaves: str = ON) -> int:
    """Stream the document to a binary file object; the number of bytes written."""
    total = 0
    for chunk in iter_chunks(package, leaves=leaves):
        fh.write(chunk)
        total += len(chunk)
    return total


# ---------------------------------------------------------------- read


def sniff(source: Any) -> bool:
    """An XML document whose first bytes name our Header Extension (the writer puts it first)."""
    return (
        isinstance(source, bytes)
        and (source.startswith(b"<?xml") or source.startswith(b"<PMML"))
        and f'name="{FORMAT_VERSION}"'.encode("ascii") in source[:4096]
    )


ELEMENTS = frozenset(
    (
        "PMML",
        "Header",
        "Extension",
        "DataDictionary",
        "DataField",
        "Value",
        "Interval",
        "TransformationDictionary",
        "DerivedField",
        "FieldRef",
        "MapValues",
        "FieldColumnPair",
        "InlineTable",
        "row",
        "in",
        "out",
        "Apply",
        "Constant",
        "MiningModel",
        "MiningSchema",
        "MiningField",
        "Output",
        "OutputField",
        "Segmentation",
        "Segment",
        "True",
        "CompoundPredicate",
        "SimplePredicate",
        "TreeModel",
        "Node",
        "ScoreDistribution",
        # 1.2
        "NormDiscrete",
        "RegressionModel",
        "RegressionTable",
        "NumericPredictor",
        "SimpleSetPredicate",
        "Array",
    )
)
TEXT_ELEMENTS = frozenset(("Extension", "Constant", "in", "out", "Array"))


class _Stop(Exception):
    """read_version found what it wanted: stop parsing."""


def _refuse_doctype(where: str, parser) -> None:
    def doctype(*_):
        raise PmmlDoctypeError(
            where,
            f"line {parser.CurrentLineNumber}: a DOCTYPE declaration; crossform reads "
            "PMML without DTDs or entities and refuses the file before reading it",
        )

    def entity(name, *_):
        raise PmmlDoctypeError(
            where,
            f"line {parser.CurrentLineNumber}: an entity declaration ({shown(name)}); crossform never expands entities",
        )

    def external(context, base, system_id, public_id):
        raise PmmlDoctypeError(
            where,
            f"line {parser.CurrentLineNumber}: a reference to the external entity "
            f"{system_id!r}; crossform never reads outside the file",
        )

    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    parser.SkippedEntityHandler = lambda name, is_param: entity(name)


def _parser(where: str):
    parser = expat.ParserCreate(namespace_separator=" ")
    _refuse_doctype(where, parser)
    parser.buffer_text = True
    return parser


def _expat_error(exc: expat.ExpatError, where: str) -> PmmlDecodeError:
    return PmmlDecodeError(
        where,
        f"expected well-formed XML; expat says {expat.ErrorString(exc.code)} at line {exc.lineno}, column {exc.offset}",
    )


def _check_size(source: Any, where: str) -> None:
    if not isinstance(source, (bytes, bytearray)):
        raise PmmlDecodeError(where, f"expected the bytes of a PMML document, found {type(source).__name__}")
    if len(source) > MAX_BYTES:
        raise LimitExceededError(where, f"expected at most {MAX_BYTES} bytes, found {len(source)}")


class _Tree:
    __slots__ = ("ids", "parent", "score", "default", "field", "op", "value", "dist", "stack")

    def __init__(self):
        self.ids, self.parent, self.score, self.default = [], [], [], []
        self.field, self.op, self.value, self.dist = [], [], [], []
        self.stack = []


class _Reader:
    """expat callbacks: what the rebuild needs, nothing else. The document is
    then written again and compared, so the reader only has to be sure of
    what it takes, not of what it skips."""

    def __init__(self, where: str, parser):
        self.where = where
        self.parser = parser
        self.stack: list = []
        self.text: Union[list, None] = None
        self.header: dict = {}
        self.header_done = False
        self.version: Union[str, None] = None
        self.newer = False
        self.unknown_header: list = []
        self.fields: list = []  # (name, optype)
        self.derived: list = []  # dicts
        self.segments: list = []  # (path: the ids of the Segments around it, id, _Tree or its Node lines)
        self.tables: list = []  # (path, targetCategory, intercept, [(field, coefficient)])
        self.leaf_outputs = False  # an OutputField with feature="entityId"
        self.multiple: Union[str, None] = None  # the top Segmentation's multipleModelMethod
        self.path: list = []  # ids of the open Segments
        self.tree: Union[_Tree, None] = None
        self.bodies: Union[Iterator, None] = None  # the trees' Node lines, cut out before expat (_parse)
        self.trees = 0
        self.nodes = 0
        self.root_seen = False

    # -- errors

    def at(self) -> str:
        path = "/".join(self.stack)
        return f"line {self.parser.CurrentLineNumber}, column {self.parser.CurrentColumnNumber} (/{path})"

    def structure(self, reason: str) -> PmmlStructureError:
        return PmmlStructureError(self.where, f"{self.at()}: {reason}")

    # -- events

    def start(self, tag: str, attrs: dict) -> None:
        uri, _, local = tag.rpartition(" ")
        if not self.root_seen:
            self.root_seen = True
            if local != "PMML" or uri != NAMESPACE:
                raise PmmlNamespaceError(
                    self.where,
                    f"expected the root <PMML> in namespace {NAMESPACE!r}, found "
                    f"<{local}> in {uri or 'no namespace'!r}",
                )
            if attrs.get("version") != PMML_VERSION:
                raise PmmlNamespaceError(
                    self.where, f"expected PMML version {PMML_VERSION!r}, found {attrs.get('version')!r}"
                )
        elif uri != NAMESPACE:
            raise UnsupportedModelError(
                f"{self.where}: {self.at()}: element <{local}> in namespace "
                f"{uri or 'none'!r} is not one crossform writes"
            )
        if local not in ELEMENTS:
            raise UnsupportedModelError(f"{self.where}: {self.at()}: element <{local}> is not one crossform writes")
        if len(self.stack) >= MAX_NESTING:
            raise LimitExceededError(self.where, f"{self.at()}: elements nested deeper than {MAX_NESTING}")
        self.stack.append(local)
        handler = getattr(self, "on_" + local, None)
        if handler is not None:
            handler(attrs)
        if local in TEXT_ELEMENTS:
            self.text = []

    def end(self, tag: str) -> None:
        local = self.stack[-1]
        handler = getattr(self, "off_" + local, None)
        if handler is not None:
            handler()
        self.stack.pop()
        self.text = None

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def taken(self) -> str:
        return "".join(self.text or ())

    # -- header

    def on_Extension(self, attrs: dict) -> None:
        self.ext = attrs

    def off_Extension(self) -> None:
        attrs, parent = self.ext, self.stack[-2]
        if parent == "Header":
            name = attrs.get("name")
            if attrs.get("extender") != EXTENDER or name is None:
                raise self.structure(f"expected Header Extensions with extender {EXTENDER!r} and a name")
            if name in self.header:
                raise PmmlHeaderError(
                    self.where, f"{self.at()}: expected the Extension {shown(name)} once, found it twice"
                )
            self.header[name] = self.taken() if name == CHECKS else attrs.get("value")
        elif parent == "DerivedField":
            key = {CODES: "codes", ONE_HOT: "policy"}.get(attrs.get("name"))
            if key is not None:
                self.derived[-1][key] = attrs.get("value")

    def on_DataDictionary(self, attrs: dict) -> None:
        if not self.header_done:
            self.off_Header()

    def off_Header(self) -> None:
        if self.header_done:
            return
        self.header_done = True
        found = self.header.get(FORMAT_VERSION)
        unknown = sorted(k for k in self.header if k not in HEADER_KEYS)
        self.version = found
        self.newer = _versions.check_version(NAME, VERSION, found, self.where, unknown)
        if unknown and not self.newer:
            raise PmmlHeaderError(
                self.where,
                f"expected only the Header Extensions of {NAME} {found}, found unknown {', '.join(map(repr, unknown))}",
            )
        self.unknown_header = unknown

    # -- fields and transformations

    def on_DataField(self, attrs: dict) -> None:
        if attrs.get("name") != TARGET:
            self.fields.append((attrs.get("name"), attrs.get("optype")))

    def on_DerivedField(self, attrs: dict) -> None:
        self.derived.append(
            {
                "name": attrs.get("name"),
                "display": attrs.get("displayName"),
                "type": attrs.get("dataType"),
                "optype": attrs.get("optype"),
                "kind": None,
                "function": None,
                "source": None,
                "missing": None,
                "default": None,
                "constants": [],
                "rows": [],
                "codes": None,
                "policy": None,
                "norm": None,
            }
        )

    def _expression(self, kind: str) -> Union[dict, None]:
        if "DerivedField" not in self.stack:
            return None
        d = self.derived[-1]
        if d["kind"] is None:
            d["kind"] = kind
        return d

    def on_FieldRef(self, attrs: dict) -> None:
        d = self._expression("FieldRef")
        if d is not None and d["source"] is None:
            d["source"] = attrs.get("field")
            d["missing"] = attrs.get("mapMissingTo")

    def on_Apply(self, attrs: dict) -> None:
        d = self._expression("Apply")
        if d is not None and d["function"] is None:
            d["function"] = attrs.get("function")

    def on_MapValues(self, attrs: dict) -> None:
        d = self._expression("MapValues")
        if d is not None:
            d["missing"], d["default"] = attrs.get("mapMissingTo"), attrs.get("defaultValue")

    def on_NormDiscrete(self, attrs: dict) -> None:
        d = self._expression("NormDiscrete")
        if d is not None:
            d["source"], d["norm"] = attrs.get("field"), attrs.get("value")

    def on_FieldColumnPair(self, attrs: dict) -> None:
        d = self._expression("MapValues")
        if d is not None:
            d["source"] = attrs.get("field")

    def off_Constant(self) -> None:
        d = self._expression("Apply")
        if d is not None:
            d["constants"].append(self.taken())

    def off_in(self) -> None:
        d = self._expression("MapValues")
        if d is not None:
            d["rows"].append([self.taken(), None])

    def off_out(self) -> None:
        d = self._expression("MapValues")
        if d is not None and d["rows"]:
            d["rows"][-1][1] = self.taken()

    # -- the model

    def on_OutputField(self, attrs: dict) -> None:
        self.leaf_outputs = self.leaf_outputs or attrs.get("feature") == "entityId"

    def on_Segmentation(self, attrs: dict) -> None:
        if self.multiple is None:
            self.multiple = attrs.get("multipleModelMethod")

    def on_Segment(self, attrs: dict) -> None:
        self.path.append(attrs.get("id"))

    def off_Segment(self) -> None:
        self.path.pop()

    def on_TreeModel(self, attrs: dict) -> None:
        self.trees += 1
        if self.trees > MAX_TREE_MODELS + MAX_OUTPUTS:
            raise LimitExceededError(self.where, f"{self.at()}: expected at most {MAX_TREE_MODELS} TreeModels")
        if not self.path:
            raise self.structure("expected <TreeModel> inside a Segment")
        tree = _Tree() if self.bodies is None else next(self.bodies, None)
        if tree is None:
            raise _Slow()  # more TreeModels than bodies were cut out: read it all with expat
        self.tree = tree if isinstance(tree, _Tree) else None
        self.segments.append((tuple(self.path[:-1]), self.path[-1], tree))

    def off_TreeModel(self) -> None:
        self.tree = None

    def on_RegressionTable(self, attrs: dict) -> None:
        self.tables.append((tuple(self.path), attrs.get("targetCategory"), attrs.get("intercept"), []))

    def on_NumericPredictor(self, attrs: dict) -> None:
        if not self.tables or self.stack[-2] != "RegressionTable":
            raise self.structure("expected <NumericPredictor> inside a RegressionTable")
        self.tables[-1][3].append((attrs.get("name"), attrs.get("coefficient")))

    def on_Node(self, attrs: dict) -> None:
        tree = self.tree
        if tree is None:
            raise self.structure("expected <Node> inside a Segment's TreeModel")
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise LimitExceededError(self.where, f"{self.at()}: expected at most {MAX_NODES} nodes")
        tree.parent.append(tree.stack[-1] if tree.stack else -1)
        tree.stack.append(len(tree.ids))
        tree.ids.append(attrs.get("id"))
        tree.score.append(attrs.get("score"))
        tree.default.append(attrs.get("defaultChild"))
        tree.field.append(None)
        tree.op.append(None)
        tree.value.append(None)
        tree.dist.append(None)

    def off_Node(self) -> None:
        self.tree.stack.pop()

    def on_SimplePredicate(self, attrs: dict) -> None:
        if self.stack[-2] == "Node":
            tree = self.tree
            i = tree.stack[-1]
            tree.field[i] = attrs.get("field")
            tree.op[i] = attrs.get("operator")
            tree.value[i] = attrs.get("value")

    def on_SimpleSetPredicate(self, attrs: dict) -> None:
        if self.stack[-2] != "Node":
            raise self.structure("expected <SimpleSetPredicate> as a Node's predicate")
        tree = self.tree
        i = tree.stack[-1]
        tree.field[i] = attrs.get("field")
        tree.op[i] = attrs.get("booleanOperator")

    def off_Array(self) -> None:
        if self.stack[-2] != "SimpleSetPredicate":
            raise self.structure("expected <Array> inside a SimpleSetPredicate")
        tree = self.tree
        tree.value[tree.stack[-1]] = self.taken()

    def on_ScoreDistribution(self, attrs: dict) -> None:
        tree = self.tree
        if tree is None or not tree.stack:
            raise self.structure("expected <ScoreDistribution> inside a Node")
        i = tree.stack[-1]
        if tree.dist[i] is None:
            tree.dist[i] = []
        tree.dist[i].append((attrs.get("value"), attrs.get("recordCount")))


def _expat_parse(source: bytes, where: str, final: bool = True, bodies: Union[Iterator, None] = None) -> _Reader:
    """``bodies``: the trees' Node lines, which _parse cut out of ``source``, in order."""
    parser = _parser(where)
    reader = _Reader(where, parser)
    reader.bodies = bodies
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.chars
    try:
        parser.Parse(source, final)
    except expat.ExpatError as exc:
        raise _expat_error(exc, where) from None
    except (CrossformError, _Slow):
        raise
    except Exception as exc:  # a handler meeting something it did not expect
        raise PmmlStructureError(
            where, f"{reader.at()}: expected the PMML crossform writes; {type(exc).__name__}: {exc}"
        ) from None
    if not reader.header_done:
        reader.off_Header()
    return reader


_NODE = re.compile(
    r'<Node id="([0-9]+)" (?:defaultChild="([0-9]+)"|score="([^"]*)")>'
    r'(?:<True/>|<SimplePredicate field="([^"]*)" operator="lessOrEqual" value="([^"]*)"/>'
    r'|<SimpleSetPredicate field="([^"]*)" booleanOperator="is(?:Not)?In"><Array type="real" '
    r'n="[0-9]+">([^<]*)</Array></SimpleSetPredicate>)'
    r'((?:<ScoreDistribution value="[^"]*" recordCount="[^"]*"/>)*)((?:</Node>)*)'
)
INF = "INF"  # a +inf threshold, as XML Schema spells it
_DIST = re.compile(r'<ScoreDistribution value="([^"]*)" recordCount="([^"]*)"/>')
_UNESCAPE = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#9;": "\t", "&#10;": "\n", "&#13;": "\r"}
_ENTITY = re.compile("&(?:amp|lt|gt|quot|#9|#10|#13);")


class _Slow(Exception):
    """The fast reading of the trees met a line the writer does not write: read with expat."""


def _unescape(text: Union[str, None]) -> Union[str, None]:
    if text is None or "&" not in text:
        return text
    return _ENTITY.sub(lambda m: _UNESCAPE[m.group(0)], text)


def _floats(texts: Any, what: str, where: str, infinity: Union[str, None] = None) -> np.ndarray:
    """Finite doubles; with ``infinity``, that text is +inf."""
    try:
        values = np.array([math.inf if t == infinity else float(t) for t in texts], dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    if values is None or not (np.isfinite(values) | (values == math.inf if infinity else False)).all():
        for text in texts:
            if text != infinity:
                _number(text, what, where)  # names the first that is not a finite number
    return values


def _lines_tree(text: str, index: dict, labels: Union[dict, None], width: int, where: str) -> ir.Tree:
    """A tree from its Node lines, in numpy: node i is line i (preorder). A
    split node is followed by its left child; a leaf closes itself and the
    splits whose subtrees it ends, so depths follow by a cumulative sum, and a
    node's parent is the last node before it one level up."""
    rows = _NODE.findall(text)
    n = len(rows)
    if n == 0 or n > MAX_NODES or n != text.count("\n"):
        raise _Slow()
    _, default, score, field, value, set_field, set_values, dist, closes = zip(*rows)
    closes = np.fromiter(map(len, closes), dtype=np.int64, count=n) // 7
    split = closes == 0
    depth = np.zeros(n, dtype=np.int64)
    np.cumsum(np.where(split, 1, 1 - closes)[:-1], out=depth[1:])
    if depth[-1] - closes[-1] != -1 or (depth[1:] < 1).any():
        raise _Slow()  # the last leaf closes the root; nothing before it does
    nodes = np.arange(n, dtype=np.int64)
    key = depth * (n + 1) + nodes
    order = np.sort(key)
    parent = np.full(n, -1, dtype=np.int64)
    at = np.searchsorted(order, key[1:] - (n + 1)) - 1
    parent[1:] = order[at] - (depth[1:] - 1) * (n + 1)
    children = np.bincount(parent[1:], minlength=n)
    if (children[split] != 2).any() or (children[~split] != 0).any() or (parent[1:][split[:-1]] < 0).any():
        raise _Slow()
    left = np.where(split, nodes + 1, -1)
    right = np.full(n, -1, dtype=np.int64)
    second = np.flatnonzero(parent >= 0)
    second = second[second != parent[second] + 1]
    right[parent[second]] = second
    splits = np.flatnonzero(split)
    first = splits + 1
    try:
        feature = np.full(n, -1, dtype=np.int64)
        feature[splits] = [index[_unescape(field[i] or set_field[i])] for i in first.tolist()]
    except KeyError as exc:
        raise PmmlStructureError(where, f"expected Nodes to test model features, found {shown(exc.args[0])}") from None
    threshold = np.zeros(n)
    sets: Any = ()
    if any(set_field):  # a field name is never empty: these are set splits
        sets = [None] * n
        for p in splits.tolist():
            if set_field[p + 1]:
                sets[p] = tuple(_floats(set_values[p + 1].split(" "), "a set value", where).tolist())
    plain = [p for p in splits.tolist() if not set_field[p + 1]]
    threshold[plain] = _floats([value[p + 1] for p in plain], "a threshold", where, infinity=INF)
    try:
        defaults = np.array([int(default[i]) for i in splits.tolist()], dtype=np.int64)
    except (TypeError, ValueError):
        raise _Slow() from None
    missing_left = np.zeros(n, dtype=bool)
    missing_left[splits] = defaults == first
    leaves = np.flatnonzero(~split)
    if labels is not None:  # before the (nodes x classes) values: each leaf brings a value per class
        found = _DIST.findall("".join(dist[i] for i in leaves.tolist()))
        if len(found) != len(leaves) * width:
            raise _Slow()
    values = np.zeros((n, width))
    if labels is None:
        values[leaves, 0] = _floats([score[i] for i in leaves.tolist()], "a leaf score", where)
    else:
        values[leaves] = leaf_values(_floats([v for _, v in found], "a recordCount", where).reshape(len(leaves), width))
    return ir.Tree(feature, threshold, left, right, missing_left, values, sets)


TREE_HEAD = b"<TreeModel "  # the writer ends a TreeModel's first line after its MiningSchema
TREE_END = b"</TreeModel>\n"


def _parse(source: bytes, where: str) -> _Reader:
    """The trees' Node lines, when they are laid out as the writer lays them out,
    by lines (_lines_tree); everything else through expat, with the Node lines
    cut out. Any other layout is read all through expat (_slow_parse), which
    names what it meets; either way the bytes are then compared with the writer's."""
    _check_size(source, where)
    pieces, bodies = [], []
    at = 0
    while True:
        start = source.find(TREE_HEAD, at)
        if start < 0:
            break
        head_end = source.find(b"\n", start) + 1
        end = source.find(TREE_END, head_end) if head_end else -1
        if end < 0:
            raise _Slow()
        pieces.append(source[at:head_end])
        bodies.append(source[head_end:end])
        at = end
    pieces.append(source[at:])
    try:
        texts = iter([body.decode("utf-8") for body in bodies])
    except UnicodeDecodeError:
        raise _Slow() from None
    reader = _expat_parse(b"".join(pieces), where, bodies=texts)
    if next(texts, None) is not None:
        raise _Slow()  # fewer TreeModels than cut-out bodies: the cut met something else
    return reader


def _slow_parse(source: bytes, where: str) -> _Reader:
    return _expat_parse(source, where)


LEAF_OUTPUT = f'<OutputField name="{leaf_output(0)}" '.encode()


def properties(source: bytes, where: str = WHERE) -> dict:
    """What ``crossform info`` shows besides the package: whether the file has leaf outputs."""
    _check_size(source, where)
    found = source.find(b"<Segmentation ")
    head = source[:found] if found >= 0 else source
    return {"leaves": ON if LEAF_OUTPUT in head else OFF}


def read_version(source: bytes, where: str = WHERE) -> str:
    """The recorded format version, from the Header: parsing stops there."""
    _check_size(source, where)
    parser = _parser(where)
    found = {}

    def start(tag, attrs):
        local = tag.rpartition(" ")[2]
        if local == "Extension" and attrs.get("name") == FORMAT_VERSION:
            found["version"] = attrs.get("value")
            raise _Stop()
        if local in ("DataDictionary", "MiningModel"):
            raise _Stop()

    parser.StartElementHandler = start
    try:
        for offset in range(0, max(len(source), 1), 1 << 16):
            parser.Parse(source[offset : offset + (1 << 16)], offset + (1 << 16) >= len(source))
    except _Stop:
        pass
    except expat.ExpatError as exc:
        raise _expat_error(exc, where) from None
    version = found.get("version")
    _versions.parse_version(version, where)
    return version


def _number(text: Any, what: str, where: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise PmmlNumberError(where, f"expected a number for {what}, found {shown(text)}") from None
    if not math.isfinite(value):
        raise PmmlNumberError(where, f"expected a finite number for {what}, found {shown(text)}")
    return value


def _header_json(header: dict, key: str, where: str, default: Any = None) -> Any:
    if key not in header:
        if default is not None:
            return default
        raise PmmlHeaderError(where, f"expected the Header Extension {shown(key)}, found none")
    label = f"{where}#Header/Extension[{key}]"
    text = header[key]
    if text is None:
        raise PmmlHeaderError(where, f"expected a value in the Header Extension {shown(key)}, found none")
    return _json.parse(text.encode("utf-8"), label)


def _codes(value: Any, where: str) -> Union[float, None]:
    if value is None:
        return None
    if value == "NaN":
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise PmmlStructureError(where, f'expected a code (a number, "NaN" or null), found {shown(value)}')


_DERIVED_NAME = re.compile(re.escape(PREFIX) + r"e(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?")
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,9})")
KINDS_OF = {"continuous": ir.NUMERIC, "categorical": ir.CATEGORICAL}


def _integer(text: Any, what: str, where: str) -> int:
    if not isinstance(text, str) or _INTEGER.fullmatch(text) is None:
        raise PmmlNumberError(where, f"expected an integer for {what}, found {shown(text)}")
    return int(text)


def _read_encoders(reader: _Reader, where: str) -> tuple:
    """Encoders from the DerivedFields: crossform:e<i>.<j> for encoder i, feature
    j, and crossform:e<i>.<j>.<c> for column c of a one-hot feature."""
    ir_name = {name: name for name, _ in reader.fields}  # PMML name -> IR column
    optype = dict(reader.fields)
    groups: list = []  # per encoder, per feature: (its DerivedField, a one-hot feature's column fields)
    for d in reader.derived:
        match = _DERIVED_NAME.fullmatch(d["name"] or "")
        if match is None:
            raise PmmlStructureError(where, f"expected DerivedFields named {PREFIX}e<i>.<j>, found {shown(d['name'])}")
        i, j = int(match.group(1)), int(match.group(2))
        if match.group(3) is None:
            if i == len(groups) and j == 0:
                groups.append([])
            if i != len(groups) - 1 or j != len(groups[-1]):
                raise PmmlStructureError(where, f"expected DerivedFields in encoder order, found {shown(d['name'])}")
            groups[-1].append((d, []))
        else:
            if (
                not groups
                or i != len(groups) - 1
                or j != len(groups[-1]) - 1
                or int(match.group(3)) != len(groups[-1][-1][1])
            ):
                raise PmmlStructureError(
                    where, f"expected one-hot columns in order after their feature's field, found {shown(d['name'])}"
                )
            groups[-1][-1][1].append(d)
        optype[d["name"]] = d["optype"]
    encoders = []
    for i, group in enumerate(groups):
        label = f"{where}#TransformationDictionary/DerivedField[{PREFIX}e{i}]"
        one_hot = any(field["policy"] is not None for field, _ in group)
        named = [d for field, columns in group for d in (columns if one_hot else [field])]
        for d in named:
            if d["display"] is None:
                raise PmmlStructureError(
                    label, f"expected DerivedField {d['name']!r} to name its column in displayName"
                )
        fields = [field for field, _ in group]
        for d in fields:
            if d["source"] not in ir_name:
                raise PmmlStructureError(
                    label, f"expected DerivedField {d['name']!r} to read an earlier field, found {shown(d['source'])}"
                )
        features = tuple(ir_name[d["source"]] for d in fields)
        try:
            encoder = _read_encoder(group, fields, features, [optype.get(d["source"]) for d in fields], label)
        except IRValidationError as exc:
            raise PmmlStructureError(label, str(exc)) from None
        encoders.append(encoder)
        for field, columns in group:
            if isinstance(encoder, ir.OneHot):
                ir_name.update((d["name"], d["display"]) for d in columns)
            else:
                ir_name[field["name"]] = field["display"]
    return tuple(encoders), ir_name


def _read_encoder(group: list, fields: list, features: tuple, sources: list, label: str) -> Any:
    """One encoder from its features' DerivedFields (what the first expression element says it is)."""
    kinds = {d["kind"] for d in fields}
    functions = {d["function"] for d in fields}
    outputs = tuple(d["display"] for d in fields)
    if any(d["policy"] is not None for d in fields):
        return _read_one_hot(group, features, label)  # its fields name no column; theirs do
    if any(columns for _, columns in group):
        raise PmmlStructureError(label, "expected columns only after a one-hot feature's field")
    if kinds == {"FieldRef"}:
        filled = {d["missing"] is not None for d in fields}
        if filled == {False}:  # refuse-missing (1.2): the value unchanged
            if any(kind not in KINDS_OF for kind in sources):
                raise PmmlStructureError(
                    label,
                    f"expected a refuse-missing encoder of continuous or categorical fields, found optypes {sources}",
                )
            return ir.RefuseMissing(features, tuple(KINDS_OF[kind] for kind in sources), outputs)
        if len(filled) != 1:
            raise PmmlStructureError(
                label,
                "expected FieldRef@mapMissingTo on every feature (fill-missing) or on "
                "none (refuse-missing), found it on some",
            )
        values = tuple(
            _number(d["missing"], "a fill value", label) if d["type"] == "double" else d["missing"] for d in fields
        )
        return ir.FillMissing(features, values, outputs)
    if kinds == {"Apply"} and len(functions) == 1:
        function = functions.pop()
        if any(len(d["constants"]) != 2 for d in fields):
            raise PmmlStructureError(label, "expected an Apply with two Constants")
        first = [_number(d["constants"][0], "a constant", label) for d in fields]
        second = [_number(d["constants"][1], "a constant", label) for d in fields]
        if function == "/":  # (x - offset) / scale
            return ir.Scale(features, first, second, outputs)
        if function == "+":  # x * scale + offset
            return ir.Affine(features, first, second, outputs)
        if function == "if":  # if isMissing(x) then 1.0 else 0.0
            if any(kind not in KINDS_OF for kind in sources):
                raise PmmlStructureError(
                    label, f"expected a missing indicator of continuous or categorical fields, found optypes {sources}"
                )
            return ir.MissingIndicator(features, tuple(KINDS_OF[kind] for kind in sources), outputs)
        raise PmmlStructureError(label, f'expected an Apply of "/", "+" or "if", found {shown(function)}')
    if kinds == {"MapValues"}:
        docs = [_json.parse((d["codes"] or "").encode("utf-8"), f"{label}/Extension[{CODES}]") for d in fields]
        if any(not isinstance(doc, dict) for doc in docs):
            raise PmmlStructureError(label, f"expected a JSON object in Extension {CODES!r}")
        unknown = {json.dumps(doc.get("unknown")) for doc in docs}
        if len(unknown) != 1:
            raise PmmlStructureError(label, "expected one unknown code for every feature of the encoder")
        categories = tuple(tuple(c for c, _ in d["rows"]) for d in fields)
        codes = tuple(np.array([_number(v, "a code", label) for _, v in d["rows"]], dtype=np.float64) for d in fields)
        missing = tuple(_codes(doc.get("missing"), label) for doc in docs)
        return ir.CategoricalEncoding(
            features, categories, codes, missing, _codes(docs[0].get("unknown"), label), outputs
        )
    raise PmmlStructureError(label, f"expected a FieldRef, an Apply or a MapValues, found {sorted(map(str, kinds))}")


def _column(value: Any, what: str, label: str) -> Any:
    """A one-hot column (an int >= -1; the IR checks the width) or None."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PmmlStructureError(label, f"expected {what} to be a column number or null, found {shown(value)}")


def _read_one_hot(group: list, features: tuple, label: str) -> ir.OneHot:
    """Per feature: its column field (MapValues category -> column, the missing and
    unknown columns in Extension crossform.one-hot), then a NormDiscrete per column."""
    categories, columns, widths, missing, unknown, outputs = [], [], [], [], [], []
    for field, fields in group:
        where = f"{label}.{len(categories)}"
        if field["kind"] != "MapValues" or field["policy"] is None:
            raise PmmlStructureError(
                where, f"expected every feature of a one-hot encoder to have a MapValues and an Extension {ONE_HOT!r}"
            )
        doc = _json.parse(field["policy"].encode("utf-8"), f"{where}/Extension[{ONE_HOT}]")
        if not isinstance(doc, dict) or set(doc) != {"missing", "unknown"}:
            raise PmmlStructureError(
                where,
                f'expected a JSON object with "missing" and "unknown" in Extension {ONE_HOT!r}, found {shown(doc)}',
            )
        policy = doc["unknown"]
        if not (isinstance(policy, str) and policy in ir.UNKNOWN_POLICIES):
            policy = _column(policy, "the unknown policy", where)
            if policy is None:
                raise PmmlStructureError(
                    where,
                    f"expected the unknown policy to be one of {ir.UNKNOWN_POLICIES} or a column number, found null",
                )
        categories.append(tuple(c for c, _ in field["rows"]))
        columns.append([_integer(v, "a column", where) for _, v in field["rows"]])
        missing.append(_column(doc["missing"], "the missing column", where))
        unknown.append(policy)
        for c, d in enumerate(fields):
            if d["kind"] != "NormDiscrete" or d["source"] != field["name"] or d["norm"] != str(c):
                raise PmmlStructureError(
                    where,
                    f"expected column {c} to be NormDiscrete field="
                    f'{field["name"]!r} value="{c}", found {shown(d["name"])}',
                )
            outputs.append(d["display"])
        widths.append(len(fields))
    return ir.OneHot(
        features, tuple(categories), tuple(columns), tuple(widths), tuple(missing), tuple(unknown), tuple(outputs)
    )


def _read_tree(tree: _Tree, index: dict, labels: Union[dict, None], width: int, where: str) -> ir.Tree:
    n = len(tree.ids)
    if n == 0:
        raise PmmlStructureError(where, "expected a TreeModel with a root Node, found none")
    kids: list = [[] for _ in range(n)]
    for i, p in enumerate(tree.parent):
        if p >= 0:
            kids[p].append(i)
    feature, threshold, sets = [-1] * n, [0.0] * n, [None] * n
    left, right, missing_left = [-1] * n, [-1] * n, [False] * n
    # a leaf's values are made only from the ScoreDistributions it holds, one per class, and
    # the (nodes x classes) table only once every node is read: a few bytes of Nodes under
    # many classes cannot ask for gigabytes
    leaf_rows: dict = {}
    ids, field, raw, default, dist, score = tree.ids, tree.field, tree.value, tree.default, tree.dist, tree.score
    for p in range(n):
        k = kids[p]
        if not k:
            if labels is None:
                leaf_rows[p] = _number(score[p], f"the score of node {shown(ids[p])}", where)
                continue
            if len(dist[p] or ()) != width:
                raise PmmlStructureError(
                    where,
                    f"expected {width} ScoreDistributions (one per class) in leaf node "
                    f"{shown(ids[p])}, found {len(dist[p] or ())}",
                )
            row = np.zeros((1, width))
            for label, probability in dist[p]:
                if label not in labels:
                    raise PmmlStructureError(
                        where,
                        f"expected a class label in ScoreDistribution of node {shown(ids[p])}, found {shown(label)}",
                    )
                row[0, labels[label]] = _number(probability, f"a recordCount of node {shown(ids[p])}", where)
            leaf_rows[p] = leaf_values(row)[0]
            continue
        if len(k) != 2:
            raise PmmlStructureError(where, f"expected two child Nodes under node {shown(ids[p])}, found {len(k)}")
        a, b = k
        if field[a] not in index:
            raise PmmlStructureError(
                where, f"expected node {shown(ids[a])} to test a model feature, found {shown(field[a])}"
            )
        left[p], right[p] = a, b
        feature[p] = index[field[a]]
        if tree.op[a] in ("isIn", "isNotIn"):
            sets[p] = tuple(_floats((raw[a] or "").split(" "), f"a set value of node {shown(ids[a])}", where).tolist())
        else:
            threshold[p] = _floats([raw[a]], f"the threshold of node {shown(ids[a])}", where, infinity=INF)[0]
        missing_left[p] = default[p] == ids[a]
    value = np.zeros((n, width))
    value[list(leaf_rows)] = np.array(list(leaf_rows.values())).reshape(len(leaf_rows), width)
    return ir.Tree(
        feature, threshold, left, right, missing_left, value, sets if any(v is not None for v in sets) else ()
    )


def _read_model(reader: _Reader, ir_name: dict, where: str) -> ir.Model:
    header = reader.header
    spec = _header_json(header, MODEL, where)
    if not isinstance(spec, dict) or not isinstance(spec.get("features"), list):
        raise PmmlHeaderError(where, f'expected a JSON object with "features" in Extension {MODEL!r}')
    features = tuple(spec["features"])
    final = {}
    for pmml, name in ir_name.items():
        final[name] = pmml  # later bindings win, as the encoders overwrite
    index = {}
    for k, name in enumerate(features):
        if not isinstance(name, str) or name not in final:
            raise PmmlHeaderError(where, f"expected model features naming columns, found {shown(name)}")
        index[final[name]] = k
    classes = _header_json(header, CLASSES, where) if CLASSES in header else None
    if classes is not None and not isinstance(classes, list):
        raise PmmlHeaderError(where, f"expected a JSON list in Extension {CLASSES!r}")
    if classes is not None and len(classes) > MAX_OUTPUTS:
        raise LimitExceededError(where, f"expected at most {MAX_OUTPUTS} classes, found {len(classes)}")
    kind = spec.get("type", "trees")
    if kind not in MODEL_READERS:
        raise PmmlHeaderError(
            where,
            f"expected a model type {' or '.join(map(repr, MODEL_READERS))} in Extension "
            f"{MODEL!r}, found {shown(kind)}",
        )
    return MODEL_READERS[kind](reader, spec, features, index, tuple(classes) if classes is not None else None, where)


def _read_one(tree: Any, index: dict, labels: Union[dict, None], width: int, where: str) -> ir.Tree:
    if isinstance(tree, str):
        return _lines_tree(tree, index, labels, width, where)
    return _read_tree(tree, index, labels, width, where)


def _read_trees(
    reader: _Reader, spec: dict, features: tuple, index: dict, classes: Union[tuple, None], where: str
) -> ir.TreeEnsemble:
    """Flat: the Segments are the trees (a sum's base first). Chained: per score a
    MiningModel (Segment raw or raw(k)) whose Segments are its base and the trees
    it adds, each with its tree index as id; tree t's k-th values come from score
    k's copy (zeros where a sum skipped it), its splits from the first copy."""
    aggregation = spec.get("aggregation")
    rules = {key: spec[key] for key in ("missing", "infinite") if key in spec}
    if "isolation" in spec:
        if not isinstance(spec["isolation"], list):
            raise PmmlHeaderError(
                where,
                f'expected a JSON list [denominator, offset] as "isolation" in '
                f"Extension {MODEL!r}, found {shown(spec['isolation'])}",
            )
        rules["isolation"] = tuple(spec["isolation"])
    paths: dict = {}
    for path, sid, tree in reader.segments:
        if len(path) > 1:
            raise PmmlStructureError(
                where,
                f"expected TreeModels at most two Segments deep, found one in "
                f"Segment {'/'.join(map(str, path + (sid,)))!r}",
            )
        paths.setdefault(path, []).append((sid, tree))
    if not paths:
        raise PmmlStructureError(where, "expected Segments holding TreeModels, found none")
    if () in paths and len(paths) > 1:
        raise PmmlStructureError(where, "expected TreeModels either as the top Segments or one level below, not both")
    base, trees = [], None
    if () in paths:  # flat
        labels = {str(c): k for k, c in enumerate(classes)} if classes is not None else None
        width = len(classes) if classes is not None else 1
        segments = paths[()]
        if segments[0][0] == BASE_SEGMENT:
            base.append(_base_value(segments[0][1], index, where))
            segments = segments[1:]
        if len(segments) > MAX_TREES:
            raise LimitExceededError(where, f"expected at most {MAX_TREES} trees, found {len(segments)}")
        trees = tuple(_read_one(tree, index, labels, width, f"{where}#Segment[{sid}]") for sid, tree in segments)
    else:
        copies: dict = {}  # tree index -> {score k: tree}
        for k, (path, segments) in enumerate(paths.items()):
            label = f"{where}#Segment[{path[0]}]"
            if segments[0][0] == BASE_SEGMENT:
                base.append(_base_value(segments[0][1], index, label))
                segments = segments[1:]
            for sid, tree in segments:
                if not isinstance(sid, str) or re.fullmatch("0|[1-9][0-9]{0,8}", sid) is None:
                    raise PmmlStructureError(label, f"expected Segments with tree indices as ids, found {shown(sid)}")
                copies.setdefault(int(sid), {})[k] = _read_one(tree, index, None, 1, f"{label}/Segment[{sid}]")
        if len(copies) > MAX_TREES:
            raise LimitExceededError(where, f"expected at most {MAX_TREES} trees, found {len(copies)}")
        if sorted(copies) != list(range(len(copies))):
            raise PmmlStructureError(
                where, f"expected Segments for trees 0 to {len(copies) - 1}, found ids {sorted(copies)[:10]}"
            )
        trees = tuple(_combined(copies[t], len(paths), f"{where}#tree {t}") for t in range(len(copies)))
    return ir.TreeEnsemble(
        features,
        trees,
        aggregation,
        spec.get("post_transform"),
        classes,
        base if aggregation == "sum" else None,
        **rules,
    )


def _base_value(tree: Any, index: dict, where: str) -> float:
    if isinstance(tree, str):
        return float(_lines_tree(tree, index, None, 1, where).value[0, 0])
    return _number(tree.score[0] if tree.score else None, "the base value", where)


def _combined(copies: dict, width: int, where: str) -> ir.Tree:
    """One tree from its copies in the scores' sums: the first copy's splits, each copy's values."""
    first = copies[min(copies)]
    value = np.zeros((first.n_nodes, width))
    for k, tree in copies.items():
        same = (
            tree.n_nodes == first.n_nodes
            and tree.sets == first.sets
            and all(
                np.array_equal(getattr(tree, a), getattr(first, a))
                for a in ("feature", "threshold", "left", "right", "missing_left")
            )
        )
        if not same:
            raise PmmlStructureError(
                where, f"expected the same splits in every score's copy of the tree, found other splits in score {k}"
            )
        value[:, k] = tree.value[:, 0]
    return ir.Tree(first.feature, first.threshold, first.left, first.right, first.missing_left, value, first.sets)


def _read_linear(
    reader: _Reader, spec: dict, features: tuple, index: dict, classes: Union[tuple, None], where: str
) -> ir.LinearModel:
    """The scores are the RegressionTables with predictors, in document order (a
    logit link's second table, class 0's, has none); each names every model
    feature once."""
    if reader.segments:
        raise PmmlStructureError(where, "expected no TreeModel in a linear model's document")
    rows, intercepts = [], []
    for _path, _category, intercept, predictors in reader.tables:
        if not predictors:
            continue
        label = f"{where}#RegressionTable[{len(rows)}]"
        row = np.full(len(features), np.nan)
        for name, coefficient in predictors:
            k = index.get(name)
            if k is None or not math.isnan(row[k]):
                raise PmmlStructureError(
                    label, f"expected NumericPredictors naming each model feature once, found {shown(name)}"
                )
            row[k] = _number(coefficient, f"the coefficient of {shown(name)}", label)
        if np.isnan(row).any():
            raise PmmlStructureError(
                label,
                f"expected a NumericPredictor for each of the {len(features)} model features, found {len(predictors)}",
            )
        rows.append(row)
        intercepts.append(_number(intercept, "an intercept", label))
        if len(rows) > MAX_OUTPUTS:
            raise LimitExceededError(where, f"expected at most {MAX_OUTPUTS} scores, found more")
    if not rows:
        raise PmmlStructureError(where, "expected RegressionTables with NumericPredictors, found none")
    return ir.LinearModel(features, np.array(rows), np.array(intercepts), spec.get("post_transform"), classes)


MODEL_READERS = {"trees": _read_trees, "linear": _read_linear}


def _checks(header: dict, where: str):
    if CHECKS not in header:
        return None
    label = f"{where}#Header/Extension[{CHECKS}]"
    doc = _json.parse(header[CHECKS].encode("utf-8"), label)
    _json.validate(doc, checks_module.SCHEMA, label)
    return checks_module.from_document(doc, label)


def _string_map(value: Any, key: str, where: str) -> dict:
    if not isinstance(value, dict):
        raise PmmlHeaderError(where, f"expected a JSON object in Extension {shown(key)}, found {type(value).__name__}")
    return value


def _without_unknown(source: bytes, names: list) -> bytes:
    """A newer minor's Header Extensions this reader does not know, cut out for the comparison."""
    for name in names:
        pattern = (
            rb'<Extension extender="'
            + EXTENDER.encode()
            + rb'" name="'
            + re.escape(_attr(name).encode())
            + rb'"(?:[^>]*/>|[^>]*>.*?</Extension>)\n'
        )
        source = re.sub(pattern, b"", source, count=1, flags=re.S)
    return source


def _compare(package: ir.Package, source: bytes, version: str, recorded_id: str, leaves: str, where: str) -> None:
    """Require the bytes the writer writes for ``package`` (with the recorded
    version, id and leaf outputs): anything else is a document crossform does not write."""
    try:
        chunks = iter_chunks(package, leaves=leaves, version=version, recorded_id=recorded_id)
        offset = 0
        view = memoryview(source)
        for chunk in chunks:
            end = offset + len(chunk)
            if view[offset:end] != chunk:
                k = next(
                    (i for i in range(min(len(chunk), len(source) - offset)) if chunk[i] != source[offset + i]),
                    min(len(chunk), len(source) - offset),
                )
                _differs(source, offset + k, chunk[k : k + 60], where)
            offset = end
        if offset != len(source):
            _differs(source, offset, b"", where)
    except UnsupportedModelError as exc:
        raise PmmlStructureError(where, f"expected a package the PMML writer can write; {exc}") from None


def _differs(source: bytes, at: int, expected: bytes, where: str) -> None:
    line = source.count(b"\n", 0, at) + 1
    column = at - (source.rfind(b"\n", 0, at) + 1) + 1
    found = source[at : at + 60]
    raise PmmlStructureError(
        where,
        f"expected the document crossform writes for the package it describes; it "
        f"differs at line {line}, column {column}: found {shown(found)}, "
        f"expected {expected!r}",
    )


def loads(source: bytes, where: str = WHERE) -> ir.Package:
    try:
        return _load(_parse(source, where), source, where)
    except (_Slow, PmmlStructureError, PmmlNumberError, PmmlDecodeError):
        # read again with expat, which names what the lines held (an element crossform
        # never writes, text that is not XML); a file that passes it fails the same way
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatVersionWarning)  # said once already
        return _load(_slow_parse(source, where), source, where)


def _load(reader: _Reader, source: bytes, where: str) -> ir.Package:
    header = reader.header
    recorded = header.get(ID)
    if not recorded:
        raise PmmlHeaderError(where, f"expected the Header Extension {ID!r} with the package id, found none")
    if reader.multiple not in ("average", "sum", "modelChain"):
        raise PmmlStructureError(
            where,
            f'expected Segmentation multipleModelMethod "average", "sum" or '
            f'"modelChain", found {shown(reader.multiple)}',
        )
    try:
        inputs = []
        for name, optype in reader.fields:
            kind = {"continuous": ir.NUMERIC, "categorical": ir.CATEGORICAL}.get(optype)
            if kind is None or name is None:
                raise PmmlStructureError(
                    where,
                    f"expected DataFields of optype continuous or categorical, found "
                    f"{shown(name)} of optype {optype!r}",
                )
            inputs.append(ir.Field(name, kind))
        encoders, ir_name = _read_encoders(reader, where)
        model = _read_model(reader, ir_name, where)
        owner = _header_json(header, OWNER, where) if OWNER in header else None
        tags = _header_json(header, TAGS, where, default=[])
        if not isinstance(tags, list):
            raise PmmlHeaderError(where, f"expected a JSON list in Extension {TAGS!r}")
        package = ir.Package(
            inputs=tuple(inputs),
            encoders=encoders,
            model=model,
            owner=owner,
            tags=tuple(tags),
            metadata=_string_map(_header_json(header, METADATA, where, default={}), METADATA, where),
            producer=_string_map(_header_json(header, PRODUCER_KEY, where, default={}), PRODUCER_KEY, where),
            checks=_checks(header, where),
        )
    except IRValidationError as exc:
        raise PmmlStructureError(where, str(exc)) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        if isinstance(exc, CrossformError):
            raise
        raise PmmlStructureError(where, f"expected the PMML crossform writes; {type(exc).__name__}: {exc}") from None
    leaves = ON if reader.leaf_outputs else OFF
    expected = written_version(leaves, package)
    if not reader.newer and reader.version != expected:
        kind = new_kind(package)
        what = f"with {kind}" if kind is not None else f"{'with' if leaves == ON else 'without'} leaf outputs"
        raise PmmlStructureError(
            where, f"expected a {NAME} file {what} to record version {expected}, found {reader.version}"
        )
    compared = _without_unknown(source, reader.unknown_header) if reader.unknown_header else source
    _compare(package, compared, reader.version, recorded, leaves, where)
    if recorded != package.id:
        raise IdMismatchError(
            where,
            f"the file records id {recorded} but the content hashes to {package.id}: "
            f"the content changed after the package was written",
            package=package,
        )
    return package


def runtime_versions(version: str) -> dict:
    """Which JPMML releases run a package of ``version``: PMML 4.4 documents,
    as JPMML-Evaluator reads them from 1.5 (jpmml_evaluator 0.16.0 ships 1.7.7,
    the release this format is tested with)."""
    return {"jpmml": f"JPMML-Evaluator >=1.7.7 (PMML {PMML_VERSION}; tested with jpmml_evaluator 0.16.0)"}
