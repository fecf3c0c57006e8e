"""The frozen reader of stripe-json 1.x trees: JSON struct-of-arrays per tree.

stripe-json 2.0 stores trees as bonsai; packages written in 1.x keep
reading through this module, which never changes (docs/FORMATS.md).
"""

from __future__ import annotations

import numpy as np

from ... import ir
from ...errors import IRValidationError


def tree(doc: dict, width: int, index: int) -> ir.Tree:
    n = len(doc["feature"])
    value = np.asarray(doc["value"], dtype=np.float64)
    if value.size != n * width:
        raise IRValidationError(
            f"The 'value' array of tree {index} must hold {n} nodes x {width} outputs = "
            f"{n * width} numbers. Got {value.size} instead."
        )
    return ir.Tree(
        feature=np.asarray(doc["feature"], dtype=np.int64),
        threshold=np.asarray(doc["threshold"], dtype=np.float64),
        left=np.asarray(doc["left"], dtype=np.int64),
        right=np.asarray(doc["right"], dtype=np.int64),
        missing_left=np.asarray(doc["missingLeft"], dtype=bool),
        value=value.reshape(n, width),
    )
