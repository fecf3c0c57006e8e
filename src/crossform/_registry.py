"""Plug-in modules by name: an explicit built-in list, then an entry-point group.

Formats and runtimes register the same way: each module has a ``NAME``; the
built-in modules come first and win over a plug-in of the same name, so
installing a package never replaces what crossform ships.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from types import ModuleType


def load_modules(builtin: Sequence[str], group: str) -> Mapping[str, ModuleType]:
    modules = [importlib.import_module(name) for name in builtin]
    modules += [ep.load() for ep in entry_points(group=group)]
    table: dict[str, ModuleType] = {}
    for module in modules:
        table.setdefault(module.NAME, module)
    return table
