"""jpmml: score the pmml format's file with JPMML-Evaluator, in-process, through JPype.

JPMML-Evaluator (Java, AGPL-3.0) is what JVM scoring services run PMML with.
It comes from the optional ``pmml`` extra (``jpmml_evaluator``, which ships
the jars, and ``JPype1``); crossform never needs it to read, write or score
packages, and without it or without Java this runtime is a named skip.

The JVM starts once per process, with every network proxy pointed at a closed
port on loopback so nothing it loads can reach out. Rows go to the Java
``Evaluator`` one at a time as Java maps (jpmml_evaluator's own batch helpers
move data with pickle, which crossform does not load); a row JPMML refuses
(an invalid value under ``returnInvalid``, any EvaluationException) is a row
error for that row alone. A long batch is scored CHUNK_ROWS rows at a time
(``chunks.chunked``), whoever calls: the rows' Java maps and results are
garbage the JVM collects lazily, and 50,000 rows of the bench forest in one
pass grew the process by 0.7 GB over the loaded model (0.35 GB in chunks).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..chunks import CHUNK_ROWS, chunked
from ..errors import CrossformError
from ..exporters import Format
from ..exporters.pmml.rules import leaf_output
from ..rows import read_batch
from ..scores import Scores

NAME = "jpmml"
INSTALL = "pip install 'crossform[pmml]'"
# Every proxy setting points at the discard port on loopback, where nothing listens.
JVM_OPTIONS = (
    "-Djava.awt.headless=true",
    "-DsocksProxyHost=127.0.0.1",
    "-DsocksProxyPort=9",
    "-Dhttp.proxyHost=127.0.0.1",
    "-Dhttp.proxyPort=9",
    "-Dhttps.proxyHost=127.0.0.1",
    "-Dhttps.proxyPort=9",
)


def _modules():
    import jpmml_evaluator
    import jpype

    return jpype, jpmml_evaluator


def _jars() -> list:
    _, jpmml_evaluator = _modules()
    base = Path(jpmml_evaluator.__file__).parent
    return sorted(str(p) for folder in ("dependencies", "resources") for p in (base / folder).glob("*.jar"))


def _evaluator_version() -> str:
    for jar in _jars():
        name = Path(jar).name
        if name.startswith("pmml-evaluator-") and name[len("pmml-evaluator-") : -4][:1].isdigit():
            return name[len("pmml-evaluator-") : -4]
    return "unknown"


def unavailable():
    try:
        jpype, _ = _modules()
    except ImportError as exc:
        return f"{exc.name or 'jpmml_evaluator'} is not installed: {INSTALL} (JPMML is AGPL-3.0, an optional extra)"
    if jpype.isJVMStarted():
        return None
    try:
        jvm = jpype.getDefaultJVMPath()
    except Exception as exc:  # jpype.JVMNotFoundException, and platform-specific others
        return (
            f"no Java runtime found ({type(exc).__name__}); install a JDK (Debian: apt-get install "
            "default-jdk-headless; ./dev setup does this) or set JAVA_HOME"
        )
    if not os.path.exists(jvm):
        return f"the Java runtime at {jvm} is missing; set JAVA_HOME to a JDK"
    return None


def _start() -> Any:
    jpype, _ = _modules()
    if not jpype.isJVMStarted():
        jpype.startJVM(*JVM_OPTIONS, classpath=_jars(), convertStrings=False)
    return jpype


def version() -> str:
    _, jpmml_evaluator = _modules()
    text = f"JPMML-Evaluator {_evaluator_version()} (jpmml_evaluator {jpmml_evaluator.__version__})"
    jpype = _modules()[0]
    if jpype.isJVMStarted():
        system = jpype.JClass("java.lang.System")
        text += f", Java {system.getProperty('java.version')}"
    return text


def _message(exc: Any) -> str:
    try:
        text = str(exc.getMessage())
    except Exception:  # not a Java exception after all
        text = str(exc)
    return f"jpmml: {text}"


def build_evaluator(content: bytes) -> Any:
    """A JPMML Evaluator for the PMML document ``content``."""
    jpype = _start()
    stream = jpype.JClass("java.io.ByteArrayInputStream")(content)
    builder = jpype.JClass("org.jpmml.evaluator.LoadingModelEvaluatorBuilder")()
    try:
        builder.load(stream)
        return builder.build()
    except jpype.JException as exc:
        raise CrossformError(f"JPMML refuses the PMML file: {_message(exc)}") from None


def prepare(content: Any, fmt: Format) -> Callable[[Any], Scores]:
    reason = unavailable()
    if reason is not None:
        raise CrossformError(reason)
    package = fmt.loads(content)  # crossform's reader first: the file is what it says it is
    jpype = _start()
    evaluator = build_evaluator(content)
    fields = package.inputs
    outputs = package.outputs
    classes = package.model.classes
    trees = getattr(package.model, "trees", ())  # a linear model has none, and no leaves
    JDouble, JString, HashMap = jpype.JDouble, jpype.JString, jpype.JClass("java.util.HashMap")
    keys = [JString(f.name) for f in fields]
    output_keys = [JString(name) for name in outputs]
    # a file written with leaves="off" has no leaf outputs: its Scores carry no leaves
    has_leaves = any(str(f.getName()) == leaf_output(0) for f in evaluator.getOutputFields())
    leaf_keys = [JString(leaf_output(t)) for t in range(len(trees))] if has_leaves else []
    numeric = [f.kind == "numeric" for f in fields]
    # the writer numbers nodes by preorder position; Scores name a leaf by its node index
    node_at = [np.asarray(tree.preorder, dtype=np.int64) for tree in trees]

    def score(data: Any) -> Scores:
        batch = read_batch(fields, data)
        n = batch.n_rows
        errors = batch.errors.copy()
        values = np.full((n, len(outputs)), np.nan)
        leaves = np.full((n, len(trees)), -1, dtype=np.int64)
        columns = [batch.columns[f.name] for f in fields]
        for i in range(n):
            if errors[i] is not None:
                continue
            arguments = HashMap()
            for key, col, is_number in zip(keys, columns, numeric):
                value = col[i]
                if value is None or (is_number and math.isnan(value)):
                    arguments.put(key, None)  # PMML has no NaN: a missing value
                elif is_number:
                    arguments.put(key, JDouble(float(value)))
                else:
                    arguments.put(key, JString(value))
            try:
                results = evaluator.evaluate(arguments)
                row = [results.get(k) for k in output_keys]
                ids = [results.get(k) for k in leaf_keys]
            except jpype.JException as exc:
                errors[i] = _message(exc)
                continue
            if any(v is None for v in row):
                errors[i] = "jpmml: no prediction for this row"
                continue
            values[i] = [float(v) for v in row]
            if ids and all(v is not None for v in ids):
                leaves[i] = [node_at[t][int(str(v))] for t, v in enumerate(ids)]
        bad = ~np.equal(errors, None)
        values[bad] = np.nan
        leaves[bad] = -1
        return Scores(values, outputs, errors.tolist(), classes, leaves if has_leaves else None)

    return chunked(fields, score, CHUNK_ROWS)
