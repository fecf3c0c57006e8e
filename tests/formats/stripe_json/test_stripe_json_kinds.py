"""stripe-json 2.1's kinds (one-hot, linear, boosting, refuse-missing): round trips, versions, every runtime, scikit-learn fits."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import crossform
from crossform import checks as checks_module
from crossform import errors, evaluator, ir
from crossform.exporters import Files, get_format, stripe_json
from crossform.exporters._versions import FEATURES_SINCE
from crossform.exporters.stripe_json import bonsai
from crossform.runtime import get_runtime, unavailable
from helpers import every_kind
from helpers.paths import CONFORMANCE
from helpers.stripe_json import (
    KINDS_2_1,
    edit_json,
    files_of,
    load_files,
    set_in,
)

# what a 2.0 reader refuses each by, where it is not the 2.x schemas: bonsai 1.0's rules
BONSAI_REFUSED = {"set-splits": "expected flags 0", "infinite-threshold": "expected finite numbers"}
GOLDEN = CONFORMANCE / "golden" / "stripe-json"
GOLDEN_2_0 = sorted((GOLDEN / "2.0" / "packages").iterdir())


def reference_checks(package) -> checks_module.Checks:
    """The reference evaluator's scores for the every-kind rows, on the package as built (not as read back)."""
    frame = every_kind.rows()
    names = [f.name for f in package.inputs]
    rows = [
        tuple(None if (isinstance(v, float) and f.kind == ir.CATEGORICAL) else v for v, f in zip(r, package.inputs))
        for r in frame[names].itertuples(index=False)
    ]
    scores = evaluator.score(package, frame[names])
    leaves = None if scores.leaves is None else checks_module.leaf_positions(package.model, scores.leaves)
    predicted = tuple(scores.labels()) if package.model.is_classifier else None
    return checks_module.Checks(
        "every-kind rows",
        package.inputs,
        tuple(rows),
        tuple(f"row {i}" for i in range(len(rows))),
        package.outputs,
        scores.values,
        ~scores.ok,
        predicted,
        leaves,
    )


@pytest.mark.parametrize("name", KINDS_2_1)
def test_2_1_kinds_round_trip_as_2_1_with_the_same_id(name):
    package = KINDS_2_1[name]
    files = files_of(package)
    manifest = json.loads(files["MODEL"])
    assert manifest["formatVersion"] == "2.1" == stripe_json.recorded_version(package)
    assert ("trees.bonsai" in files) == isinstance(package.model, ir.TreeEnsemble)
    back = load_files(files)
    assert back.id == package.id
    assert back.outputs == package.outputs and tuple(manifest["outputs"]) == package.outputs


def _runnable(files: dict) -> list:
    """The runtimes of stripe-json that run here and read these files (the reference always does;
    another runtime may be missing, or name a kind it does not read yet)."""
    out = []
    for runtime in stripe_json.RUNTIMES:
        cannot = getattr(get_runtime(runtime), "unsupported", None)
        if unavailable(runtime) is None and (cannot is None or cannot(files) is None):
            out.append(runtime)
    assert "reference" in out
    return out


@pytest.mark.parametrize("name", KINDS_2_1)
def test_2_1_kinds_score_as_the_reference_in_every_runtime(name):
    package = KINDS_2_1[name]
    checks = reference_checks(package)
    assert not checks.errors.all()
    files = files_of(package)
    for runtime in _runnable(files):
        scores = get_runtime(runtime).prepare(files, stripe_json)(checks.data())
        # leaves are node indices of the trees as read (bonsai stores nodes breadth first)
        comparison = checks_module.compare(checks, scores, load_files(files).model)
        assert comparison.ok, (runtime, comparison.summary(), [m.describe() for m in comparison.mismatches])
        assert comparison.leaves_compared == isinstance(package.model, ir.TreeEnsemble)
        if runtime == "jvm" and package.model.post_transform != "none":
            # Java's Math.exp may differ from numpy's exp in the last bit (docs/SEMANTICS.md allows it)
            assert comparison.max_relative_difference <= 1e-15
        else:
            assert comparison.max_relative_difference == 0.0


def test_2_1_kinds_save_and_load_through_a_directory(tmp_path):
    for name, package in KINDS_2_1.items():
        path = crossform.save(package, tmp_path / name)
        assert stripe_json.read_version(Files.from_directory(path)) == "2.1"
        assert crossform.load(path).id == package.id


@pytest.mark.parametrize("path", GOLDEN_2_0, ids=[p.name for p in GOLDEN_2_0])
def test_packages_of_2_0_kinds_are_written_byte_for_byte_as_2_0(path):
    """The strict minor: what 2.0 could hold is still written exactly as crossform 0.2.0-0.4.0 wrote it."""
    on_disk = {f.name: f.read_bytes() for f in path.iterdir()}
    package = stripe_json.loads(Files.from_directory(path))
    assert stripe_json.recorded_version(package) == "2.0"
    assert files_of(package) == on_disk


def test_the_newest_kind_is_this_version():
    since = [v[stripe_json.NAME] for v in FEATURES_SINCE.values() if stripe_json.NAME in v]
    since += [stripe_json.recorded_version(p) for p in KINDS_2_1.values()]
    assert max(since, key=lambda v: tuple(map(int, v.split(".")))) == stripe_json.VERSION


@pytest.mark.parametrize("name", sorted(KINDS_2_1))
def test_the_format_says_what_needs_2_1_and_which_version_it_writes(package, name):
    fmt = get_format(stripe_json.NAME)
    assert fmt is stripe_json.FORMAT
    assert fmt.needs(package) is None and fmt.written_version(package) == "2.0"
    files = files_of(KINDS_2_1[name])
    assert fmt.written_version(KINDS_2_1[name]) == json.loads(files["MODEL"])["formatVersion"] == "2.1"
    assert fmt.needs(KINDS_2_1[name]), "compat names what older releases refuse"


def test_each_2_1_kind_alone_makes_a_2_1_file(package):
    model = package.model
    binary = ir.TreeEnsemble(
        ("size_scaled",), (every_kind.regression_stump(),), "sum", "logistic", classes=("no", "yes")
    )
    cases = {
        "missing error": package.replace(
            model=ir.TreeEnsemble(model.features, model.trees, classes=model.classes, missing="error")
        ),
        "infinite compare": package.replace(
            model=ir.TreeEnsemble(model.features, model.trees, classes=model.classes, infinite="compare")
        ),
        "binary logistic": package.replace(model=binary),
        "affine": package.replace(encoders=package.encoders + (ir.Affine(("size",), [2.0], [1.0], ("size_a",)),)),
        "refuse-missing": package.replace(encoders=(ir.RefuseMissing(("size",), (ir.NUMERIC,)),) + package.encoders),
    }
    for name, changed in cases.items():
        files = files_of(changed)
        assert json.loads(files["MODEL"])["formatVersion"] == "2.1", name
        assert load_files(files).id == changed.id, name
    model_doc = json.loads(files_of(cases["binary logistic"])["model.json"])
    assert model_doc["leafWidth"] == 1 and "missing" not in model_doc and "infinite" not in model_doc


def as_reader_of(monkeypatch, version: str, bonsai_version: str) -> None:
    """Make this reader the reader of an older 2.x minor: its VERSION, the schemas it shipped, its bonsai."""
    known = _versions_key(version)
    monkeypatch.setattr(stripe_json.rules, "VERSION", version)
    monkeypatch.setattr(bonsai, "VERSION", bonsai_version)
    monkeypatch.setattr(
        stripe_json.rules,
        "VERSION_SCHEMAS",
        {v: s for v, s in stripe_json.VERSION_SCHEMAS.items() if _versions_key(v) <= known},
    )


def _versions_key(version: str) -> tuple:
    return tuple(int(p) for p in version.split("."))


@pytest.mark.parametrize("name", KINDS_2_1)
def test_a_2_0_reader_refuses_2_1_files_by_name(monkeypatch, name):
    """What crossform 0.2.0-0.4.0 do: warn about the newer minor, then refuse what their 2.x schemas do not name,
    or what bonsai 1.0 does not hold. (Checked once against the released 0.4.0 code itself: the same errors.)"""
    files = files_of(KINDS_2_1[name])
    as_reader_of(monkeypatch, "2.0", "1.0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if name in BONSAI_REFUSED:
            with pytest.raises(errors.BonsaiEncodingError, match=BONSAI_REFUSED[name]):
                load_files(files)
        else:
            with pytest.raises(errors.SchemaError, match=r"violates stripe-json-(manifest|model)-2\.schema\.json"):
                load_files(files)
    assert "written in stripe-json 2.1, newer than the 2.0" in str(caught[0].message)


def test_a_2_0_reader_refuses_a_binary_logistic_forest_by_name(monkeypatch, package):
    binary = ir.TreeEnsemble(
        ("size_scaled",), (every_kind.regression_stump(),), "sum", "logistic", classes=("no", "yes")
    )
    files = files_of(package.replace(model=binary))
    as_reader_of(monkeypatch, "2.0", "1.0")
    with pytest.warns(stripe_json.FormatVersionWarning):
        with pytest.raises(errors.SchemaError, match="'leafWidth' was unexpected"):
            load_files(files)


def test_a_2_1_file_of_2_0_kinds_reads_silently(package):
    files = edit_json(files_of(package), "MODEL", lambda d: d.__setitem__("formatVersion", "2.1"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_files(files).id == package.id


def test_a_newer_minor_with_2_1_kinds_warns_and_reads():
    package = KINDS_2_1["boost-binary-one-hot"]
    files = edit_json(files_of(package), "MODEL", lambda d: d.update(formatVersion="2.7", later={"x": 1}))
    with pytest.warns(stripe_json.FormatVersionWarning, match="newer than the 2.2.*'later'"):
        assert load_files(files).id == package.id


# A file recording 2.0 may hold only 2.0's kinds: the 2.0 schemas are frozen.
AS_2_0 = {
    "one-hot in 2.0": ("forest-one-hot", "MODEL", "'one-hot' is not one of"),
    "linear model in 2.0": ("linear-multinomial", "MODEL", "'linear-classification' is not one of"),
    "compare rule in 2.0": ("boost-regression-compare", "model.json", "'infinite' was unexpected"),
    "missing rule in 2.0": ("boost-multiclass-ignore", "MODEL", "'one-hot' is not one of"),
    "refuse-missing in 2.0": ("refuse-missing-renamed", "MODEL", "'refuse-missing' is not one of"),
}


@pytest.mark.parametrize("case", AS_2_0)
def test_2_1_kinds_in_a_file_recording_2_0_are_refused(case):
    name, target, words = AS_2_0[case]
    files = edit_json(files_of(KINDS_2_1[name]), "MODEL", lambda d: d.__setitem__("formatVersion", "2.0"))
    with pytest.raises(errors.SchemaError, match=words) as info:
        load_files(files)
    assert info.value.path == f"pkg/{target}" and "-2.schema.json" in info.value.reason


def test_a_linear_regressor_named_a_classifier_everywhere_is_refused():
    files = files_of(KINDS_2_1["linear-regression"])
    for name in ("MODEL", "model.json"):
        edit = (
            set_in("model", "modelType", value="linear-classification")
            if name == "MODEL"
            else set_in("modelType", value="linear-classification")
        )
        files = edit_json(files, name, edit)
    with pytest.raises(errors.MalformedPackageError, match="expected modelType 'linear-regression' for this model"):
        load_files(files)


def fit_2_1_kind(name: str):
    """Pipelines whose packages use 2.1's kinds, fitted by scikit-learn (the checks' expected outputs are its own)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, IsolationForest
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame(
        {
            "colour": pd.Series(rng.choice(["red", "blue", "green", "teal"], n), dtype=object),
            "size": rng.normal(10, 4, n),
            "weight": rng.normal(0, 1, n),
        }
    )
    y = X["size"].to_numpy() + (X["colour"] == "red") * 3 + rng.normal(0, 1, n)
    binary = (y > np.median(y)).astype(int)
    three = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [0.33, 0.66]))]
    prep = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=40), ["colour"]),
            ("num", MinMaxScaler(), ["size", "weight"]),
        ]
    )
    if name == "boosting-binary":
        return Pipeline([("prep", prep), ("model", GradientBoostingClassifier(n_estimators=8, random_state=0))]).fit(
            X, binary
        )
    if name == "logistic-multinomial":
        return Pipeline([("prep", prep), ("model", LogisticRegression())]).fit(X, three)
    if name == "indicator-refusing-new":  # the refuse-missing encoder: MissingIndicator(error_on_new=True)
        from sklearn.impute import MissingIndicator
        from sklearn.tree import DecisionTreeClassifier

        X = np.random.default_rng(0).normal(size=(300, 3))
        X[::7, 1] = np.nan
        union = ColumnTransformer([("i", MissingIndicator(), [0, 1, 2]), ("f", SimpleImputer(), [0, 1, 2])])
        return Pipeline([("u", union), ("m", DecisionTreeClassifier(max_depth=4, random_state=0))]).fit(X, X[:, 0] > 0)
    X.loc[rng.random(n) < 0.1, "size"] = np.nan
    if name == "hist-boosting-categorical":  # set splits over a string column's codes
        model = HistGradientBoostingClassifier(max_iter=8, categorical_features=["colour"], random_state=0)
        return model.fit(X, binary)
    if name == "isolation-forest":
        return IsolationForest(n_estimators=8, random_state=0).fit(X[["size", "weight"]])
    impute = ColumnTransformer([("num", SimpleImputer(add_indicator=True), ["size", "weight"])])
    return Pipeline([("prep", impute), ("model", Ridge())]).fit(X, y)


@pytest.mark.parametrize(
    "name",
    [
        "boosting-binary",
        "logistic-multinomial",
        "ridge-with-indicator",
        "hist-boosting-categorical",
        "isolation-forest",
        "indicator-refusing-new",
    ],
)
def test_scikit_learn_fits_of_2_1_kinds_round_trip_with_their_checks(tmp_path, name):
    package = crossform.from_sklearn(fit_2_1_kind(name), checks=300)
    path = crossform.save(package, tmp_path / "pkg")
    assert stripe_json.read_version(Files.from_directory(path)) == "2.1"
    back = crossform.load(path)
    assert back.id == package.id
    comparison = checks_module.compare(back.checks, crossform.score(back, back.checks.data()), back.model)
    assert comparison.ok, comparison.summary()
    assert comparison.leaves_compared == isinstance(back.model, ir.TreeEnsemble)


def test_missing_indicator_refusing_new_scores_as_scikit_learn_in_every_runtime():
    """MissingIndicator(error_on_new=True): refuse-missing on the columns with no NaN at fit; the rest as before."""
    est = fit_2_1_kind("indicator-refusing-new")
    package = crossform.from_sklearn(est, checks=300)
    assert [type(e) for e in package.encoders[:2]] == [ir.RefuseMissing, ir.MissingIndicator]
    assert package.encoders[0].features == ("x0", "x2")
    files = files_of(package)
    assert json.loads(files["MODEL"])["formatVersion"] == "2.1" and "refuse-missing.json" in files
    back = load_files(files)
    assert back.id == package.id
    rows = np.array([[0.5, np.nan, -1.0], [np.nan, 0.0, 1.0], [0.1, 0.2, np.nan], [np.inf, 0.0, 0.0], [-0.3, 1.5, 2.0]])
    for runtime in _runnable(files):
        scorer = get_runtime(runtime).prepare(files, stripe_json)
        comparison = checks_module.compare(back.checks, scorer(back.checks.data()), back.model)
        assert comparison.ok and comparison.rows > 50, (runtime, comparison.summary())
        scores = scorer({f"x{j}": rows[:, j] for j in range(3)})
        assert scores.ok.tolist() == [True, False, False, False, True], runtime
        ok = scores.ok
        assert np.array_equal(scores.values[ok], est.predict_proba(rows[ok])), runtime
    for refused in rows[~ok]:  # scikit-learn refuses them too (a NaN new to x0 or x2; inf in any estimator)
        with pytest.raises(ValueError):
            est.predict_proba(refused[None, :])
