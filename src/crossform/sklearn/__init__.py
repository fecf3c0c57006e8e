"""The scikit-learn frontend: fitted estimators in, ``crossform.ir.Package`` out.

Converters live in one table per scikit-learn family (the CONVERTERS dict
at the bottom of each module listed in FAMILIES). Third parties add
converters through the entry-point group ``crossform.converters``: each
entry point names a mapping ``{EstimatorClass: convert_fn}``. A converter
is ``fn(estimator, ctx, columns)`` returning the output columns of a
transformer (built with ``ctx.add_step``) or a ``ModelSpec`` for a model.
Conversion dispatches on the exact class: a subclass may change behaviour,
so it needs its own converter.
"""

from __future__ import annotations

import importlib
import itertools
import platform
import sys
import warnings
from collections.abc import Callable, Mapping
from functools import cache
from importlib.metadata import entry_points

import numpy as np

from .. import ir
from .._version import __version__
from ..errors import InputNamesError, NotFittedError, UnsupportedEstimatorError
from ._context import Column, Context, ModelSpec, qualified_name

__all__ = ["from_sklearn", "converters", "Column", "Context", "ModelSpec"]

FAMILIES = (
    "crossform.sklearn.adaboost",
    "crossform.sklearn.anomaly",
    "crossform.sklearn.boosting",
    "crossform.sklearn.composite",
    "crossform.sklearn.compose",
    "crossform.sklearn.derived",
    "crossform.sklearn.feature_selection",
    "crossform.sklearn.impute",
    "crossform.sklearn.linear",
    "crossform.sklearn.preprocessing",
    "crossform.sklearn.target",
    "crossform.sklearn.tree",
)
# Families for libraries outside scikit-learn, behind their own extras: library -> module. A
# family is loaded once its library is imported (a fitted model of it exists only then), so
# importing crossform never imports them.
LIBRARY_FAMILIES = {"lightgbm": "crossform.sklearn.lightgbm", "xgboost": "crossform.sklearn.xgboost"}
ENTRY_POINT_GROUP = "crossform.converters"
# The oldest release of each such library crossform exports from: the oldest side venv
# (conformance/oldest-constraints.txt) refits every generator with it, so nothing older is
# proven. LightGBM 3.0's scikit-learn models keep no public fitted attribute (scikit-learn calls
# them unfitted); XGBoost 1.5 writes no JSON model from save_raw, and 1.6 cannot fit the suite's
# reg:absoluteerror case (that objective came in 1.7).
OLDEST_RELEASES = {"lightgbm": "3.1", "xgboost": "1.7"}


def converters() -> Mapping[type, Callable]:
    """Built-in converters (with the families of the libraries imported so far), then those of
    installed plugins (which may not replace built-ins)."""
    return _converters(tuple(sorted(lib for lib in LIBRARY_FAMILIES if lib in sys.modules)))


def refused() -> Mapping[type, str]:
    """Estimators the built-in families refuse with a reason of their own (each family's optional
    REFUSED table: class -> why no exact export exists), beyond the generic "cannot convert"."""
    table: dict = {}
    for module in FAMILIES:
        table.update(getattr(importlib.import_module(module), "REFUSED", {}))
    return table


def _clear() -> None:
    _converters.cache_clear()


converters.cache_clear = _clear  # what tests and plugin loaders call after installing an entry point


@cache
def _converters(libraries: tuple) -> Mapping[type, Callable]:
    table: dict = {}
    for module in FAMILIES + tuple(LIBRARY_FAMILIES[lib] for lib in libraries):
        table.update(importlib.import_module(module).CONVERTERS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        extra = ep.load()
        if not isinstance(extra, Mapping):
            raise UnsupportedEstimatorError(
                f"Entry point {ep.name!r} ({ep.value}) of group {ENTRY_POINT_GROUP!r} must name a mapping of "
                f"estimator class to converter. Got {type(extra).__name__} instead."
            )
        for cls, fn in extra.items():
            if cls in table and table[cls] is not fn:
                warnings.warn(
                    f"Entry point {ep.name!r} tries to replace the built-in converter for "
                    f"{qualified_name(cls)}; keeping the built-in one.",
                    stacklevel=2,
                )
                continue
            table[cls] = fn
    return table


def _release(version: str) -> tuple:
    parts = []
    for part in version.split(".")[:2]:
        digits = "".join(itertools.takewhile(str.isdigit, part))
        parts.append(int(digits or 0))
    return tuple(parts)


def _check_library_releases(estimator) -> None:
    """Refuse, by name, a model of a library release older than OLDEST_RELEASES."""
    from .compose import pipeline_steps

    for step in pipeline_steps(estimator):
        library = type(step).__module__.split(".")[0]
        if library in OLDEST_RELEASES and library in sys.modules:
            installed = str(getattr(sys.modules[library], "__version__", "0"))
            if _release(installed) < _release(OLDEST_RELEASES[library]):
                raise UnsupportedEstimatorError(
                    f"crossform exports {library} models from release {OLDEST_RELEASES[library]} on; "
                    f"this {type(step).__name__} comes from {library} {installed}. Upgrade {library}."
                )


def _check_fitted(estimator) -> None:
    from sklearn.exceptions import NotFittedError as SklearnNotFitted
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(estimator, "get_params") and type(estimator) in converters():
        return  # a library's own model object (a LightGBM Booster): trained when it exists
    try:
        check_is_fitted(estimator)
    except SklearnNotFitted:
        raise NotFittedError(f"{type(estimator).__name__} is not fitted; fit it before exporting.") from None
    except TypeError as exc:
        raise UnsupportedEstimatorError(f"{estimator!r} is not a scikit-learn estimator: {exc}") from None


def producer_versions(estimator=None) -> dict:
    """The versions of what produced a package: crossform, scikit-learn, numpy, Python, and the
    library of any step of ``estimator`` from LIBRARY_FAMILIES (lightgbm for a LightGBM model)."""
    import sklearn

    from .compose import pipeline_steps

    steps = pipeline_steps(estimator) if estimator is not None else []
    used = {type(step).__module__.split(".")[0] for step in steps}
    libraries = {lib: sys.modules[lib].__version__ for lib in LIBRARY_FAMILIES if lib in used}
    return {
        "crossform": __version__,
        "scikit-learn": sklearn.__version__,
        **libraries,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def resolve_input_names(estimator, given=None) -> tuple:
    """The package's name for each column the fitted estimator reads, in order.

    ``given`` (None, or one string per column) names them; by default they keep
    the names the estimator was fitted with, or x0, x1, ... for an array.
    """
    from .compose import fitted_inputs

    fitted, count = fitted_inputs(estimator)
    if given is None:
        return tuple(fitted) if fitted is not None else tuple(f"x{i}" for i in range(count))
    if isinstance(given, (str, bytes)):
        raise InputNamesError(
            f"input_names must be a sequence of strings, not one string. Got the string {given!r} instead."
        )
    try:
        given = list(given)
    except TypeError:
        raise InputNamesError(
            f"input_names must be a sequence of strings. Got {type(given).__name__} instead."
        ) from None
    if len(given) != count:
        raise InputNamesError(
            f"input_names must give {count} names, one per column the estimator was fitted on. "
            f"Got {len(given)} instead."
        )
    for position, name in enumerate(given):
        if not isinstance(name, str):
            raise InputNamesError(
                f"input_names must be strings. Got {name!r} ({type(name).__name__}) at position {position} instead."
            )
        if not name:
            raise InputNamesError(f"input_names must be non-empty strings. Got '' at position {position} instead.")
    seen: set = set()
    for name in given:
        if name in seen:
            raise InputNamesError(f"input_names must be unique names. Got {name!r} twice instead.")
        seen.add(name)
    return tuple(given)


def from_sklearn(estimator, owner=None, tags=None, metadata=None, checks=None, input_names=None) -> ir.Package:
    """Convert a fitted estimator or pipeline that ends in a supported model.

    ``checks``: how many rows of checks to attach (rows at the model's
    splits and leaves, special values, random rows, with scikit-learn's
    outputs for them); None for the default, 0 for none. ``input_names``:
    the package's name for each column the estimator was fitted on, in order
    (see :func:`resolve_input_names`).
    """
    _check_library_releases(estimator)
    _check_fitted(estimator)
    names = resolve_input_names(estimator, input_names)
    ctx = Context(converters(), refused())
    result = ctx.convert(estimator, ctx.inputs(names))
    if not isinstance(result, ModelSpec):
        raise UnsupportedEstimatorError(
            f"{type(estimator).__name__} ends in a transformer; crossform exports pipelines that end in a model."
        )
    inputs, encoders, model = ctx.finish(result)
    package = ir.Package(
        inputs=inputs,
        encoders=encoders,
        model=model,
        owner=owner,
        tags=tuple(tags or ()),
        metadata=dict(metadata or {}),
        producer=producer_versions(estimator),
    )
    from .expect import DEFAULT_ROWS, checks_for

    rows = DEFAULT_ROWS if checks is None else int(checks)
    if rows < 0:
        raise ValueError(f"checks must be a number of rows >= 0 (0 for none). Got {checks!r} instead.")
    if rows:
        package = package.replace(checks=checks_for(estimator, package, max_rows=rows, input_names=names))
    return package
