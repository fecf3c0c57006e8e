"""The shape of a package id, as stores and registries check it before any I/O."""

from __future__ import annotations

import pytest

from crossform.identity import is_package_id
from helpers.packages import small_package


def test_every_computed_id_has_the_shape():
    assert is_package_id(small_package().id)


@pytest.mark.parametrize(
    "text",
    [
        None,
        42,
        "",
        "sha256.",
        "sha256." + "A" * 51,
        "sha256." + "A" * 53,
        "sha256." + "a" * 52,  # base32 is upper case
        "sha256." + "A" * 51 + "1",  # 1 is not a base32 digit
        "SHA256." + "A" * 52,
        "sha256." + "A" * 52 + "\n",
        "../sha256." + "A" * 52,
    ],
)
def test_anything_else_is_not_an_id(text):
    assert not is_package_id(text)
