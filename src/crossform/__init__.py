"""crossform: export fitted scikit-learn pipelines to packages that score identically everywhere.

    import crossform
    package = crossform.from_sklearn(fitted_pipeline, owner="fraud-team")
    crossform.save(package, "model-pkg")              # stripe-json by default
    scores = crossform.score("model-pkg", dataframe)  # the reference evaluator
    scores.values, scores.outputs, scores.errors

The public API is this module's ``__all__``; everything else may change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

from . import identity, ir
from ._version import __version__
from .chunks import CHUNK_ROWS
from .errors import (
    CrossformError,
    IdMismatchError,
    InputError,
    IRValidationError,
    NotFittedError,
    PackageError,
    UnknownFormatError,
    UnknownRuntimeError,
    UnsupportedEstimatorError,
)
from .exporters import formats, load, read_package, save
from .ir import Package
from .scores import Scores

# The IR sits below identity and cannot import it: hand it the id function here, which runs
# before any crossform module does (docs/ARCHITECTURE.md).
ir.identify_packages_with(identity.package_id)

__all__ = [
    "__version__",
    "from_sklearn",
    "make_serializable",
    "save",
    "load",
    "score",
    "scorer",
    "formats",
    "runtimes",
    "CHUNK_ROWS",
    "Package",
    "Scores",
    "CrossformError",
    "IRValidationError",
    "UnsupportedEstimatorError",
    "NotFittedError",
    "InputError",
    "PackageError",
    "IdMismatchError",
    "UnknownFormatError",
    "UnknownRuntimeError",
]


def from_sklearn(
    estimator: Any,
    owner: Union[str, None] = None,
    tags=None,
    metadata=None,
    checks: Union[int, None] = None,
    input_names=None,
) -> Package:
    """Convert a fitted scikit-learn estimator or pipeline into a Package.

    ``owner``, ``tags`` (strings) and ``metadata`` (string to string) are
    recorded in the package and are part of its id. ``checks`` is the number
    of rows (default 1000, 0 for none) the package carries with the outputs
    scikit-learn gives for them: rows at the model's splits and leaves,
    special values and random rows. ``crossform validate`` and ``conform``
    score them; they are not part of the id.

    ``input_names`` names the package's input columns: one unique, non-empty
    string per column the estimator was fitted on, in the order it was fitted
    on them (``InputNamesError`` otherwise). By default they are the names of
    the DataFrame it was fitted on, or x0, x1, ... for an array. A package
    scores rows by column name, so an estimator fitted on an array gets the
    names its rows will carry.
    """
    from .sklearn import from_sklearn as convert

    return convert(estimator, owner=owner, tags=tags, metadata=metadata, checks=checks, input_names=input_names)


def make_serializable(estimator: Any, owner: Union[str, None] = None, tags=None, metadata=None):
    """Wrap an unfitted estimator so that fitting it on a DataFrame also builds its package.

    The returned scikit-learn estimator exposes ``.model_package`` and
    ``.to_content_hash()`` once fitted.
    """
    from .sklearn.serializable import SerializableModel

    return SerializableModel(estimator, owner=owner, tags=tags, metadata=metadata)


def runtimes() -> list:
    """Names of the registered runtimes ``score`` can be asked for."""
    from .runtime import runtimes as names

    return names()


def scorer(
    package: Union[Package, str, Path],
    runtime: str = "reference",
    chunk_rows: Union[int, None] = CHUNK_ROWS,
    **options: str,
):
    """A function ``data -> Scores`` that scores with ``package`` in ``runtime``.

    The package is read and the runtime prepared once, so the function can
    score any number of batches. A foreign runtime runs a saved file of its
    own format as it is (a float32 ONNX file stays float32); otherwise the
    package written in the first format it executes, with ``options`` (e.g.
    ``precision="float32"``). A batch longer than ``chunk_rows`` (default
    ``CHUNK_ROWS``, None for no limit) is scored that many rows at a time, so
    memory stays bounded; the scores are those of one batch.
    """
    from .chunks import chunked
    from .runtime import get_runtime

    get_runtime(runtime)  # an unknown name is refused before any file is read
    saved = None
    if not isinstance(package, Package):
        package, fmt, source = read_package(package)
        saved = (fmt, source) if isinstance(source, bytes) else None
    return chunked(package.inputs, _prepare(package, saved, runtime, options), chunk_rows)


def _prepare(package: Package, saved: Union[tuple, None], runtime: str, options: dict):
    """The runtime's function ``data -> Scores`` for ``package`` (``saved``: the format
    name and bytes of the file it was read from, if any)."""
    from .evaluator import score as evaluate
    from .exporters import check_options, get_format
    from .exporters import registry as format_registry
    from .runtime import get_runtime, unavailable

    engine = get_runtime(runtime)
    if runtime == "reference":
        return lambda data: evaluate(package, data)
    reason = unavailable(runtime)
    if reason is not None:
        raise UnknownRuntimeError(f"Runtime {runtime!r} cannot run here: {reason}.")
    if saved is not None and not options:
        fmt = get_format(saved[0])
        if runtime in fmt.RUNTIMES:
            return engine.prepare(saved[1], fmt)  # the very bytes the package was read and checked from
    for name, fmt in format_registry().items():
        if runtime in fmt.RUNTIMES:
            fmt = get_format(name)
            check_options(fmt, options)
            return engine.prepare(fmt.dumps(package, **options), fmt)
    raise UnknownRuntimeError(f"No registered format is executed by runtime {runtime!r}.")


def score(
    package: Union[Package, str, Path], data: Any, runtime: str = "reference", chunk_rows: Union[int, None] = CHUNK_ROWS
) -> Scores:
    """Score ``data`` (a DataFrame, a mapping of columns, or a list of row dicts).

    ``package`` is a Package or the path of a saved one. Rows that cannot be
    scored get NaN values and an error message; the other rows still score.
    A runtime other than "reference" scores the package as written in the
    first format that runtime executes; to score many batches, prepare once
    with :func:`scorer`. More than ``chunk_rows`` rows are scored in chunks
    of that size (see :func:`scorer`).
    """
    return scorer(package, runtime, chunk_rows=chunk_rows)(data)
