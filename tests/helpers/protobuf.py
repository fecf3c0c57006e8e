"""What the protobuf format's tests share: the rows and comparison of a round trip, and the packages
and good files of each group of kinds that several test files build on."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from crossform import evaluator, ir
from crossform.checks import leaf_positions
from crossform.errors import FormatVersionError, IdMismatchError, LimitExceededError
from crossform.exporters import protobuf as P
from crossform.runtime import reference as reference_runtime
from crossform.v1 import package_pb2 as pb
from helpers import every_kind
from helpers.packages import small_package
from helpers.paths import REPO

ROOT = REPO


ROWS = [{"colour": c, "size": s} for c in ("red", "blue", "green", None) for s in (-30.0, 9.0, 14.0, 30.0, math.nan)]


def edited(edit, package: ir.Package = None) -> bytes:
    msg = pb.Package.FromString(P.dumps(package or small_package()))
    edit(msg)
    return msg.SerializeToString(deterministic=True)


def tree(msg: pb.Package, i: int = 0) -> pb.Tree:
    return msg.model.tree_ensemble.trees[i]


def tag(number: int, wire: int) -> bytes:
    return (
        bytes([(number << 3) | wire])
        if number < 16
        else bytes([((number << 3) | wire) & 0x7F | 0x80, (number << 3 | wire) >> 7])
    )


def with_unknown(getter, number: int = 9):
    """An edit that appends field ``number`` (unknown to the schema) to the message ``getter`` finds."""

    def edit(msg):
        target = getter(msg)
        data = target.SerializeToString() + tag(number, 0) + b"\x05"
        target.Clear()
        target.MergeFromString(data)

    return edit


def set_version(version: str):
    def edit(msg):
        msg.format_version = version

    return edit


def assign(getter, name, value):
    def edit(msg):
        setattr(getter(msg), name, value)

    return edit


def refused(data: bytes, error: type, text: str) -> Exception:
    """What loading ``data`` as pkg.pb raises: ``error``, saying ``text`` and naming the file."""
    with pytest.raises(error) as info:
        P.loads(data, where="pkg.pb")
    assert text in str(info.value), str(info.value)
    assert info.value.path.startswith("pkg.pb"), info.value.path
    return info.value


EVERY_KIND = every_kind.packages()
ENCODERS_1_1 = (ir.Affine, ir.MissingIndicator, ir.OneHot, ir.RefuseMissing)


def assert_scores_like_the_reference(package: ir.Package, data: bytes, rows) -> None:
    want = evaluator.score(package, rows)
    got = reference_runtime.prepare(data, P)(rows)
    assert got.outputs == want.outputs and got.classes == want.classes
    assert [type(c) for c in got.classes or ()] == [type(c) for c in want.classes or ()]
    assert got.errors == want.errors
    np.testing.assert_array_equal(got.values, want.values)  # exact, NaN in the same rows
    if want.leaves is None:  # a linear model has no leaves
        assert got.leaves is None
    else:
        back = P.loads(data)
        np.testing.assert_array_equal(
            leaf_positions(back.model, got.leaves), leaf_positions(package.model, want.leaves)
        )


def each_1_1_kind() -> dict:
    """small_package with exactly one of the kinds 1.1 adds."""
    base = small_package()
    model = base.model
    binary = tuple(
        ir.Tree(t.feature, t.threshold, t.left, t.right, t.missing_left, t.value[:, 1:]) for t in model.trees
    )
    one_hot = ir.OneHot(
        ("colour",),
        (("blue", "green", "red"),),
        ((0, 1, 2),),
        (3,),
        (None,),
        ("zeros",),
        ("colour_0", "colour_1", "colour_2"),
    )
    return {
        "affine": base.replace(encoders=base.encoders[:2] + (ir.Affine(("size",), [0.25], [-2.5], ("size_scaled",)),)),
        "missing-indicator": base.replace(
            encoders=(ir.MissingIndicator(("colour",), (ir.CATEGORICAL,), ("gone",)),) + base.encoders
        ),
        "refuse-missing": base.replace(encoders=(ir.RefuseMissing(("size",), (ir.NUMERIC,)),) + base.encoders),
        "one-hot": base.replace(
            encoders=(one_hot,) + base.encoders[2:],
            model=dataclasses.replace(model, features=("colour_2", "size_scaled")),
        ),
        "binary": base.replace(model=ir.TreeEnsemble(model.features, binary, "sum", "logistic", model.classes, [0.0])),
        "missing error": base.replace(model=dataclasses.replace(model, missing="error")),
        "infinite compare": base.replace(model=dataclasses.replace(model, infinite="compare")),
        "linear": base.replace(model=ir.LinearModel(model.features, [[1.0, -2.0]], [0.5], "logistic", model.classes)),
    }


def reader_1_0():
    """Package as a 1.0 reader parses it: from the released 1.0 descriptor set, in a pool of its own."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    files = descriptor_pb2.FileDescriptorSet.FromString(
        (ROOT / "proto" / "descriptors" / "crossform-v1-1.0.binpb").read_bytes()
    )
    pool = descriptor_pool.DescriptorPool()
    for f in files.file:
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("crossform.v1.Package"))


def linear(m: pb.Package) -> pb.LinearModel:
    return m.model.linear_model


def rules(m: pb.Package) -> pb.TreeEnsembleWithRules:
    return m.model.tree_ensemble_with_rules


def as_plain_ensemble(m: pb.Package) -> None:
    ensemble = pb.TreeEnsemble()
    ensemble.CopyFrom(rules(m).ensemble)
    m.model.tree_ensemble.CopyFrom(ensemble)


def both(*edits):
    def edit(msg):
        for e in edits:
            e(msg)

    return edit


GOOD_1_1 = [
    P.dumps(EVERY_KIND[name]) for name in ("boost-binary-one-hot", "linear-regression", "linear-binary-logistic")
]


def refuse_packages() -> dict:
    """name -> Package with a RefuseMissing encoder (1.1): numeric and categorical features, in
    place and renamed, and beside a MissingIndicator, as scikit-learn's MissingIndicator writes them."""
    base = small_package()
    codes, scale = base.encoders[1:]
    model = base.model
    return {
        "refuse-in-place": base.replace(
            encoders=(ir.RefuseMissing(("colour", "size"), (ir.CATEGORICAL, ir.NUMERIC)),) + base.encoders
        ),
        "refuse-renamed": base.replace(
            encoders=(
                ir.RefuseMissing(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("size_ok", "colour_ok")),
                ir.CategoricalEncoding(("colour_ok",), codes.categories, codes.codes, (None,), None, ("colour_code",)),
                ir.Scale(("size_ok",), [10.0], [4.0], ("size_scaled",)),
            ),
            model=dataclasses.replace(model, features=("colour_code", "size_scaled")),
        ),
        "refuse-beside-indicator": base.replace(
            encoders=(
                ir.RefuseMissing(("colour",), (ir.CATEGORICAL,), ("colour#2",)),
                ir.MissingIndicator(("size",), (ir.NUMERIC,), ("size_gone",)),
                ir.FillMissing(("colour", "size"), ("red", 10.0)),
                codes,
                scale,
            ),
            model=ir.LinearModel(
                ("colour", "size_scaled", "size_gone"), [[1.0, -2.0, 0.75]], [0.5], "logistic", model.classes
            ),
        ),
    }


REFUSE = refuse_packages()


GOOD_REFUSE = [P.dumps(REFUSE[name]) for name in sorted(REFUSE)]


def set_tree_root(width: int = 1) -> ir.Tree:
    """Root: code in {-3, 0, 2, 7.5} (missing side right, so in the set goes left); then
    x <= +inf (every number left, NaN right)."""
    value = np.zeros((5, width))
    value[[1, 3, 4]] = np.array([[0.5], [-1.25], [2.0]]) * np.arange(1, width + 1)
    return ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[0.0, 0.0, math.inf, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[False, False, False, False, False],
        value=value,
        sets=((7.5, -3.0, 2.0, 0.0), None, None, None, None),
    )


def set_tree_deep(width: int = 1) -> ir.Tree:
    """Not numbered in preorder: 0 -> (2, 1); 2: code in {1} (missing side left, so in the set
    goes right); 1: code in {-3, 4} (missing side right)."""
    value = np.zeros((7, width))
    value[[3, 4, 5, 6]] = np.array([[0.125], [-0.5], [0.75], [-2.5]]) * np.arange(1, width + 1)
    return ir.Tree(
        feature=[1, 0, 0, -1, -1, -1, -1],
        threshold=[0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        left=[2, 5, 3, -1, -1, -1, -1],
        right=[1, 6, 4, -1, -1, -1, -1],
        missing_left=[True, False, True, False, False, False, False],
        value=value,
        sets=(None, (4.0, -3.0), (1.0,), None, None, None, None),
    )


def empty_set_tree() -> ir.Tree:
    """Root: code in {} (nothing is in it, so every row goes the missing side, left)."""
    return ir.Tree(
        feature=[0, -1, -1],
        threshold=[0.0, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[True, False, False],
        value=[[0.0], [1.5], [-1.5]],
        sets=((), None, None),
    )


def plain_tree(width: int = 1) -> ir.Tree:
    value = np.zeros((3, width))
    value[1:] = np.array([[0.25], [-0.75]]) * np.arange(1, width + 1)
    return ir.Tree(
        feature=[1, -1, -1],
        threshold=[-1.5, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[True, False, False],
        value=value,
    )


def isolation_tree(threshold: float = 0.25) -> ir.Tree:
    return ir.Tree(
        feature=[1, 0, -1, -1, -1],
        threshold=[threshold, -2.0, 0.0, 0.0, 0.0],
        left=[1, 2, -1, -1, -1],
        right=[4, 3, -1, -1, -1],
        missing_left=[False, True, False, False, False],
        value=[[0.0], [0.0], [2.0 + 1.2], [2.0 + 0.5], [1.0 + 3.75]],
    )


CODE_INPUTS = (ir.Field("code", ir.NUMERIC), ir.Field("x", ir.NUMERIC))
CODE_FEATURES = ("code", "x")


def with_rules_packages() -> dict:
    """name -> Package using set splits, +inf thresholds or the isolation transform (1.1)."""

    def package(model, encoders=()):
        return ir.Package(inputs=CODE_INPUTS, encoders=encoders, model=model, owner="tests")

    base = small_package()
    first = base.model.trees[0]
    infinite_first = ir.Tree(
        first.feature,
        np.where(np.arange(5) == 2, math.inf, first.threshold),
        first.left,
        first.right,
        first.missing_left,
        first.value,
    )
    return {
        "sets-regression": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (set_tree_root(), set_tree_deep(), plain_tree()),
                "sum",
                base_value=[0.5],
                infinite="compare",
            )
        ),
        "sets-binary": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (plain_tree(), set_tree_deep(), set_tree_root()),
                "sum",
                "logistic",
                classes=(0, 1),
                base_value=[-0.25],
                infinite="compare",
            )
        ),
        "sets-softmax-missing-error": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (set_tree_deep(3), set_tree_root(3)),
                "sum",
                "softmax",
                classes=("a", "b", "c"),
                base_value=[0.1, 0.0, -0.1],
                missing="error",
            )
        ),
        "sets-forest": package(ir.TreeEnsemble(CODE_FEATURES, (set_tree_root(2), plain_tree(2)), classes=("n", "y"))),
        "sets-empty-set": package(
            ir.TreeEnsemble(
                CODE_FEATURES, (empty_set_tree(), set_tree_root()), "sum", base_value=[0.0], infinite="compare"
            )
        ),
        "sets-after-scale": package(
            ir.TreeEnsemble(CODE_FEATURES, (set_tree_root(),), "sum", base_value=[0.0], infinite="compare"),
            (ir.Scale(("code",), [0.0], [1.0]),),
        ),  # the frontend's guard against inf codes
        # 1.0's rules, but a +inf threshold: 1.0's tree_ensemble has finite thresholds only
        "inf-threshold-only": base.replace(
            model=dataclasses.replace(base.model, trees=(infinite_first,) + base.model.trees[1:])
        ),
        "isolation": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (isolation_tree(), isolation_tree(-0.5)),
                "sum",
                "isolation",
                base_value=[0.0],
                infinite="compare",
                isolation=(6.5, -0.4375),
            )
        ),
        "isolation-offset-zero": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (isolation_tree(),),
                "sum",
                "isolation",
                base_value=[0.0],
                infinite="compare",
                isolation=(2.0, -0.0),
            )
        ),
        "isolation-sets-inf": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (isolation_tree(math.inf), set_tree_root()),
                "sum",
                "isolation",
                base_value=[0.0],
                infinite="error",
                isolation=(3.0, 0.5),
            )
        ),
    }


WITH_RULES = with_rules_packages()


def tree_sets(i: int):
    return lambda m: rules(m).tree_sets[i]


def rules_tree(m: pb.Package, i: int = 0) -> pb.Tree:
    return rules(m).ensemble.trees[i]


def isolation(m: pb.Package) -> pb.Isolation:
    return rules(m).isolation


def replaced(getter, name, values):
    def edit(msg):
        field = getattr(getter(msg), name)
        del field[:]
        field.extend(values)

    return edit


GOOD_1_1_TREES = [P.dumps(WITH_RULES[name]) for name in ("sets-regression", "isolation-sets-inf")]


# The Java reader's refusals (jvm/.../PackageException.java) for the Python reader's errors: the
# protobuf ones by the same name without "Error", the shared ones as named in Java.
JAVA_REFUSALS = {
    **{
        getattr(P, name): name.removesuffix("Error")
        for name in dir(P)
        if name.startswith("Protobuf") and name.endswith("Error")
    },
    LimitExceededError: "LimitExceeded",
    FormatVersionError: "FormatVersion",
    IdMismatchError: "IdMismatch",
}
# what the IR refuses (MalformedPackageError) Java refuses as Malformed or one of its named kinds
JAVA_MALFORMED = {"Malformed", "BadJson", "LimitExceeded", *JAVA_REFUSALS.values()} - {"FormatVersion", "IdMismatch"}


def refused_in_java(data: bytes, error: type) -> str:
    """What the jvm runtime's Java reader says of ``data`` as a protobuf package: a refusal by
    the PackageException that ``error`` (the Python reader's) names, never a crash or a read."""
    from crossform.runtime import jvm, unavailable

    reason = unavailable("jvm")
    if reason is not None:
        pytest.skip(f"jvm runtime: {reason}")
    with pytest.raises(jvm.CrossformError) as info:
        jvm._loaded(data)
    found = getattr(info.value, "name", None)
    allowed = {JAVA_REFUSALS[error]} if error in JAVA_REFUSALS else JAVA_MALFORMED
    assert found in allowed, f"expected a Java refusal {sorted(allowed)}, found {info.value}"
    assert "package.pb" in str(info.value), str(info.value)
    return str(info.value)


def read_or_refused_in_java(data: bytes) -> None:
    """The Java reader reads ``data`` or refuses it with a PackageException: never a crash (a
    Java RuntimeException Serve reports by its own name) or a dead process."""
    from crossform.runtime import jvm, unavailable

    reason = unavailable("jvm")
    if reason is not None:
        pytest.skip(f"jvm runtime: {reason}")
    try:
        jvm._loaded(data)
    except jvm.CrossformError as exc:
        assert getattr(exc, "name", None) in JAVA_MALFORMED | {"FormatVersion", "IdMismatch", "UnsupportedKind"}, str(
            exc
        )
