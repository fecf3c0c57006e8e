"""The weighted median (AdaBoostRegressor) in every format: round trips with the same id, the
strict minor it records (FEATURES_SINCE), hand-edited files refused by name, ties ordered by tree
index, every runtime scoring it as the reference, and PMML's fields computing the rule where
JPMML's own weightedMedian does not."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from crossform import compat, evaluator, ir
from crossform.errors import CrossformError, UnsupportedModelError
from crossform.exporters import Files, _versions, get_format, stripe_json
from crossform.runtime import get_runtime, unavailable
from helpers import every_kind
from helpers.runtimes import assert_runtimes_pass_checks

ROWS = every_kind.rows()
FORMATS = ("stripe-json", "protobuf", "onnx", "pmml")
FEATURE = ("weighted median", "aggregation='weighted-median'")


def _stump(feature: int, threshold: float, left: float, right: float) -> ir.Tree:
    return ir.Tree(
        feature=[feature, -1, -1],
        threshold=[threshold, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[True, False, False],
        value=[[0.0], [left], [right]],
    )


def _packages() -> dict:
    # equal values across trees (1.5 in trees 0, 2 and 3) so that the order of ties matters
    trees = (
        _stump(0, 0.5, 1.5, -2.0),
        _stump(1, 0.0, 0.25, 1.5),
        _stump(0, -1.0, 1.5, 3.0),
        _stump(1, 2.0, 1.5, -0.5),
        _stump(0, 1.0, -1.0, 0.25),
    )
    weights = (0.7, 1.1, 0.30000000000000004, 0.9, 0.45)
    return {
        "weighted-median": ir.Package(
            inputs=every_kind.fields()[1:],
            encoders=(),
            model=ir.TreeEnsemble(("size", "weight"), trees, "weighted-median", tree_weights=weights),
        ),
        "weighted-median-refusing-nan": ir.Package(
            inputs=every_kind.fields()[1:],
            encoders=(ir.Affine(("weight",), [0.5], [0.25]),),
            model=ir.TreeEnsemble(
                ("size", "weight"), trees[:3], "weighted-median", missing="error", tree_weights=(1.0, 0.0, 2.0)
            ),
        ),
    }


PACKAGES = _packages()


def _median(values: list, weights: tuple) -> float:
    """The rule as scikit-learn's _get_median_predict writes it, with ties in tree order."""
    order = sorted(range(len(values)), key=lambda t: (values[t], t))
    running, cdf = 0.0, []
    for t in order:
        running += weights[t]
        cdf.append(running)
    return values[order[next(i for i, c in enumerate(cdf) if c >= 0.5 * cdf[-1])]]


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_weighted_median_round_trips_and_records_the_next_minor(fmt_name, name):
    if fmt_name == "onnx":
        pytest.importorskip("onnx")
    package = PACKAGES[name]
    fmt = get_format(fmt_name)
    content = fmt.dumps(package)
    source = content if isinstance(content, bytes) else Files.from_mapping(content, "pkg")
    back = fmt.loads(source)
    assert back.id == package.id and back.model.tree_weights == package.model.tree_weights
    assert back.model.aggregation == "weighted-median"
    assert fmt.dumps(back) == content
    recorded = fmt.read_version(source)
    assert recorded == _versions.FEATURES_SINCE["weighted median"][fmt_name] == fmt.VERSION
    assert FEATURE in _versions.features_used(package)
    assert compat.readers_text(compat.readers(fmt_name, recorded)) == ">=0.6.0"


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_weighted_median_scores_as_the_reference_in_every_runtime(fmt_name, name):
    from helpers.onnx_files import reference_checks

    package = PACKAGES[name]
    fmt = get_format(fmt_name)
    checks = reference_checks(package, ROWS)
    assert np.isfinite(checks.values).any()
    assert_runtimes_pass_checks(fmt, package, checks)


def test_onnx_float32_variant_keeps_the_median_exact():
    """The float32 file reaches the same leaves (float32 inputs) and picks a double value: bound 0."""
    pytest.importorskip("onnx")
    from crossform.exporters.onnx import _float32

    package = PACKAGES["weighted-median"]
    assert _float32.float32_package(package) is package and _float32.float32_tolerance(package) == 0.0


def test_the_reference_takes_the_first_running_sum_at_half_with_ties_in_tree_order():
    package = PACKAGES["weighted-median"]
    model = package.model
    grid = [-2.0, -1.0, -0.5, 0.0, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    sizes, weights = np.meshgrid(grid, grid)
    sizes, weights = sizes.ravel(), weights.ravel()
    scores = evaluator.score(package, {"size": sizes.tolist(), "weight": weights.tolist()})
    for row, (size, weight) in enumerate(zip(sizes, weights)):
        x = (size, weight)
        values = [float(t.value[1 if x[t.feature[0]] <= t.threshold[0] else 2, 0]) for t in model.trees]
        assert scores.values[row, 0] == _median(values, model.tree_weights)


def test_a_tie_at_the_half_picks_the_lower_value():
    """Weights 1, 1 over values 2.0 and 1.0: the running sums are 1 and 2, half of 2 is 1, so the
    first sorted value (1.0) is the median, as argmax of cdf >= 0.5 * total gives."""
    trees = (_stump(0, 0.5, 2.0, 2.0), _stump(0, 0.5, 1.0, 1.0))
    package = ir.Package(
        inputs=every_kind.fields()[1:2],
        encoders=(),
        model=ir.TreeEnsemble(("size",), trees, "weighted-median", tree_weights=(1.0, 1.0)),
    )
    assert evaluator.score(package, {"size": [0.0]}).values[0, 0] == 1.0


def test_pmml_computes_the_rule_where_jpmmls_weighted_median_picks_another_tree():
    """Six constant trees whose weights total 1.8 in tree order but 1.8000000000000003 in sorted
    order: half the latter is above the first running sum (0.9), so scikit-learn's
    _get_median_predict picks the second sorted value; JPMML's weightedMedian halves the former
    and picks the first. The document's Output fields compute the rule."""
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml unavailable: {reason}")
    values = [2.0, 3.0, 4.0, 0.0, 1.0, 5.0]
    weights = (0.1, 0.1, 0.4, 0.9, 0.2, 0.1)
    package = ir.Package(
        inputs=every_kind.fields()[1:2],
        encoders=(),
        model=ir.TreeEnsemble(
            ("size",), tuple(_stump(0, 0.5, v, v) for v in values), "weighted-median", tree_weights=weights
        ),
    )
    # _get_median_predict's lines on one row
    predictions = np.array([values])
    sorted_idx = np.argsort(predictions, axis=1)
    weight_cdf = np.cumsum(np.array(weights)[sorted_idx], axis=1)
    median_idx = (weight_cdf >= 0.5 * weight_cdf[:, -1:]).argmax(axis=1)
    want = predictions[0, sorted_idx[0, median_idx[0]]]
    assert want == 1.0
    fmt = get_format("pmml")
    content = fmt.dumps(package)
    jpmml = get_runtime("jpmml")
    assert jpmml.prepare(content, fmt)({"size": [0.0]}).values[0, 0] == want
    # the same document reporting JPMML's own weightedMedian (its Segmentation's predictedValue)
    native = re.sub(
        rb'<OutputField name="prediction" [^>]*feature="transformedValue">.*?</OutputField>',
        b'<OutputField name="prediction" optype="continuous" dataType="double" feature="predictedValue"/>',
        content,
        flags=re.S,
    )
    assert native != content
    evaluator_ = jpmml.build_evaluator(native)
    jpype = jpmml._start()
    arguments = jpype.JClass("java.util.HashMap")()
    arguments.put(jpype.JString("size"), jpype.JDouble(0.0))
    assert float(evaluator_.evaluate(arguments).get(jpype.JString("prediction"))) == 0.0


def test_pmml_refuses_a_weighted_median_of_too_many_trees_by_name():
    from crossform.exporters.pmml.rules import MAX_MEDIAN_TREES

    n = MAX_MEDIAN_TREES + 1
    package = ir.Package(
        inputs=every_kind.fields()[1:2],
        encoders=(),
        model=ir.TreeEnsemble(("size",), (_stump(0, 0.5, 1.0, 2.0),) * n, "weighted-median", tree_weights=(1.0,) * n),
    )
    with pytest.raises(UnsupportedModelError, match=f"weighted median of {n} trees"):
        get_format("pmml").dumps(package)


def test_a_2_1_model_schema_refuses_the_weighted_median_by_name():
    from crossform.exporters import _json

    files = stripe_json.dumps(PACKAGES["weighted-median"])
    doc = json.loads(files["model.json"])
    _json.validate(doc, "stripe-json-model-2.2.schema.json", "model.json")
    with pytest.raises(CrossformError, match="weighted-median|treeWeights"):
        _json.validate(doc, "stripe-json-model-2.1.schema.json", "model.json")
    doc["treeWeights"] = [-1.0] * len(doc["treeWeights"])
    with pytest.raises(CrossformError, match="treeWeights"):
        _json.validate(doc, "stripe-json-model-2.2.schema.json", "model.json")


@pytest.mark.parametrize(
    ("weights", "message"),
    [([1.0, 2.0], "one per tree"), ([0.0] * 5, "summing to more than 0"), ([1.0, -1.0, 1.0, 1.0, 1.0], ">= 0")],
)
def test_hand_edited_stripe_json_tree_weights_are_refused_by_name(weights, message):
    files = dict(stripe_json.dumps(PACKAGES["weighted-median"]))
    doc = json.loads(files["model.json"])
    doc["treeWeights"] = weights
    files["model.json"] = json.dumps(doc).encode("utf-8")
    with pytest.raises(CrossformError, match="tree"):
        stripe_json.loads(Files.from_mapping(files, "pkg"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.model.tree_ensemble_weighted_median.ClearField("tree_weights"), "one weight per tree"),
        (lambda m: m.model.tree_ensemble_weighted_median.tree_weights.__setitem__(0, -1.0), ">= 0"),
        (lambda m: m.model.tree_ensemble_weighted_median.tree_weights.__setitem__(1, float("nan")), ">= 0"),
        (lambda m: m.model.tree_ensemble_weighted_median.ClearField("rules"), "'rules' to be set"),
        (lambda m: setattr(m.model.tree_ensemble_weighted_median.rules.ensemble, "aggregation", 2), "no aggregation"),
        (lambda m: setattr(m, "format_version", "1.1"), "1.1"),
    ],
)
def test_hand_edited_protobuf_weights_are_refused_by_name(edit, message):
    from crossform.exporters import protobuf as P
    from crossform.v1 import package_pb2 as pb

    msg = pb.Package.FromString(P.dumps(PACKAGES["weighted-median"]))
    edit(msg)
    with pytest.raises(CrossformError, match=message):
        P.loads(msg.SerializeToString(deterministic=True))


def test_protobuf_1_1_readers_know_no_weighted_median_member():
    from pathlib import Path

    from google.protobuf import descriptor_pb2

    root = Path(__file__).resolve().parents[2] / "proto" / "descriptors"
    released = descriptor_pb2.FileDescriptorSet.FromString((root / "crossform-v1-1.1.binpb").read_bytes())
    fields = {f.name for m in released.file[0].message_type if m.name == "Model" for f in m.field}
    assert "tree_ensemble_with_rules" in fields and "tree_ensemble_weighted_median" not in fields


@pytest.mark.parametrize("weights", [np.array([1.0, 2.0]), np.array([[1.0] * 5]), np.ones(5, dtype=np.float32)])
def test_onnx_tree_weights_are_checked(weights):
    pytest.importorskip("onnx")
    import onnx

    from crossform.exporters import onnx as O

    proto = onnx.load_from_string(O.dumps(PACKAGES["weighted-median"]))
    for init in proto.graph.initializer:
        if init.name.endswith(":tree.weights"):
            init.CopyFrom(onnx.numpy_helper.from_array(weights, init.name))
    with pytest.raises(CrossformError, match="weight"):
        O.loads(proto.SerializeToString())


def test_pmml_refuses_crafted_tree_weights_by_name():
    from crossform.exporters.pmml.rules import PmmlHeaderError

    fmt = get_format("pmml")
    data = fmt.dumps(PACKAGES["weighted-median"])
    spec = re.search(rb'name="crossform.model" value="([^"]*)"', data).group(1)
    weights = re.search(rb"&quot;tree_weights&quot;:\[[^\]]*\]", spec).group(0)
    for crafted, error, words in (
        (b"&quot;tree_weights&quot;:&quot;x&quot;", PmmlHeaderError, "tree_weights"),
        (b"&quot;tree_weights&quot;:[1.0,-1.0,1.0,1.0,1.0]", CrossformError, "tree_weights"),
        (b"&quot;tree_weights&quot;:[1.0,1.0,1.0,1.0,2.0]", CrossformError, "differs"),  # not what the fields add
    ):
        with pytest.raises(error, match=words):
            fmt.loads(data.replace(spec, spec.replace(weights, crafted)))
