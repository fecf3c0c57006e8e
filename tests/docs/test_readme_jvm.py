"""The README's Java and Scala snippets compile against the built jar and print, for the package
the README's Python example saves, what crossform.score gives for the same row."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform.runtime import jvm
from helpers.paths import REPO

README = REPO / "README.md"
# the row the snippets score (both name it in the same order)
ROW = {"a": 0.5, "b": -1.2, "c": 0.3, "d": 2.0}


def _block(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, f"the README should have one {language} snippet, it has {len(blocks)}"
    return blocks[0]


def _split(block: str) -> tuple:
    lines = block.splitlines()
    imports = [line for line in lines if line.startswith("import ")]
    body = [line for line in lines if not line.startswith("import ")]
    return "\n".join(imports), "\n".join(body)


@pytest.fixture(scope="module")
def example_package(tmp_path_factory) -> Path:
    """The package the README's Python example saves, made by running that example."""
    if jvm.unavailable() is not None:
        pytest.skip(jvm.unavailable())
    folder = tmp_path_factory.mktemp("readme-jvm")
    block = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)[0]
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    finally:
        os.chdir(cwd)
    assert (folder / "example-package" / "MODEL").is_file()
    return folder


def _expected(folder: Path) -> list:
    # the row as the snippets give it, scored by the reference (the README's example asserts
    # the reference equals predict_proba on its rows)
    scores = crossform.score(folder / "example-package", pd.DataFrame([ROW]))
    assert scores.errors[0] is None
    return scores.values[0].tolist()


def _printed_values(stdout: str) -> list:
    return [float(v) for v in stdout.strip().strip("[]").split(",")]


def _javac() -> str:
    return str(Path(jvm._java()).with_name("javac"))


def test_readme_java_snippet_prints_the_reference_scores(example_package):
    imports, body = _split(_block("java"))
    assert 'Path.of("example-package")' in body
    source = example_package / "ReadmeExample.java"
    source.write_text(
        f"{imports}\n\npublic class ReadmeExample {{\n"
        f"    public static void main(String[] args) throws Exception {{\n{body}\n    }}\n}}\n",
        encoding="utf-8",
    )
    classpath = os.pathsep.join(jvm.classpath())
    subprocess.run(
        [_javac(), "--release", "17", "-cp", classpath, "-d", str(example_package), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    run = subprocess.run(
        [jvm._java(), "-cp", os.pathsep.join([str(example_package), classpath]), "ReadmeExample"],
        cwd=example_package,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    np.testing.assert_array_equal(_printed_values(run.stdout), _expected(example_package))


# Debian's Scala (package scala, 2.11.12 on bookworm), which ./dev installs for this test
DEBIAN_SCALA = tuple(Path("/usr/share/java") / f"scala-{part}.jar" for part in ("compiler", "library", "reflect"))


def _scala_classpath() -> str | None:
    """A Scala compiler's jars (scala-compiler, scala-library, scala-reflect): those
    CROSSFORM_SCALA_CLASSPATH names, else Debian's, else None."""
    named = os.environ.get("CROSSFORM_SCALA_CLASSPATH")
    if named:
        return named
    if all(p.exists() for p in DEBIAN_SCALA):
        return os.pathsep.join(map(str, DEBIAN_SCALA))
    return None


def test_readme_scala_snippet_prints_the_reference_scores(example_package):
    scala = _scala_classpath()
    if scala is None:
        pytest.skip(
            "no Scala compiler: install Debian's scala (./dev test does) or set CROSSFORM_SCALA_CLASSPATH "
            "to a scala-compiler, scala-library and scala-reflect's jars"
        )
    imports, body = _split(_block("scala"))
    source = example_package / "ReadmeExample.scala"
    source.write_text(
        f"{imports}\n\nobject ReadmeExample {{\n  def main(args: Array[String]): Unit = {{\n{body}\n  }}\n}}\n",
        encoding="utf-8",
    )
    out = example_package / "scala-classes"
    out.mkdir(exist_ok=True)
    classpath = os.pathsep.join(jvm.classpath())
    compiled = subprocess.run(
        [
            jvm._java(),
            "-cp",
            scala,
            "scala.tools.nsc.Main",
            "-usejavacp",
            "-cp",
            classpath,
            "-d",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    library = [p for p in scala.split(os.pathsep) if "scala-library" in Path(p).name]
    run = subprocess.run(
        [jvm._java(), "-cp", os.pathsep.join([str(out), classpath, *library]), "ReadmeExample"],
        cwd=example_package,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    np.testing.assert_array_equal(_printed_values(run.stdout), _expected(example_package))
