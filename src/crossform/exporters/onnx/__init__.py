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
  written as 1.2 wrote it and records 1.2 (OnnxFormat.needs);
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

The modules: _rules (names, options, versions, ops, errors, what the format
cannot express, the runtimes that run it), _graph (the graph builder),
_write (inputs, encoders, linear models, post transforms, metadata, the file),
_write_trees, _float32 (the variant's rounding and tolerance), _read (parse,
audit, metadata, inputs, encoders, the rebuild), _read_models and _nodes.
"""

from __future__ import annotations

from typing import Any

from ... import ir
from .. import _versions
from .._envelope import CLASSES
from .._format import Format
from . import _float32, _read, _rules, _write
from ._float32 import float32_checks, float32_package, float32_tolerance, stored
from ._read import loads, properties, read_version, sniff
from ._rules import (
    BRANCH_MEMBER,
    COLUMNS,
    DECISION,
    ERROR,
    EXTENSIONS,
    FLOAT32,
    FLOAT64,
    LAYOUT,
    LEAVES,
    MEMBER,
    MISSING_SUFFIX,
    NAME,
    OPS,
    OPTIONS,
    PER_TREE_VERSION,
    PREDICTION,
    PROBABILITIES,
    RUNTIMES,
    SCORES,
    SET_THRESHOLD,
    VARIANTS,
    VERSION,
    VOTES,
    OnnxCheckerError,
    OnnxDecodeError,
    OnnxExternalDataError,
    OnnxMetadataError,
    OnnxNotInstalledError,
    OnnxStructureError,
    needs,
    runtime_versions,
    unsupported,
    written_version,
)
from ._write import build, dumps

FormatVersionWarning = _versions.FormatVersionWarning


class OnnxFormat(Format):
    """ONNX: one file, a graph onnxruntime and onnx's ReferenceEvaluator run."""

    NAME = _rules.NAME
    VERSION = _rules.VERSION
    LAYOUT = _rules.LAYOUT
    RUNTIMES = _rules.RUNTIMES
    EXTENSIONS = _rules.EXTENSIONS
    OPTIONS = _rules.OPTIONS
    VARIANTS = _rules.VARIANTS
    TELLS_VERSION = True

    def dumps(self, package: ir.Package, **options: str) -> bytes:
        return _write.dumps(package, **options)

    def loads(self, source: bytes, where: str | None = None) -> ir.Package:
        return _read.loads(source, _rules.WHERE if where is None else where)

    def sniff(self, source: Any) -> bool:
        return _read.sniff(source)

    def read_version(self, source: bytes, where: str | None = None) -> str:
        return _read.read_version(source, _rules.WHERE if where is None else where)

    def unsupported(self, package: ir.Package) -> str | None:
        return _rules.unsupported(package)

    def written_version(self, package: ir.Package | None = None, **options: str) -> str:
        return _rules.written_version(package=package, **options)

    def stored(self, package: ir.Package, checks: Any, **options: str) -> tuple:
        return _float32.stored(package, checks, **options)

    def needs(self, package: ir.Package) -> str | None:
        return _rules.needs(package)

    def runtime_versions(self, version: str) -> dict:
        return _rules.runtime_versions(version)

    def properties(self, source: bytes) -> dict:
        return _read.properties(source)


FORMAT = OnnxFormat()

__all__ = [
    "BRANCH_MEMBER",
    "CLASSES",
    "COLUMNS",
    "DECISION",
    "ERROR",
    "EXTENSIONS",
    "FLOAT32",
    "FLOAT64",
    "FORMAT",
    "LAYOUT",
    "LEAVES",
    "MEMBER",
    "MISSING_SUFFIX",
    "NAME",
    "OPS",
    "OPTIONS",
    "PER_TREE_VERSION",
    "PREDICTION",
    "PROBABILITIES",
    "RUNTIMES",
    "SCORES",
    "VOTES",
    "SET_THRESHOLD",
    "VARIANTS",
    "VERSION",
    "FormatVersionWarning",
    "OnnxCheckerError",
    "OnnxDecodeError",
    "OnnxExternalDataError",
    "OnnxFormat",
    "OnnxMetadataError",
    "OnnxNotInstalledError",
    "OnnxStructureError",
    "build",
    "dumps",
    "float32_checks",
    "float32_package",
    "float32_tolerance",
    "loads",
    "needs",
    "properties",
    "read_version",
    "runtime_versions",
    "sniff",
    "stored",
    "unsupported",
    "written_version",
]
