"""The crossform intermediate representation (IR).

Every frontend produces these objects and every format reads and writes
them; nothing else crosses that boundary. The objects are small frozen
dataclasses holding read-only numpy arrays, validated on construction, so
an IR object that exists is one every evaluator can score. The rules for
scoring them are in docs/SEMANTICS.md; how they are hashed into a package
id is in docs/IDENTITY.md.

A package reads named input fields, runs its encoders in order over a row
(each encoder maps some named columns to named output columns), and feeds
the model the columns named by ``model.features``, in that order.

The modules hold one kind of thing each (fields, encoders, trees, models,
the package, the validation helpers); callers use the names below through
``crossform.ir``, never a module path.
"""

from __future__ import annotations

from ._validation import invalid
from .encoders import (
    CENTRINGS,
    ENCODER_TYPES,
    UNKNOWN_POLICIES,
    Affine,
    Binning,
    CategoricalEncoding,
    Encoder,
    FillMissing,
    IntegerCode,
    MissingBand,
    MissingIndicator,
    NumberCategory,
    OneHot,
    Product,
    Projection,
    RefuseMissing,
    Scale,
)
from .fields import CATEGORICAL, KINDS, NUMERIC, Field
from .models import (
    ACCUMULATE_RULES,
    AGGREGATIONS,
    CALIBRATION_METHODS,
    COMBINATIONS,
    INFINITE_RULES,
    ISOLATION_OUTPUTS,
    LINEAR_POST_TRANSFORMS,
    MEMBER_TYPES,
    MISSING_RULES,
    MODEL_TYPES,
    POST_TRANSFORMS,
    TARGET_COMBINATIONS,
    TARGET_FUNCTIONS,
    TARGET_OPERATIONS,
    Composite,
    LinearModel,
    Model,
    TreeEnsemble,
    calibration_widths,
    class_labels,
    isotonic_interpolate,
    pairwise_sum,
    stack_columns,
    stack_widths,
)
from .package import ChecksBase, Package, identify_packages_with
from .trees import MAX_SET_SIZE, Tree, preorder_positions

__all__ = [
    "ACCUMULATE_RULES",
    "AGGREGATIONS",
    "CATEGORICAL",
    "CALIBRATION_METHODS",
    "COMBINATIONS",
    "TARGET_FUNCTIONS",
    "TARGET_COMBINATIONS",
    "TARGET_OPERATIONS",
    "CENTRINGS",
    "ENCODER_TYPES",
    "INFINITE_RULES",
    "ISOLATION_OUTPUTS",
    "KINDS",
    "LINEAR_POST_TRANSFORMS",
    "MAX_SET_SIZE",
    "MEMBER_TYPES",
    "MISSING_RULES",
    "MODEL_TYPES",
    "NUMERIC",
    "POST_TRANSFORMS",
    "UNKNOWN_POLICIES",
    "Affine",
    "Binning",
    "IntegerCode",
    "MissingBand",
    "CategoricalEncoding",
    "ChecksBase",
    "Composite",
    "Encoder",
    "Field",
    "FillMissing",
    "LinearModel",
    "MissingIndicator",
    "Model",
    "NumberCategory",
    "OneHot",
    "Package",
    "Product",
    "Projection",
    "RefuseMissing",
    "Scale",
    "Tree",
    "TreeEnsemble",
    "calibration_widths",
    "pairwise_sum",
    "isotonic_interpolate",
    "class_labels",
    "identify_packages_with",
    "invalid",
    "preorder_positions",
    "stack_columns",
    "stack_widths",
]
