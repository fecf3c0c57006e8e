"""The package: inputs, encoders and one model, checked as a whole dataflow."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Union

from ._validation import describe, invalid, is_text, name_tuple
from .encoders import ENCODER_TYPES
from .fields import NUMERIC, Field
from .models import MODEL_TYPES, Model


def _string_map(owner: str, name: str, value: Any) -> Mapping[str, str]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise invalid(owner, name, "a mapping of strings to strings", describe(value))
    for k, v in value.items():
        if not is_text(k) or not is_text(v):
            raise invalid(owner, name, "a mapping of strings to strings", f"{k!r}: {describe(v)}")
    return MappingProxyType(dict(sorted(value.items())))


class ChecksBase:
    """The base of :class:`crossform.checks.Checks`, what ``Package.checks`` holds.

    The checks (rows and outputs, their JSON, the comparison rule) live in a
    layer above the IR; this base lets Package check the field's type without
    importing that layer (docs/ARCHITECTURE.md).
    """

    __slots__ = ()


# Package.id is the hash of docs/IDENTITY.md, computed by crossform.identity, a layer above
# the IR: identity reads every IR type, and the IR knows nothing of how it is hashed.
# crossform/__init__.py hands identity's function over through identify_packages_with; it runs
# before any crossform module, so every Package sees it.
_package_id: Union[Callable[[Package], str], None] = None


def identify_packages_with(package_id: Callable[[Package], str]) -> None:
    """Make ``package_id`` compute ``Package.id`` (crossform/__init__.py passes crossform.identity's)."""
    global _package_id
    _package_id = package_id


@dataclass(frozen=True, eq=False)
class Package:
    """A whole model: inputs, encoders, one model, and what its author declared.

    ``owner``, ``tags`` and ``metadata`` are part of the package id;
    ``producer`` (the library versions that wrote it) is not, so exporting
    the same fit again, later or to another format, gives the same id.
    Nor is ``checks`` (a :class:`crossform.checks.Checks`: rows with the
    outputs scikit-learn gave at export), which tests the package and is
    not part of the model.
    """

    inputs: tuple
    encoders: tuple
    model: Model
    owner: Union[str, None] = None
    tags: tuple = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    producer: Mapping[str, str] = field(default_factory=dict)
    checks: Any = None

    def __post_init__(self) -> None:
        owner = "Package"
        if isinstance(self.inputs, (str, bytes)) or not isinstance(self.inputs, Sequence) or not self.inputs:
            raise invalid(owner, "inputs", "a non-empty sequence of Field", describe(self.inputs))
        inputs = tuple(self.inputs)
        for f in inputs:
            if not isinstance(f, Field):
                raise invalid(owner, "inputs", "Field objects", describe(f))
        if len({f.name for f in inputs}) != len(inputs):
            raise invalid(owner, "inputs", "fields with distinct names", [f.name for f in inputs])
        if isinstance(self.encoders, (str, bytes)) or not isinstance(self.encoders, Sequence):
            raise invalid(owner, "encoders", "a sequence of encoders", describe(self.encoders))
        encoders = tuple(self.encoders)
        for e in encoders:
            if not isinstance(e, ENCODER_TYPES):
                raise invalid(
                    owner, "encoders", f"encoders ({', '.join(t.__name__ for t in ENCODER_TYPES)})", describe(e)
                )
        if not isinstance(self.model, MODEL_TYPES):
            raise invalid(owner, "model", "a TreeEnsemble, LinearModel or Composite", describe(self.model))
        if self.owner is not None and not is_text(self.owner):
            raise invalid(owner, "owner", "a string or None", describe(self.owner))
        tags = name_tuple(owner, "tags", self.tags, allow_empty=True)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "encoders", encoders)
        object.__setattr__(self, "tags", tuple(sorted(set(tags))))
        object.__setattr__(self, "metadata", _string_map(owner, "metadata", self.metadata))
        object.__setattr__(self, "producer", _string_map(owner, "producer", self.producer))
        if self.checks is not None and not isinstance(self.checks, ChecksBase):
            raise invalid(owner, "checks", "a crossform.checks.Checks or None", describe(self.checks))
        _check_dataflow(self)

    @cached_property
    def id(self) -> str:
        """``sha256.`` + base32 of the canonical bytes (docs/IDENTITY.md), from crossform.identity."""
        return _package_id(self)

    def to_content_hash(self) -> str:
        """The package id (the seed's name for it)."""
        return self.id

    @property
    def outputs(self) -> tuple:
        return self.model.outputs

    @property
    def model_type(self) -> str:
        return self.model.model_type

    def replace(self, **changes: Any) -> Package:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _check_dataflow(package: Package) -> None:
    """Every name an encoder or the model reads exists, with the right kind."""
    kinds = {f.name: f.kind for f in package.inputs}
    for position, encoder in enumerate(package.encoders):
        owner = f"{type(encoder).__name__} (encoder {position})"
        wanted, produced = encoder.kinds()
        for name, kind in zip(encoder.features, wanted):
            if name not in kinds:
                raise invalid(owner, "features", "names of inputs or of earlier encoder outputs", repr(name))
            if kinds[name] != kind:
                raise invalid(owner, "features", f"a {kind} column for {name!r}", f"a {kinds[name]} column")
        kinds.update(zip(encoder.outputs, produced))
    for name in package.model.features:
        if name not in kinds:
            raise invalid(type(package.model).__name__, "features", "names of inputs or encoder outputs", repr(name))
        if kinds[name] != NUMERIC:
            raise invalid(
                type(package.model).__name__,
                "features",
                f"numeric columns (encode {name!r} first)",
                "a categorical column",
            )
