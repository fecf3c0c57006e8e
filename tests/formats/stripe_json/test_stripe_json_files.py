"""stripe-json on disk: links and paths outside the package refused, save and load, permissions."""

from __future__ import annotations

import os

import pytest

import crossform
from crossform import errors
from crossform.exporters import Files


def test_symlinked_file_is_refused(tmp_path, package):
    path = crossform.save(package, tmp_path / "pkg")
    outside = tmp_path / "outside.json"
    outside.write_bytes((path / "model.json").read_bytes())
    (path / "model.json").unlink()
    os.symlink(outside, path / "model.json")
    with pytest.raises(errors.UnsafePackageError, match="link"):
        crossform.load(path)


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../b", "a\\b", "", "./x", "a//b"])
def test_files_refuse_paths_outside(tmp_path, name):
    with pytest.raises(errors.UnsafePackageError):
        Files.from_directory(tmp_path).read(name)


def test_save_refuses_to_overwrite_unless_asked(tmp_path, package):
    path = crossform.save(package, tmp_path / "pkg")
    with pytest.raises(errors.PackageExistsError):
        crossform.save(package, path)
    other = package.replace(owner="someone else")
    crossform.save(other, path, overwrite=True)
    assert crossform.load(path).id == other.id
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]  # no staging or old copies left


def test_save_never_replaces_a_folder_that_is_not_a_package(tmp_path, package):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with pytest.raises(errors.PackageExistsError, match="not a crossform package"):
        crossform.save(package, precious, overwrite=True)
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_load_sniffs_content_not_names(tmp_path, package):
    path = crossform.save(package, tmp_path / "model").rename(tmp_path / "model.onnx")  # a misleading name
    assert crossform.load(path).id == package.id
    (tmp_path / "empty").mkdir()
    with pytest.raises(errors.UnknownFormatError, match="no registered format"):
        crossform.load(tmp_path / "empty")
    with pytest.raises(errors.PackageNotFoundError):
        crossform.load(tmp_path / "nothing-here")


def test_unknown_format_name(tmp_path, package):
    with pytest.raises(errors.UnknownFormatError, match="stripe-json"):
        crossform.save(package, tmp_path / "x", format="pickle")


@pytest.mark.parametrize("fmt", ["stripe-json", "protobuf"])
def test_saved_packages_get_the_usual_permissions(tmp_path, package, fmt):
    """Writes go through private temporary files; the package must not stay private."""
    mask = os.umask(0o022)
    try:
        path = crossform.save(package, tmp_path / "pkg", format=fmt)
    finally:
        os.umask(mask)
    expected = 0o755 if path.is_dir() else 0o644
    assert os.stat(path).st_mode & 0o777 == expected
