"""What the per-kind format tests share: every runtime of a format scores a package's written
bytes as the reference scores the package, and the C library's own expf to hold the rule to."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from collections.abc import Callable

import numpy as np
import pytest

import crossform
from crossform import checks as checks_module
from crossform.runtime import get_runtime, unavailable


def assert_runtimes_score_as_reference(
    fmt, data, package, back, rows, same: Callable = np.testing.assert_array_equal, leaves: bool = True
) -> None:
    """Score ``rows`` with the reference on ``package`` and with every available runtime of
    ``fmt`` on its written ``data`` (``back``: the package read back from it): the same rows in
    error, values held by ``same`` (bit for bit unless a test says why not), and, where a
    runtime gives leaves and ``leaves`` holds, the same leaf in every tree. The rows must hold
    both kinds, so the comparison means something; with no runtime available it is a skip."""
    want = crossform.score(package, rows)
    assert not all(e is None for e in want.errors) and not all(e is not None for e in want.errors)
    ok = np.equal(want.errors, None)
    ran = []
    for runtime_name in fmt.RUNTIMES:
        if unavailable(runtime_name) is not None:
            continue
        cannot = getattr(get_runtime(runtime_name), "unsupported", None)
        if cannot is not None and cannot(data) is not None:
            continue  # a gap the runtime names for this file (conformance reports it as a skip)
        got = get_runtime(runtime_name).prepare(data, fmt)(rows)
        assert [e is None for e in got.errors] == [e is None for e in want.errors], runtime_name
        same(got.values[ok], want.values[ok])
        if leaves and got.leaves is not None:
            np.testing.assert_array_equal(
                checks_module.leaf_positions(back.model, got.leaves[ok]),
                checks_module.leaf_positions(package.model, want.leaves[ok]),
            )
        ran.append(runtime_name)
    if not ran:
        pytest.skip(f"no runtime of {fmt.NAME} is available: {[unavailable(r) for r in fmt.RUNTIMES]}")


def assert_runtimes_pass_checks(fmt, package, checks, leaves_compared: bool = False) -> None:
    """Score ``checks``' rows with every available runtime of ``fmt`` on the bytes it writes for
    ``package``, each held to ``checks`` by ``checks.compare`` (the values, rows in error and
    leaves scikit-learn or the reference recorded); ``leaves_compared``: the comparison must
    have reached the leaves. A runtime that names a gap for the file is left out, as the
    conformance runner reports it as a skip; with no runtime left it is a skip."""
    content = fmt.dumps(package)
    ran = []
    for runtime_name in fmt.RUNTIMES:
        if unavailable(runtime_name) is not None:
            continue
        cannot = getattr(get_runtime(runtime_name), "unsupported", None)
        if cannot is not None and cannot(content) is not None:
            continue
        scores = get_runtime(runtime_name).prepare(content, fmt)(checks.data())
        comparison = checks_module.compare(checks, scores, package.model)
        assert comparison.ok, (runtime_name, comparison.summary(), comparison.mismatches[:3])
        assert comparison.leaves_compared or not leaves_compared, runtime_name
        ran.append(runtime_name)
    if not ran:
        pytest.skip(f"no runtime of {fmt.NAME} is available: {[unavailable(r) for r in fmt.RUNTIMES]}")


def libc_expf() -> Callable:
    """The C library's expf through ctypes; a skip where that library is not glibc, whose
    algorithm the rule is (docs/SEMANTICS.md note 13)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("the rule's expf is glibc's; this machine's C library is another")
    fn = ctypes.CDLL(ctypes.util.find_library("m")).expf
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn
