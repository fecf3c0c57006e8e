"""Tree ensembles accumulated in float32 (XGBoost's predictor) and the exp post transform in every
format: written, read back with the same id, scored by each runtime as the reference scores them,
recorded as the next strict minor (PMML: float fields and Apply expressions, pmml.float32).
Expected outputs against XGBoost itself are the conformance suite's (feature "xgboost") and
tests/frontends/test_xgboost.py's; here the runtimes are held to the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crossform
from crossform import errors, ir
from crossform.exporters import get_format

ROWS = [
    {"size": s, "weight": w}
    for s in (-30.0, 0.1, 0.5, 0.50000001, 14.0, math.nan, math.inf, 1e39, -0.0)
    for w in (-1.0, 0.3, 0.7, 2.0, math.nan)
]
NEXT = {"stripe-json": "2.2", "protobuf": "1.2", "onnx": "1.4", "pmml": "1.3"}


def _tree(feature: int, k: int = 0, width: int = 1, scale: float = 1.0) -> ir.Tree:
    value = np.zeros((3, width))
    value[1, k] = float(np.float32(-0.1234567 * scale))
    value[2, k] = float(np.float32(0.7654321 * scale))
    return ir.Tree(
        feature=[feature, -1, -1],
        threshold=[0.5, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[feature == 0, False, False],
        value=value,
    )


def _model(post: str, **kwargs) -> ir.TreeEnsemble:
    features = ("size", "weight")
    if post == "softmax":
        trees = tuple(_tree(t % 2, k, 3, 1 + t) for t in range(6) for k in range(3))
        return ir.TreeEnsemble(
            features,
            trees,
            "sum",
            "softmax",
            classes=(0, 1, 2),
            base_value=[float(np.float32(v)) for v in (0.1, -0.2, 0.3)],
            **kwargs,
        )
    trees = tuple(_tree(t % 2, scale=1 + t / 7) for t in range(12))
    classes = (0, 1) if post == "logistic" else None
    return ir.TreeEnsemble(features, trees, "sum", post, classes=classes, base_value=[float(np.float32(0.3))], **kwargs)


PACKAGES = {
    f"{post}-float32": ir.Package(
        inputs=(ir.Field("size", ir.NUMERIC), ir.Field("weight", ir.NUMERIC)),
        encoders=(),
        model=_model(post, accumulate="float32"),
    )
    for post in ("none", "logistic", "softmax", "exp")
}
PACKAGES["exp-float64"] = ir.Package(
    inputs=(ir.Field("size", ir.NUMERIC), ir.Field("weight", ir.NUMERIC)), encoders=(), model=_model("exp")
)


def test_the_rule_adds_in_float32_and_differs_from_float64():
    """The float32 fold is not the float64 one: the rule is there for a reason, on these very rows."""
    model = PACKAGES["none-float32"].model
    wide = ir.Package(inputs=PACKAGES["none-float32"].inputs, encoders=(), model=_model("none"))
    a = crossform.score(PACKAGES["none-float32"], ROWS).values
    b = crossform.score(wide, ROWS).values
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a[:, 0])
    assert (a[ok] != b[ok]).any()
    # every score is a float32 value: the sum was rounded after each addition
    assert np.array_equal(a[ok].astype(np.float32).astype(np.float64), a[ok])
    # by hand for one row: base, then each tree in order, in float32
    row = {"size": 0.1, "weight": 2.0}
    acc = np.float32(model.base_value[0])
    for t in model.trees:
        x = row["size"] if t.feature[0] == 0 else row["weight"]
        acc = np.float32(acc + np.float32(t.value[1 if x <= 0.5 else 2, 0]))
    assert crossform.score(PACKAGES["none-float32"], [row]).values[0, 0] == float(acc)


@pytest.mark.parametrize("name", sorted(PACKAGES))
@pytest.mark.parametrize("fmt", ["stripe-json", "protobuf", "onnx", "pmml"])
def test_round_trip_keeps_the_id_and_records_the_next_minor(tmp_path, fmt, name):
    if fmt == "onnx":
        pytest.importorskip("onnx")
    package = PACKAGES[name]
    path = tmp_path / {"onnx": "pkg.onnx", "protobuf": "pkg.pb", "pmml": "pkg.pmml"}.get(fmt, "pkg")
    crossform.save(package, path, format=fmt)
    back = crossform.load(path)
    assert back.id == package.id
    assert back.model.accumulate == package.model.accumulate
    assert get_format(fmt).written_version(package) == NEXT[fmt]
    want = crossform.score(package, ROWS)
    got = crossform.score(back, ROWS)
    np.testing.assert_array_equal(got.values, want.values)


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_onnx_runtimes_score_like_the_reference(name):
    pytest.importorskip("onnxruntime")
    from crossform.exporters import onnx as O
    from helpers.onnx_files import RUNTIMES

    package = PACKAGES[name]
    content = O.dumps(package)
    want = crossform.score(package, ROWS)
    for runtime in RUNTIMES:
        got = runtime.prepare(content, O)(ROWS)
        assert [e is None for e in got.errors] == [e is None for e in want.errors], runtime.NAME
        if package.model.accumulate == "float32":
            # float32 values from double exps rounded once: bit for bit
            np.testing.assert_array_equal(got.values, want.values, err_msg=runtime.NAME)
        else:
            # a double Exp: each runtime's own exp, within SEMANTICS' 1e-12
            np.testing.assert_allclose(got.values, want.values, rtol=1e-12, atol=0, err_msg=runtime.NAME)


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_jpmml_scores_like_the_reference(name):
    from crossform.runtime import get_runtime, unavailable

    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml unavailable: {reason}")
    fmt = get_format("pmml")
    package = PACKAGES[name]
    content = fmt.dumps(package)
    assert b"mathContext" not in content  # JPMML's x-mathContext is no PMML 4.4: float fields say it
    want = crossform.score(package, ROWS)
    got = get_runtime("jpmml").prepare(content, fmt)(ROWS)
    assert [e is None for e in got.errors] == [e is None for e in want.errors]
    ok = np.equal(want.errors, None)
    np.testing.assert_array_equal(got.leaves[ok], want.leaves[ok])
    if package.model.accumulate == "float32":
        np.testing.assert_array_equal(got.values[ok], want.values[ok])  # float32 values: bit for bit
    else:
        np.testing.assert_allclose(got.values[ok], want.values[ok], rtol=1e-12, atol=0)  # Java's Math.exp


def test_the_id_changes_with_the_rule_and_not_for_packages_without_it():
    wide = ir.Package(inputs=PACKAGES["none-float32"].inputs, encoders=(), model=_model("none"))
    assert wide.id != PACKAGES["none-float32"].id
    assert wide.id == ir.Package(inputs=wide.inputs, encoders=(), model=_model("none", accumulate="float64")).id


def test_float32_accumulation_refuses_values_float32_cannot_hold():
    with pytest.raises(errors.IRValidationError, match="float32 values under accumulate 'float32'"):
        ir.TreeEnsemble(("size", "weight"), (_tree(0),), "sum", base_value=[0.1], accumulate="float32")
    with pytest.raises(errors.IRValidationError, match="accumulate"):
        ir.TreeEnsemble(("size", "weight"), (_tree(0),), "average", accumulate="float32")
    with pytest.raises(errors.IRValidationError, match="accumulate"):
        ir.TreeEnsemble(("size", "weight"), (_tree(0),), "sum", accumulate="float16")


# ---------------------------------------------------------------- files edited by hand, refused by name


def test_stripe_json_refuses_a_bad_accumulate_and_the_key_in_a_2_1_file():
    from helpers.stripe_json import edit_json, files_of, load_files

    files = files_of(PACKAGES["none-float32"])
    with pytest.raises(errors.SchemaError, match="model-2.2.schema.json"):
        load_files(edit_json(files, "model.json", lambda d: d.update(accumulate="float16")))
    as_2_1 = edit_json(files, "MODEL", lambda d: d.update(formatVersion="2.1"))
    with pytest.raises(errors.SchemaError, match="model-2.1.schema.json"):
        load_files(as_2_1)
    # float32 sums of values float32 cannot hold: the IR's named refusal, naming the file
    wider = edit_json(files, "model.json", lambda d: d.update(baseValue=[0.1]))
    with pytest.raises(errors.MalformedPackageError, match="float32 values under accumulate 'float32'"):
        load_files(wider)


def test_protobuf_refuses_the_float32_member_without_rules_or_in_a_1_1_file():
    from crossform.exporters import protobuf as P
    from helpers.protobuf import edited, refused, set_version

    package = PACKAGES["logistic-float32"]
    refused(
        edited(lambda m: m.model.tree_ensemble_float32.ClearField("rules"), package), P.ProtobufMissingError, "rules"
    )
    refused(edited(set_version("1.1"), package), P.ProtobufUnknownFieldError, "tree_ensemble_float32")


def test_onnx_refuses_an_unknown_accumulate_in_the_trees_doc():
    pytest.importorskip("onnx")
    from crossform.exporters import onnx as O
    from helpers.onnx_files import edited_file

    def edit(model):
        for node in model.graph.node:
            if node.op_type == "TreeEnsemble":
                node.doc_string = node.doc_string.replace('"float32"', '"float16"')

    with pytest.raises(O.OnnxStructureError, match="accumulate"):
        O.loads(edited_file(O.dumps(PACKAGES["softmax-float32"]), edit))
