"""The reference runtime: read the written package back, score with crossform.evaluator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._version import __version__
from ..evaluator import score as evaluate
from ..exporters import Files, Format
from ..scores import Scores

NAME = "reference"


def unavailable() -> None:
    return None  # numpy only: it runs wherever crossform does


def version() -> str:
    return f"crossform {__version__}"


def prepare(content: Any, fmt: Format) -> Callable[[Any], Scores]:
    source = Files.from_mapping(content, label=f"<{fmt.NAME}>") if fmt.LAYOUT == "directory" else content
    package = fmt.loads(source)
    return lambda data: evaluate(package, data)
