"""The member variant (sets="member"): small category sets as BRANCH_MEMBER nodes where onnxruntime
decides them exactly, columns elsewhere."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from crossform import ir
from crossform.errors import CrossformError, UnsupportedModelError
from crossform.exporters import onnx as O
from crossform.exporters.onnx import _write_trees
from crossform.runtime import onnx_reference
from helpers.onnx_files import (
    KIND_ROWS,
    KINDS,
    RUNTIMES,
    assert_runtimes_pass,
    branch_modes,
    export_onnx,
    reference_checks,
)

onnx = pytest.importorskip("onnx")


def _member_package(sets: tuple) -> ir.Package:
    """KINDS["set-splits"] with its first tree's two sets replaced by ``sets``."""
    package = KINDS["set-splits"]
    first, rest = package.model.trees[0], package.model.trees[1:]
    tree = dataclasses.replace(first, sets=sets + (None,) * (first.n_nodes - len(sets)))
    return package.replace(model=dataclasses.replace(package.model, trees=(tree,) + rest))


MEMBER_ROWS = pd.concat(
    [
        KIND_ROWS,
        pd.DataFrame(
            {
                # -0.0 equals the member 0.0; 0.5 and 2.5 are no member (onnxruntime's big sets truncate them)
                "colour": ["blue", "red", "green", None, "purple", "blue"],
                "size": [-0.0, 0.5, 3.0, 2.5, 8.0, math.nan],
                "weight": [1.0, -0.0, 2.0, math.nan, 0.0, 1.0],
                "shade": [None] * 6,
            }
        ),
    ],
    ignore_index=True,
)


def test_member_sets_are_branch_member_nodes_read_back_to_the_same_package():
    package = KINDS["set-splits"]
    data = O.dumps(package, sets="member")
    assert O.dumps(package) == O.dumps(package, sets="columns")  # the default, byte for byte
    assert O.BRANCH_MEMBER in branch_modes(data) and b"X.sets" not in data
    assert O.read_version(data) == "1.3"
    back = O.loads(data)
    assert back.id == package.id and O.dumps(back, sets="member") == data
    assert O.stored(package, package.checks, sets="member") == (package, package.checks)
    onnx.checker.check_model(O.build(package, sets="member"), full_check=True)
    plain = KINDS["binary-alone"]  # no set split: the option changes nothing
    assert O.dumps(plain, sets="member") == O.dumps(plain)


@pytest.mark.parametrize(
    "sets, native",
    [
        (((0.0, 3.0, 8.0), (0.0, 2.0)), True),  # codes 0..30: BRANCH_MEMBER
        (((1.0, 3.0, 8.0), (2.0,)), True),  # no 0.0: the ReferenceEvaluator runs it too
        (((0.5, 3.0), (-1.0, 2.0)), False),  # not an integer, below 0: columns (ORT's big sets truncate x)
        (((3.0, 31.0), (0.0, 2.0)), True),  # beyond 30: a column, beside a BRANCH_MEMBER
        ((tuple(float(v) for v in range(31)), (2.0**40,)), False),  # 31 members; beyond int32
    ],
)
def test_member_sets_score_exactly_in_onnxruntime_or_fall_back_to_columns(sets, native):
    package = _member_package(sets)
    data = O.dumps(package, sets="member")
    assert (O.BRANCH_MEMBER in branch_modes(data)) == native
    assert (b"X.sets" in data) == (not all(_write_trees.native_set(s) for s in sets))
    back = O.loads(data)
    assert back.id == package.id
    checks = reference_checks(package, MEMBER_ROWS)
    # test_the_reference_evaluator_names_why_it_cannot_run_a_zero_member
    zero = any(0.0 in s for s in sets if _write_trees.native_set(s))
    runtimes = [r for r in RUNTIMES if not (r is onnx_reference and zero)]
    for comparison in assert_runtimes_pass(data, checks, back.model, runtimes=runtimes):
        assert comparison.max_relative_difference <= 1e-15


def test_the_reference_evaluator_names_why_it_cannot_run_a_zero_member():
    data = O.dumps(KINDS["set-splits"], sets="member")
    reason = onnx_reference.unsupported(data)
    assert "ends a BRANCH_MEMBER set at a member 0.0" in reason and "op_tree_ensemble.py" in reason
    assert "line 179" in reason and "[0.0, 3.0, 8.0]" in reason
    with pytest.raises(UnsupportedModelError, match="onnx-reference cannot run this file"):
        onnx_reference.prepare(data, O)
    assert onnx_reference.unsupported(O.dumps(KINDS["set-splits"])) is None  # columns: it runs those
    assert onnx_reference.unsupported(O.dumps(_member_package(((1.0, 3.0), (2.0,))), sets="member")) is None


def _edit_members(data: bytes, edit) -> bytes:
    proto = onnx.load_from_string(data)
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.name == "membership_values":
                values = onnx.numpy_helper.to_array(attr.t).copy()
                attr.t.CopyFrom(onnx.numpy_helper.from_array(np.asarray(edit(values), dtype=np.float64), attr.t.name))
                return proto.SerializeToString()
    raise AssertionError("no membership_values")


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda v: v[:-1], "NaN separators"),  # the last set's separator dropped
        (lambda v: np.append(v, np.nan), "NaN separators"),  # one separator too many
        (lambda v: np.insert(v, 1, np.nan), "NaN separators"),  # NaN inside a set
        (lambda v: np.concatenate([v[:3][::-1], v[3:]]), "strictly increasing"),  # unsorted
        (lambda v: np.concatenate([[3.0, 3.0], v[2:]]), "strictly increasing"),  # a repeated member
    ],
)
def test_bad_membership_values_are_refused_by_name(edit, problem):
    data = _edit_members(O.dumps(KINDS["set-splits"], sets="member"), edit)
    with pytest.raises(O.OnnxStructureError, match=problem):
        O.loads(data)


def test_member_variant_runs_in_the_conformance_plan():
    from crossform import conformance

    assert conformance.plan(["onnx[member]"]) == [("onnx[member]", "onnxruntime"), ("onnx[member]", "onnx-reference")]
    with pytest.raises(CrossformError, match="expected sets columns or member"):
        O.dumps(KINDS["set-splits"], sets="bitmask")


def test_export_cli_takes_sets_for_onnx(tmp_path, capsys):
    import joblib
    from sklearn.ensemble import HistGradientBoostingRegressor

    from crossform.cli import main

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"code": rng.integers(0, 6, 300).astype(float), "x": rng.normal(size=300)})
    target = (frame["code"].isin([0.0, 2.0, 5.0]) * 3.0 + frame["x"]).to_numpy()
    joblib.dump(
        HistGradientBoostingRegressor(max_iter=5, categorical_features=[0]).fit(frame, target), tmp_path / "m.joblib"
    )
    code = export_onnx(tmp_path / "m.joblib", tmp_path / "m.onnx", "sets", "member", checks=100)
    assert code == 0 and "format  onnx, sets member" in capsys.readouterr().out
    data = (tmp_path / "m.onnx").read_bytes()
    assert O.BRANCH_MEMBER in branch_modes(data) and O.read_version(data) == "1.3"
    assert main(["validate", str(tmp_path / "m.onnx")]) == 0


def test_member_variant_reads_back_column_sets_of_a_tree_numbered_best_first():
    # histogram boosting numbers nodes in the order it splits them, not in walk order: here the
    # root's right child (1) splits before its left one (2). Both their sets are too big for
    # BRANCH_MEMBER (400 > NATIVE_SET_MAX) and become columns; node 3's set stays a member node,
    # so the file lists the nodes in walk order (0, 2, 1, 3), as the reader then numbers them
    tree = ir.Tree(
        feature=[0, 1, 1, 1, -1, -1, -1, -1, -1],
        threshold=[0.5] + [0.0] * 8,
        left=[2, 3, 5, 7, -1, -1, -1, -1, -1],
        right=[1, 4, 6, 8, -1, -1, -1, -1, -1],
        missing_left=[False] * 9,
        value=[[0.0]] * 4 + [[1.0], [2.0], [3.0], [4.0], [5.0]],
        sets=(None, (2.0, 400.0), (-1.0, 11.0, 400.0), (3.0,)) + (None,) * 5,
    )
    package = ir.Package(
        inputs=(ir.Field("size", ir.NUMERIC), ir.Field("grade", ir.NUMERIC)),
        encoders=(),
        model=ir.TreeEnsemble(("size", "grade"), (tree,), "sum", base_value=[0.0], infinite="compare"),
    )
    data = O.dumps(package, sets="member")
    assert O.BRANCH_MEMBER in branch_modes(data)
    assert O.loads(data).id == package.id
