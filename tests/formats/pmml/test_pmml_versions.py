"""Compatibility with the released pmml writer and reader, and the golden files."""

from __future__ import annotations

import warnings

import pytest

from crossform.errors import UnsupportedModelError
from crossform.exporters import pmml as P
from helpers.packages import TREE_VARIANTS, small_package
from helpers.paths import CONFORMANCE, REPO
from helpers.pmml import KINDS, edited, forest_package, odd_package

# ---------------------------------------------------------------- compatibility with the released writer and reader


RELEASED_0_4_0 = "9bf0aab"  # crossform 0.4.0: pmml.py writes 1.0 (with leaf outputs) and 1.1 (without)
GOLDEN = sorted((CONFORMANCE / "golden" / "pmml").glob("1.*/packages/*"))


def _released_module():
    """crossform 0.4.0's pmml module, from this repository's history, or None."""
    import importlib.util
    import subprocess

    root = REPO
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "show", f"{RELEASED_0_4_0}:src/crossform/exporters/pmml.py"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    spec = importlib.util.spec_from_loader("crossform.exporters._pmml_0_4_0", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "crossform.exporters"
    exec(compile(done.stdout, "pmml.py@0.4.0", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def released():
    module = _released_module()
    if module is None:
        pytest.skip(f"crossform 0.4.0's pmml module is not available (needs git and commit {RELEASED_0_4_0})")
    assert module.VERSION == "1.1"
    return module


def test_files_of_the_old_kinds_are_the_released_writer_s_bytes(released):
    old = [package for package in TREE_VARIANTS.values() if P.needs(package) is None]
    assert len(old) == len(TREE_VARIANTS) - 1 and "softmax" in P.needs(TREE_VARIANTS["softmax"])
    for package in [*old, odd_package(), forest_package(3)]:
        for leaves in (P.ON, P.OFF):
            assert P.dumps(package, leaves=leaves) == released.dumps(package, leaves=leaves)
            assert P.written_version(package, leaves) == released.written_version(leaves)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_released_reader_refuses_every_1_2_file_by_a_named_error(released, name):
    for leaves in (P.ON, P.OFF):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns first: 1.2 is a newer minor of its major
            # a numeric refuse-missing is a FieldRef without the fill value 0.4.0 reads as a number: PmmlNumberError
            refusals = (released.PmmlStructureError, released.PmmlNumberError, UnsupportedModelError)
            with pytest.raises(refusals) as caught:
                released.loads(P.dumps(KINDS[name], leaves=leaves))
        assert "<pmml>" in str(caught.value)


def test_golden_files_are_written_again_byte_for_byte():
    assert GOLDEN, "no golden pmml packages"
    for path in GOLDEN:
        data = path.read_bytes()
        back = P.loads(data, where=str(path))
        version = P.read_version(data)
        assert version == P.written_version(back, P.properties(data)["leaves"]), path
        # golden 1.0/1.1 files hold 1.1's kinds, golden 1.2 files a kind 1.2 added
        assert (P.needs(back) is None) == (version in ("1.0", "1.1")), path
        assert P.dumps(back, leaves=P.properties(data)["leaves"]) == data, path


def test_the_recorded_version_must_be_the_one_the_writer_records():
    new = P.dumps(KINDS["linear-multinomial"]).decode()
    as_10 = new.replace('name="crossform.format_version" value="1.2"', 'name="crossform.format_version" value="1.0"')
    with pytest.raises(P.PmmlStructureError, match="with a linear model to record version 1.2, found 1.0"):
        P.loads(as_10.encode())
    for leaves, old in ((P.ON, "1.0"), (P.OFF, "1.1")):
        data = P.dumps(small_package(), leaves=leaves).decode()
        as_12 = data.replace(
            f'name="crossform.format_version" value="{old}"', 'name="crossform.format_version" value="1.2"'
        )
        with pytest.raises(P.PmmlStructureError, match=f"leaf outputs to record version {old}, found 1.2"):
            P.loads(as_12.encode())
    # a fill that lost its mapMissingTo reads as refuse-missing, a 1.2 kind: refused, not read as 1.0
    with pytest.raises(P.PmmlStructureError, match="with a refuse-missing encoder to record version 1.2, found 1.0"):
        P.loads(edited('<FieldRef field="colour" mapMissingTo="red"/>', '<FieldRef field="colour"/>'))
    # a +inf threshold is a 1.2 kind: a 1.0 file holding one is refused, not read as 1.0
    with pytest.raises(P.PmmlStructureError, match="with a \\+inf threshold to record version 1.2, found 1.0"):
        P.loads(edited('value="0.5"', 'value="INF"'))
