"""Fixtures shared by every test directory; the helpers they build on live in the helpers package."""

from __future__ import annotations

import pytest

from crossform import ir
from helpers.packages import small_package


@pytest.fixture
def package() -> ir.Package:
    return small_package()
