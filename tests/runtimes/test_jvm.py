"""The JVM scorer's build (jvm/): its protobuf classes are what Debian's protoc makes from proto/."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from helpers.paths import REPO

JVM = REPO / "jvm"
GENERATED = JVM / "src" / "generated" / "java"


@pytest.mark.skipif(shutil.which("protoc") is None, reason="Debian's protoc (protobuf-compiler) is not installed")
def test_generated_java_is_what_protoc_makes(tmp_path):
    subprocess.run(
        ["protoc", f"-I{REPO / 'proto'}", f"--java_out={tmp_path}", "crossform/v1/package.proto"],
        check=True,
        capture_output=True,
    )
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.java"))
    committed = sorted(p.relative_to(GENERATED) for p in GENERATED.rglob("*.java"))
    assert fresh == committed
    for name in fresh:
        assert (tmp_path / name).read_bytes() == (GENERATED / name).read_bytes(), (
            f"{GENERATED / name} is not what protoc makes from proto/; regenerate it (jvm/README.md)"
        )
