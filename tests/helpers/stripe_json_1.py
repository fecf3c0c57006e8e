"""stripe-json 1.0 packages for the tests of the frozen 1.x reader.

crossform writes 2.0 (trees in bonsai) since 0.2.0; this is the 1.0 layout
(trees as JSON struct-of-arrays in model.json) written from a package, so
that every rule of the 1.x reader stays tested. Golden 1.0 packages written
by crossform 0.1.0 itself are in conformance/golden/stripe-json/1.0.
"""

from __future__ import annotations

import json

from crossform.exporters import stripe_json


def v1_files(package) -> dict:
    files = stripe_json.dumps(package)
    del files[stripe_json.TREES_FILE]
    model = json.loads(files["model.json"])
    model["modelType"] = stripe_json.model_type(package.model, major=1)
    model["trees"] = [
        {
            "feature": t.feature.tolist(),
            "threshold": t.threshold.tolist(),
            "left": t.left.tolist(),
            "right": t.right.tolist(),
            "missingLeft": t.missing_left.tolist(),
            "value": t.value.ravel().tolist(),
        }
        for t in package.model.trees
    ]
    files["model.json"] = json.dumps(model, separators=(",", ":")).encode() + b"\n"
    manifest = json.loads(files["MODEL"])
    manifest["formatVersion"] = "1.0"
    manifest["model"]["modelType"] = model["modelType"]
    files["MODEL"] = json.dumps(manifest, indent=2).encode()
    return files
