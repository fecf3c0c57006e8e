"""The inputs of a package: named fields, each numeric or categorical."""

from __future__ import annotations

from dataclasses import dataclass

from ._validation import describe, invalid, is_text

NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)


@dataclass(frozen=True)
class Field:
    """One named input of a package: numbers (missing = NaN) or strings (missing = None)."""

    name: str
    kind: str

    def __post_init__(self) -> None:
        if not is_text(self.name) or not self.name:
            raise invalid("Field", "name", "a non-empty string", describe(self.name))
        if self.kind not in KINDS:
            raise invalid("Field", "kind", f"one of {KINDS}", describe(self.kind))
