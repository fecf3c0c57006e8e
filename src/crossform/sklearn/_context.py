"""The conversion context: columns as values, encoder steps, and their names.

Converters see columns as :class:`Column` handles: a value id (what the
column holds), the name scikit-learn gives it at that point of the pipeline,
and nothing else. Each converter adds encoder steps that read some values
and produce new ones. Names for the package are chosen once, at the end,
by :meth:`Context.finish`: a step's output keeps scikit-learn's name and
overwrites its own input in place when nothing reads that input later, so
the common pipeline reads as in-place updates ("bird" -> "bird") while a
column used by two branches of a ColumnTransformer stays intact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Union

from .. import ir
from ..errors import UnsupportedEstimatorError


@dataclass(frozen=True)
class Column:
    value: int
    name: str


@dataclass(frozen=True)
class ModelSpec:
    """What a model converter returns: the columns it reads, and how to build
    the model once the package's column names are known."""

    columns: tuple
    build: Callable[[tuple], ir.Model]


@dataclass(frozen=True)
class _Step:
    build: Callable[[tuple, tuple], ir.Encoder]
    inputs: tuple  # value ids
    outputs: tuple  # value ids


Converted = Union[list, ModelSpec]


def qualified_name(cls: type) -> str:
    return f"{cls.__module__.split('._')[0]}.{cls.__qualname__}"


class Context:
    def __init__(self, converters: Mapping[type, Callable], refused: Mapping[type, str] = MappingProxyType({})):
        self.converters = converters
        self.refused = refused  # estimators refused with a reason of their own (a family's REFUSED)
        self._steps: list[_Step] = []
        self._names: list[str] = []  # value id -> scikit-learn's name at creation
        self._kinds: list = []  # value id -> kind, None while a raw input is undecided
        self._raw: list[int] = []
        self._aliases: dict[int, list] = {}  # value id -> later names (ColumnTransformer prefixes)

    # -- values

    def _new(self, name: str, kind) -> int:
        self._names.append(name)
        self._kinds.append(kind)
        return len(self._names) - 1

    def inputs(self, names: Sequence[str]) -> list:
        cols = [Column(self._new(str(name), None), str(name)) for name in names]
        self._raw.extend(c.value for c in cols)
        return cols

    def rename(self, cols: Sequence[Column], names: Sequence[str]) -> list:
        """The same values under new names; a renamed value prefers its new
        name in the package when its first name is taken."""
        out = []
        for col, name in zip(cols, names):
            if name != col.name:
                self._aliases.setdefault(col.value, []).append(name)
            out.append(Column(col.value, name))
        return out

    def kind(self, col: Column):
        return self._kinds[col.value]

    def require(self, cols: Sequence[Column], kinds, by: str) -> None:
        """Declare that ``by`` reads ``cols`` as ``kinds`` (one kind, or one per column).

        A raw input takes the kind of its first reader; any later reader must agree.
        """
        kinds = [kinds] * len(cols) if isinstance(kinds, str) else list(kinds)
        for col, kind in zip(cols, kinds):
            have = self._kinds[col.value]
            if have is None:
                self._kinds[col.value] = kind
            elif have != kind:
                raise UnsupportedEstimatorError(
                    f"{by} reads column {col.name!r} as {kind}, but it is {have} at that point of the pipeline."
                )

    # -- steps

    def add_step(
        self,
        build: Callable[[tuple, tuple], ir.Encoder],
        inputs: Sequence[Column],
        names: Sequence[str],
        kinds: Sequence[str],
    ) -> list:
        outputs = [Column(self._new(name, kind), name) for name, kind in zip(names, kinds)]
        self._steps.append(_Step(build, tuple(c.value for c in inputs), tuple(c.value for c in outputs)))
        return outputs

    def convert(self, estimator, cols: list) -> Converted:
        fn = self.converters.get(type(estimator))
        if fn is None and type(estimator) in self.refused:
            raise UnsupportedEstimatorError(
                f"crossform cannot convert {qualified_name(type(estimator))}: {self.refused[type(estimator)]}"
            )
        if fn is None:
            supported = sorted(qualified_name(cls) for cls in self.converters)
            raise UnsupportedEstimatorError(
                f"crossform cannot convert {qualified_name(type(estimator))}. "
                f"Supported: {', '.join(supported)}. Converters can be added through the "
                "'crossform.converters' entry-point group (docs/plugins.md)."
            )
        return fn(estimator, self, cols)

    # -- the package

    def finish(self, spec: ModelSpec) -> tuple:
        """Choose column names, build the encoders and the model: (inputs, encoders, model)."""
        end = len(self._steps)
        last_read: dict[int, int] = {}
        for i, step in enumerate(self._steps):
            for v in step.inputs:
                last_read[v] = i
        for col in spec.columns:
            last_read[col.value] = end

        name_of: dict[int, str] = {}
        holder: dict[str, int] = {}
        for v in self._raw:
            name_of[v] = self._names[v]
            holder[self._names[v]] = v

        def dead_after(name: str, i: int) -> bool:
            return last_read.get(holder[name], -1) <= i

        encoders = []
        for i, step in enumerate(self._steps):
            in_names = tuple(name_of[u] for u in step.inputs)
            out_names: list[str] = []
            for j, v in enumerate(step.outputs):
                base = self._names[v]
                candidates = [base, *self._aliases.get(v, ())]
                candidates += [f"{base}#{k}" for k in range(2, len(self._names) + 2)]
                for name in candidates:
                    if name in out_names:
                        continue
                    if j < len(in_names) and name == in_names[j]:
                        if dead_after(name, i):
                            break
                        continue
                    if name in in_names:
                        continue
                    if name not in holder or dead_after(name, i):
                        break
                out_names.append(name)
            for v, name in zip(step.outputs, out_names):
                name_of[v] = name
                holder[name] = v
            encoders.append(step.build(in_names, tuple(out_names)))

        read = set(last_read)
        inputs = tuple(ir.Field(self._names[v], self._kinds[v] or ir.NUMERIC) for v in self._raw if v in read)
        model = spec.build(tuple(name_of[c.value] for c in spec.columns))
        return inputs, tuple(encoders), model
