"""The format-version policy of docs/FORMATS.md, for every format's reader.

A format keeps ``VERSION = "major.minor"`` and calls :func:`check_version`
on the version a package records, before anything else in the package is
trusted; the version it records comes from ``FEATURES_SINCE`` below.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import FormatVersionError, cut, shown

# fullmatch, not match with "$": "$" also matches before a trailing newline.
# Nine digits at most keep both parts plain machine integers in every language.
_VERSION = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")


class FormatVersionWarning(UserWarning):
    """A package written by a newer minor version of its format."""


def _shown(found: Any) -> str:
    # JSON spelling, so that the string "1.0" and the number 1.0 read differently
    if found is None:
        return "none"
    try:
        return cut(json.dumps(found))
    except (TypeError, ValueError):
        return shown(found)


def parse_version(found: Any, where: str) -> tuple:
    """``(major, minor)`` of a "major.minor" string; FormatVersionError for anything else."""
    match = _VERSION.fullmatch(found) if isinstance(found, str) else None
    if match is None:
        raise FormatVersionError(where, f'expected a format version "major.minor" such as "1.0", found {_shown(found)}')
    return int(match.group(1)), int(match.group(2))


def check_version(
    format_name: str, ours: str, found: Any, where: str, ignored: Iterable[str] = (), older: Iterable[str] = ()
) -> bool:
    """Whether ``found`` is a newer minor of a major this reader reads.

    The reader reads the major of ``ours`` and the majors of ``older`` (the
    last version of each older major it keeps a frozen reader for). Any
    other major raises FormatVersionError; a newer minor of a read major
    warns with FormatVersionWarning, naming ``ignored`` (what the caller then
    drops because this reader does not know it); an older or equal minor is
    silent.
    """
    major, minor = parse_version(found, where)
    known = dict(parse_version(v, f"{format_name} older version") for v in older)
    our_major, our_minor = parse_version(ours, f"{format_name} VERSION")
    known[our_major] = our_minor
    if major not in known:
        majors = " and ".join(f"{format_name} {m}.x" for m in sorted(known))
        raise FormatVersionError(where, f"written in {format_name} {found}; this crossform reads {majors}")
    latest = f"{major}.{known[major]}"
    if minor <= known[major]:
        return False
    ignored = sorted(ignored)
    dropped = f"; ignored what this reader does not know: {', '.join(map(repr, ignored))}" if ignored else ""
    # stacklevel 3 points at whoever called the format's loads, not at loads itself
    warnings.warn(
        f"{where}: written in {format_name} {found}, newer than the {latest} this crossform reads{dropped}",
        FormatVersionWarning,
        stacklevel=3,
    )
    return True


# ---------------------------------------------------------------- what each version holds

# crossform release -> the strict minor of each format it introduced. Each release's kinds and
# rules reach the four formats at once; a package using none of them is written byte for byte
# as before and keeps recording the older version, so every earlier release still reads it; a
# package using one records the version that added it, which earlier releases refuse by name
# rather than misread. 0.5.0: linear models, new encoders, binary scores, isolation, set splits,
# the missing/infinite rules; 0.6.0: the XGBoost, LightGBM and preprocessing kinds.
MINORS_INTRODUCED_BY = {
    "0.5.0": {"stripe-json": "2.1", "protobuf": "1.1", "onnx": "1.3", "pmml": "1.2"},
    "0.6.0": {"stripe-json": "2.2", "protobuf": "1.2", "onnx": "1.4", "pmml": "1.3"},
}

# IR feature -> {format: the first version of that format whose files hold it}. A format a
# row leaves out holds the feature in every version; a feature missing from the table (the
# first encoders, plain tree ensembles) is held by every version of every format. Adding a
# kind means adding its row here: every format then computes the version it records, and
# `crossform compat` the releases that read it, from this one table.
FEATURES_SINCE: dict[str, dict[str, str]] = {
    "affine encoder": MINORS_INTRODUCED_BY["0.5.0"],
    "missing-indicator encoder": MINORS_INTRODUCED_BY["0.5.0"],
    "one-hot encoder": MINORS_INTRODUCED_BY["0.5.0"],
    "refuse-missing encoder": MINORS_INTRODUCED_BY["0.5.0"],
    "linear model": MINORS_INTRODUCED_BY["0.5.0"],
    # PMML 1.0/1.1 laid out classifiers only as averaged votes; the other formats always
    # had the aggregation and post transform fields
    "classifier combination": {"pmml": "1.2"},
    "binary score": MINORS_INTRODUCED_BY["0.5.0"],
    "isolation transform": MINORS_INTRODUCED_BY["0.5.0"],
    "set split": MINORS_INTRODUCED_BY["0.5.0"],
    "infinite threshold": MINORS_INTRODUCED_BY["0.5.0"],
    "missing rule": MINORS_INTRODUCED_BY["0.5.0"],
    "infinite rule": MINORS_INTRODUCED_BY["0.5.0"],
    "exp transform": MINORS_INTRODUCED_BY["0.6.0"],
    "float32 accumulation": MINORS_INTRODUCED_BY["0.6.0"],
    "number-category encoder": MINORS_INTRODUCED_BY["0.6.0"],
    "binning encoder": MINORS_INTRODUCED_BY["0.6.0"],
    "product encoder": MINORS_INTRODUCED_BY["0.6.0"],
    "output divisors": MINORS_INTRODUCED_BY["0.6.0"],
    "integer-code encoder": MINORS_INTRODUCED_BY["0.6.0"],
    "missing-band encoder": MINORS_INTRODUCED_BY["0.6.0"],
    "composite model": MINORS_INTRODUCED_BY["0.6.0"],
    "weighted median": MINORS_INTRODUCED_BY["0.6.0"],
    "isotonic calibration": MINORS_INTRODUCED_BY["0.6.0"],
    "target steps": MINORS_INTRODUCED_BY["0.6.0"],
    "projection encoder": MINORS_INTRODUCED_BY["0.6.0"],
}


def _article(words: str) -> str:
    # "a one-hot", said "won": the sound, not the letter, picks the article
    return f"{'an' if words[0] in 'aeiou' and not words.startswith('one') else 'a'} {words}"


def features_used(package) -> list:
    """``[(feature, words)]``: each FEATURES_SINCE feature ``package`` uses, in the order a
    message names them (encoders, the model kind, the model's rules), with a few words saying
    how the package uses it."""
    used = []
    for enc in package.encoders:
        feature = f"{enc.encoder_type} encoder"
        if feature in FEATURES_SINCE:
            used.append((feature, _article(feature)))
    return used + model_features(package.model)


def model_features(model) -> list:
    """``[(feature, words)]`` for the model alone (see :func:`features_used`)."""
    if hasattr(model, "members"):  # a composite: its own row, then what its members use
        used = [("composite model", f"a composite model ({model.combination!r} of {len(model.members)} members)")]
        if model.calibration_method == "isotonic":
            used.append(("isotonic calibration", "isotonic calibration (breakpoints interpolated as numpy's interp)"))
        if model.target_steps:
            used.append(("target steps", "an inverse target transform ('target' steps)"))
        for member in model.members + ((model.final,) if model.final is not None else ()):
            used += [feature for feature in model_features(member) if feature not in used]
        return used
    if not hasattr(model, "trees"):
        return [("linear model", "a linear model")]
    used = []
    if not model.is_binary and model.is_classifier and (model.aggregation, model.post_transform) != ("average", "none"):
        used.append(
            (
                "classifier combination",
                f"a classifier with aggregation {model.aggregation!r} and post transform {model.post_transform!r}",
            )
        )
    if model.is_binary:
        used.append(("binary score", "two classes from one logistic score"))
    if model.isolation is not None:
        used.append(("isolation transform", "the isolation transform"))
    if model.post_transform == "exp":
        used.append(("exp transform", "the exp post transform"))
    if model.has_sets:
        used.append(("set split", "a category-set split"))
    if any(np.isinf(t.threshold).any() for t in model.trees):
        used.append(("infinite threshold", "a +inf threshold"))
    if model.missing != "route":
        used.append(("missing rule", f"missing={model.missing!r}"))
    if model.infinite != "error":
        used.append(("infinite rule", f"infinite={model.infinite!r}"))
    if model.accumulate != "float64":
        used.append(("float32 accumulation", f"accumulate={model.accumulate!r}"))
    if model.divisors:
        used.append(("output divisors", "divisors of the aggregated outputs"))
    if model.aggregation == "weighted-median":
        used.append(("weighted median", "aggregation='weighted-median'"))
    return used


def _since(format_name: str, feature: str, base: str) -> str:
    return FEATURES_SINCE[feature].get(format_name, base)


def _key(version: str) -> tuple:
    return parse_version(version, "format version")


def version_needed(format_name: str, used: list, base: str) -> str:
    """The version a ``format_name`` file records for the features ``used`` (from
    :func:`features_used`): ``base`` (what the file's layout recorded when it was first
    written) or, when a feature was added later, the newest version any of them needs."""
    needed = [base] + [_since(format_name, feature, base) for feature, _ in used]
    return max(needed, key=_key)


def first_feature_after(format_name: str, used: list, base: str) -> str | None:
    """The words for the first of the features ``used`` that a ``format_name`` file of
    ``base`` cannot hold, or None when every release reading ``base`` reads them all."""
    for feature, words in used:
        if _key(_since(format_name, feature, base)) > _key(base):
            return words
    return None
