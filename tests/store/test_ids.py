"""An id that is not sha256.<52 base32 characters> is refused by name before any I/O."""

from __future__ import annotations

import pytest

from crossform.errors import InvalidIdError
from helpers.packages import small_package

GOOD = small_package().id
BAD = [
    "",
    "sha256.",
    GOOD.lower(),
    GOOD[:-1],
    GOOD + "A",
    GOOD.replace("sha256.", "sha1."),
    GOOD[:-1] + "1",
    "../" + GOOD,
    GOOD[:20] + "/" + GOOD[21:],
    None,
    42,
]


class NoIO:
    """A backend that fails the test on any use: the id is checked first."""

    url = "<no I/O>"

    def __getattr__(self, name):
        raise AssertionError(f"the store touched its backend ({name}) for a bad id")


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("call", ["get", "exists", "formats", "pull"])
@pytest.mark.parametrize("format", [None, "onnx"])
def test_a_bad_id_is_refused_before_any_io(store, tmp_path, bad, call, format):
    store._backend = NoIO()
    args = (bad, tmp_path / "dest") if call == "pull" else (bad,)
    kwargs = {} if call == "formats" else {"format": format}
    with pytest.raises(InvalidIdError, match="expected a package id, sha256. followed by 52 base32"):
        getattr(store, call)(*args, **kwargs)
