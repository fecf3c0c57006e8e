"""Which crossform releases and runtimes read a package (``crossform compat``).

``HISTORY`` is the one record of format versions and of the first crossform
release that writes each. Everything else follows from the policy in
docs/FORMATS.md: the releases from the first one that writes a version read
it silently, earlier releases of the same major read it with a warning, and
a later major keeps reading it through a frozen reader unless DROPPED says
from which release on it no longer does.

A format may define ``runtime_versions(version) -> {runtime: text}``
saying which versions of its foreign runtimes (onnxruntime, JPMML) run a
package of that format version; without it those runtimes are "not recorded".
The reference runtime is crossform itself, so it runs what crossform reads.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import CrossformError, FormatVersionError
from .exporters import Files, _source, get_format, load, sniff
from .exporters._versions import FEATURES_SINCE, FormatVersionWarning, features_used, parse_version

# format -> (format version, first crossform release that writes it), oldest first.
# A row is added with every format-version bump (docs/FORMATS.md, "Bumping").
HISTORY: dict[str, list[tuple[str, str]]] = {
    "stripe-json": [("1.0", "0.1.0"), ("2.0", "0.2.0"), ("2.1", "0.5.0"), ("2.2", "0.6.0")],
    "protobuf": [("1.0", "0.2.0"), ("1.1", "0.5.0"), ("1.2", "0.6.0")],
    "onnx": [("1.0", "0.2.0"), ("1.1", "0.3.0"), ("1.2", "0.4.0"), ("1.3", "0.5.0"), ("1.4", "0.6.0")],
    "pmml": [("1.0", "0.3.0"), ("1.1", "0.4.0"), ("1.2", "0.5.0"), ("1.3", "0.6.0")],
}
# format -> {minor version: what it added} for the minors that older releases of the same major
# cannot read (they refuse such a file with a named error rather than score it); only releases
# from the one that writes it read it, and compat says why with the text here. onnx 1.1 is the
# float32 variant, whose float inputs a 1.0 reader refuses; onnx 1.2 has a TreeEnsemble per tree,
# a graph that 1.0 and 1.1 readers refuse; pmml 1.1 is a file without leaf outputs, which a 1.0
# reader refuses. The 0.5.0 minors add linear models, the affine, missing-indicator, one-hot and
# refuse-missing encoders, binary logistic scores, isolation forests, set splits, +inf thresholds
# and the models' missing/infinite rules; for those the format's ``needs(package)`` (from FEATURES_SINCE)
# names the very kind the package holds.
KINDS_ADDED_IN = {
    "0.5.0": (
        "kinds added in crossform 0.5.0 (linear models, new encoders, binary logistic scores, "
        "isolation, set splits, missing/infinite rules)"
    ),
    "0.6.0": (
        "kinds added in crossform 0.6.0 (float32 accumulation, the exp transform, numeric categories, binning, "
        "products, projections, output divisors, integer codes, missing bands, composite models, weighted medians, "
        "isotonic calibration, inverse target steps)"
    ),
}
STRICT: dict[str, dict[str, str]] = {
    "stripe-json": {"2.1": KINDS_ADDED_IN["0.5.0"], "2.2": KINDS_ADDED_IN["0.6.0"]},
    "protobuf": {"1.1": KINDS_ADDED_IN["0.5.0"], "1.2": KINDS_ADDED_IN["0.6.0"]},
    "onnx": {
        "1.1": "float32 inputs (--precision float32)",
        "1.2": "one TreeEnsemble per tree",
        "1.3": KINDS_ADDED_IN["0.5.0"],
        "1.4": KINDS_ADDED_IN["0.6.0"],
    },
    "pmml": {"1.1": "no leaf outputs (--leaves off)", "1.2": KINDS_ADDED_IN["0.5.0"], "1.3": KINDS_ADDED_IN["0.6.0"]},
}
# format -> {major: the first crossform release that no longer reads it}. A
# new major does not end the old one: its frozen reader stays (docs/FORMATS.md).
DROPPED: dict[str, dict[int, str]] = {}

READS = "reads"
READS_NEWER = "reads with a warning: newer minor"
NOT_RECORDED = "not recorded"


def _specifier(start: str, before: str | None) -> str:
    return f">={start}" + (f",<{before}" if before else "")


def readers(format_name: str, version: str) -> list | None:
    """The crossform releases that read ``version`` of a format, as ranges.

    Each range is ``{"from", "before" (None: no upper bound), "specifier",
    "warning"}``; ``[]`` when no recorded release reads it, None when HISTORY
    has no row for the format.
    """
    history = HISTORY.get(format_name)
    if not history:
        return None
    major, minor = parse_version(version, "format version")
    rows = [(parse_version(v, f"compat.HISTORY[{format_name!r}]"), release) for v, release in history]
    same = [i for i, ((m, _), _) in enumerate(rows) if m == major]
    if not same:
        return []
    end = DROPPED.get(format_name, {}).get(major)
    silent = next((i for i in same if rows[i][0][1] >= minor), None)
    spans = []
    if silent is not None and version in STRICT.get(format_name, {}) and rows[silent][0] == (major, minor):
        pass  # older releases of the major refuse this version outright: no warning span
    elif silent != same[0]:
        spans.append((rows[same[0]][1], rows[silent][1] if silent is not None else end, True))
    if silent is not None:
        spans.append((rows[silent][1], end, False))
    return [
        {"from": start, "before": before, "specifier": _specifier(start, before), "warning": warning}
        for start, before, warning in spans
    ]


def needs(format_name: str, version: Any, fmt: Any, package: Any) -> str | None:
    """What makes older releases of the major refuse this package (a few words), or None when
    every release of the major reads its version: the kind the package holds when the format
    can name it (``Format.needs``), else what its version added."""
    added = STRICT.get(format_name, {}).get(version) if isinstance(version, str) else None
    if added is None:
        return None
    if package is not None:
        # the kind the package holds that its very version added (FEATURES_SINCE), else the first
        # kind the format names
        named = [
            words for feature, words in features_used(package) if FEATURES_SINCE[feature].get(format_name) == version
        ]
        return named[0] if named else fmt.needs(package) or added
    return added


def readers_text(ranges: list | None) -> str:
    if ranges is None:
        return NOT_RECORDED
    if not ranges:
        return "none"
    return "; ".join(r["specifier"] + (" with a warning (newer minor)" if r["warning"] else "") for r in ranges)


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())


def _parsed(version: Any) -> tuple | None:
    try:
        return parse_version(version, "format version")
    except FormatVersionError:
        return None


def _verdict(version: Any, fmt: Any) -> str:
    parsed = _parsed(version)
    if parsed is None:
        return "cannot read: no valid format version"  # missing, not a string, or not major.minor
    known = dict(parse_version(v, "VERSION") for v in (*fmt.OLDER, fmt.VERSION))
    if parsed[0] not in known:
        return f"cannot read: major version {parsed[0]}"
    return READS_NEWER if parsed[1] > known[parsed[0]] else READS


def report(path: str | Path) -> dict:
    """What this crossform, other crossform releases and the runtimes make of the package at ``path``.

    Raises only when no format recognises the path; a package this crossform
    cannot read is still reported, with its format, version and the error.
    """
    name = sniff(path)
    fmt = get_format(name)
    doc: dict[str, Any] = {
        "path": str(path),
        "format": name,
        "format_version": None,
        "crossform": __version__,
        "reads": None,
        "ok": False,
        "id": None,
        "error": None,
        "warnings": [],
    }
    if fmt.TELLS_VERSION:
        try:
            source = _source(Path(path))
            # bytes cannot name their file
            doc["format_version"] = fmt.read_version(source, where=None if isinstance(source, Files) else str(path))
        except (CrossformError, OSError) as exc:
            doc["error"] = _one_line(exc)

    with warnings.catch_warnings(record=True) as caught:
        # a report must list every warning, not only the first one per place
        warnings.simplefilter("always", UserWarning)
        package = None
        try:
            package = load(path, format=name)
        except (CrossformError, OSError) as exc:
            doc["error"] = _one_line(exc)
        else:
            doc.update(ok=True, id=package.id, error=None)
    doc["warnings"] = [str(w.message) for w in caught]

    version = doc["format_version"]
    if fmt.TELLS_VERSION:
        doc["reads"] = _verdict(version, fmt)
    else:  # the format cannot tell its version without loading: judge by the load
        newer = any(issubclass(w.category, FormatVersionWarning) for w in caught)
        doc["reads"] = (READS_NEWER if newer else READS) if doc["ok"] else "cannot read"

    known = _parsed(version) is not None
    if known:
        ranges = readers(name, version)
    elif fmt.TELLS_VERSION and name in HISTORY:
        ranges = []  # no release reads a malformed or missing version
    else:
        ranges = None
    doc["readers"] = {
        "text": readers_text(ranges),
        "ranges": ranges,
        "needs": needs(name, version, fmt, package) if ranges else None,
    }

    recorded = dict(fmt.runtime_versions(version)) if known else {}
    doc["runtimes"] = [
        {
            "name": runtime,
            "versions": (None if ranges is None else readers_text(ranges))
            if runtime == "reference"
            else recorded.get(runtime),
        }
        for runtime in fmt.RUNTIMES
    ]
    return doc
