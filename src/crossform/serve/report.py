"""The shadow report: how each shadow model of a tag compares with the model that answered,
from the records of a shadow log (docs/shadows.md says how each number is computed).

:func:`compare` reads the log once and gives one :class:`ShadowComparison` per shadow id: the
numbers ``crossform shadow-report --json`` prints and the compared scores the HTML page draws.
:func:`record_agreement` is the per-record rule the report sums, for a caller that counts
agreement as records arrive (the server's metrics).
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Union

import numpy as np

from crossform._version import __version__
from crossform.errors import ShadowLogFormatError, UnknownShadowTagError, shown
from crossform.scores import Scores

from .shadows import ShadowLog, _number

QUANTILES = (("min", 0.0), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
LATENCY_QUANTILES = (("p50", 0.5), ("p99", 0.99))
FAILURES_SHOWN = 5  # the most frequent failure messages a report lists per shadow
SCATTER_CAP = 2000  # points per scatter plot; more compared rows are sampled evenly (docs/shadows.md)
HISTOGRAM_BINS = 30
MERGED_ROWS = 4_000  # rows of consecutive records compared at once


def _rows_line_up(record: dict) -> bool:
    """Both sides' values and errors are lists with one entry per row of the request."""
    lists = [record.get(k) for k in ("primary_values", "primary_errors", "shadow_values", "shadow_errors")]
    return all(isinstance(v, list) for v in lists) and len({len(v) for v in lists}) == 1


@dataclass(frozen=True)
class RecordAgreement:
    """What one record contributes: row masks over the request's rows and the compared scores."""

    compared: np.ndarray  # rows both models scored
    primary_only: np.ndarray  # rows only the primary refused
    shadow_only: np.ndarray  # rows only the shadow refused
    same_class: Union[np.ndarray, None]  # per compared row, for two classifiers; else None
    outputs: tuple  # the output names both have, in the primary's order
    primary: np.ndarray  # compared rows x outputs
    shadow: np.ndarray


def _matrix(rows, width: int, where: str) -> np.ndarray:
    """Logged rows (lists of numbers, None for a row in error) as floats, NaN rows for None."""
    if not isinstance(rows, list):
        raise ShadowLogFormatError(where, f"expected a list of rows of scores; found {shown(rows)}")
    values = np.full((len(rows), width), np.nan)
    scored = [i for i, row in enumerate(rows) if row is not None]
    if scored:
        try:
            # strict JSON carries non-finite scores as "NaN" and "Infinity", which float64 reads back
            values[scored] = np.array([rows[i] for i in scored], dtype=np.float64).reshape(len(scored), width)
        except (TypeError, ValueError) as exc:
            raise ShadowLogFormatError(
                where, f"expected rows of {width} numbers (one per output); found {shown(rows)} ({exc})"
            ) from None
    return values


def _scores(record: dict, side: str, where: str) -> Scores:
    outputs = record.get("outputs" if side == "primary" else "shadow_outputs")
    errors = record.get(f"{side}_errors")
    if not isinstance(outputs, list) or not isinstance(errors, list):
        raise ShadowLogFormatError(where, f"expected the {side}'s outputs and errors as lists; found {shown(record)}")
    values = _matrix(record.get(f"{side}_values"), len(outputs), where)
    if len(values) != len(errors):
        raise ShadowLogFormatError(
            where, f"expected one {side} error entry per row ({len(values)} rows); found {len(errors)}"
        )
    classes = record.get(f"{side}_classes")
    # a classifier has one class per output, or two classes for one decision score
    if classes is not None and not (
        isinstance(classes, list) and (len(classes) == len(outputs) or (len(outputs) == 1 and len(classes) == 2))
    ):
        raise ShadowLogFormatError(
            where,
            f"expected the {side}'s classes as a list of one class per output ({len(outputs)}), or null; "
            f"found {shown(classes)}",
        )
    return Scores(values, tuple(outputs), errors, None if classes is None else tuple(classes))


def record_agreement(record: dict, where: str = "record") -> RecordAgreement:
    """How the shadow's scores in ``record`` (one without an ``error``) agree with the primary's."""
    primary = _scores(record, "primary", where)
    shadow = _scores(record, "shadow", where)
    if len(primary) != len(shadow):
        raise ShadowLogFormatError(
            where, f"expected the shadow to score the primary's {len(primary)} rows; found {len(shadow)}"
        )
    primary_ok, shadow_ok = primary.ok, shadow.ok
    compared = primary_ok & shadow_ok
    same_class = None
    if primary.classes is not None and shadow.classes is not None:
        # the class each predicts, by scikit-learn's rule as Scores.labels() applies it
        same_class = np.array(
            [a == b for a, b, both in zip(primary.labels(), shadow.labels(), compared) if both], dtype=bool
        )
    outputs = tuple(name for name in primary.outputs if name in shadow.outputs)
    columns_p = [primary.outputs.index(name) for name in outputs]
    columns_s = [shadow.outputs.index(name) for name in outputs]
    return RecordAgreement(
        compared,
        ~primary_ok & shadow_ok,
        primary_ok & ~shadow_ok,
        same_class,
        outputs,
        primary.values[compared][:, columns_p],
        shadow.values[compared][:, columns_s],
    )


def _quantiles(values, names=QUANTILES, scale: float = 1.0) -> Union[dict, None]:
    """numpy's quantiles (linear interpolation) of the non-NaN ``values``; None when there are none.
    An infinite quantile is the string "Infinity", as the log writes it, so the report is strict JSON."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    # numpy interpolates inf with inf to NaN: count infinity as the largest double, then restore it
    biggest = np.finfo(np.float64).max
    found = np.quantile(np.clip(values, -biggest, biggest), [q for _, q in names])
    found[np.abs(found) == biggest] *= np.inf
    return {name: _number(float(v) * scale) for (name, _), v in zip(names, found)}


@dataclass
class ShadowComparison:
    """One shadow id's numbers (``numbers()``, what --json prints) and its compared scores."""

    shadow_id: str
    primary_ids: list = field(default_factory=list)
    requests: int = 0
    failures: Counter = field(default_factory=Counter)
    rows: int = 0
    rows_compared: int = 0
    primary_only_errors: int = 0
    shadow_only_errors: int = 0
    same_class_rows: int = 0
    classified_rows: int = 0  # compared rows where both models are classifiers
    outputs: Union[tuple, None] = None
    primary_scores: list = field(default_factory=list)  # arrays of compared rows x outputs
    shadow_scores: list = field(default_factory=list)
    primary_seconds: list = field(default_factory=list)
    shadow_seconds: list = field(default_factory=list)
    _pending: list = field(default_factory=list)  # (record, where) added but not yet compared
    _pending_rows: int = 0
    _pending_shape: Union[list, None] = None

    def add(self, record: dict, where: str) -> None:
        self.requests += 1
        if record.get("primary_id") not in self.primary_ids:
            self.primary_ids.append(record.get("primary_id"))
        if record.get("error") is not None:
            self.failures[str(record["error"])] += 1
            return
        if not _rows_line_up(record):
            record_agreement(record, where)  # raises the error that names what is wrong with it
        # consecutive records of one shape are compared together: one rule, applied to many rows at once
        shape = [record.get(k) for k in ("outputs", "shadow_outputs", "primary_classes", "shadow_classes")]
        if shape != self._pending_shape:
            self.finish()
            self._pending_shape = shape
        self._pending.append((record, where))
        self._pending_rows += len(record["primary_values"])
        if self._pending_rows >= MERGED_ROWS:
            self.finish()
        for side, seconds in (("primary", self.primary_seconds), ("shadow", self.shadow_seconds)):
            value = record.get(f"{side}_seconds")
            if isinstance(value, (int, float)) and math.isfinite(value):
                seconds.append(float(value))

    def finish(self) -> None:
        """Compare the records added since the last call (numbers() calls it)."""
        pending, self._pending, self._pending_rows, self._pending_shape = self._pending, [], 0, None
        if not pending:
            return
        merged = dict(pending[0][0])
        for key in ("primary_values", "shadow_values", "primary_errors", "shadow_errors"):
            merged[key] = [row for record, _ in pending for row in record[key]]
        try:
            agreement = record_agreement(merged, pending[0][1])
        except ShadowLogFormatError:
            for record, where in pending:  # name the record at fault, not the first of the batch
                record_agreement(record, where)
            raise
        self._absorb(agreement)

    def _absorb(self, agreement: RecordAgreement) -> None:
        self.rows += len(agreement.compared)
        self.rows_compared += int(agreement.compared.sum())
        self.primary_only_errors += int(agreement.primary_only.sum())
        self.shadow_only_errors += int(agreement.shadow_only.sum())
        if agreement.same_class is not None:
            self.same_class_rows += int(agreement.same_class.sum())
            self.classified_rows += len(agreement.same_class)
        if self.outputs is None:
            self.outputs = agreement.outputs
        if agreement.outputs == self.outputs:
            self.primary_scores.append(agreement.primary)
            self.shadow_scores.append(agreement.shadow)
        else:  # a primary swapped for one with other outputs: compare the outputs every record has
            keep = tuple(name for name in self.outputs if name in agreement.outputs)
            self._narrow(keep)
            self.primary_scores.append(agreement.primary[:, [agreement.outputs.index(n) for n in keep]])
            self.shadow_scores.append(agreement.shadow[:, [agreement.outputs.index(n) for n in keep]])

    def _narrow(self, keep: tuple) -> None:
        columns = [self.outputs.index(name) for name in keep]
        self.primary_scores = [scores[:, columns] for scores in self.primary_scores]
        self.shadow_scores = [scores[:, columns] for scores in self.shadow_scores]
        self.outputs = keep

    def scores(self) -> tuple:
        """(primary, shadow): the compared rows' scores, rows x outputs."""
        self.finish()
        width = len(self.outputs or ())
        primary = np.concatenate(self.primary_scores) if self.primary_scores else np.zeros((0, width))
        shadow = np.concatenate(self.shadow_scores) if self.shadow_scores else np.zeros((0, width))
        return primary, shadow

    def numbers(self) -> dict:
        self.finish()
        primary, shadow = self.scores()
        # equal scores differ by 0, infinite ones too (inf - inf is NaN)
        delta = np.where(shadow == primary, 0.0, np.abs(shadow - primary))
        outputs = list(self.outputs or ())
        return {
            "shadow_id": self.shadow_id,
            "primary_ids": list(self.primary_ids),
            "requests": self.requests,
            "failed": sum(self.failures.values()),
            "failures": [{"error": e, "count": n} for e, n in self.failures.most_common(FAILURES_SHOWN)],
            "rows": self.rows,
            "rows_compared": self.rows_compared,
            "primary_only_errors": self.primary_only_errors,
            "shadow_only_errors": self.shadow_only_errors,
            "same_class_rows": self.same_class_rows if self.classified_rows else None,
            "same_class_rate": self.same_class_rows / self.classified_rows if self.classified_rows else None,
            "outputs": outputs,
            "abs_delta": [
                {"output": name, **(_quantiles(delta[:, j]) or dict.fromkeys(q for q, _ in QUANTILES))}
                for j, name in enumerate(outputs)
            ],
            "latency_ms": {
                "shadow": _quantiles(self.shadow_seconds, LATENCY_QUANTILES, 1000.0),
                "primary": _quantiles(self.primary_seconds, LATENCY_QUANTILES, 1000.0),
            },
        }


def compare(log: ShadowLog, tag: str) -> list:
    """One :class:`ShadowComparison` per shadow id with records of ``tag`` in ``log``, sorted by id;
    :class:`UnknownShadowTagError` when the tag has none."""
    comparisons: dict = {}
    for n, record in enumerate(log.records(tag=tag), start=1):
        where = f"{log.where}, record {n} of tag {tag} (request {shown(record.get('request_id'))})"
        shadow_id = record["shadow_id"]
        if shadow_id not in comparisons:
            comparisons[shadow_id] = ShadowComparison(shadow_id)
        comparisons[shadow_id].add(record, where)
    for comparison in comparisons.values():
        comparison.finish()  # a damaged record is refused here, not later while printing
    if not comparisons:
        tags = log.tags()
        found = f"the tags with records are {shown(tags, 300)}" if tags else "the log has no records yet"
        raise UnknownShadowTagError(log.where, f"expected shadow records of tag {shown(tag)}; found none: {found}")
    return [comparisons[k] for k in sorted(comparisons)]


def report(log: ShadowLog, tag: str, comparisons: Union[list, None] = None) -> dict:
    """The report ``crossform shadow-report --json`` prints."""
    comparisons = compare(log, tag) if comparisons is None else comparisons
    return {"tag": tag, "log": log.where, "shadows": [c.numbers() for c in comparisons]}


# --- the HTML page --------------------------------------------------------------------------------


def _e(value) -> str:
    """Any text from the log, escaped for HTML text and attribute values alike."""
    return html.escape(str(value), quote=True)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _cell(field_name: str, value, **attributes) -> str:
    """A table cell holding a report number: shown rounded, and in data-value exactly as --json
    prints it (JSON writes a float's shortest repr, which reads back to the same double)."""
    extra = "".join(f' data-{k}="{_e(v)}"' for k, v in attributes.items())
    exact = json.dumps(value, allow_nan=False)
    return f'<td data-field="{_e(field_name)}"{extra} data-value="{_e(exact)}">{_e(_fmt(value))}</td>'


def sample_rows(count: int, cap: int = SCATTER_CAP) -> np.ndarray:
    """The rows a scatter plot draws: all of them up to ``cap``, else ``cap`` rows evenly spread."""
    if count <= cap:
        return np.arange(count)
    return np.linspace(0, count - 1, cap).round().astype(np.int64)


SIZE = 320  # px, each plot's width and height
PAD = 36


def _scale(values: np.ndarray, low: float, high: float, flip: bool) -> np.ndarray:
    span = high - low if high > low else 1.0
    unit = (values - low) / span
    if flip:
        unit = 1.0 - unit
    return PAD + unit * (SIZE - 2 * PAD)


def _finite_range(*arrays) -> tuple:
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.zeros(0)
    if not len(finite):
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def _scatter_svg(output: str, primary: np.ndarray, shadow: np.ndarray) -> str:
    low, high = _finite_range(primary, shadow)
    keep = sample_rows(len(primary))
    shown_p = np.clip(primary[keep], low, high)  # infinities drawn at the edge
    shown_s = np.clip(shadow[keep], low, high)
    xs = _scale(np.nan_to_num(shown_p, nan=low), low, high, flip=False)
    ys = _scale(np.nan_to_num(shown_s, nan=low), low, high, flip=True)
    points = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2"/>' for x, y in zip(xs, ys))
    edge = SIZE - PAD
    return (
        f'<svg class="scatter" data-output="{_e(output)}" data-points="{len(keep)}" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label="primary vs shadow: {_e(output)}">'
        f'<line class="axis" x1="{PAD}" y1="{edge}" x2="{edge}" y2="{edge}"/>'
        f'<line class="axis" x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{edge}"/>'
        f'<line class="diagonal" x1="{PAD}" y1="{edge}" x2="{edge}" y2="{PAD}"/>'
        f'<g class="points">{points}</g>'
        f'<text x="{PAD}" y="{SIZE - 8}">{_e(_fmt(low))}</text>'
        f'<text x="{edge}" y="{SIZE - 8}" text-anchor="end">{_e(_fmt(high))}</text>'
        f'<text x="{SIZE / 2}" y="{SIZE - 8}" text-anchor="middle">primary</text>'
        f'<text x="12" y="{SIZE / 2}" transform="rotate(-90 12 {SIZE / 2})" text-anchor="middle">shadow</text>'
        "</svg>"
    )


def histogram(delta: np.ndarray) -> tuple:
    """(counts, edges) of the signed deltas: HISTOGRAM_BINS bins over their finite range (one bin
    when they are all equal); non-finite deltas are left out."""
    finite = delta[np.isfinite(delta)]
    if not len(finite):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        return np.array([len(finite)]), np.array([low, high])
    return np.histogram(finite, bins=HISTOGRAM_BINS, range=(low, high))


def _histogram_svg(output: str, delta: np.ndarray) -> str:
    counts, edges = histogram(delta)
    tallest = max(int(counts.max()) if len(counts) else 0, 1)
    width = (SIZE - 2 * PAD) / max(len(counts), 1)
    bars = []
    for k, count in enumerate(counts):
        height = (SIZE - 2 * PAD) * int(count) / tallest
        bars.append(
            f'<rect x="{PAD + k * width:.1f}" y="{SIZE - PAD - height:.1f}" width="{max(width - 1, 1):.1f}" '
            f'height="{height:.1f}" data-count="{int(count)}" data-from="{edges[k]!r}" data-to="{edges[k + 1]!r}">'
            f"<title>{_e(_fmt(float(edges[k])))} to {_e(_fmt(float(edges[k + 1])))}: {int(count)} rows</title></rect>"
        )
    low, high = (_fmt(float(edges[0])), _fmt(float(edges[-1]))) if len(edges) else ("-", "-")
    edge = SIZE - PAD
    return (
        f'<svg class="histogram" data-output="{_e(output)}" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label="shadow - primary: {_e(output)}">'
        f'<line class="axis" x1="{PAD}" y1="{edge}" x2="{edge}" y2="{edge}"/>'
        f'<g class="bars">{"".join(bars)}</g>'
        f'<text x="{PAD}" y="{SIZE - 8}">{_e(low)}</text>'
        f'<text x="{edge}" y="{SIZE - 8}" text-anchor="end">{_e(high)}</text>'
        f'<text x="{SIZE / 2}" y="{SIZE - 8}" text-anchor="middle">shadow - primary</text>'
        "</svg>"
    )


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th:first-child, td.name { text-align: left; }
code { font: 13px monospace; }
figure { display: inline-block; margin: 0 1em 1em 0; }
svg { background: #fafafa; border: 1px solid #ddd; }
svg text { font: 11px sans-serif; fill: #444; }
.axis { stroke: #888; }
.diagonal { stroke: #c33; stroke-dasharray: 4 3; }
.points circle { fill: #2a6ebb; fill-opacity: 0.5; }
.bars rect { fill: #2a6ebb; }
"""


def _shadow_section(comparison: ShadowComparison) -> str:
    numbers = comparison.numbers()
    primary, shadow = comparison.scores()
    rows = [
        ("primary ids", "primary_ids", numbers["primary_ids"]),
        ("requests", "requests", numbers["requests"]),
        ("failed", "failed", numbers["failed"]),
        ("rows", "rows", numbers["rows"]),
        ("rows compared", "rows_compared", numbers["rows_compared"]),
        ("rows only the primary refused", "primary_only_errors", numbers["primary_only_errors"]),
        ("rows only the shadow refused", "shadow_only_errors", numbers["shadow_only_errors"]),
        ("same class rows", "same_class_rows", numbers["same_class_rows"]),
        ("same class rate", "same_class_rate", numbers["same_class_rate"]),
    ]
    summary = "".join(f'<tr><th scope="row">{_e(label)}</th>{_cell(key, value)}</tr>' for label, key, value in rows)
    quantile_heads = "".join(f"<th>{name}</th>" for name, _ in QUANTILES)
    deltas = "".join(
        f'<tr><td class="name"><code>{_e(q["output"])}</code></td>'
        + "".join(_cell("abs_delta", q[name], output=q["output"], quantile=name) for name, _ in QUANTILES)
        + "</tr>"
        for q in numbers["abs_delta"]
    )
    latency_heads = "".join(f"<th>{name}</th>" for name, _ in LATENCY_QUANTILES)
    latency = "".join(
        f'<tr><td class="name">{side}</td>'
        + "".join(
            _cell("latency_ms", None if q is None else q[name], side=side, quantile=name)
            for q in [numbers["latency_ms"][side]]
            for name, _ in LATENCY_QUANTILES
        )
        + "</tr>"
        for side in ("shadow", "primary")
    )
    failures = "".join(
        f'<li data-count="{f["count"]}"><code>{_e(f["error"])}</code> ({f["count"]} requests)</li>'
        for f in numbers["failures"]
    )
    plots = "".join(
        f'<div class="output" data-output="{_e(output)}"><h3><code>{_e(output)}</code></h3>'
        f"<figure>{_scatter_svg(output, primary[:, j], shadow[:, j])}<figcaption>shadow vs primary, "
        f"{min(len(primary), SCATTER_CAP)} of {len(primary)} compared rows</figcaption></figure>"
        f"<figure>{_histogram_svg(output, shadow[:, j] - primary[:, j])}<figcaption>shadow - primary, "
        f"{len(primary)} rows</figcaption></figure></div>"
        for j, output in enumerate(numbers["outputs"])
    )
    return (
        f'<section class="shadow" data-shadow-id="{_e(comparison.shadow_id)}">'
        f"<h2>Shadow <code>{_e(comparison.shadow_id)}</code></h2>"
        f'<table class="summary">{summary}</table>'
        f'<h3>|shadow - primary| by quantile</h3><table class="deltas"><tr><th>output</th>{quantile_heads}</tr>{deltas}</table>'
        f'<h3>Latency (ms)</h3><table class="latency"><tr><th>model</th>{latency_heads}</tr>{latency}</table>'
        + (f'<h3>Failures</h3><ul class="failures">{failures}</ul>' if failures else "")
        + plots
        + "</section>"
    )


def report_html(log: ShadowLog, tag: str, comparisons: Iterable[ShadowComparison]) -> str:
    """A self-contained page: the report's numbers, and per shadow and output a scatter of the
    shadow's score against the primary's and a histogram of their difference, as inline SVG. No
    script, no external resource (its Content-Security-Policy allows none); every text from the
    log is escaped."""
    made = datetime.now(timezone.utc).isoformat(timespec="seconds")
    sections = "".join(_shadow_section(c) for c in comparisons)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>Shadow report: {_e(tag)}</title><style>{STYLE}</style></head>"
        f'<body><h1>Shadow report for tag <code id="tag">{_e(tag)}</code></h1>'
        f'<p>From the shadow log <code id="log">{_e(log.where)}</code>, made {made} by crossform {__version__}. '
        f"Scatter plots draw at most {SCATTER_CAP} rows per output, evenly spread over the compared rows.</p>"
        f"{sections}</body></html>\n"
    )
