"""The reference runtime: read the written package back, score with crossform.reference."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .._version import __version__
from ..exporters import Files
from ..reference import Scores, score as evaluate

NAME = "reference"


def unavailable() -> None:
    return None  # numpy only: it runs wherever crossform does


def version() -> str:
    return f"crossform {__version__}"


def score(content: Any, fmt: ModuleType, data: Any) -> Scores:
    source = Files.from_mapping(content, label=f"<{fmt.NAME}>") if fmt.LAYOUT == "directory" else content
    return evaluate(fmt.loads(source), data)
