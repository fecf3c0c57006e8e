"""Set splits, +inf thresholds and isolation scores in protobuf (tree_ensemble_with_rules): round trips, scikit-learn fits, the released 1.0 reader."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tarfile
import textwrap
import warnings

import numpy as np
import pytest

import crossform
from crossform import checks as checks_module
from crossform import evaluator, ir
from crossform.exporters import protobuf as P
from crossform.runtime import reference as reference_runtime
from crossform.v1 import package_pb2 as pb
from helpers.packages import TREE_VARIANTS
from helpers.protobuf import (
    EVERY_KIND,
    REFUSE,
    ROOT,
    ROWS,
    WITH_RULES,
    assert_scores_like_the_reference,
    both,
    each_1_1_kind,
    edited,
    reader_1_0,
    set_version,
    tree,
)


def with_rules_rows() -> list:
    """Every code in a set and out of it (-0.0 equals 0.0; the next float after 2.0 is not 2.0),
    crossed with numbers, +-inf, huge values and NaN."""
    codes = [-3.0, 0.0, -0.0, 2.0, np.nextafter(2.0, 3.0), 7.5, 1.0, 4.0, math.nan, math.inf, -math.inf, 1e39]
    xs = [-2.0, 0.5, 0.75, -1.5, 1e300, math.inf, -math.inf, math.nan]
    rows = [{"code": c, "x": x} for c in codes for x in xs]
    return rows + [{"colour": row["colour"], "size": row["size"]} for row in ROWS]  # for inf-threshold-only


WITH_RULES_ROWS = with_rules_rows()


def rows_for(package: ir.Package) -> list:
    names = [f.name for f in package.inputs]
    return [r for r in WITH_RULES_ROWS if list(r) == names]


@pytest.mark.parametrize("name", sorted(WITH_RULES))
def test_with_rules_packages_round_trip_record_1_1_and_score_like_the_reference(name):
    package = WITH_RULES[name]
    data = P.dumps(package)
    assert P.read_version(data) == "1.1"
    assert pb.Package.FromString(data).model.WhichOneof("model") == "tree_ensemble_with_rules"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = P.loads(data)
    assert back.id == package.id and P.dumps(back) == data
    assert [t.sets for t in back.model.trees] == [t.sets for t in package.model.trees]
    assert back.model.isolation == package.model.isolation
    for a, b in zip(back.model.trees, package.model.trees):
        np.testing.assert_array_equal(a.threshold, b.threshold)
    assert_scores_like_the_reference(package, data, rows_for(package))


def test_the_with_rules_rows_reach_every_leaf_and_the_inf_threshold():
    for name in ("sets-regression", "sets-binary", "isolation-sets-inf"):
        package = WITH_RULES[name]
        leaves = evaluator.score(package, rows_for(package)).leaves
        for t, each in enumerate(package.model.trees):
            assert set(leaves[:, t][leaves[:, t] >= 0].tolist()) == set(np.flatnonzero(each.is_leaf).tolist()), (
                name,
                t,
            )
    # 4.0 is in no set: the missing side, right, to x <= +inf, where +inf goes left and NaN right
    package = WITH_RULES["sets-regression"]
    got = reference_runtime.prepare(P.dumps(package), P)([{"code": 4.0, "x": math.inf}, {"code": 4.0, "x": math.nan}])
    assert got.leaves[:, 0].tolist() == [3, 4]


def test_set_values_are_exact_doubles():
    # -0.0 is in the set holding 0.0; the double after 2.0 is not in it
    package = WITH_RULES["sets-regression"]
    got = reference_runtime.prepare(P.dumps(package), P)(
        [{"code": -0.0, "x": 0.5}, {"code": 0.0, "x": 0.5}, {"code": np.nextafter(2.0, 3.0), "x": 0.5}]
    )
    assert got.leaves[:, 0].tolist() == [1, 1, 3]


def test_an_isolation_file_outputs_score_and_decision_as_written():
    package = WITH_RULES["isolation"]
    row = {"code": -3.0, "x": 0.0}
    got = reference_runtime.prepare(P.dumps(package), P)([row])
    assert got.outputs == ("score", "decision")
    raw = 0.0 + sum(t.value[leaf, 0] for t, leaf in zip(package.model.trees, got.leaves[0]))
    score = -(2.0 ** -(raw / 6.5))
    assert got.values[0].tolist() == [score, score - -0.4375]


def fit_with_rules(name: str):
    """Small seeded scikit-learn fits that make set splits, +inf thresholds and isolation forests."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        IsolationForest,
    )

    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3))
    X[:, 2] = rng.integers(0, 6, 400)  # integer codes
    signal = X[:, 0] + np.isin(X[:, 2], (1, 4)) * 1.5
    gone = rng.random(400) < 0.25
    X[gone, 1] = np.nan  # only NaN carries signal in column 1: a +inf threshold
    signal = signal + gone * 2.0
    X[rng.random(400) < 0.05, 2] = np.nan
    if name == "hgb-binary-categorical":
        return HistGradientBoostingClassifier(
            max_iter=5, max_leaf_nodes=6, categorical_features=[2], random_state=0
        ).fit(X, signal > np.median(signal))
    if name == "hgb-regression-nan":
        return HistGradientBoostingRegressor(max_iter=4, max_leaf_nodes=4, random_state=0).fit(X[:, :2], signal)
    return IsolationForest(n_estimators=4, max_samples=64, max_features=2, random_state=0).fit(X)


FITS_1_1 = ("hgb-binary-categorical", "hgb-regression-nan", "isolation-forest-features")


@pytest.fixture(scope="module")
def fitted_1_1():
    return {name: crossform.from_sklearn(fit_with_rules(name), checks=150) for name in FITS_1_1}


@pytest.mark.parametrize("name", FITS_1_1)
def test_sklearn_fits_with_1_1_trees_round_trip_and_score_as_sklearn(fitted_1_1, name, tmp_path):
    package = fitted_1_1[name]
    model = package.model
    used = {
        "sets": model.has_sets,
        "+inf": any(np.isinf(t.threshold).any() for t in model.trees),
        "isolation": model.isolation is not None,
    }
    assert used[
        {"hgb-binary-categorical": "sets", "hgb-regression-nan": "+inf", "isolation-forest-features": "isolation"}[name]
    ], used
    path = crossform.save(package, tmp_path / "model.pb", format="protobuf")
    assert P.read_version(path.read_bytes()) == "1.1"
    back = crossform.load(path)
    assert back.id == package.id
    comparison = checks_module.compare(back.checks, crossform.score(back, back.checks.data()), back.model)
    assert comparison.ok, comparison.summary()
    rows = [
        dict(zip((f.name for f in package.inputs), values))
        for values in [
            (0.5, math.inf, 1.0),
            (math.nan, math.nan, math.nan),
            (-math.inf, 1e39, 4.0),
            (0.0, -0.0, 9.0),
            (1.0, 2.0, 4.0 + 1e-15),
        ]
    ]
    assert_scores_like_the_reference(package, path.read_bytes(), rows)


ALL_1_1 = {**EVERY_KIND, **WITH_RULES, **REFUSE}


@pytest.mark.parametrize("name", sorted(WITH_RULES))
def test_a_1_0_reader_finds_the_model_unset_in_a_file_with_1_1_trees(name):
    """Set splits, +inf thresholds and isolation live in tree_ensemble_with_rules, whole: a 1.0
    reader drops it as an unknown field and then refuses the model with no member set."""
    package = WITH_RULES[name]
    msg = reader_1_0().FromString(P.dumps(package))
    assert msg.format_version == "1.1"
    msg.DiscardUnknownFields()
    assert msg.model.WhichOneof("model") is None
    assert len(msg.encoders) == len(package.encoders) and all(e.WhichOneof("encoder") for e in msg.encoders)


RELEASED_0_4_0 = "5cf8627"  # crossform 0.4.0 (protobuf 1.0): its reader, generated code and IR, from git

RELEASED_READ = textwrap.dedent("""
    import json, sys, warnings
    import crossform
    from crossform.exporters import protobuf as P
    assert crossform.__version__ == "0.4.0" and P.VERSION == "1.0", (crossform.__version__, P.VERSION)
    warnings.simplefilter("ignore")  # it warns first: 1.1 is a newer minor of its major
    out = {}
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        try:
            out[path] = ["read", P.loads(data, where=path).id]
        except Exception as exc:
            out[path] = [type(exc).__name__, str(exc)]
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def released_read(tmp_path_factory):
    """Reads files with crossform 0.4.0's protobuf reader, in a subprocess over its own source tree."""
    root = tmp_path_factory.mktemp("crossform-0.4.0")
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", RELEASED_0_4_0, "src"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        archive = None
    if archive is None or archive.returncode != 0:
        pytest.skip(f"crossform 0.4.0's protobuf reader is not available (needs git and commit {RELEASED_0_4_0})")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")

    def read(files: dict) -> dict:
        paths = {}
        for name, data in files.items():
            paths[name] = root / f"{len(paths)}.pb"
            paths[name].write_bytes(data)
        env = {**os.environ, "PYTHONPATH": str(root / "src")}
        done = subprocess.run(
            [sys.executable, "-c", RELEASED_READ, *map(str, paths.values())],
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)
        return {name: found[str(path)] for name, path in paths.items()}

    return read


def test_the_released_1_0_reader_refuses_every_1_1_file_and_reads_every_1_0_file(released_read, fitted_1_1):
    new = {
        **{name: P.dumps(p) for name, p in ALL_1_1.items()},
        **{name: P.dumps(p) for name, p in each_1_1_kind().items()},
        **{name: P.dumps(p) for name, p in fitted_1_1.items()},
    }
    old = {name: P.dumps(p) for name, p in TREE_VARIANTS.items()}
    found = released_read({**new, **old})
    for name in new:
        assert found[name][0] == "ProtobufMissingError", (name, found[name])
        assert "expected one member of the oneof" in found[name][1]
    for name, package in TREE_VARIANTS.items():
        assert found[name] == ["read", package.id], name


def test_the_released_1_0_reader_refuses_a_hand_made_inf_threshold_in_tree_ensemble(released_read):
    """Were +inf written into 1.0's tree_ensemble (this writer never does), 0.4.0 would still
    refuse it, whatever version the file records: its IR has finite thresholds only."""
    found = released_read(
        {
            version: edited(both(set_version(version), lambda m: tree(m).threshold.__setitem__(1, math.inf)))
            for version in ("1.0", "1.1")
        }
    )
    for version, (error, text) in found.items():
        assert error == "MalformedPackageError" and "finite" in text, (version, error, text)
