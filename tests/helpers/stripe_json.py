"""What the stripe-json tests share: a package as its files, edits of those files, and the packages
of the 2.1 kinds."""

from __future__ import annotations

import json
import warnings

import numpy as np

from crossform import errors, ir
from crossform.exporters import Files, stripe_json
from helpers import every_kind


def files_of(package) -> dict:
    return stripe_json.dumps(package)


def load_files(files: dict):
    return stripe_json.loads(Files.from_mapping(files, "pkg"))


def edit_json(files: dict, name: str, edit) -> dict:
    doc = json.loads(files[name])
    edit(doc)
    return {**files, name: json.dumps(doc).encode()}


def refused_mutations(package, rounds: int, seed: int) -> int:
    """How many of ``rounds`` mutated copies of ``package``'s files (one file truncated, a byte
    flipped or bytes deleted, in turn) are refused with a PackageError. Nothing else may be
    raised, and a copy that loads must be ``package``: only harmless edits (whitespace, producer)."""
    rng = np.random.default_rng(seed)
    original = files_of(package)
    refused = 0
    for i in range(rounds):
        files = dict(original)
        target = sorted(files)[i % len(files)]
        data = bytearray(files[target])
        at = int(rng.integers(len(data)))
        if i % 3 == 0:
            data = data[:at]
        elif i % 3 == 1:
            data[at] = int(rng.integers(256))
        else:
            del data[at : at + int(rng.integers(1, 20))]
        files[target] = bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stripe_json.FormatVersionWarning)
            try:
                loaded = load_files(files)
            except errors.PackageError:
                refused += 1
            else:
                assert loaded.id == package.id
    return refused


def later_packages() -> dict:
    """The kinds added after helpers.every_kind: set splits, +inf thresholds, isolation scores (bonsai 1.1)."""
    fields = every_kind.fields()[1:]  # size, weight
    sets = ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[0.0, 0.0, np.inf, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[True, False, True, False, False],
        value=[[0.0], [1.5], [0.0], [-0.5], [2.0]],
        sets=((-2.5, 0.0, 3.0, 8.0), None, None, None, None),
    )
    inf = ir.Tree(
        feature=[1, -1, -1],
        threshold=[np.inf, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[False, False, False],
        value=[[0.0], [1.0], [-1.0]],
    )
    return {
        "set-splits": ir.Package(fields, (), ir.TreeEnsemble(("size", "weight"), (sets,), "sum", base_value=[0.5])),
        "infinite-threshold": ir.Package(fields, (), ir.TreeEnsemble(("size", "weight"), (inf,))),
        "isolation": ir.Package(
            fields,
            (),
            ir.TreeEnsemble(
                ("size", "weight"), (inf, sets), "sum", "isolation", isolation=(3.5, -0.25), infinite="compare"
            ),
        ),
    }


def refuse_missing_packages() -> dict:
    """refuse-missing (0.5.0): a numeric and a categorical feature, in place and under new names."""
    fields = every_kind.fields()  # colour, size, weight

    def codes(name, out):
        return ir.CategoricalEncoding((name,), (("blue", "green", "red"),), ((0.0, 1.0, 2.0),), (None,), -1.0, (out,))

    tree = ir.Tree(
        feature=[0, 1, -1, -1, 2, -1, -1],
        threshold=[1.5, 0.25, 0.0, 0.0, 0.5, 0.0, 0.0],
        left=[1, 2, -1, -1, 5, -1, -1],
        right=[4, 3, -1, -1, 6, -1, -1],
        missing_left=[True, False, False, False, True, False, False],
        value=[[0.0], [0.0], [-1.0], [0.5], [0.0], [2.0], [3.25]],
    )
    return {
        "refuse-missing-in-place": ir.Package(
            fields,
            (ir.RefuseMissing(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL)), codes("colour", "colour_code")),
            ir.LinearModel(("size", "weight", "colour_code"), [[0.5, -1.5, 2.0]], [3.0]),
        ),
        "refuse-missing-renamed": ir.Package(
            fields,
            (
                ir.RefuseMissing(("weight", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("weight_ok", "colour_ok")),
                codes("colour_ok", "colour_code"),
            ),
            ir.TreeEnsemble(("size", "weight_ok", "colour_code"), (tree,), "sum", base_value=[0.5]),
        ),
    }


REFUSE = refuse_missing_packages()
KINDS_2_1 = {**every_kind.packages(), **later_packages(), **REFUSE}


def set_in(*keys, value):
    def edit(doc):
        for key in keys[:-1]:
            doc = doc[key]
        doc[keys[-1]] = value

    return edit
