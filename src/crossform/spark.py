"""Batch scoring on Spark: a DataFrame in, the same DataFrame with scores and per-row errors out.

``score(df, package)`` resolves the package once, on the driver, before any Spark job runs:

- a path (a directory or file package) is read and its id computed from its bytes;
- a package id ``sha256.<base32>`` is fetched from the store, whose ``fetch`` recomputes the id
  from the bytes and refuses a changed object with :class:`crossform.errors.StoreIntegrityError`;
- anything else is a tag, looked up in the registry to the id it points at now, then fetched as
  an id. A backfill started by tag scores every row with that one id even if the tag is
  deployed elsewhere while it runs.

So a tampered object, an unknown tag or an id that is not stored fails the call itself, and a
job that writes the result never starts. What was resolved (:class:`Resolved`: the tag, the id,
the format, the store) is logged on the ``crossform.spark`` logger and attached to the error
column's metadata in the returned schema, where :func:`resolved_of` reads it back.

The executors never open the store: the verified bytes are broadcast from the driver, read once
per executor Python process (``_LOADED``, keyed by id, format and runtime) and checked against
the id again there. Each Arrow batch of ``mapInPandas`` is scored as a whole, as columns of
numpy arrays (``crossform.rows`` reads them), never row by row.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from . import exporters, ir
from .deployer import Deployer, store_url
from .errors import IdMismatchError, InputError, InvalidTagError, ObjectNotFoundError, UnknownTagError, shown
from .identity import is_package_id
from .registry import check_tag
from .store import open_store, read_content

LOG = logging.getLogger("crossform.spark")
METADATA_KEY = "crossform"  # the error column's metadata key holding Resolved.to_json()


@dataclass(frozen=True)
class Resolved:
    """What ``package`` named when the job started: ``kind`` is "path", "id" or "tag"; ``tag`` is
    the tag asked for (None otherwise); ``id`` and ``format`` what is scored; ``source`` the path
    or the store's URL the bytes came from."""

    kind: str
    given: str
    tag: Union[str, None]
    id: str
    format: str
    source: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Shipment:
    """What each task gets: the verified bytes with their id and format, and how to score."""

    id: str
    format: str
    content: Any  # a file's bytes or a directory's {relative path: bytes}
    runtime: str
    inputs: tuple  # (name, kind) per package input
    outputs: tuple
    keep: tuple
    crossing: tuple  # the columns sent to Python, in order (named _CROSSING.format(position) there)
    error_column: str
    csv_cells: bool


def resolve(
    package: Union[str, Path],
    store: Union[str, Path, None] = None,
    registry: Union[str, Path, None] = None,
    runtime: str = "reference",
) -> tuple:
    """(Resolved, the package, its content) for a path, an id in ``store`` or a tag in ``registry``
    (their defaults: crossform.deployer.store_url and registry_url). The content is verified
    against the id before this returns. From the store, the format read is one ``runtime``
    executes when the id is stored in one, else the store's default."""
    given = os.fspath(package)
    if os.path.lexists(given):
        content, where = read_content(exporters.package_path(given))
        loaded, fmt = exporters.read_source(_source(content, where), where)
        return Resolved("path", given, None, loaded.id, fmt, where), loaded, content
    tag = None
    model_id = given
    if not is_package_id(given):
        tag = _checked_tag(given)
        model_id = Deployer(store=store, registry=registry).current(tag)
        if model_id is None:
            raise UnknownTagError(tag, "expected a tag deployed to a model, found one with only shadow models")
    opened = open_store(store_url(store))
    stored = opened.formats(model_id)
    if not stored:
        via = f" (tag {tag} points at it)" if tag is not None else ""
        raise ObjectNotFoundError(
            f"{opened.url}/{model_id}",
            f"expected a package stored under this id{via}, found none in the store: push it first "
            "(crossform push PKG), or name the store it is in",
        )
    fmt = _stored_format(stored, runtime) or opened.default_format(model_id)
    loaded, content = opened.fetch(model_id, fmt)
    kind = "id" if tag is None else "tag"
    return Resolved(kind, given, tag, model_id, fmt, opened.url), loaded, content


def _checked_tag(given: str) -> str:
    try:
        return check_tag(given)
    except InvalidTagError:  # not a tag either: say all three things it could have been
        raise InvalidTagError(
            "package",
            f"expected an existing package path, a package id (sha256. and 52 base32 characters) or a "
            f"tag (dot-separated lower-case words); found {shown(given)}, which is none of them",
        ) from None


def _stored_format(stored: Sequence[str], runtime: str) -> Union[str, None]:
    """Of the formats the id is ``stored`` in, one ``runtime`` executes (None: the store's default)."""
    for name in stored:
        if runtime in exporters.get_format(name).RUNTIMES:
            return name
    return None


def _source(content: Any, where: str):
    return exporters.Files.from_mapping(content, where) if isinstance(content, dict) else content


def score(
    df,
    package: Union[str, Path],
    store: Union[str, Path, None] = None,
    registry: Union[str, Path, None] = None,
    runtime: Union[str, None] = None,
    keep: Union[Sequence[str], None] = None,
    error_column: str = "error",
    csv_cells: bool = False,
):
    """``df`` scored with ``package``: the ``keep`` columns (default: every column of ``df``), one
    DoubleType column per package output, then ``error_column`` (null when the row scored; the
    outputs are null when it did not).

    ``package`` is a package path, an id in ``store`` or a tag in ``registry``, resolved once here
    (module docstring). ``runtime`` is the crossform runtime the executors score in (default
    "reference"); it must be installed on them. ``csv_cells``: string columns hold cells as a CSV
    file has them, read by ``crossform score``'s rules (docs/tabular-input.md) rather than as
    typed values; ``crossform spark-score`` sets it for CSV input.

    A package input with no column in ``df``, a ``keep`` column that does not exist or clashes
    with an output name is an :class:`InputError`, raised before any job runs.
    """
    from pyspark.sql import types as T

    from .runtime import get_runtime

    runtime = runtime or "reference"
    get_runtime(runtime)  # an unknown name is refused before anything is read
    resolved, loaded, content = resolve(package, store, registry, runtime)
    LOG.info("crossform.spark: scoring with %s", resolved.to_json())
    inputs = [f.name for f in loaded.inputs]
    columns = list(df.columns)
    missing = [name for name in inputs if name not in columns]
    if missing:
        raise InputError(
            f"The DataFrame must have a column for every input of package {resolved.id}. Missing: "
            f"{shown(missing, 200)}; found columns: {shown(columns, 200)}."
        )
    keep = columns if keep is None else list(dict.fromkeys(keep))  # a column named twice is kept once
    unknown = [name for name in keep if name not in columns]
    if unknown:
        raise InputError(
            f"keep names columns the DataFrame does not have: {shown(unknown)}; found {shown(columns, 200)}."
        )
    clash = sorted(set(keep) & (set(loaded.outputs) | {error_column}))
    if clash or error_column in loaded.outputs:
        raise InputError(
            f"Kept column(s) {shown(clash or [error_column])} would clash with an output column of the same name "
            f"(outputs: {shown(list(loaded.outputs))}, error column: {error_column!r})."
        )
    needed = list(dict.fromkeys(keep + inputs))
    if runtime == "jvm":
        return _score_in_jvm(df, resolved, content, keep, list(loaded.outputs), error_column, csv_cells)
    shipment = _Shipment(
        resolved.id,
        resolved.format,
        content,
        runtime,
        tuple((f.name, f.kind) for f in loaded.inputs),
        tuple(loaded.outputs),
        tuple(keep),
        tuple(needed),
        error_column,
        csv_cells,
    )
    broadcast = df.sparkSession.sparkContext.broadcast(shipment)
    by_name = {field.name: field for field in df.schema.fields}
    schema = T.StructType(
        [by_name[name] for name in keep]
        + [T.StructField(name, T.DoubleType(), True) for name in loaded.outputs]
        + [T.StructField(error_column, T.StringType(), True, {METADATA_KEY: resolved.to_json()})]
    )

    def score_partition(batches: Iterator) -> Iterator:
        return _score_batches(batches, broadcast.value)

    # Only the columns scoring needs cross into Python, under the names _CROSSING.format(position):
    # mapInPandas looks its input columns up by name unquoted, so "a.b" would be a field of a.
    crossing = [_column(name).alias(_CROSSING.format(i)) for i, name in enumerate(needed)]
    return df.select(*crossing).mapInPandas(score_partition, schema)


_CROSSING = "c{}"


def _column(name: str):
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")  # quoted: a name, whatever it holds


# ------------------------------------------------------------------ the executors' JVM

JVM_SCORING = "dev.crossform.spark.Scoring"  # jvm/spark/: the transformation, in crossform-spark.jar
SPARK_JAR_VARIABLE = "CROSSFORM_SPARK_JAR"  # where a crossform without jvm/ beside it finds that jar


def jars() -> list:
    """The jars Spark needs on its classpath for ``runtime="jvm"`` (set ``spark.jars`` to them,
    comma-separated, before the session starts): crossform's Spark jar, its Java scorer and
    protobuf-java. Spark brings its own Jackson, which the scorer uses."""
    from .runtime import jvm

    spark_jar = os.environ.get(SPARK_JAR_VARIABLE) or str(jvm.JAR.with_name("crossform-spark.jar"))
    scorer = [entry for entry in jvm.classpath() if "jackson" not in Path(entry).name]
    return [spark_jar, *scorer]


def jvm_unavailable(session=None) -> Union[str, None]:
    """None when ``runtime="jvm"`` can run (in ``session`` when given: its driver has the jars),
    else why not."""
    from .runtime import jvm

    reason = jvm.unavailable()
    if reason:
        return reason
    missing = [entry for entry in jars() if not Path(entry).exists()]
    if missing:
        return (
            f"crossform's Spark jar is not built ({', '.join(missing)} missing): build it with ./dev jvm, which runs "
            f"jvm/build.sh spark against pyspark's jars, or point {SPARK_JAR_VARIABLE} at one"
        )
    if session is not None and not _has_jvm_scoring(session):
        return (
            "this Spark session was started without crossform's jars: start it with "
            "spark.jars set to ','.join(crossform.spark.jars())"
        )
    return None


def _has_jvm_scoring(session) -> bool:
    try:
        session._jvm.java.lang.Class.forName(
            JVM_SCORING, False, session._jvm.Thread.currentThread().getContextClassLoader()
        )
    except Exception:  # py4j's Py4JJavaError wrapping ClassNotFoundException
        return False
    return True


def _score_in_jvm(df, resolved: Resolved, content: Any, keep: list, outputs: list, error_column: str, csv_cells: bool):
    """The scoring of ``score`` as a Spark transformation in the executors' JVM (jvm/spark/
    Scoring.java): no Python worker; the verified bytes broadcast there as here."""
    import json

    from pyspark.sql import DataFrame

    from . import tabular

    session = df.sparkSession
    _check_jvm(session, resolved)
    jvm = session._jvm
    gateway = session.sparkContext._gateway
    shipped = _java_content(session, content)
    cells = None
    if csv_cells:
        cells = jvm.dev.crossform.spark.Scoring.CsvCells(
            _java_list(gateway, tabular.NA_CELLS),
            _java_list(gateway, tabular.TRUE_CELLS),
            _java_list(gateway, tabular.FALSE_CELLS),
            tabular.NUMBER.pattern,
        )
    metadata = json.dumps({METADATA_KEY: resolved.to_json()})
    scored = _in_java(
        resolved,
        jvm.dev.crossform.spark.Scoring.score,
        df._jdf,
        shipped,
        resolved.id,
        resolved.format,
        _java_list(gateway, keep),
        _java_list(gateway, outputs),
        error_column,
        metadata,
        cells,
    )
    return DataFrame(scored, session)


def register(
    spark,
    name: str,
    package: Union[str, Path],
    store: Union[str, Path, None] = None,
    registry: Union[str, Path, None] = None,
    error_column: str = "error",
) -> Resolved:
    """Register ``package`` (a path, an id in ``store`` or a tag in ``registry``, resolved once here
    as :func:`score` resolves it) as the Spark SQL function ``name``, running crossform's Java
    scorer in the executors' JVM. It takes one struct whose fields are named as the package's
    inputs and returns a struct of the outputs (null in a row in error) and ``error_column``::

        crossform.spark.register(spark, "fraud", "txn_fraud.production")
        spark.sql("SELECT txn_id, fraud(struct(*)) AS s FROM txns").select("txn_id", "s.*")

    Each call scores one row; :func:`score` with ``runtime="jvm"`` scores blocks of rows and is
    the faster way to score a whole table. Returns what was resolved."""
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InputError(
            f"expected a SQL function name (a letter or _, then letters, digits and _), found {shown(name)}"
        )
    resolved, loaded, content = resolve(package, store, registry, "jvm")
    _check_jvm(spark, resolved)
    LOG.info("crossform.spark: registered %s as SQL function %s", resolved.to_json(), name)
    _in_java(
        resolved,
        spark._jvm.dev.crossform.spark.Scoring.register,
        spark._jsparkSession,
        name,
        _java_content(spark, content),
        resolved.id,
        resolved.format,
        _java_list(spark.sparkContext._gateway, list(loaded.outputs)),
        error_column,
    )
    return resolved


def _in_java(resolved: Resolved, call, *args):
    """``call(*args)`` through py4j; an exception the Java side throws (its reader refusing the
    package, say) is a CrossformError naming its class and message, not a py4j traceback."""
    from py4j.protocol import Py4JJavaError

    from .errors import CrossformError

    try:
        return call(*args)
    except Py4JJavaError as exc:
        thrown = exc.java_exception
        raise CrossformError(
            f"crossform.spark runtime jvm: the Java side refused package {resolved.id} ({resolved.format}, "
            f"{resolved.source}): {thrown.getClass().getName()}: {thrown.getMessage()}"
        ) from None


def _check_jvm(session, resolved: Resolved) -> None:
    from .errors import CrossformError

    if resolved.format not in ("stripe-json", "protobuf"):
        raise CrossformError(
            f"the jvm runtime reads stripe-json and protobuf packages; {resolved.given} is {resolved.format}: "
            "export or push it as one of those"
        )
    reason = jvm_unavailable(session)
    if reason:
        raise CrossformError(f"crossform.spark runtime jvm: {reason}")


def _java_content(session, content: Any) -> Any:
    """The verified bytes as the JVM takes them: a protobuf file's byte[], or a stripe-json folder's
    files as a map of relative path to byte[]."""
    if not isinstance(content, dict):
        return bytearray(content)
    files = session._jvm.java.util.LinkedHashMap()
    for name, data in sorted(content.items()):
        files.put(name, bytearray(data))
    return files


def _java_list(gateway, values) -> Any:
    from py4j.java_collections import ListConverter

    return ListConverter().convert(list(values), gateway._gateway_client)


def resolved_of(df, error_column: str = "error") -> Union[dict, None]:
    """What :func:`score` resolved (``Resolved.to_json()``), read from ``df``'s schema; None when
    the column carries none."""
    found = (df.schema[error_column].metadata or {}).get(METADATA_KEY)
    if found is None:
        return None
    order = [name for name in Resolved.__dataclass_fields__ if name in found]  # Spark's JSON sorts keys
    return {name: found[name] for name in order + sorted(set(found) - set(order))}


# ------------------------------------------------------------------ on the executors

_LOADED: dict = {}  # (id, format, runtime) -> the scorer, once per executor Python process
LOAD_COUNTS: dict = {}  # the same keys -> times read in this process (the tests check it stays 1)


def _scorer_for(shipment: _Shipment):
    key = (shipment.id, shipment.format, shipment.runtime)
    found = _LOADED.get(key)
    if found is None:
        found = _load(shipment)
        _LOADED[key] = found
        LOAD_COUNTS[key] = LOAD_COUNTS.get(key, 0) + 1
    return found


def _load(shipment: _Shipment):
    """The scorer of the shipped bytes, read as hostile and checked against the id they were
    resolved to on the driver (a broadcast is only as good as its transport)."""
    import crossform
    from crossform.chunks import chunked

    where = f"<{shipment.format} package {shipment.id} broadcast to this executor>"
    loaded, _ = exporters.read_source(_source(shipment.content, where), where, shipment.format)
    if loaded.id != shipment.id:
        raise IdMismatchError(where, f"expected bytes that hash to {shipment.id}, found {loaded.id}", package=loaded)
    # as crossform.scorer does for a path: a file format's runtime scores the very bytes verified
    # (a float32 onnx file stays float32), in chunks of crossform.CHUNK_ROWS rows at most
    saved = (shipment.format, shipment.content) if isinstance(shipment.content, bytes) else None
    return chunked(loaded.inputs, crossform._prepare(loaded, saved, shipment.runtime, {}))


def _score_batches(batches: Iterator, shipment: _Shipment) -> Iterator:
    import pandas as pd

    from . import tabular

    score = _scorer_for(shipment)
    crossed = {name: _CROSSING.format(i) for i, name in enumerate(shipment.crossing)}
    for frame in batches:
        columns = {}
        for name, kind in shipment.inputs:
            values = frame[crossed[name]].to_numpy()
            if shipment.csv_cells and values.dtype == object:
                cells = np.where(pd.isna(values), "", values).tolist()  # Spark reads an empty CSV cell as null
                values = tabular.numeric_cells(cells) if kind == ir.NUMERIC else tabular.categorical_cells(cells)
            columns[name] = values
        scores = score(columns)
        out = {name: frame[crossed[name]] for name in shipment.keep}
        for j, name in enumerate(shipment.outputs):
            out[name] = pd.Series(scores.values[:, j], index=frame.index)  # NaN in error rows: null in Arrow
        out[shipment.error_column] = pd.Series(scores.errors, index=frame.index, dtype=object)
        yield pd.DataFrame(out, index=frame.index)


__all__ = ["Resolved", "resolve", "resolved_of", "score", "register", "jars", "jvm_unavailable", "METADATA_KEY"]
