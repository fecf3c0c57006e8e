"""scikit-learn estimators that only tests define (a plugin module imports them by name)."""

from __future__ import annotations

from sklearn.preprocessing import StandardScaler


class HalfScaler(StandardScaler):
    """A subclass: exact-class dispatch means it needs a converter of its own."""
