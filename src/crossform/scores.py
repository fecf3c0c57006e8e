"""What scoring gives: one result type shared by the evaluator, every runtime and the checks.

It sits below them all (it knows nothing of packages, formats or the rules that
compute it), so the checks compare scores and a runtime builds them without
importing the reference evaluator. ``crossform.Scores`` and
``crossform.evaluator.Scores`` name this class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np


@dataclass(frozen=True, eq=False)
class Scores:
    """What scoring a batch gives.

    ``values[i, j]`` is output ``outputs[j]`` for row i (NaN in error rows);
    ``errors[i]`` is None or the message of row i's error; ``leaves[i, t]``
    is the node index of the leaf row i reached in tree t (-1 in error rows),
    when the runtime can report leaves and the model has trees, else None.
    """

    values: np.ndarray
    outputs: tuple
    errors: list
    classes: Union[tuple, None] = None
    leaves: Union[np.ndarray, None] = None

    @property
    def ok(self) -> np.ndarray:
        return np.equal(np.array(self.errors, dtype=object), None) if self.errors else np.zeros(0, dtype=bool)

    def labels(self) -> list:
        """The predicted class of each row (first of equal maxima), None in error rows."""
        if self.classes is None:
            raise ValueError("labels() needs a classifier; this package is a regressor")
        if self.values.shape[1] == 1:  # one decision score for two classes: class 1 iff it is > 0
            best = (self.values[:, 0] > 0).astype(np.int64)
        else:
            best = np.argmax(np.where(np.isnan(self.values), -np.inf, self.values), axis=1)
        return [None if e is not None else self.classes[k] for k, e in zip(best, self.errors)]

    def __len__(self) -> int:
        return len(self.errors)
