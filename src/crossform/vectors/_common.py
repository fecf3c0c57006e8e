"""What the probe-row modules share: the range path rows stay in, and how a feature is constrained."""

from __future__ import annotations

import math

from .. import rules

# Trees refuse numbers beyond the float32 range (crossform.rules), so path rows stay inside it.
LIMIT = rules.FLOAT32_FINITE[1]
INF = math.inf
FREE = (-INF, INF, True)  # an unconstrained feature: (lo, hi, NaN allowed)
UNSAT = object()  # no value of an input satisfies a path
# Several categories may share a code (infrequent categories); probing a few
# of them lets a change to any one of their codes show.
TIES = 4
