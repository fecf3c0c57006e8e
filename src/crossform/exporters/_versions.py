"""The format-version policy of docs/FORMATS.md, for every format's reader.

A format module keeps ``VERSION = "major.minor"`` and calls
:func:`check_version` on the version a package records, before anything
else in the package is trusted.
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


def tree_rules_used(model) -> str | None:
    """What a tree ensemble uses beyond the first tree layouts (stripe-json 2.0, protobuf 1.0),
    in a few words, or None. Those layouts hold a leaf value per class (one for a regressor),
    missing "route", infinite "error", finite thresholds, no set split and no isolation
    transform; anything else needs the strict minor that added it, which older readers refuse."""
    if model.is_binary:
        return "two classes from one logistic score"
    if model.isolation is not None:
        return "the isolation transform"
    if model.has_sets:
        return "a category-set split"
    if any(np.isinf(t.threshold).any() for t in model.trees):
        return "a +inf threshold"
    if model.missing != "route":
        return f"missing={model.missing!r}"
    if model.infinite != "error":
        return f"infinite={model.infinite!r}"
    return None
