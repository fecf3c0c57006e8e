"""What the pmml format's tests share: the jpmml runtime, or a skip that says why it cannot run."""

from __future__ import annotations

import pytest

from crossform.runtime import unavailable


def jpmml_or_skip():
    """The jpmml runtime module; skips the test, naming the reason, where it cannot run here."""
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml runtime unavailable: {reason}")
    from crossform.runtime import jpmml

    return jpmml
