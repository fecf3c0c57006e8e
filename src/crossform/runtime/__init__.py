"""Runtimes: what executes a written package and scores rows with it.

A runtime module defines:

``NAME``            the runtime's name, e.g. "reference", "onnxruntime"
``unavailable()``   None when it can run here, else the reason it cannot
                    (a library or Java missing), said so a user can act on it
``version()``       the version of the engine that scores, for reports
``prepare(content, fmt)`` -> a function ``data -> crossform.Scores``: the
                    package as the format ``fmt`` (a crossform.exporters.Format) wrote it
                    (``fmt.dumps(package)``), never the IR directly, loaded
                    once (a session, a JVM evaluator) and then scoring any
                    number of batches
``unsupported(content)`` optional: None, or why this runtime would score
                    this written file wrongly (a known defect of the engine),
                    which the conformance runner reports as a named skip

Which formats a runtime executes is said by each format's ``RUNTIMES``.
Runtimes are registered from the explicit list BUILTIN plus the entry-point
group ``crossform.runtimes``, like formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import ModuleType

from .._registry import load_modules
from ..errors import UnknownRuntimeError

BUILTIN = (
    "crossform.runtime.reference",
    "crossform.runtime.onnxruntime",
    "crossform.runtime.onnx_reference",
    "crossform.runtime.jpmml",
    "crossform.runtime.jvm",
)
ENTRY_POINT_GROUP = "crossform.runtimes"


@cache
def registry() -> Mapping[str, ModuleType]:
    return load_modules(BUILTIN, ENTRY_POINT_GROUP)


def runtimes() -> list:
    """Names of the registered runtimes (installed or not; see ``unavailable``)."""
    return list(registry())


def get_runtime(name: str) -> ModuleType:
    try:
        return registry()[name]
    except KeyError:
        raise UnknownRuntimeError(f"Unknown runtime {name!r}. Registered runtimes: {', '.join(runtimes())}.") from None


def unavailable(name: str) -> str | None:
    """Why runtime ``name`` cannot run here, or None when it can."""
    if name not in registry():
        return f"runtime {name!r} is not registered in this crossform ({', '.join(runtimes())})"
    return registry()[name].unavailable()
