"""The wheel ships every package of src/crossform: pyproject.toml lists them one by one, so a
new subpackage missing from the list would import in a checkout and vanish from an install."""

from __future__ import annotations

import tomllib

from helpers.paths import REPO


def test_every_package_under_src_is_listed_for_the_wheel():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    src = REPO / "src"
    found = {
        ".".join(init.parent.relative_to(src).parts)
        for init in src.joinpath("crossform").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set(), "packages under src/crossform missing from [tool.setuptools] packages"
    assert listed - found - {"crossform.schemas"} == set(), "listed packages that do not exist"
