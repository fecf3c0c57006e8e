"""pmml's own rules: its names and options, the version a file records, the names it makes
up and how it spells text and numbers, its limits and errors, how it lays a model out, and
what it cannot express (:func:`unsupported`). The writer and the reader both follow them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Union

import numpy as np

from ... import ir
from ...errors import CrossformError, MalformedPackageError, UnsafePackageError, shown
from .. import _envelope, _limits, _versions
from . import accepts

NAME = "pmml"
VERSION = "1.3"  # the newest: what needs() names; other files record their BASE_VERSION
LAYOUT = "file"
EXTENSIONS = (".pmml",)  # the file name ending that names this format (save picks it)
RUNTIMES = ("jpmml",)
ON, OFF = "on", "off"
# leaves="off" leaves out the leaf(<t>) outputs: JPMML computes them for every row, which
# halves its rows/s; such a file scores the same, but nobody can compare its leaves
OPTIONS = {"leaves": (ON, OFF)}
VARIANTS = {"no-leaves": {"leaves": OFF}}
# The version a file with / without leaf outputs recorded when that layout was first written
# (crossform 0.4.0): a package using no feature added since is written byte for byte as then
# and keeps recording it, so released readers still read it.
BASE_VERSION = {ON: "1.0", OFF: "1.1"}
WHERE = f"<{NAME}>"

NAMESPACE = "http://www.dmg.org/PMML-4_4"
PMML_VERSION = "4.4"
PREFIX = "crossform:"  # every name the writer makes up starts with it; package names may not
TARGET = PREFIX + "target"
RAW = PREFIX + "raw"  # the sum before a logistic post transform
EXTENDER = "crossform"
BASE_SEGMENT = "base"
PREDICTION = "prediction"
INF = "INF"  # a +inf threshold, as XML Schema spells it
KINDS_OF = {"continuous": ir.NUMERIC, "categorical": ir.CATEGORICAL}  # a field's optype -> its IR kind


def leaf_output(t: int) -> str:
    """The output field holding the preorder position of the leaf reached in tree ``t``."""
    return f"leaf({t})"


def probability_output(label: Any) -> str:
    return f"probability({label})"


# The envelope's Header Extensions (the shared keys, and the model spec that is pmml's own),
# in the order they are written
MODEL = _envelope.PREFIX + "model"
HEADER_KEYS = (
    _envelope.FORMAT_VERSION,
    _envelope.ID,
    _envelope.OWNER,
    _envelope.TAGS,
    _envelope.METADATA,
    _envelope.PRODUCER,
    _envelope.CLASSES,
    MODEL,
    _envelope.CHECKS,
)
CODES = _envelope.PREFIX + "codes"  # inside a label-encoder's DerivedField: its missing and unknown codes
ONE_HOT = _envelope.PREFIX + "one-hot"  # inside a one-hot feature's column field: its missing and unknown columns
# inside a number-category field: its numbers, their categories and the unknown name (the Discretize bins say the same)
NUMBER_CATEGORY = _envelope.PREFIX + "number-category"
MISSING_BAND = _envelope.PREFIX + "missing-band"  # inside a missing-band field: its ends {"low", "high"}
INTEGER_CODE = _envelope.PREFIX + "integer-code"  # inside an integer-code field: tells its Apply from the others
BINNING = _envelope.PREFIX + "binning"  # inside a binning field: its edges (the Discretize bins say the same)
# inside each product output's field: the PMML fields the product step reads and the output's factors
PRODUCT = _envelope.PREFIX + "product"
# inside each projection output's field: the fields it reads, its centring, the mean, its components and divisor
PROJECTION = _envelope.PREFIX + "projection"

# pmml's own limits; the file size, tree and node limits are the shared ones (_limits)
MAX_OUTPUTS = 2**16
MAX_TREE_MODELS = 2**22  # TreeModel elements: one per tree and score in a chain
MAX_DEPTH = 2000  # edges on a root-to-leaf path; deeper trees overflow JPMML's recursive walk
MAX_NESTING = MAX_DEPTH + 16  # XML element nesting the reader accepts
MAX_MEDIAN_TREES = 256  # a weighted median's trees (pmml.weighted_median: fields grow with their square)
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


# ---------------------------------------------------------------- the version a file records


def needs(package: ir.Package) -> Union[str, None]:
    """What in ``package`` needs format version 1.2 (a few words), or None: a package without
    any is written as 1.1 wrote it (1.0 with leaf outputs), so older releases still read it."""
    return _versions.first_feature_after(NAME, _versions.features_used(package), BASE_VERSION[OFF])


def written_version(package: Union[ir.Package, None] = None, leaves: str = ON) -> str:
    """The format version a file records: for ``package``, its layout's BASE_VERSION or, when
    it uses a feature added since, the version that added it (FEATURES_SINCE); without a
    package, the newest this writer writes."""
    check_leaves(leaves)
    if package is None:
        return VERSION
    return _versions.version_needed(NAME, _versions.features_used(package), BASE_VERSION[leaves])


def check_leaves(leaves: str) -> str:
    if leaves not in OPTIONS["leaves"]:
        raise CrossformError(f"pmml: expected leaves {' or '.join(OPTIONS['leaves'])}, got {shown(leaves)}")
    return leaves


def stored(package: ir.Package, checks: Any, leaves: str = ON) -> tuple:
    """What a file written with ``leaves`` holds and is held to: the package and its
    checks as they are (without leaf outputs the leaves are not compared)."""
    check_leaves(leaves)
    return package, checks


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


def _constant(value: float) -> str:
    return f'<Constant dataType="double">{_num(value)}</Constant>'


def _json_text(value: Any) -> str:
    # ASCII only: every character is one XML allows, whatever the strings hold
    return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _xml_safe(text: str) -> bool:
    return _XML_BAD.search(text) is None


# ---------------------------------------------------------------- what the reference refuses (accepts)


def _validity(package: ir.Package, field: ir.Field, strings: list) -> accepts.Validity:
    other = PREFIX + "other"
    while other in strings:
        other += "!"
    return accepts.validity(package, field, strings, other)


# ---------------------------------------------------------------- a classifier leaf's probabilities


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


# How the model is laid out (docs/formats/pmml.md):
FLAT = "flat"  # a MiningModel whose Segments are the trees (regressors, averaged class probabilities)
CHAIN = "chain"  # a modelChain of one regression MiningModel per score, then a link or Output expressions
LINEAR = "linear"  # a modelChain of RegressionModels
COMPOSITE = "composite"  # a modelChain of the members (and a stack's final model), combined in Output fields
LINKS = {"logistic": "logit", "softmax": "softmax"}  # post transform -> a classification RegressionModel's
# normalizationMethod: JPMML's logit gives [1 - p, p] from one score, its softmax exp(x - max) / sum


def _shape(model: ir.Model) -> str:
    if isinstance(model, ir.Composite):
        return COMPOSITE
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
    probabilities; other scores are Output fields). A stack's is its final model's."""
    if isinstance(model, ir.Composite):
        return _link(model.final) if model.final is not None else None
    if not model.is_classifier or getattr(model, "accumulate", "float64") == "float32":
        return None  # float32 probabilities are Output fields (pmml.float32)
    if model.is_binary:
        return LINKS[model.post_transform] if model.post_transform == "logistic" else None
    if model.post_transform == "softmax":
        return LINKS["softmax"]
    return None


def _function(model: ir.Model) -> str:
    """The top model's functionName: classification when PMML computes the class probabilities
    (a stack's final model's; other composites compute theirs in Output expressions)."""
    if isinstance(model, ir.Composite):
        if model.final is not None:
            return _function(model.final)
        # JPMML refuses a classification Segment in a regression chain: classification when any member is one
        return "classification" if "classification" in map(_function, model.members) else "regression"
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
    if isinstance(model, ir.Composite):
        return _composite_reason(model)
    if model.post_transform not in ("none", "logistic", "softmax", "isolation", "exp"):
        return f"a model with post transform {model.post_transform!r}, which this writer does not know"
    if len(set(model.features)) != len(model.features):
        return "the model lists a column twice in its features, which PMML fields cannot tell apart"
    if model.n_outputs > MAX_OUTPUTS:
        return f"more than {MAX_OUTPUTS} outputs"
    if isinstance(model, ir.LinearModel):
        return None
    if model.divisors and (_shape(model) != CHAIN or _link(model) != LINKS["softmax"]):
        return (
            "divisors on a model other than a softmax classifier: this writer divides the chain's scores "
            "before its softmax link (AdaBoost), and writes no other divided outputs yet"
        )
    if model.aggregation == "weighted-median" and len(model.trees) > MAX_MEDIAN_TREES:
        return (
            f"a weighted median of {len(model.trees)} trees: its Output fields grow with the square of the "
            f"tree count, and this writer writes them for at most {MAX_MEDIAN_TREES}"
        )
    if len(model.trees) > _limits.MAX_TREES:
        return f"more than {_limits.MAX_TREES} trees"
    deep = max(t.depth for t in model.trees)
    if deep > MAX_DEPTH:
        return f"a tree of depth {deep}, deeper than the {MAX_DEPTH} this format writes"
    if _shape(model) == CHAIN and sum(map(len, _chain_trees(model))) > MAX_TREE_MODELS:
        return f"more than {MAX_TREE_MODELS} TreeModels (one per tree and score)"
    if _shape(model) == FLAT and model.is_classifier:
        return _classifier_leaves_reason(model)
    return None


# the combinations composite_writer states (its COMBINATIONS, and a stack's final model)
WRITTEN_COMBINATIONS = ("average", "vote", "stack", "calibrate", "target")


def _composite_reason(model: ir.Composite) -> Union[str, None]:
    """Why a composite has no PMML form: a member (or a stack's final model) that has none, or a
    combination or calibration this writer does not state."""
    if model.combination not in WRITTEN_COMBINATIONS:
        return f"a composite combining its members by {model.combination!r}, which this writer does not state"
    if model.combination == "calibrate" and model.calibration_method not in ("sigmoid", "isotonic"):
        return f"{model.calibration_method} calibration, which this writer does not know"
    for i, member in enumerate(model.members + ((model.final,) if model.final is not None else ())):
        what = "the final model" if i == len(model.members) else f"member {i}"
        if member.post_transform == "isolation":
            return f"{what} is an isolation forest, whose scores no composite combines"
        reason = _model_reason(member)
        if reason is not None:
            return f"{what}: {reason}"
    return None


# Encoder kinds with no PMML form: kind -> why (a package using one is refused by name).
REFUSED_ENCODERS: dict = {}


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
    for text in accepts.strings(package):
        if not _xml_safe(text):
            return f"the category {shown(text)} holds a character XML 1.0 cannot carry"
    for enc in package.encoders:
        if type(enc) in REFUSED_ENCODERS:
            return REFUSED_ENCODERS[type(enc)]
        if isinstance(enc, ir.Binning) and any(len(e) == 0 for e in enc.edges):
            return "a binning feature with no edges (one bin: every Interval of a Discretize needs a margin)"
        if isinstance(enc, ir.CategoricalEncoding) and any(len(c) == 0 for c in enc.categories):
            return "a label-encoder feature with no categories (PMML's InlineTable needs a row)"
        if isinstance(enc, ir.OneHot) and any(len(c) == 0 for c in enc.categories):
            return "a one-hot feature with no categories (PMML's InlineTable needs a row)"
    for i, enc in enumerate(package.encoders):
        if isinstance(enc, (ir.Product, ir.Projection)):
            for out, found in zip(enc.outputs, accepts.product_intervals(package, i)):
                if found is False:
                    return f"every value of the {enc.encoder_type} {out!r} is refused by the steps after it, which PMML cannot declare"
    if model.is_classifier:
        for label in model.classes:
            if not _xml_safe(str(label)):
                return f"the class label {shown(label)} holds a character XML 1.0 cannot carry"
    reason = _model_reason(model)
    if reason is not None:
        return reason
    strings = accepts.strings(package)
    for f in package.inputs:
        refused = accepts.unknown_number_refused(package, f)
        if refused is not None:
            return (
                f"input {f.name!r} refuses the number {refused!r} as unknown to its numeric categories "
                "(handle_unknown='error'): PMML declares a numeric field's valid values as one interval, not a set"
            )
        v = _validity(package, f, strings)
        if v.empty:
            return f"every non-missing value of input {f.name!r} is refused, which PMML cannot declare"
    return None


# ---------------------------------------------------------------- runtimes


def runtime_versions(version: str) -> dict:
    """Which JPMML releases run a package of ``version``: PMML 4.4 documents,
    as JPMML-Evaluator reads them from 1.5 (jpmml_evaluator 0.16.0 ships 1.7.7,
    the release this format is tested with)."""
    return {"jpmml": f"JPMML-Evaluator >=1.7.7 (PMML {PMML_VERSION}; tested with jpmml_evaluator 0.16.0)"}
