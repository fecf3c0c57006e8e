"""onnx format versions: what each package records, the layouts of older versions, golden files,
and the released 1.2 reader against what this writer writes."""

from __future__ import annotations

import subprocess
import warnings

import pytest

import crossform
from crossform.errors import UnsupportedModelError
from crossform.exporters import onnx as O
from helpers.onnx_files import GOOD, KINDS, edited_file, set_prop
from helpers.packages import TREE_VARIANTS, small_package
from helpers.paths import REPO

onnx = pytest.importorskip("onnx")


def test_compat_names_the_first_release_that_reads_a_1_2_file(tmp_path):
    from crossform import compat

    path = crossform.save(small_package(), tmp_path / "m.onnx", format="onnx", precision="float32")
    assert O.read_version(path.read_bytes()) == "1.2"
    doc = compat.report(path)
    assert doc["readers"]["ranges"] == [{"from": "0.4.0", "before": None, "specifier": ">=0.4.0", "warning": False}]
    # files of the single-ensemble layout: 1.0 (float64), which 0.2.0 reads, and 1.1 (float32)
    assert compat.readers_text(compat.readers("onnx", "1.0")) == ">=0.2.0"
    assert compat.readers_text(compat.readers("onnx", "1.1")) == ">=0.3.0"


def test_the_1_2_kinds_still_record_1_2_and_the_newest_version_is_1_4():
    for package in TREE_VARIANTS.values():
        assert O.needs(package) is None and O.read_version(O.dumps(package)) == "1.2"
        assert O.read_version(O.dumps(package, precision="float32")) == "1.2"
    assert O.written_version() == O.VERSION == "1.4" and O.written_version(precision="float32") == "1.4"
    assert O.written_version(per_tree=False) == "1.0" and O.written_version("float32", per_tree=False) == "1.1"


def test_golden_1_2_files_are_still_written_byte_for_byte():
    golden = sorted(REPO.glob("conformance/golden/onnx/1.2*/packages/*.onnx"))
    assert golden
    for path in golden:
        data = path.read_bytes()
        model = onnx.ModelProto()
        model.ParseFromString(data)
        precision = {p.key: p.value for p in model.metadata_props}.get("crossform.precision", "float64")
        back = O.loads(data)
        proto = O.build(back, precision)
        if precision == "float32":
            proto.metadata_props.add(
                key="crossform.source_id", value={p.key: p.value for p in model.metadata_props}["crossform.source_id"]
            )
        assert proto.SerializeToString(deterministic=True) == data, path.name


def test_the_one_ensemble_layout_cannot_hold_what_1_3_added():
    with pytest.raises(UnsupportedModelError, match="cannot hold a one-hot encoder"):
        O.build(KINDS["forest-one-hot"], per_tree=False)


# ---------------------------------------------------------------- the recorded version


def test_the_recorded_version_must_be_the_one_the_writer_records():
    with pytest.raises(
        O.OnnxStructureError,
        match=r"expected format version 1\.3 for this package \(it uses a "
        r"one-hot encoder\), found 1\.2",
    ):
        O.loads(edited_file(O.dumps(KINDS["forest-one-hot"]), set_prop("crossform.format_version", "1.2")))
    with pytest.raises(O.OnnxStructureError, match=r"expected format version 1\.2 .*nothing 1\.3 added\), found 1\.3"):
        O.loads(edited_file(GOOD, set_prop("crossform.format_version", "1.3")))
    with pytest.warns(O.FormatVersionWarning, match="newer than the 1.4"):
        assert (
            O.loads(edited_file(O.dumps(KINDS["linear-regression"]), set_prop("crossform.format_version", "1.7"))).id
            == KINDS["linear-regression"].id
        )


# ---------------------------------------------------------------- the released 1.2 reader


def _released_reader():
    """crossform 0.4.0's onnx module (format 1.2), from this repository's history, or None."""
    import importlib.util

    root = REPO
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "show", f"{RELEASED_0_4_0}:src/crossform/exporters/onnx.py"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    spec = importlib.util.spec_from_loader("crossform.exporters._onnx_0_4_0", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "crossform.exporters"
    exec(compile(done.stdout, "onnx.py@0.4.0", "exec"), module.__dict__)  # noqa: S102 - our own released code
    return module


RELEASED_0_4_0 = "9bf0aab"  # the last commit of onnx.py before 1.3 (crossform 0.4.0 writes 1.2)


@pytest.fixture(scope="module")
def released():
    module = _released_reader()
    if module is None:
        pytest.skip(f"crossform 0.4.0's onnx reader is not available (needs git and commit {RELEASED_0_4_0})")
    assert module.VERSION == "1.2"
    return module


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_released_1_2_reader_refuses_every_1_3_file_by_a_named_error(released, name):
    for precision in ("float64", "float32"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns first: 1.3 is a newer minor of its major
            with pytest.raises((released.OnnxStructureError, UnsupportedModelError)) as caught:
                released.loads(O.dumps(KINDS[name], precision=precision))
        assert "<onnx>" in str(caught.value)


def test_the_released_1_2_reader_reads_what_1_3_writes_for_1_2_kinds(released):
    for package in TREE_VARIANTS.values():
        assert released.loads(O.dumps(package)).id == package.id
