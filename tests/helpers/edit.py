"""Edit saved packages and trees the way an outside tool would (for tests of the checks that catch it)."""

from __future__ import annotations

import json
from pathlib import Path

from crossform import ir
from crossform.exporters.stripe_json import bonsai


def edit_saved_trees(package_dir, edit) -> None:
    """Change the trees of a saved stripe-json package the way a tool would:
    decode trees.bonsai, let ``edit(trees)`` (a list of ir.Tree) change them,
    and write them back re-encoded, with a valid checksum. The manifest still
    records the old id."""
    path = Path(package_dir)
    model_doc = json.loads((path / "model.json").read_text())
    trees_file = path / model_doc["trees"]["path"]
    trees = list(bonsai.loads(trees_file.read_bytes(), str(trees_file), len(model_doc["features"])))
    edit(trees)
    classes = model_doc.get("classes")
    model = ir.TreeEnsemble(
        model_doc["features"],
        tuple(trees),
        model_doc["aggregation"],
        model_doc["postTransform"],
        None if classes is None else tuple(classes),
        model_doc.get("baseValue"),
    )
    trees_file.write_bytes(bonsai.dumps(model))


def changed_tree(tree: ir.Tree, **arrays) -> ir.Tree:
    """A copy of ``tree`` with some of its arrays replaced."""
    parts = {name: getattr(tree, name) for name in ("feature", "threshold", "left", "right", "missing_left", "value")}
    parts.update(arrays)
    return ir.Tree(**parts)
