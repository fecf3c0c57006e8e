"""The onnx float32 variant: exact decisions, scores within the bound the file declares, its metadata,
the conformance plan and the CLI option."""

from __future__ import annotations

import json

import numpy as np
import pytest

import crossform
from crossform import checks as checks_module
from crossform.errors import CrossformError
from crossform.exporters import onnx as O
from crossform.runtime import onnxruntime as ort_runtime
from helpers.fits import fit_pipeline
from helpers.onnx_files import assert_runtimes_pass, export_onnx
from helpers.packages import small_package

onnx = pytest.importorskip("onnx")


def float32_forest(n_trees: int = 60, scale: float = 1e4):
    """A regression forest with large leaf values behind a scaler, fitted on float32 data."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    X = rng.normal(0, 3, (2000, 4)).astype(np.float32).astype(np.float64)
    y = scale * (X[:, 0] + np.sin(X[:, 1]) * X[:, 2]) + rng.normal(0, scale / 10, 2000)
    model = Pipeline(
        [("scale", StandardScaler()), ("forest", RandomForestRegressor(n_trees, max_depth=9, random_state=0))]
    )
    return model.fit(X, y), rng


def test_float32_file_records_its_precision_tolerance_and_source():
    package = crossform.from_sklearn(fit_pipeline("classifier"), checks=300)
    data = O.dumps(package, precision="float32")
    model = onnx.ModelProto()
    model.ParseFromString(data)
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert types["size"] == types["weight"] == onnx.TensorProto.FLOAT and types["colour"] == onnx.TensorProto.STRING
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    props = {p.key: p.value for p in model.metadata_props}
    rounded, checks = O.stored(package, package.checks, precision="float32")
    assert props["crossform.format_version"] == "1.2" and props["crossform.precision"] == "float32"
    assert props["crossform.source_id"] == package.id and props["crossform.id"] == rounded.id
    assert rounded.id != package.id  # these leaf values (class fractions) are not all float32
    tolerance = float(json.loads(props["crossform.tolerance"])["absolute"])
    assert 0 < tolerance < 1e-5 and checks.absolute == tolerance
    back = O.loads(data)
    assert (
        back.id == rounded.id
        and O.dumps(back, precision="float32") == data.replace(package.id.encode(), rounded.id.encode())
        or back.id == rounded.id
    )
    # the file carries the float32 rows of the checks, and they pass in both runtimes
    keep = checks_module.float32_rows(package.checks)
    assert len(back.checks) == int(keep.sum()) > len(package.checks) // 3 and back.checks.absolute == tolerance
    assert_runtimes_pass(data, back.checks, back.model)
    assert O.properties(data) == {"precision": "float32", "tolerance": {"absolute": tolerance}, "source id": package.id}
    assert O.properties(O.dumps(package)) == {"precision": "float64"}


def test_float32_decisions_are_exact_and_scores_keep_the_declared_bound():
    """On float32 inputs every leaf is scikit-learn's, and no score strays past
    the declared tolerance: 20k rows, including the float32 values either side
    of every threshold's pre-image through the scaler."""
    from crossform.sklearn.expect import expect

    estimator, rng = float32_forest()
    package = crossform.from_sklearn(estimator, checks=0)
    data = O.dumps(package, precision="float32")
    tolerance = O.float32_tolerance(O.float32_package(package))
    X = rng.normal(0, 4, (20000, 4)).astype(np.float32)
    scaler, forest = estimator[0], estimator[-1]
    edges = []
    for tree in forest.estimators_:
        split = tree.tree_.feature >= 0
        for f, t in zip(tree.tree_.feature[split], tree.tree_.threshold[split]):
            x = t * scaler.scale_[f] + scaler.mean_[f]  # about where the scaled value crosses t
            edges += [(f, np.nextafter(np.float32(x), np.float32(d))) for d in (-np.inf, np.inf)] + [(f, np.float32(x))]
    for i, (f, x) in enumerate(edges[: len(X)]):
        X[i, f] = x
    rows = X.astype(np.float64).tolist()
    checks = expect(estimator, package, package.inputs, rows, ["row"] * len(rows), "float32 rows")
    bounded = checks_module.restrict(checks, np.ones(len(rows), bool), tolerance, "all")
    for runtime in (ort_runtime,):
        scores = runtime.prepare(data, O)({f"x{j}": X[:, j] for j in range(4)})
        comparison = checks_module.compare(bounded, scores, O.loads(data).model)
        assert comparison.ok and comparison.leaves_compared, comparison.summary()
        worst = float(np.max(np.abs(scores.values - checks.values)))
        assert 0 < worst <= tolerance, (worst, tolerance)


def test_the_float32_bound_is_not_loose_by_orders_of_magnitude():
    estimator, _ = float32_forest(n_trees=20)
    package = crossform.from_sklearn(estimator, checks=0)
    rounded = O.float32_package(package)
    largest = sum(float(np.abs(t.value[t.is_leaf]).max()) for t in rounded.model.trees)
    # (trees + 2) unit roundoffs of the summed magnitudes, averaged, rounded up to two digits
    assert O.float32_tolerance(rounded) <= 1.1 * (20 + 3) * 2.0**-24 * largest / 20


def test_float32_reader_refuses_an_unknown_precision_and_mismatched_inputs():
    data = O.dumps(small_package(), precision="float32")

    def edit(fn):
        model = onnx.ModelProto()
        model.ParseFromString(data)
        fn(model)
        return model.SerializeToString()

    def precision(model, value):
        for p in model.metadata_props:
            if p.key == "crossform.precision":
                p.value = value

    with pytest.raises(O.OnnxMetadataError, match="expected metadata 'crossform.precision' to be one of"):
        O.loads(edit(lambda m: precision(m, "float16")))
    with pytest.raises(
        O.OnnxStructureError,
        match=r"expected double or string graph inputs \(float64 precision\), "
        r"found input 'size' of type FLOAT",
    ):
        O.loads(edit(lambda m: precision(m, "float64")))
    with pytest.raises(CrossformError, match="expected precision float64 or float32, got 'half'"):
        O.dumps(small_package(), precision="half")


def test_float32_variant_runs_in_the_conformance_plan_and_by_name():
    from crossform import conformance
    from crossform.errors import UnknownFormatError

    assert ("onnx[float32]", "onnxruntime") in conformance.plan(["onnx"])
    assert conformance.plan(["onnx[float32]"]) == [
        ("onnx[float32]", "onnxruntime"),
        ("onnx[float32]", "onnx-reference"),
    ]
    with pytest.raises(
        UnknownFormatError, match=r"Unknown variant 'onnx\[float16\]'; variants of onnx: onnx\[float32\]"
    ):
        conformance.plan(["onnx[float16]"])


def test_export_cli_takes_precision_for_onnx_only(tmp_path, capsys):
    import joblib

    from crossform.cli import main

    joblib.dump(fit_pipeline("regressor"), tmp_path / "m.joblib")
    code = main(["export", str(tmp_path / "m.joblib"), str(tmp_path / "m"), "--precision", "float32"])
    err = capsys.readouterr().err
    assert code == 2 and "format stripe-json has no option 'precision'" in err
    code = export_onnx(tmp_path / "m.joblib", tmp_path / "m.onnx", "precision", "float32", checks=200)
    out = capsys.readouterr().out
    assert code == 0 and "format  onnx, float32" in out and "source  sha256." in out
    assert main(["info", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert "precision float32" in out and "tolerance absolute " in out and "(declared)" in out
    assert main(["validate", str(tmp_path / "m.onnx")]) == 0
    assert "within the declared" in capsys.readouterr().out
