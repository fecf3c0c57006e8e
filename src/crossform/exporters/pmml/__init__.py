"""pmml: one file, a PMML 4.4 document written from the IR, scored by JPMML.

docs/formats/pmml.md is the spec. The document scores exactly as
docs/SEMANTICS.md says in a PMML consumer that follows the standard (JPMML
is the one crossform runs):

- DataDictionary: one DataField per package field (numeric: continuous
  double; categorical: string) and the target ``crossform:target``. The
  values the reference refuses are *invalid* values of the field they come
  from (MiningField invalidValueTreatment="returnInvalid"): an Interval with
  the exact smallest and largest accepted double, computed through the
  encoders (which are monotone; pmml.accepts); the accepted categories as
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
  RegressionModels; "composite", a modelChain of the members (Segment
  ``m<i>``, each a MiningModel of its own layout reporting
  ``crossform:m<i>.out(k)``) and a stack's final model, the combination
  stated in the top Output as Apply expressions (composite_writer), then a
  regressor's target steps (the prediction refused where not finite, one Apply
  per step: + - * / exp expm1). XGBoost's float32
  accumulation and transforms (float32) and the weighted median (weighted_median) are Output
  fields reading each tree's value by segmentId. In a TreeModel node ids are preorder positions, the left
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

A file records format version 1.2 when the package uses a feature 1.2 added
(:func:`rules.needs`, from the shared FEATURES_SINCE), else 1.0 with leaf
outputs and 1.1 without (rules.BASE_VERSION), its bytes those crossform 0.4.0
wrote, so released readers still read it.

JPMML reads input fields lazily, so a field whose value is refused must be
read for every row: the first Segment's predicate reads each such field
(``isMissing or isNotMissing``: true for every value it accepts), and each
product field that checks its value (a product reads several fields, so it
checks its own overflow: encoders._product_fields).

The writer streams text (:func:`iter_chunks`); no element tree is built. The
reader refuses a DOCTYPE or any entity before anything else, parses the
trees' Node lines line by line and the rest with expat (any other layout:
all of it with expat), rebuilds the IR, writes it again and requires the
same bytes, so anything but a document this package writes is refused with a
named error.

The modules: ``rules`` (names, options, versions, limits, errors, what PMML
cannot express, runtime releases), ``writer`` (the document around the model)
and ``model_writer`` (the model), ``encoders`` (each encoder kind's DerivedFields
written and read, in the tables ENCODER_FIELDS and ENCODER_READERS), ``parse``
(bytes to parsed events), ``reader`` (the package rebuilt and compared) and
``model_reader`` (the model).
"""

from __future__ import annotations

from typing import Any, Union

from ... import ir
from .._format import Format
from .parse import properties, read_version, sniff
from .reader import loads
from .rules import (
    EXTENSIONS,
    LAYOUT,
    NAME,
    OFF,
    ON,
    OPTIONS,
    RUNTIMES,
    VARIANTS,
    VERSION,
    WHERE,
    FormatVersionWarning,
    PmmlDecodeError,
    PmmlDoctypeError,
    PmmlHeaderError,
    PmmlNamespaceError,
    PmmlNumberError,
    PmmlStructureError,
    leaf_record_counts,
    leaf_values,
    needs,
    runtime_versions,
    stored,
    unsupported,
    written_version,
)
from .writer import dumps, iter_chunks, write

__all__ = [
    "EXTENSIONS",
    "FORMAT",
    "LAYOUT",
    "NAME",
    "OFF",
    "ON",
    "OPTIONS",
    "RUNTIMES",
    "VARIANTS",
    "VERSION",
    "FormatVersionWarning",
    "PmmlDecodeError",
    "PmmlDoctypeError",
    "PmmlFormat",
    "PmmlHeaderError",
    "PmmlNamespaceError",
    "PmmlNumberError",
    "PmmlStructureError",
    "dumps",
    "iter_chunks",
    "leaf_record_counts",
    "leaf_values",
    "loads",
    "needs",
    "properties",
    "read_version",
    "runtime_versions",
    "sniff",
    "stored",
    "unsupported",
    "write",
    "written_version",
]


class PmmlFormat(Format):
    """The pmml format, as crossform's registry sees it."""

    NAME = NAME
    VERSION = VERSION
    LAYOUT = LAYOUT
    RUNTIMES = RUNTIMES
    EXTENSIONS = EXTENSIONS
    OPTIONS = OPTIONS
    VARIANTS = VARIANTS
    TELLS_VERSION = True

    def dumps(self, package: ir.Package, **options: str) -> bytes:
        return dumps(package, **options)

    def loads(self, source: Any, where: Union[str, None] = None) -> ir.Package:
        return loads(source, WHERE if where is None else where)

    def sniff(self, source: Any) -> bool:
        return sniff(source)

    def read_version(self, source: Any, where: Union[str, None] = None) -> str:
        return read_version(source, WHERE if where is None else where)

    def unsupported(self, package: ir.Package) -> Union[str, None]:
        return unsupported(package)

    def written_version(self, package: Union[ir.Package, None] = None, **options: str) -> str:
        return written_version(package, **options)

    def stored(self, package: ir.Package, checks: Any, **options: str) -> tuple:
        return stored(package, checks, **options)

    def needs(self, package: ir.Package) -> Union[str, None]:
        return needs(package)

    def runtime_versions(self, version: str) -> dict:
        return runtime_versions(version)

    def properties(self, source: Any) -> dict:
        return properties(source)


FORMAT = PmmlFormat()
