"""Checks: rows with the outputs scikit-learn gave for them, and the comparison rule.

One JSON shape ("vectors", schemas/conformance-vectors-1.schema.json) serves
both the conformance case files and the checks a package carries: typed
columns, rows, a label per row saying why it is there, and the expected
outputs. Expected outputs always come from scikit-learn (see
``crossform.sklearn.expect``), never from the evaluator being judged.

The comparison follows docs/SEMANTICS.md: the same rows in error, every
value within the relative tolerance, the same predicted class, and the same
leaf in every tree. Leaves are compared as preorder positions (root 0, then
the left subtree, then the right), so the rule does not depend on how a
format numbers its nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from . import ir
from .errors import MalformedPackageError, shown
from .scores import Scores

TOLERANCE = 1e-12
SCHEMA = "conformance-vectors-1.schema.json"
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass(frozen=True, eq=False)
class Checks(ir.ChecksBase):
    """Rows and what a package must score for them.

    ``values[i]`` holds the expected outputs of row i; ``errors[i]`` says the
    row must be a row error (its values are NaN). ``predicted`` is the class
    of each row for classifiers (None in error rows); ``leaves[i, t]`` the
    preorder position of the leaf row i reaches in tree t (-1 in error rows),
    when known.
    """

    description: str
    columns: tuple  # of ir.Field: the row layout, with each column's kind
    rows: tuple  # of tuples: float (NaN allowed) for numeric, str or None for categorical
    labels: tuple  # why each row is there
    outputs: tuple
    values: np.ndarray
    errors: np.ndarray
    predicted: Union[tuple, None] = None
    leaves: Union[np.ndarray, None] = None
    tolerance: float = TOLERANCE
    expected_by: str = ""
    # a declared absolute bound: a lossy variant's (the float32 ONNX graph), or ISOLATION_ABSOLUTE; else 0
    absolute: float = 0.0

    def __post_init__(self) -> None:
        n = len(self.rows)
        if not (len(self.labels) == n == len(self.values) == len(self.errors)):
            raise ValueError(
                f"Checks need one label, value row and error flag per row ({n} rows); got "
                f"{len(self.labels)} labels, {len(self.values)} value rows, {len(self.errors)} flags"
            )
        if self.predicted is not None and len(self.predicted) != n:
            raise ValueError(f"Checks need one predicted class per row ({n}); got {len(self.predicted)}")
        if self.leaves is not None and len(self.leaves) != n:
            raise ValueError(f"Checks need one leaf row per row ({n}); got {len(self.leaves)}")

    def __len__(self) -> int:
        return len(self.rows)

    def data(self) -> dict:
        """The rows as a column mapping that crossform.score reads."""
        return {f.name: [row[j] for row in self.rows] for j, f in enumerate(self.columns)}


# ---------------------------------------------------------------- JSON


def _cell(value: Any, kind: str) -> Any:
    if kind == ir.NUMERIC:
        if value is None:
            return None
        value = float(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    return value


def _uncell(value: Any, kind: str) -> Any:
    if kind == ir.NUMERIC and isinstance(value, str):
        return _SPECIAL[value]
    if kind == ir.NUMERIC and value is not None:
        return float(value)
    return value


def to_document(checks: Checks) -> dict:
    kinds = [f.kind for f in checks.columns]
    doc: dict[str, Any] = {
        "description": checks.description,
        "columns": [{"name": f.name, "type": f.kind} for f in checks.columns],
        "rows": [[_cell(v, k) for v, k in zip(row, kinds)] for row in checks.rows],
        "rowLabels": list(checks.labels),
        "tolerance": (
            {"relative": checks.tolerance, "absolute": checks.absolute}
            if checks.absolute
            else {"relative": checks.tolerance}
        ),
        "expectedBy": checks.expected_by,
        "expected": {
            "outputs": list(checks.outputs),
            "values": [None if err else [float(v) for v in vals] for vals, err in zip(checks.values, checks.errors)],
        },
    }
    if checks.predicted is not None:
        doc["expected"]["classes"] = list(checks.predicted)
    if checks.leaves is not None:
        doc["expected"]["leaves"] = [
            None if err else [int(v) for v in leaf] for leaf, err in zip(checks.leaves, checks.errors)
        ]
    return doc


def from_document(doc: dict, where: str) -> Checks:
    """Build Checks from a document already valid against the vectors schema."""
    columns = tuple(ir.Field(c["name"], c["type"]) for c in doc["columns"])
    kinds = [f.kind for f in columns]
    expected = doc["expected"]
    n, width = len(doc["rows"]), len(expected["outputs"])

    def need(length: int, what: str) -> None:
        if length != n:
            raise MalformedPackageError(where, f"expected one {what} per row ({n} rows), found {length}")

    need(len(doc["rowLabels"]), "row label")
    need(len(expected["values"]), "expected value entry")
    for i, row in enumerate(doc["rows"]):
        if len(row) != len(columns):
            raise MalformedPackageError(
                where, f"row {i}: expected {len(columns)} values (one per column), found {len(row)}"
            )
        for value, f in zip(row, columns):
            if f.kind == ir.CATEGORICAL and not (value is None or isinstance(value, str)):
                raise MalformedPackageError(
                    where, f"row {i}: column {f.name!r} is categorical; expected a string or null, found {shown(value)}"
                )
            if f.kind == ir.NUMERIC and isinstance(value, (str, bool)) and value not in _SPECIAL:
                raise MalformedPackageError(
                    where,
                    f"row {i}: column {f.name!r} is numeric; expected a number, null, "
                    f'"NaN", "Infinity" or "-Infinity", found {shown(value)}',
                )
    errors = np.array([v is None for v in expected["values"]], dtype=bool)
    values = np.full((n, width), np.nan)
    for i, vals in enumerate(expected["values"]):
        if vals is not None:
            if len(vals) != width:
                raise MalformedPackageError(
                    where, f"expected values of row {i}: expected {width} numbers (one per output), found {len(vals)}"
                )
            values[i] = vals
    predicted = expected.get("classes")
    if predicted is not None:
        need(len(predicted), "expected class")
        predicted = tuple(predicted)
    leaves = expected.get("leaves")
    if leaves is not None:
        need(len(leaves), "expected leaf entry")
        widths = {len(leaf) for leaf in leaves if leaf is not None}
        if len(widths) > 1:
            raise MalformedPackageError(
                where, f"expected leaves: every row needs one leaf per tree, found rows of {sorted(widths)} leaves"
            )
        trees = widths.pop() if widths else 0
        leaves = np.array([[-1] * trees if leaf is None else leaf for leaf in leaves], dtype=np.int64).reshape(n, trees)
    return Checks(
        description=doc["description"],
        columns=columns,
        rows=tuple(tuple(_uncell(v, k) for v, k in zip(row, kinds)) for row in doc["rows"]),
        labels=tuple(doc["rowLabels"]),
        outputs=tuple(expected["outputs"]),
        values=values,
        errors=errors,
        predicted=predicted,
        leaves=leaves,
        tolerance=float(doc["tolerance"]["relative"]),
        expected_by=doc.get("expectedBy", ""),
        absolute=float(doc["tolerance"].get("absolute", 0.0)),
    )


# ---------------------------------------------------------------- float32 rows


def float32_rows(checks: Checks) -> np.ndarray:
    """Which rows hold only float32 values in their numeric columns (NaN and
    +-inf count): the rows a float32 graph receives exactly as written."""
    keep = np.ones(len(checks), dtype=bool)
    for j, f in enumerate(checks.columns):
        if f.kind != ir.NUMERIC:
            continue
        col = np.array([np.nan if row[j] is None else row[j] for row in checks.rows], dtype=np.float64)
        with np.errstate(over="ignore"):
            keep &= np.isnan(col) | (col.astype(np.float32).astype(np.float64) == col)
    return keep


def restrict(checks: Checks, keep: np.ndarray, absolute: float, why: str) -> Checks:
    """The rows of ``checks`` where ``keep`` holds, compared within ``absolute``
    as well as the relative tolerance; ``why`` goes into the description."""
    index = np.flatnonzero(keep)
    return Checks(
        description=f"{checks.description} ({why}: {len(index)} of {len(checks)} rows)",
        columns=checks.columns,
        rows=tuple(checks.rows[i] for i in index),
        labels=tuple(checks.labels[i] for i in index),
        outputs=checks.outputs,
        values=checks.values[index],
        errors=checks.errors[index],
        predicted=tuple(checks.predicted[i] for i in index) if checks.predicted is not None else None,
        leaves=checks.leaves[index] if checks.leaves is not None else None,
        tolerance=checks.tolerance,
        expected_by=checks.expected_by,
        absolute=max(float(absolute), checks.absolute),
    )


# ---------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Mismatch:
    """One way one row differs: ``kind`` is "error", "value", "class" or "leaf"."""

    row: int
    label: str
    kind: str
    what: str  # the output, "tree 3", or "" for errors
    expected: Any
    got: Any

    def describe(self) -> str:
        where = f"row {self.row}" + (f" ({self.label})" if self.label else "")
        if self.kind == "error":
            return f"{where}: expected {self.expected}, got {self.got}"
        return f"{where}: {self.what} expected {self.expected!r}, got {shown(self.got)}"

    def to_json(self) -> dict:
        return {
            "row": self.row,
            "label": self.label,
            "kind": self.kind,
            "what": self.what,
            "expected": _plain(self.expected),
            "got": _plain(self.got),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


@dataclass
class Comparison:
    rows: int
    counts: dict = field(default_factory=dict)  # kind -> number of rows that differ that way
    mismatches: list = field(default_factory=list)  # the first few, in row order
    leaves_compared: bool = False
    max_relative_difference: float = 0.0
    absolute: float = 0.0  # the declared bound values were held to (0: the relative tolerance alone)

    @property
    def ok(self) -> bool:
        return not any(self.counts.values())

    def summary(self) -> str:
        if self.ok and self.absolute:
            return f"{self.rows} rows agree within the declared tolerance {self.absolute:g}"
        if self.ok:
            return f"{self.rows} rows identical"
        parts = [
            f"{count} {'row differs' if count == 1 else 'rows differ'} in {kind}"
            for kind, count in self.counts.items()
            if count
        ]
        return ", ".join(parts)


# An isolation forest's decision (score - offset) cancels near the offset, so the last-bit
# differences of each runtime's pow (numpy's, glibc's, Java's) are not small relative to it;
# its checks hold every value within this absolute bound as well (scores lie in [-1, 0]).
ISOLATION_ABSOLUTE = 1e-12
# XGBoost's logistic, softmax and exp transforms call the C library's expf. The rule is glibc's and
# musl's expf (crossform.floats.expf, SEMANTICS note 13), bit for bit; XGBoost built against
# another C library (macOS, Windows) may round a value one float32 ulp the other way, which moves
# a probability or an exp by at most a couple of float32 ulps: XGBOOST_EXPF_RELATIVE. A binary
# model's 1 - p, near 0 when p is near 1, moves by p's ulp, at most 2^-24: XGBOOST_EXPF_ABSOLUTE.
XGBOOST_EXPF_RELATIVE = 2.0**-21
XGBOOST_EXPF_ABSOLUTE = 2.0**-24


def leaf_positions(model: ir.Model, leaves: Union[np.ndarray, None]) -> Union[np.ndarray, None]:
    """Node indices (per tree, -1 for none) as preorder positions; None where
    there are no leaves (a linear model, a runtime that does not report them)."""
    if leaves is None:
        return None
    out = np.full(leaves.shape, -1, dtype=np.int64)
    for t, tree in enumerate(model.trees):
        position = np.empty(tree.n_nodes, dtype=np.int64)
        position[tree.preorder] = np.arange(tree.n_nodes)
        column = leaves[:, t]
        seen = column >= 0
        out[seen, t] = position[column[seen]]
    return out


def compare(checks: Checks, scores: Scores, model: ir.TreeEnsemble, limit: int = 20) -> Comparison:
    """Compare a runtime's scores with the expected outputs, row by row."""
    n = len(checks)
    result = Comparison(rows=n, absolute=checks.absolute)
    found: list[Mismatch] = []
    label = checks.labels
    if tuple(scores.outputs) != tuple(checks.outputs):
        result.counts["outputs"] = n
        found.append(Mismatch(-1, "", "outputs", "outputs", list(checks.outputs), list(scores.outputs)))
        result.mismatches = found
        return result
    got_error = ~scores.ok
    differ = got_error != checks.errors
    result.counts["error"] = int(differ.sum())
    for i in np.flatnonzero(differ)[:limit]:
        i = int(i)
        want = "a row error" if checks.errors[i] else "scores"
        got = f"a row error ({scores.errors[i]})" if got_error[i] else "scores"
        found.append(Mismatch(i, label[i], "error", "", want, got))

    both = ~checks.errors & ~got_error
    want, got = checks.values, scores.values
    with np.errstate(invalid="ignore"):
        diff = np.abs(got - want)
        # equal values agree (an infinite score equals itself, though inf - inf is NaN)
        bad = both[:, None] & ~((got == want) | (diff <= np.maximum(checks.tolerance * np.abs(want), checks.absolute)))
        relative = np.where(both[:, None] & (want != 0), diff / np.where(want != 0, np.abs(want), 1.0), 0.0)
    if both.any():
        result.max_relative_difference = float(np.nanmax(np.where(np.isnan(relative), np.inf, relative)))
    result.counts["value"] = int(bad.any(axis=1).sum())
    for i in np.flatnonzero(bad.any(axis=1))[:limit]:
        j = int(np.flatnonzero(bad[i])[0])
        found.append(Mismatch(int(i), label[i], "value", checks.outputs[j], float(want[i, j]), float(got[i, j])))

    if checks.predicted is not None and scores.classes is not None:
        got_class = scores.labels()
        wrong = [
            i
            for i in np.flatnonzero(both)
            if got_class[i] != checks.predicted[i] or type(got_class[i]) is not type(checks.predicted[i])
        ]
        if checks.absolute:
            # within a declared bound, two classes whose expected probabilities are
            # closer than twice the bound may swap places: not a difference
            ranked = np.sort(checks.values, axis=1)
            if ranked.shape[1] > 1:
                near_tie = ranked[:, -1] - ranked[:, -2] <= 2 * checks.absolute
                wrong = [i for i in wrong if not near_tie[i]]
        result.counts["class"] = len(wrong)
        for i in wrong[:limit]:
            found.append(Mismatch(int(i), label[i], "class", "class", checks.predicted[i], got_class[i]))

    if checks.leaves is not None and scores.leaves is not None and n:
        result.leaves_compared = True
        got_leaves = leaf_positions(model, scores.leaves)
        if got_leaves.shape[1] != checks.leaves.shape[1]:
            result.counts["leaf"] = n
            found.append(Mismatch(-1, "", "leaf", "trees", checks.leaves.shape[1], got_leaves.shape[1]))
        else:
            wrong_leaf = both[:, None] & (got_leaves != checks.leaves)
            rows = np.flatnonzero(wrong_leaf.any(axis=1))
            result.counts["leaf"] = len(rows)
            for i in rows[:limit]:
                t = int(np.flatnonzero(wrong_leaf[i])[0])
                found.append(
                    Mismatch(
                        int(i), label[i], "leaf", f"tree {t} leaf", int(checks.leaves[i, t]), int(got_leaves[i, t])
                    )
                )
    found.sort(key=lambda m: (m.row, m.kind))
    result.mismatches = found[:limit]
    return result
