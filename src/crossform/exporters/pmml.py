"""pmml: one file, a PMML 4.4 document written from the IR, scored by JPMML.

docs/formats/pmml.md is the spec. The document scores exactly as
docs/SEMANTICS.md says in a PMML consumer that follows the standard (JPMML
is the one crossform runs):

- DataDictionary: one DataField per package field (numeric: continuous
  double; categorical: string) and the target ``crossform:target``. The
  values the reference refuses are *invalid* values of the field they come
  from (MiningField invalidValueTreatment="returnInvalid"): an Interval with
  the exact smallest and largest accepted double, computed through the
  encoders (which are monotone); the accepted categories as Values (or the
  refused ones with property="invalid" when unknown categories are accepted);
  missingValueTreatment="returnInvalid" when a missing value is refused;
- TransformationDictionary: one DerivedField per encoder output, named
  ``crossform:e<i>.<j>`` (encoder i, feature j), its IR name as displayName:
  fill-missing as FieldRef@mapMissingTo, label-encoder as MapValues over an
  InlineTable, standard-scaler as Apply "/" of Apply "-" in double;
- MiningModel with one Segment per tree (id = tree index) holding a
  TreeModel: node ids are preorder positions, the left child is
  ``x <= t`` (SimplePredicate lessOrEqual), the right ``<True/>`` (taken
  when the left is false), NaN (missing) goes to Node@defaultChild. A
  classifier leaf's ScoreDistribution recordCounts divide to its values
  exactly (:func:`leaf_record_counts`). "average" and "sum" are PMML's own
  (a left fold in segment order, as SEMANTICS asks); a sum's base value is a
  one-leaf segment "base" in front of the trees;
- Output: ``probability(<class>)`` per class or ``prediction``, and
  ``leaf(<t>)`` (feature="entityId" of segment t): the preorder position of
  the leaf each tree reached; ``leaves="off"`` (format version 1.1) leaves
  the leaf outputs out, for JVM services that want JPMML's full speed.

JPMML reads input fields lazily, so a field whose value is refused must be
read for every row: the first Segment's predicate reads each such field
(``isMissing or isNotMissing``: true for every value it accepts).

The writer streams text (:func:`iter_chunks`); no element tree is built. The
reader refuses a DOCTYPE or any entity before anything else, parses the head
with expat and the trees line by line (any other layout: all of it with
expat), rebuilds the IR, writes it again and requires the same bytes, so
anything but a document this module writes is refused with a named error.
"""

from __future__ import annotations

import json
import math
import re
import struct
import warnings
from typing import Any, Iterator, Union
from xml.parsers import expat

import numpy as np

from .. import checks as checks_module
from .. import ir
from ..errors import (
    CrossformError,
    IdMismatchError,
    IRValidationError,
    LimitExceededError,
    MalformedPackageError,
    UnsafePackageError,
    UnsupportedModelError,
)
from ..floats import FLOAT32_OVERFLOW
from . import MAX_FILE_BYTES, _json, _versions

NAME = "pmml"
VERSION = "1.1"  # 1.1: files without the leaf outputs; files with them still record 1.0
LAYOUT = "file"
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

MAX_BYTES = MAX_FILE_BYTES
MAX_TREES = 2**17
MAX_OUTPUTS = 2**16
MAX_NODES = 2**31 - 1  # over all trees
MAX_DEPTH = 2000  # edges on a root-to-leaf path; deeper trees overflow JPMML's recursive walk
MAX_NESTING = MAX_DEPTH + 16  # XML element nesting the reader accepts
PROBABILITY_SLACK = 1e-13  # how far a leaf's probabilities may sum from 1 (JPMML divides by the sum)

DOUBLE_MAX = float(np.finfo(np.float64).max)
BELOW_OVERFLOW = math.nextafter(FLOAT32_OVERFLOW, 0.0)  # the largest |x| a tree accepts

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
_ATTR_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;",
                             "\r": "&#13;"})
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


# ---------------------------------------------------------------- what the reference refuses


def _accepts(package: ir.Package, field: str, value: Any) -> bool:
    """Whether a row scores (is no row error) when ``field`` holds ``value``
    (a float, NaN for missing numbers, a str, or None for a missing category).

    Every column a package computes comes from one input field, so the rows in
    error are exactly the rows with a refused value in some field: this runs
    the reference's rules on the columns that come from ``field`` alone.
    """
    cols = {field: value}
    for enc in package.encoders:
        new, gone = {}, []
        for j, (name, out) in enumerate(zip(enc.features, enc.outputs)):
            if name not in cols:
                gone.append(out)
                continue
            v = cols[name]
            if isinstance(enc, ir.FillMissing):
                fill = enc.values[j]
                if isinstance(fill, str):
                    new[out] = fill if v is None else v
                else:
                    if math.isinf(v):
                        return False
                    new[out] = fill if math.isnan(v) else v
            elif isinstance(enc, ir.CategoricalEncoding):
                if v is None:
                    code = enc.missing_codes[j]
                    if code is None:
                        code = enc.unknown_code
                        if code is None:
                            return False
                else:
                    code = _lookup(enc, j, v)
                    if code is None:
                        code = enc.unknown_code
                        if code is None:
                            return False
                new[out] = float(code)
            else:
                if math.isinf(v):
                    return False
                new[out] = (v - float(enc.offset[j])) / float(enc.scale[j])
        for out in gone:
            cols.pop(out, None)
        cols.update(new)
    for name in package.model.features:
        if name in cols:
            v = cols[name]
            if not math.isnan(v) and abs(v) >= FLOAT32_OVERFLOW:
                return False
    return True


def _lookup(enc: ir.CategoricalEncoding, j: int, value: str) -> Union[float, None]:
    categories = enc.categories[j]
    lo, hi = 0, len(categories)
    while lo < hi:  # categories are sorted by code point, as str compares
        mid = (lo + hi) // 2
        if categories[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(categories) and categories[lo] == value:
        return float(enc.codes[j][lo])
    return None


def _numeric_checks(package: ir.Package, field: str) -> list:
    """The checks a numeric field's value meets on its way: (scale steps applied
    before the check, lowest and highest value the check accepts). An encoder
    refuses +-inf; a tree also refuses |x| >= FLOAT32_OVERFLOW. Fill-missing
    leaves a number alone, so only scalers change it."""
    cols = {field: ()}
    checks = []
    for enc in package.encoders:
        new, gone = {}, []
        for j, (name, out) in enumerate(zip(enc.features, enc.outputs)):
            if name not in cols:
                gone.append(out)
                continue
            steps = cols[name]
            if isinstance(enc, ir.FillMissing):
                checks.append((steps, -DOUBLE_MAX, DOUBLE_MAX))
                new[out] = steps
            elif isinstance(enc, ir.Scale):
                checks.append((steps, -DOUBLE_MAX, DOUBLE_MAX))
                new[out] = steps + ((float(enc.offset[j]), float(enc.scale[j])),)
        for out in gone:
            cols.pop(out, None)
        cols.update(new)
    for name in package.model.features:
        if name in cols:
            checks.append((cols[name], -BELOW_OVERFLOW, BELOW_OVERFLOW))
    return checks


def _key(x: float) -> int:
    """Doubles (not NaN) as integers in the same order: -inf < ... < -0.0 < 0.0 < ... < inf."""
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF) - 1


def _unkey(k: int) -> float:
    bits = k if k >= 0 else (-(k + 1)) | -0x8000000000000000
    return struct.unpack("<d", struct.pack("<q", bits))[0]


_LOWEST, _HIGHEST = _key(-math.inf), _key(math.inf)


def _apply(steps: tuple, x: float) -> float:
    for offset, scale in steps:
        x = (x - offset) / scale
    return x


def _last_true(predicate) -> Union[int, None]:
    """The largest key where ``predicate`` holds, for a predicate true on a prefix of the doubles."""
    if not predicate(_unkey(_LOWEST)):
        return None
    lo, hi = _LOWEST, _HIGHEST
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if predicate(_unkey(mid)):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _interval(package: ir.Package, field: str) -> Union[tuple, None, bool]:
    """(lowest, highest) accepted value of a numeric field, None when every
    value is accepted, False when none is. Each check accepts an interval of
    its input, and each step (x - m) / s is monotone in float64, so each
    check accepts an interval of the field's values: found by bisection over
    the doubles in order, and intersected."""
    checks = _numeric_checks(package, field)
    if not checks:
        return None
    lo, hi = _LOWEST, _HIGHEST
    for steps, low, high in checks:
        rising = sum(1 for _, s in steps if s < 0) % 2 == 0

        def at_most(x, steps=steps, high=high):
            return _apply(steps, x) <= high

        def at_least(x, steps=steps, low=low):
            return _apply(steps, x) >= low

        if rising:  # x <= top keeps the value <= high; x < bottom + 1 drops it below low
            top = _last_true(at_most)
            bottom = _last_true(lambda x, f=at_least: not f(x))
        else:
            top = _last_true(at_least)
            bottom = _last_true(lambda x, f=at_most: not f(x))
        if top is None:
            return False
        hi = min(hi, top)
        lo = max(lo, _LOWEST if bottom is None else bottom + 1)
    if lo > hi:
        return False
    low, high = _unkey(lo), _unkey(hi)
    # the concrete rules agree at both ends and just beyond them
    if not (_accepts(package, field, low) and _accepts(package, field, high)
            and not _accepts(package, field, math.nextafter(low, -math.inf))
            and not _accepts(package, field, math.nextafter(high, math.inf))):
        raise CrossformError(f"pmml: the accepted values of {field!r} are not [{low!r}, {high!r}]")  # pragma: no cover
    return low, high


def _strings(package: ir.Package) -> list:
    found = set()
    for enc in package.encoders:
        if isinstance(enc, ir.CategoricalEncoding):
            for cats in enc.categories:
                found.update(cats)
        elif isinstance(enc, ir.FillMissing):
            found.update(v for v in enc.values if isinstance(v, str))
    return sorted(found)


class _Validity:
    """What a field accepts: an interval (numeric), a list of valid or of
    invalid categories (categorical), and whether a missing value is refused."""

    def __init__(self, interval=None, valid=None, invalid=(), missing_invalid=False, empty=False):
        self.interval = interval
        self.valid = valid
        self.invalid = invalid
        self.missing_invalid = missing_invalid
        self.empty = empty

    @property
    def checked(self) -> bool:
        return self.interval is not None or self.valid is not None or bool(self.invalid) or self.missing_invalid


def _validity(package: ir.Package, field: ir.Field, strings: list) -> _Validity:
    if field.kind == ir.NUMERIC:
        interval = _interval(package, field.name)
        missing_invalid = not _accepts(package, field.name, math.nan)
        if interval is False:
            return _Validity(empty=True, missing_invalid=missing_invalid)
        return _Validity(interval=interval, missing_invalid=missing_invalid)
    other = PREFIX + "other"
    while other in strings:
        other += "!"
    missing_invalid = not _accepts(package, field.name, None)
    if _accepts(package, field.name, other):
        return _Validity(invalid=tuple(s for s in strings if not _accepts(package, field.name, s)),
                         missing_invalid=missing_invalid)
    valid = tuple(s for s in strings if _accepts(package, field.name, s))
    return _Validity(valid=valid, missing_invalid=missing_invalid, empty=not valid)


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
            return (f"tree {t} has a leaf whose class values sum to {float(total[np.argmax(np.abs(total - 1))])!r}, "
                    f"not 1: JPMML would rescale them")
    return None


def unsupported(package: ir.Package) -> Union[str, None]:
    """Why this package has no PMML form here, or None."""
    model = package.model
    reserved = {PREDICTION, TARGET} | {leaf_output(t) for t in range(len(model.trees))} | set(package.outputs)
    names = [f.name for f in package.inputs] + [out for enc in package.encoders for out in enc.outputs]
    for name in names:
        if name.startswith(PREFIX):
            return f"the name {name!r} uses the prefix {PREFIX!r}, which the PMML writer keeps for its own fields"
        if not _xml_safe(name):
            return f"the name {name!r} holds a character XML 1.0 cannot carry"
    for f in package.inputs:
        if f.name in reserved:
            return f"input {f.name!r} collides with an output field of the PMML document"
    for text in _strings(package):
        if not _xml_safe(text):
            return f"the category {text!r} holds a character XML 1.0 cannot carry"
    if len(set(model.features)) != len(model.features):
        return "the model lists a column twice in its features, which PMML fields cannot tell apart"
    if len(model.trees) > MAX_TREES:
        return f"more than {MAX_TREES} trees"
    if model.n_outputs > MAX_OUTPUTS:
        return f"more than {MAX_OUTPUTS} outputs"
    deep = max(t.depth for t in model.trees)
    if deep > MAX_DEPTH:
        return f"a tree of depth {deep}, deeper than the {MAX_DEPTH} this format writes"
    for enc in package.encoders:
        if isinstance(enc, ir.CategoricalEncoding) and any(len(c) == 0 for c in enc.categories):
            return "a label-encoder feature with no categories (PMML's InlineTable needs a row)"
    if model.is_classifier:
        for label in model.classes:
            if not _xml_safe(str(label)):
                return f"the class label {label!r} holds a character XML 1.0 cannot carry"
        if model.aggregation != "average" or model.post_transform != "none":
            return (f"a classifier with aggregation {model.aggregation!r} and post transform "
                    f"{model.post_transform!r}: the PMML writer expresses averaged class probabilities only")
        reason = _classifier_leaves_reason(model)
        if reason is not None:
            return reason
    elif model.post_transform not in ("none", "logistic"):
        return f"a regressor with post transform {model.post_transform!r}"
    strings = _strings(package)
    for f in package.inputs:
        v = _validity(package, f, strings)
        if v.empty:
            return f"every non-missing value of input {f.name!r} is refused, which PMML cannot declare"
    return None


# ---------------------------------------------------------------- write


class _Plan:
    """PMML names of every column, and what each input accepts."""

    def __init__(self, package: ir.Package):
        self.package = package
        bound = {f.name: f.name for f in package.inputs}
        self.derived = []  # (pmml name, IR output name, encoder, feature index, source pmml name)
        for i, enc in enumerate(package.encoders):
            new = {}
            for j, (feature, out) in enumerate(zip(enc.features, enc.outputs)):
                name = f"{PREFIX}e{i}.{j}"
                self.derived.append((name, out, enc, j, bound[feature]))
                new[out] = name
            bound.update(new)
        self.features = [bound[name] for name in package.model.features]
        strings = _strings(package)
        self.validity = {f.name: _validity(package, f, strings) for f in package.inputs}


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
    parts.append(ext(MODEL, _json_text({"aggregation": model.aggregation, "features": list(model.features),
                                        "post_transform": model.post_transform})))
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
                parts.append(f'<DataField name="{name}" optype="continuous" dataType="double">'
                             f'<Interval closure="closedClosed" leftMargin="{_num(low)}" rightMargin="{_num(high)}"/>'
                             f'</DataField>\n')
        else:
            values = ([f'<Value value="{_attr(s)}"/>' for s in v.valid] if v.valid is not None
                      else [f'<Value value="{_attr(s)}" property="invalid"/>' for s in v.invalid])
            if values:
                parts.append(f'<DataField name="{name}" optype="categorical" dataType="string">'
                             + "".join(values) + "</DataField>\n")
            else:
                parts.append(f'<DataField name="{name}" optype="categorical" dataType="string"/>\n')
    if model.is_classifier:
        parts.append(f'<DataField name="{TARGET}" optype="categorical" dataType="string">'
                     + "".join(f'<Value value="{_attr(str(c))}"/>' for c in model.classes) + "</DataField>\n")
    else:
        parts.append(f'<DataField name="{TARGET}" optype="continuous" dataType="double"/>\n')
    parts.append("</DataDictionary>\n")
    return "".join(parts)


def _code_json(code: Union[float, None]) -> Any:
    if code is None:
        return None
    return "NaN" if math.isnan(code) else float(code)


def _derived_field(name: str, out: str, enc: Any, j: int, source: str) -> str:
    head = f'<DerivedField name="{name}" displayName="{_attr(out)}" '
    src = _attr(source)
    if isinstance(enc, ir.FillMissing):
        value = enc.values[j]
        if isinstance(value, str):
            return (head + f'optype="categorical" dataType="string"><FieldRef field="{src}" '
                    f'mapMissingTo="{_attr(value)}"/></DerivedField>\n')
        return (head + f'optype="continuous" dataType="double"><FieldRef field="{src}" '
                f'mapMissingTo="{_num(value)}"/></DerivedField>\n')
    if isinstance(enc, ir.Scale):
        return (head + f'optype="continuous" dataType="double"><Apply function="/"><Apply function="-">'
                f'<FieldRef field="{src}"/><Constant dataType="double">{_num(enc.offset[j])}</Constant></Apply>'
                f'<Constant dataType="double">{_num(enc.scale[j])}</Constant></Apply></DerivedField>\n')
    missing, unknown = enc.missing_codes[j], enc.unknown_code
    codes = _json_text({"missing": _code_json(missing), "unknown": _code_json(unknown)})
    # a missing value takes the missing code, else the unknown code; NaN is a missing result
    for_missing = missing if missing is not None else unknown
    attrs = ""
    if for_missing is not None and not math.isnan(for_missing):
        attrs += f' mapMissingTo="{_num(for_missing)}"'
    if unknown is not None and not math.isnan(unknown):
        attrs += f' defaultValue="{_num(unknown)}"'
    rows = "".join(f"<row><in>{_text(c)}</in><out>{_num(v)}</out></row>"
                   for c, v in zip(enc.categories[j], enc.codes[j].tolist()))
    return (head + f'optype="continuous" dataType="double"><Extension extender="{EXTENDER}" name="{CODES}" '
            f'value="{_attr(codes)}"/><MapValues outputColumn="out" dataType="double"{attrs}>'
            f'<FieldColumnPair field="{src}" column="in"/><InlineTable>{rows}</InlineTable></MapValues>'
            f'</DerivedField>\n')


def _transformations(plan: _Plan) -> str:
    if not plan.derived:
        return ""
    return ("<TransformationDictionary>\n" + "".join(_derived_field(*d) for d in plan.derived)
            + "</TransformationDictionary>\n")


def _mining_schema(plan: _Plan) -> str:
    parts = ["<MiningSchema>\n"]
    for f in plan.package.inputs:
        v = plan.validity[f.name]
        missing = ' missingValueTreatment="returnInvalid"' if v.missing_invalid else ""
        parts.append(f'<MiningField name="{_attr(f.name)}" invalidValueTreatment="returnInvalid"{missing}/>\n')
    parts.append(f'<MiningField name="{TARGET}" usageType="target"/>\n</MiningSchema>\n')
    return "".join(parts)


# 1 / (1 + exp(0 - raw)): the reference's logistic, in double (0 - x is -x, and exp(+-0) is 1)
_LOGISTIC = ('<Apply function="/"><Constant dataType="double">1.0</Constant><Apply function="+">'
             '<Constant dataType="double">1.0</Constant><Apply function="exp"><Apply function="-">'
             f'<Constant dataType="double">0.0</Constant><FieldRef field="{RAW}"/></Apply></Apply></Apply></Apply>')


def _output(package: ir.Package, leaves: str) -> str:
    model = package.model
    parts = ["<Output>\n"]
    if model.is_classifier:
        for c in model.classes:
            parts.append(f'<OutputField name="{_attr(probability_output(c))}" optype="continuous" dataType="double" '
                         f'feature="probability" value="{_attr(str(c))}"/>\n')
    elif model.post_transform == "logistic":
        parts.append(f'<OutputField name="{RAW}" optype="continuous" dataType="double" feature="predictedValue" '
                     f'isFinalResult="false"/>\n')
        parts.append(f'<OutputField name="{PREDICTION}" optype="continuous" dataType="double" '
                     f'feature="transformedValue">{_LOGISTIC}</OutputField>\n')
    else:
        parts.append(f'<OutputField name="{PREDICTION}" optype="continuous" dataType="double" '
                     f'feature="predictedValue"/>\n')
    for t in range(len(model.trees) if leaves == ON else 0):
        parts.append(f'<OutputField name="{leaf_output(t)}" optype="categorical" dataType="string" '
                     f'feature="entityId" segmentId="{t}"/>\n')
    parts.append("</Output>\n")
    return "".join(parts)


def _reads_every_checked_field(plan: _Plan) -> str:
    """The first Segment's predicate: true for every value the fields accept,
    and it reads each field that refuses some, so JPMML checks them all."""
    checked = [f.name for f in plan.package.inputs if plan.validity[f.name].checked]
    if not checked:
        return "<True/>"
    reads = [f'<CompoundPredicate booleanOperator="or"><SimplePredicate field="{_attr(n)}" operator="isMissing"/>'
             f'<SimplePredicate field="{_attr(n)}" operator="isNotMissing"/></CompoundPredicate>' for n in checked]
    if len(reads) == 1:
        return reads[0]
    return '<CompoundPredicate booleanOperator="and">' + "".join(reads) + "</CompoundPredicate>"


TREE_MODEL = ('<TreeModel functionName="{function}" missingValueStrategy="defaultChild" '
              'noTrueChildStrategy="returnNullPrediction" splitCharacteristic="binarySplit">'
              f'<MiningSchema><MiningField name="{TARGET}" usageType="target"/>{{fields}}</MiningSchema>\n')


def _tree_model(plan: "_Plan", function: str) -> str:
    """A TreeModel's opening: JPMML resolves derived fields from the
    TransformationDictionary, but a nested model lists the input fields it reads."""
    inputs = {f.name for f in plan.package.inputs}
    fields = "".join(f'<MiningField name="{_attr(name)}"/>' for name in sorted(set(plan.features) & inputs))
    return TREE_MODEL.format(function=function, fields=fields)


def _tree_text(tree: ir.Tree, fields: list, labels: Union[list, None], leaf_cache: dict) -> str:
    """One TreeModel's nodes in preorder: ``<Node id="<position>">`` with the
    predicate its parent's split gives it. Built as a list of strings per node,
    from arrays: no element objects."""
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
    le = {q: f'<SimplePredicate field="{fields[feature[q]]}" operator="lessOrEqual" value="{threshold[q]!r}"/>'
          for q in split.tolist()}
    default = np.where(tree.missing_left, position[np.maximum(left, 0)], position[np.maximum(right, 0)]).tolist()
    values = tree.value
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
    dist = "".join(f'<ScoreDistribution value="{label}" recordCount="{v!r}"/>'
                   for label, v in zip(labels, leaf_record_counts(row)))
    return labels[best], dist


def written_version(leaves: str = ON) -> str:
    """The format version a file with (1.0) or without (1.1) leaf outputs records."""
    return VERSION_OF[_leaves(leaves)]


def _leaves(leaves: str) -> str:
    if leaves not in OPTIONS["leaves"]:
        raise CrossformError(f"pmml: expected leaves {' or '.join(OPTIONS['leaves'])}, got {leaves!r}")
    return leaves


def stored(package: ir.Package, checks: Any, leaves: str = ON) -> tuple:
    """What a file written with ``leaves`` holds and is held to: the package and its
    checks as they are (without leaf outputs the leaves are not compared)."""
    _leaves(leaves)
    return package, checks


def iter_chunks(package: ir.Package, *, leaves: str = ON, version: Union[str, None] = None,
                recorded_id: Union[str, None] = None) -> Iterator[bytes]:
    """The document as UTF-8 chunks: the head, then one chunk per tree, then the end.

    ``version`` and ``recorded_id`` let the reader write again what a file
    records, to compare the rest; a writer leaves them alone.
    """
    version = written_version(leaves) if version is None else version
    reason = unsupported(package)
    if reason is not None:
        raise UnsupportedModelError(f"pmml: this package has no PMML form: {reason}")
    plan = _Plan(package)
    model = package.model
    function = "classification" if model.is_classifier else "regression"
    head = ['<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<PMML xmlns="{NAMESPACE}" version="{PMML_VERSION}">\n',
            _header(package, version, package.id if recorded_id is None else recorded_id),
            _data_dictionary(plan), _transformations(plan),
            f'<MiningModel functionName="{function}">\n', _mining_schema(plan), _output(package, leaves),
            f'<Segmentation multipleModelMethod="{model.aggregation}">\n']
    first = _reads_every_checked_field(plan)
    if model.aggregation == "sum":
        head.append(f'<Segment id="{BASE_SEGMENT}">{first}\n' + _tree_model(plan, function)
                    + f'<Node id="0" score="{_num(model.base_value[0])}"><True/></Node>\n</TreeModel>\n</Segment>\n')
        first = "<True/>"
    yield "".join(head).encode("utf-8")
    fields = [_attr(name) for name in plan.features]
    labels = [_attr(str(c)) for c in model.classes] if model.is_classifier else None
    leaf_cache: dict = {}
    tree_model = _tree_model(plan, function)
    for t, tree in enumerate(model.trees):
        predicate = first if t == 0 else "<True/>"
        yield (f'<Segment id="{t}">{predicate}\n{tree_model}' + _tree_text(tree, fields, labels, leaf_cache)
               + "</TreeModel>\n</Segment>\n").encode("utf-8")
    yield b"</Segmentation>\n</MiningModel>\n</PMML>\n"


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
    return (isinstance(source, bytes) and (source.startswith(b"<?xml") or source.startswith(b"<PMML"))
            and f'name="{FORMAT_VERSION}"'.encode("ascii") in source[:4096])


ELEMENTS = frozenset((
    "PMML", "Header", "Extension", "DataDictionary", "DataField", "Value", "Interval", "TransformationDictionary",
    "DerivedField", "FieldRef", "MapValues", "FieldColumnPair", "InlineTable", "row", "in", "out", "Apply",
    "Constant", "MiningModel", "MiningSchema", "MiningField", "Output", "OutputField", "Segmentation", "Segment",
    "True", "CompoundPredicate", "SimplePredicate", "TreeModel", "Node", "ScoreDistribution",
))
TEXT_ELEMENTS = frozenset(("Extension", "Constant", "in", "out"))


class _Stop(Exception):
    """read_version found what it wanted: stop parsing."""


def _refuse_doctype(where: str, parser) -> None:
    def doctype(*_):
        raise PmmlDoctypeError(where, f"line {parser.CurrentLineNumber}: a DOCTYPE declaration; crossform reads "
                                      "PMML without DTDs or entities and refuses the file before reading it")

    def entity(name, *_):
        raise PmmlDoctypeError(where, f"line {parser.CurrentLineNumber}: an entity declaration ({name!r}); "
                                      "crossform never expands entities")

    def external(context, base, system_id, public_id):
        raise PmmlDoctypeError(where, f"line {parser.CurrentLineNumber}: a reference to the external entity "
                                      f"{system_id!r}; crossform never reads outside the file")

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
    return PmmlDecodeError(where, f"expected well-formed XML; expat says {expat.ErrorString(exc.code)} "
                                  f"at line {exc.lineno}, column {exc.offset}")


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
        self.segments: list = []  # (id, _Tree)
        self.leaf_outputs = False  # an OutputField with feature="entityId"
        self.multiple: Union[str, None] = None
        self.tree: Union[_Tree, None] = None
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
                raise PmmlNamespaceError(self.where, f"expected the root <PMML> in namespace {NAMESPACE!r}, found "
                                                     f"<{local}> in {uri or 'no namespace'!r}")
            if attrs.get("version") != PMML_VERSION:
                raise PmmlNamespaceError(self.where, f"expected PMML version {PMML_VERSION!r}, found "
                                                     f"{attrs.get('version')!r}")
        elif uri != NAMESPACE:
            raise UnsupportedModelError(f"{self.where}: {self.at()}: element <{local}> in namespace "
                                        f"{uri or 'none'!r} is not one crossform writes")
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
                raise PmmlHeaderError(self.where, f"{self.at()}: expected the Extension {name!r} once, found it twice")
            self.header[name] = self.taken() if name == CHECKS else attrs.get("value")
        elif parent == "DerivedField":
            if attrs.get("name") == CODES:
                self.derived[-1]["codes"] = attrs.get("value")

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
            raise PmmlHeaderError(self.where, f"expected only the Header Extensions of {NAME} {found}, found "
                                              f"unknown {', '.join(map(repr, unknown))}")
        self.unknown_header = unknown

    # -- fields and transformations

    def on_DataField(self, attrs: dict) -> None:
        if attrs.get("name") != TARGET:
            self.fields.append((attrs.get("name"), attrs.get("optype")))

    def on_DerivedField(self, attrs: dict) -> None:
        self.derived.append({"name": attrs.get("name"), "display": attrs.get("displayName"),
                             "type": attrs.get("dataType"), "kind": None, "source": None, "missing": None,
                             "constants": [], "rows": [], "codes": None})

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
        self._expression("Apply")

    def on_MapValues(self, attrs: dict) -> None:
        self._expression("MapValues")

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
        self.multiple = attrs.get("multipleModelMethod")

    def on_Segment(self, attrs: dict) -> None:
        if len(self.segments) > MAX_TREES:
            raise LimitExceededError(self.where, f"{self.at()}: expected at most {MAX_TREES} trees")
        self.tree = _Tree()
        self.segments.append((attrs.get("id"), self.tree))

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

    def on_ScoreDistribution(self, attrs: dict) -> None:
        tree = self.tree
        if tree is None or not tree.stack:
            raise self.structure("expected <ScoreDistribution> inside a Node")
        i = tree.stack[-1]
        if tree.dist[i] is None:
            tree.dist[i] = []
        tree.dist[i].append((attrs.get("value"), attrs.get("recordCount")))


def _expat_parse(source: bytes, where: str, final: bool = True) -> _Reader:
    parser = _parser(where)
    reader = _Reader(where, parser)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.chars
    try:
        parser.Parse(source, final)
    except expat.ExpatError as exc:
        raise _expat_error(exc, where) from None
    except CrossformError:
        raise
    except Exception as exc:  # a handler meeting something it did not expect
        raise PmmlStructureError(where, f"{reader.at()}: expected the PMML crossform writes; "
                                        f"{type(exc).__name__}: {exc}") from None
    if not reader.header_done:
        reader.off_Header()
    return reader


TAIL = b"</Segmentation>\n</MiningModel>\n</PMML>\n"
_SEGMENTATION = re.compile(rb'<Segmentation multipleModelMethod="[a-zA-Z]*">\n')
_NODE = re.compile(r'<Node id="([0-9]+)" (?:defaultChild="([0-9]+)"|score="([^"]*)")>'
                   r'(?:<True/>|<SimplePredicate field="([^"]*)" operator="lessOrEqual" value="([^"]*)"/>)'
                   r'((?:<ScoreDistribution value="[^"]*" recordCount="[^"]*"/>)*)((?:</Node>)*)')
_DIST = re.compile(r'<ScoreDistribution value="([^"]*)" recordCount="([^"]*)"/>')
_UNESCAPE = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#9;": "\t", "&#10;": "\n", "&#13;": "\r"}
_ENTITY = re.compile("&(?:amp|lt|gt|quot|#9|#10|#13);")


class _Slow(Exception):
    """The fast reading of the trees met a line the writer does not write: read with expat."""


def _unescape(text: Union[str, None]) -> Union[str, None]:
    if text is None or "&" not in text:
        return text
    return _ENTITY.sub(lambda m: _UNESCAPE[m.group(0)], text)


_SEGMENT_HEAD = re.compile(r'<Segment id="([^"<&]*)">[^\n]*\n<TreeModel [^\n]*\n')
SEGMENT_END = "</TreeModel>\n</Segment>\n"


def _segments(body: str) -> list:
    """(segment id, the text of its Node lines) for each Segment, when the body
    is Segments laid out as the writer lays them out; _Slow otherwise. The
    lines are read by _lines_tree; what they hold is then compared with what
    the writer writes, so a layout read wrongly here cannot pass."""
    pieces = body.split(SEGMENT_END)
    if pieces[-1] != "" or len(pieces) > MAX_TREES + 2:
        raise _Slow()
    segments = []
    for piece in pieces[:-1]:
        m = _SEGMENT_HEAD.match(piece)
        if m is None:
            raise _Slow()
        segments.append((m.group(1), piece[m.end():]))
    return segments


def _floats(texts: Any, what: str, where: str) -> np.ndarray:
    try:
        values = np.array(list(map(float, texts)), dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    if values is None or not np.isfinite(values).all():
        for text in texts:
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
    _, default, score, field, value, dist, closes = zip(*rows)
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
        feature[splits] = [index[_unescape(field[i])] for i in first.tolist()]
    except KeyError as exc:
        raise PmmlStructureError(where, f"expected Nodes to test model features, found {exc.args[0]!r}") from None
    threshold = np.zeros(n)
    threshold[splits] = _floats([value[i] for i in first.tolist()], "a threshold", where)
    try:
        defaults = np.array([int(default[i]) for i in splits.tolist()], dtype=np.int64)
    except (TypeError, ValueError):
        raise _Slow() from None
    missing_left = np.zeros(n, dtype=bool)
    missing_left[splits] = defaults == first
    values = np.zeros((n, width))
    leaves = np.flatnonzero(~split)
    if labels is None:
        values[leaves, 0] = _floats([score[i] for i in leaves.tolist()], "a leaf score", where)
    else:
        found = _DIST.findall("".join(dist[i] for i in leaves.tolist()))
        if len(found) != len(leaves) * width:
            raise _Slow()
        values[leaves] = leaf_values(_floats([v for _, v in found], "a recordCount", where)
                                     .reshape(len(leaves), width))
    return ir.Tree(feature, threshold, left, right, missing_left, values)


def _parse(source: bytes, where: str) -> _Reader:
    """Everything up to the Segmentation through expat; the trees, when they are
    written as the writer writes them, by lines (see _segments); else all of it
    through expat, which names what it meets."""
    _check_size(source, where)
    found = _SEGMENTATION.search(source)
    if found is not None and source.endswith(TAIL) and found.end() <= len(source) - len(TAIL):
        reader = _expat_parse(source[:found.end()], where, final=False)
        try:
            if reader.stack != ["PMML", "MiningModel", "Segmentation"]:
                raise _Slow()
            body = source[found.end():len(source) - len(TAIL)].decode("utf-8")
            reader.segments = _segments(body)
            return reader
        except (_Slow, UnicodeDecodeError):
            pass
    return _slow_parse(source, where)


def _slow_parse(source: bytes, where: str) -> _Reader:
    return _expat_parse(source, where)


def properties(source: bytes, where: str = WHERE) -> dict:
    """What ``crossform info`` shows besides the package: whether the file has leaf outputs."""
    _check_size(source, where)
    found = _SEGMENTATION.search(source)
    head = source[:found.start()] if found is not None else source
    return {"leaves": ON if b'feature="entityId"' in head else OFF}


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
            parser.Parse(source[offset:offset + (1 << 16)], offset + (1 << 16) >= len(source))
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
        raise PmmlNumberError(where, f"expected a number for {what}, found {text!r}") from None
    if not math.isfinite(value):
        raise PmmlNumberError(where, f"expected a finite number for {what}, found {text!r}")
    return value


def _header_json(header: dict, key: str, where: str, default: Any = None) -> Any:
    if key not in header:
        if default is not None:
            return default
        raise PmmlHeaderError(where, f"expected the Header Extension {key!r}, found none")
    label = f"{where}#Header/Extension[{key}]"
    text = header[key]
    if text is None:
        raise PmmlHeaderError(where, f"expected a value in the Header Extension {key!r}, found none")
    return _json.parse(text.encode("utf-8"), label)


def _codes(value: Any, where: str) -> Union[float, None]:
    if value is None:
        return None
    if value == "NaN":
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise PmmlStructureError(where, f"expected a code (a number, \"NaN\" or null), found {value!r}")


def _read_encoders(reader: _Reader, where: str) -> tuple:
    """Encoders from the DerivedFields, grouped by their names crossform:e<i>.<j>."""
    ir_name = {name: name for name, _ in reader.fields}
    groups: list = []
    for d in reader.derived:
        match = re.fullmatch(re.escape(PREFIX) + r"e(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", d["name"] or "")
        if match is None:
            raise PmmlStructureError(where, f"expected DerivedFields named {PREFIX}e<i>.<j>, found {d['name']!r}")
        i, j = int(match.group(1)), int(match.group(2))
        if i == len(groups) and j == 0:
            groups.append([])
        if i != len(groups) - 1 or j != len(groups[-1]):
            raise PmmlStructureError(where, f"expected DerivedFields in encoder order, found {d['name']!r}")
        if d["source"] not in ir_name:
            raise PmmlStructureError(where, f"expected DerivedField {d['name']!r} to read an earlier field, "
                                            f"found {d['source']!r}")
        if d["display"] is None:
            raise PmmlStructureError(where, f"expected DerivedField {d['name']!r} to name its column in displayName")
        groups[-1].append(d)
        ir_name[d["name"]] = d["display"]
    encoders = []
    for i, group in enumerate(groups):
        kinds = {d["kind"] for d in group}
        features = tuple(ir_name[d["source"]] for d in group)
        outputs = tuple(d["display"] for d in group)
        label = f"{where}#TransformationDictionary/DerivedField[{PREFIX}e{i}]"
        if kinds == {"FieldRef"}:
            values = tuple(_number(d["missing"], "a fill value", label) if d["type"] == "double" else d["missing"]
                           for d in group)
            if any(v is None for v in values):
                raise PmmlStructureError(label, "expected FieldRef@mapMissingTo, the fill value, found none")
            encoders.append(ir.FillMissing(features, values, outputs))
        elif kinds == {"Apply"}:
            if any(len(d["constants"]) != 2 for d in group):
                raise PmmlStructureError(label, "expected (x - offset) / scale with two Constants")
            offset = [_number(d["constants"][0], "an offset", label) for d in group]
            scale = [_number(d["constants"][1], "a scale", label) for d in group]
            encoders.append(ir.Scale(features, offset, scale, outputs))
        elif kinds == {"MapValues"}:
            docs = [_json.parse((d["codes"] or "").encode("utf-8"), f"{label}/Extension[{CODES}]") for d in group]
            if any(not isinstance(doc, dict) for doc in docs):
                raise PmmlStructureError(label, f"expected a JSON object in Extension {CODES!r}")
            unknown = {json.dumps(doc.get("unknown")) for doc in docs}
            if len(unknown) != 1:
                raise PmmlStructureError(label, "expected one unknown code for every feature of the encoder")
            categories = tuple(tuple(c for c, _ in d["rows"]) for d in group)
            codes = tuple(np.array([_number(v, "a code", label) for _, v in d["rows"]], dtype=np.float64)
                          for d in group)
            missing = tuple(_codes(doc.get("missing"), label) for doc in docs)
            encoders.append(ir.CategoricalEncoding(features, categories, codes, missing,
                                                   _codes(docs[0].get("unknown"), label), outputs))
        else:
            raise PmmlStructureError(label, f"expected a FieldRef, an Apply or a MapValues, found {sorted(kinds)}")
    return tuple(encoders), ir_name


def _read_tree(tree: _Tree, index: dict, labels: Union[dict, None], width: int, where: str) -> ir.Tree:
    n = len(tree.ids)
    if n == 0:
        raise PmmlStructureError(where, "expected a TreeModel with a root Node, found none")
    kids: list = [[] for _ in range(n)]
    for i, p in enumerate(tree.parent):
        if p >= 0:
            kids[p].append(i)
    feature, threshold = [-1] * n, [0.0] * n
    left, right, missing_left = [-1] * n, [-1] * n, [False] * n
    value = np.zeros((n, width))
    ids, field, raw, default, dist, score = tree.ids, tree.field, tree.value, tree.default, tree.dist, tree.score
    for p in range(n):
        k = kids[p]
        if not k:
            if labels is None:
                value[p, 0] = _number(score[p], f"the score of node {ids[p]!r}", where)
            else:
                for label, probability in dist[p] or ():
                    if label not in labels:
                        raise PmmlStructureError(where, f"expected a class label in ScoreDistribution of node "
                                                        f"{ids[p]!r}, found {label!r}")
                    value[p, labels[label]] = _number(probability, f"a recordCount of node {ids[p]!r}", where)
                value[p] = leaf_values(value[p:p + 1])[0]
            continue
        if len(k) != 2:
            raise PmmlStructureError(where, f"expected two child Nodes under node {ids[p]!r}, found {len(k)}")
        a, b = k
        if field[a] not in index:
            raise PmmlStructureError(where, f"expected node {ids[a]!r} to test a model feature, found "
                                            f"{field[a]!r}")
        left[p], right[p] = a, b
        feature[p] = index[field[a]]
        threshold[p] = _number(raw[a], f"the threshold of node {ids[a]!r}", where)
        missing_left[p] = default[p] == ids[a]
    return ir.Tree(feature, threshold, left, right, missing_left, value)


def _read_model(reader: _Reader, ir_name: dict, where: str) -> ir.TreeEnsemble:
    header = reader.header
    spec = _header_json(header, MODEL, where)
    if not isinstance(spec, dict) or not isinstance(spec.get("features"), list):
        raise PmmlHeaderError(where, f"expected a JSON object with \"features\" in Extension {MODEL!r}")
    features = tuple(spec["features"])
    final = {}
    for pmml, name in ir_name.items():
        final[name] = pmml  # later bindings win, as the encoders overwrite
    index = {}
    for k, name in enumerate(features):
        if not isinstance(name, str) or name not in final:
            raise PmmlHeaderError(where, f"expected model features naming columns, found {name!r}")
        index[final[name]] = k
    classes = _header_json(header, CLASSES, where) if CLASSES in header else None
    if classes is not None and not isinstance(classes, list):
        raise PmmlHeaderError(where, f"expected a JSON list in Extension {CLASSES!r}")
    labels = {str(c): k for k, c in enumerate(classes)} if classes is not None else None
    width = len(classes) if classes is not None else 1
    if width > MAX_OUTPUTS:
        raise LimitExceededError(where, f"expected at most {MAX_OUTPUTS} classes, found {width}")
    segments = reader.segments
    base = None
    if segments and segments[0][0] == BASE_SEGMENT:
        tree = segments[0][1]
        if isinstance(tree, str):
            tree = _lines_tree(tree, index, None, 1, where)
            base = [float(tree.value[0, 0])]
        else:
            base = [_number(tree.score[0] if tree.score else None, "the base value", where)]
        segments = segments[1:]
    trees = []
    for sid, tree in segments:
        label = f"{where}#Segment[{sid}]"
        if isinstance(tree, str):
            trees.append(_lines_tree(tree, index, labels, width, label))
        else:
            trees.append(_read_tree(tree, index, labels, width, label))
    aggregation = spec.get("aggregation")
    return ir.TreeEnsemble(features, tuple(trees), aggregation, spec.get("post_transform"),
                           tuple(classes) if classes is not None else None,
                           base if aggregation == "sum" else None)


def _checks(header: dict, where: str):
    if CHECKS not in header:
        return None
    label = f"{where}#Header/Extension[{CHECKS}]"
    doc = _json.parse(header[CHECKS].encode("utf-8"), label)
    _json.validate(doc, checks_module.SCHEMA, label)
    return checks_module.from_document(doc, label)


def _string_map(value: Any, key: str, where: str) -> dict:
    if not isinstance(value, dict):
        raise PmmlHeaderError(where, f"expected a JSON object in Extension {key!r}, found {type(value).__name__}")
    return value


def _without_unknown(source: bytes, names: list) -> bytes:
    """A newer minor's Header Extensions this reader does not know, cut out for the comparison."""
    for name in names:
        pattern = (rb'<Extension extender="' + EXTENDER.encode() + rb'" name="' + re.escape(_attr(name).encode())
                   + rb'"(?:[^>]*/>|[^>]*>.*?</Extension>)\n')
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
                k = next((i for i in range(min(len(chunk), len(source) - offset)) if chunk[i] != source[offset + i]),
                         min(len(chunk), len(source) - offset))
                _differs(source, offset + k, chunk[k:k + 60], where)
            offset = end
        if offset != len(source):
            _differs(source, offset, b"", where)
    except UnsupportedModelError as exc:
        raise PmmlStructureError(where, f"expected a package the PMML writer can write; {exc}") from None


def _differs(source: bytes, at: int, expected: bytes, where: str) -> None:
    line = source.count(b"\n", 0, at) + 1
    column = at - (source.rfind(b"\n", 0, at) + 1) + 1
    found = source[at:at + 60]
    raise PmmlStructureError(where, f"expected the document crossform writes for the package it describes; it "
                                    f"differs at line {line}, column {column}: found {found!r}, expected {expected!r}")


def loads(source: bytes, where: str = WHERE) -> ir.Package:
    try:
        return _load(_parse(source, where), source, where)
    except (_Slow, PmmlStructureError, PmmlNumberError):
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
    if reader.multiple not in ("average", "sum"):
        raise PmmlStructureError(where, f"expected Segmentation multipleModelMethod \"average\" or \"sum\", "
                                        f"found {reader.multiple!r}")
    try:
        inputs = []
        for name, optype in reader.fields:
            kind = {"continuous": ir.NUMERIC, "categorical": ir.CATEGORICAL}.get(optype)
            if kind is None or name is None:
                raise PmmlStructureError(where, f"expected DataFields of optype continuous or categorical, found "
                                                f"{name!r} of optype {optype!r}")
            inputs.append(ir.Field(name, kind))
        encoders, ir_name = _read_encoders(reader, where)
        model = _read_model(reader, ir_name, where)
        owner = _header_json(header, OWNER, where) if OWNER in header else None
        tags = _header_json(header, TAGS, where, default=[])
        if not isinstance(tags, list):
            raise PmmlHeaderError(where, f"expected a JSON list in Extension {TAGS!r}")
        package = ir.Package(
            inputs=tuple(inputs), encoders=encoders, model=model, owner=owner, tags=tuple(tags),
            metadata=_string_map(_header_json(header, METADATA, where, default={}), METADATA, where),
            producer=_string_map(_header_json(header, PRODUCER_KEY, where, default={}), PRODUCER_KEY, where),
            checks=_checks(header, where),
        )
    except IRValidationError as exc:
        raise PmmlStructureError(where, str(exc)) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        if isinstance(exc, CrossformError):
            raise
        raise PmmlStructureError(where, f"expected the PMML crossform writes; {type(exc).__name__}: {exc}") \
            from None
    leaves = ON if reader.leaf_outputs else OFF
    if not reader.newer and reader.version != written_version(leaves):
        raise PmmlStructureError(where, f"expected a {NAME} file {'with' if leaves == ON else 'without'} leaf "
                                        f"outputs to record version {written_version(leaves)}, found {reader.version}")
    compared = _without_unknown(source, reader.unknown_header) if reader.unknown_header else source
    _compare(package, compared, reader.version, recorded, leaves, where)
    if recorded != package.id:
        raise IdMismatchError(where, f"the file records id {recorded} but the content hashes to {package.id}: "
                                     f"the content changed after the package was written", package=package)
    return package


def runtime_versions(version: str) -> dict:
    """Which JPMML releases run a package of ``version``: PMML 4.4 documents,
    as JPMML-Evaluator reads them from 1.5 (jpmml_evaluator 0.16.0 ships 1.7.7,
    the release this format is tested with)."""
    return {"jpmml": f"JPMML-Evaluator >=1.7.7 (PMML {PMML_VERSION}; tested with jpmml_evaluator 0.16.0)"}
