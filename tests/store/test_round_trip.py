"""Every format goes into the store and comes back: the same id, the same scores as
scikit-learn, the bytes as written."""

from __future__ import annotations

import numpy as np
import pytest

import crossform
from crossform import exporters
from helpers.fits import fit_pipeline
from helpers.packages import small_package

FORMATS = exporters.formats()


@pytest.fixture(scope="module")
def fitted():
    model = fit_pipeline("classifier")
    rng = np.random.default_rng(5)
    import pandas as pd

    rows = pd.DataFrame(
        {
            "colour": pd.Series(rng.choice(["red", "blue", "green"], 40), dtype=object),
            "size": rng.normal(10, 4, 40),
            "weight": rng.normal(0, 1, 40),
        }
    )
    return model, crossform.from_sklearn(model, checks=0), rows


@pytest.mark.parametrize("format", FORMATS)
def test_a_package_put_in_each_format_comes_back_and_scores_as_sklearn(store, fitted, format):
    model, package, rows = fitted
    package_id = store.put(package, format=format)
    assert package_id == package.id
    assert store.exists(package_id) and store.exists(package_id, format=format)
    assert store.formats(package_id) == [format]
    got = store.get(package_id, format=format)
    assert got.id == package_id
    np.testing.assert_allclose(crossform.score(got, rows).values, model.predict_proba(rows), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("format", FORMATS)
def test_a_saved_path_is_stored_as_the_bytes_it_holds(store, tmp_path, format):
    package = small_package()
    path = exporters.save(package, tmp_path / "saved", format=format)
    package_id = store.put(path)
    assert package_id == package.id
    pulled = store.pull(package_id, tmp_path / "pulled", format=format)
    assert _tree(pulled) == _tree(path)
    assert exporters.sniff(pulled) == format


def test_one_id_in_several_formats(store):
    package = small_package()
    for format in FORMATS:
        assert store.put(package, format=format) == package.id
    assert store.formats(package.id) == sorted(FORMATS)
    assert store.list() == [package.id]
    assert store.get(package.id).id == package.id  # no format asked: stripe-json, stored


def test_put_twice_writes_nothing_the_second_time(store, monkeypatch, tmp_path):
    package = small_package()
    first = store.put(package)
    path = exporters.save(package, tmp_path / "saved")

    def no_write(*args):
        raise AssertionError("a second put wrote to the store")

    monkeypatch.setattr(store._backend, "write_object", no_write)
    assert store.put(package) == first
    assert store.put(path) == first
    assert store.list() == [first]


def test_list_is_sorted_ids(store):
    ids = [store.put(small_package(owner=f"owner-{i}")) for i in range(3)]
    assert store.list() == sorted(ids)
    assert len(set(ids)) == 3


def test_an_empty_store_lists_nothing_and_a_missing_id_is_not_found(store):
    from crossform.errors import ObjectNotFoundError

    missing = small_package().id
    assert store.list() == []
    assert not store.exists(missing)
    with pytest.raises(ObjectNotFoundError, match="no package with this id"):
        store.get(missing)
    with pytest.raises(ObjectNotFoundError):
        store.get(missing, format="onnx")


def test_pull_refuses_an_existing_destination(store, tmp_path):
    from crossform.errors import PackageExistsError

    package_id = store.put(small_package(), format="onnx")
    (tmp_path / "taken.onnx").write_bytes(b"mine")
    with pytest.raises(PackageExistsError, match="already exists"):
        store.pull(package_id, tmp_path / "taken.onnx")
    assert (tmp_path / "taken.onnx").read_bytes() == b"mine"


def _tree(path):
    if path.is_file():
        return path.read_bytes()
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
