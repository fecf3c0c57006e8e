"""The jvm runtime: crossform's own Java scorer (jvm/), run as one long-lived JVM per process.

Its protobuf classes are checked against Debian's protoc, its JUnit tests run (the Java side of
the conformance cases and the hostile files), and the conformance suite's stripe-json and
protobuf cases run through it: every case of a kind it reads passes, every other is a skip
naming the kind. (The hostile protobuf files are fed to it beside the Python reader's own
tests, tests/formats/protobuf.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crossform import conformance
from crossform.errors import CrossformError
from crossform.exporters import Files, protobuf, stripe_json
from crossform.ir import TreeEnsemble
from crossform.runtime import get_runtime, jvm, unavailable
from crossform.v1 import package_pb2
from helpers.paths import CONFORMANCE, REPO

JVM = REPO / "jvm"
GENERATED = JVM / "src" / "generated" / "java"
# the suite, and the golden packages of each format the Java reader reads
SUITES = {
    "stripe-json": (
        CONFORMANCE,
        CONFORMANCE / "golden" / "stripe-json" / "2.0",
        CONFORMANCE / "golden" / "stripe-json" / "2.1",
    ),
    "protobuf": (CONFORMANCE, CONFORMANCE / "golden" / "protobuf" / "1.0", CONFORMANCE / "golden" / "protobuf" / "1.1"),
}
needs_jvm = pytest.mark.skipif(unavailable("jvm") is not None, reason=f"jvm runtime: {unavailable('jvm')}")


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


def test_without_the_built_scorer_it_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(jvm, "JAR", tmp_path / "crossform-jvm.jar")
    reason = jvm.unavailable()
    if shutil.which("java") is None:
        assert reason.startswith("no java found")
    elif all(p.exists() for p in jvm.DEPENDENCIES):
        assert (
            reason
            == f"the jvm scorer is not built ({tmp_path / 'crossform-jvm.jar'} is missing); build it with ./dev jvm"
        )


def test_without_the_jvm_sources_it_says_how_to_name_a_built_scorer(monkeypatch, tmp_path):
    # a crossform installed from a wheel has no jvm/ beside it
    monkeypatch.delenv(jvm.CLASSPATH_VARIABLE, raising=False)
    monkeypatch.setattr(jvm, "JVM_DIR", tmp_path / "jvm")
    monkeypatch.setattr(jvm, "JAR", tmp_path / "jvm" / "build" / "crossform-jvm.jar")
    reason = jvm.unavailable()
    if shutil.which("java") is not None and all(p.exists() for p in jvm.DEPENDENCIES):
        assert "installed without the jvm/ sources" in reason and "CROSSFORM_JVM_CLASSPATH" in reason


def test_a_classpath_the_environment_names_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv(jvm.CLASSPATH_VARIABLE, str(tmp_path / "nowhere.jar"))
    if shutil.which("java") is not None:
        assert jvm.unavailable() == f"CROSSFORM_JVM_CLASSPATH names what does not exist: {tmp_path / 'nowhere.jar'}"


@needs_jvm
def test_the_scorer_starts_from_the_classpath_the_environment_names(monkeypatch, tmp_path):
    # the jar copied elsewhere and the checkout's gone from view: the environment's is the one run
    copy = tmp_path / "elsewhere" / "crossform-jvm.jar"
    copy.parent.mkdir()
    shutil.copyfile(jvm.JAR, copy)
    monkeypatch.setenv(jvm.CLASSPATH_VARIABLE, os.pathsep.join([str(copy), *map(str, jvm.DEPENDENCIES)]))
    monkeypatch.setattr(jvm, "JAR", tmp_path / "missing.jar")
    assert jvm.unavailable() is None
    process = jvm._Jvm()
    try:
        assert process.call(bytes([jvm.VERSION]), lambda s: s.text())
        assert str(copy) in process.process.args[process.process.args.index("-cp") + 1]
    finally:
        process.stop()


@needs_jvm
def test_a_scorer_of_another_protocol_is_refused_naming_both(monkeypatch):
    monkeypatch.setattr(jvm, "PROTOCOL", jvm.PROTOCOL + 1)
    process = jvm._Jvm()
    try:
        with pytest.raises(CrossformError) as caught:
            process.call(bytes([jvm.VERSION]), lambda s: s.text())
        message = str(caught.value)
        assert f"speaks protocol {jvm.PROTOCOL - 1}, this crossform protocol {jvm.PROTOCOL}" in message
        assert "rebuild it with ./dev jvm" in message and jvm.CLASSPATH_VARIABLE in message
        assert process.process is None  # stopped, not left running out of step
    finally:
        process.stop()


def test_a_jar_from_before_the_protocol_was_named_is_refused(monkeypatch, tmp_path):
    # a stand-in for java running an old jar: it answers VERSION as jars did before naming a protocol
    fake = tmp_path / "jdk" / "bin" / "java"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        f"#!{sys.executable}\n"
        "import struct, sys\n"
        "assert sys.stdin.buffer.read(1) == bytes([4])\n"
        "text = b'crossform-jvm 0.6.0, Java 17.0.15'\n"
        "sys.stdout.buffer.write(b'\\x00' + struct.pack('>I', len(text)) + text)\n"
        "sys.stdout.buffer.flush()\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    process = jvm._Jvm()
    try:
        with pytest.raises(
            CrossformError, match=r"speaks an older protocol \(its version names none\), this crossform protocol"
        ):
            process.call(bytes([jvm.VERSION]), lambda s: s.text())
    finally:
        process.stop()


def test_a_scorer_that_ends_as_it_starts_says_how_to_see_why(monkeypatch, tmp_path):
    fake = tmp_path / "jdk" / "bin" / "java"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(1)\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    process = jvm._Jvm()
    try:
        with pytest.raises(CrossformError, match=r"jvm: the scorer process ended as it started .*run it by hand"):
            process.call(bytes([jvm.VERSION]), lambda s: s.text())
    finally:
        process.stop()


def test_without_java_it_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(jvm.shutil, "which", lambda name: None)
    assert jvm.unavailable().startswith("no java found; install a JDK 17")


@pytest.mark.parametrize("fmt", [stripe_json.FORMAT, protobuf.FORMAT], ids=lambda f: f.NAME)
def test_the_formats_the_java_reader_reads_list_the_jvm_runtime(fmt):
    assert "jvm" in fmt.RUNTIMES


@needs_jvm
# The suite in the default layout, both formats, runs in tests/conformance (the whole corpus in
# every runtime); here: the golden packages of each format, and the suite in the compact layout.
@pytest.mark.parametrize(
    ("fmt", "layout", "suites"),
    [
        ("stripe-json", "compact", SUITES["stripe-json"]),
        ("stripe-json", "expanded", SUITES["stripe-json"][1:]),
        ("protobuf", "expanded", SUITES["protobuf"][1:]),
    ],
)
def test_the_conformance_suite_passes_through_the_jvm_runtime(fmt, layout, suites, monkeypatch):
    # the leaves are compared with the reference's as the values are, in either tree layout
    monkeypatch.setattr(jvm, "LAYOUT", layout)
    cases = [c for path in suites for c in conformance.load_suite(path)]
    report = conformance.run(cases, formats=[fmt], runtimes=["jvm"])
    failed = [f"{r.case}: {r.reason}" for r in report.results if r.status == conformance.FAILED]
    assert not failed, failed[:5]
    passed = [r for r in report.results if r.status == conformance.PASSED]
    assert len(passed) >= (120 if CONFORMANCE in suites else 10)
    trees = {c.name for c in cases if isinstance(c.package.model, TreeEnsemble)}
    assert all(r.comparison.leaves_compared == (r.case in trees) for r in passed)
    for r in report.results:
        if r.status == conformance.SKIPPED:
            assert r.reason.startswith("jvm cannot run this file: the jvm runtime does not read "), r.reason


@needs_jvm
def test_one_jvm_serves_every_package_and_batch():
    runtime = get_runtime("jvm")
    runtime.version()
    process = jvm._JVM.process
    cases = conformance.load_suite(CONFORMANCE)
    case = next(c for c in cases if c.name == "splits/rf-binary")
    fmt = stripe_json.FORMAT
    content = fmt.dumps(case.package)
    score = runtime.prepare(content, fmt)
    data = case.checks.data()
    first, second = score(data), score(data)
    np.testing.assert_array_equal(first.values, second.values)
    assert jvm._JVM.process is process and process.poll() is None


@needs_jvm
def test_an_unknown_layout_is_refused_by_name(monkeypatch):
    monkeypatch.setattr(jvm, "LAYOUT", "sparse")
    case = next(c for c in conformance.load_suite(CONFORMANCE) if c.name == "splits/rf-binary")
    with pytest.raises(CrossformError, match="expected LAYOUT one of expanded, compact, found 'sparse'"):
        get_runtime("jvm").prepare(stripe_json.FORMAT.dumps(case.package), stripe_json.FORMAT)


@needs_jvm
def test_a_package_the_java_reader_refuses_fails_with_its_reason(tmp_path):
    cases = conformance.load_suite(CONFORMANCE)
    case = next(c for c in cases if c.name == "splits/rf-binary")
    content = dict(stripe_json.FORMAT.dumps(case.package))
    trees = bytearray(content["trees.bonsai"])
    trees[len(trees) // 2] ^= 1
    content["trees.bonsai"] = bytes(trees)
    assert jvm.unsupported(content) is None  # not a kind it lacks: a refusal, which fails
    with pytest.raises(jvm.CrossformError, match=r"jvm: Checksum: .*trees.bonsai: the CRC-32"):
        jvm._loaded(content)


@pytest.mark.skipif(
    unavailable("jvm") is not None or not Path("/usr/share/java/junit-platform-console-standalone.jar").exists(),
    reason="the jvm runtime or Debian's junit5 is not installed",
)
def test_the_java_tests_pass():
    result = subprocess.run([str(JVM / "build.sh"), "test"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "tests failed" in result.stdout and " 0 tests failed" in result.stdout


@needs_jvm
def test_stripe_json_1_packages_read_and_score_in_java_as_in_python():
    """The golden 1.0 packages as 1.0 wrote them (trees as JSON arrays), not rewritten: the Java
    reader hashes each to the id Python reads, and scores its rows bit for bit as the reference."""
    fmt = stripe_json.FORMAT
    packages = sorted(p for p in (CONFORMANCE / "golden" / "stripe-json" / "1.0" / "packages").iterdir() if p.is_dir())
    assert packages
    for path in packages:
        content = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
        assert b'"formatVersion": "1.0"' in content["MODEL"]
        assert jvm.unsupported(content) is None
        package = fmt.loads(Files.from_mapping(content, label=str(path)))
        assert jvm._loaded(content).id == package.id
        data = package.checks.data()
        got = get_runtime("jvm").prepare(content, fmt)(data)
        want = get_runtime("reference").prepare(content, fmt)(data)
        # the same rows in error (the messages print numbers each language's way)
        assert [e is None for e in got.errors] == [e is None for e in want.errors], path.name
        np.testing.assert_array_equal(got.values.view(np.int64), want.values.view(np.int64), err_msg=path.name)
        np.testing.assert_array_equal(got.leaves, want.leaves, err_msg=path.name)


@needs_jvm
def test_the_golden_protobuf_files_read_in_java_as_the_ids_they_record():
    # the files as crossform 0.2.0 on wrote them, not written again: the Java reader's id of each
    golden = [CONFORMANCE / "golden" / "protobuf" / v for v in ("1.0", "1.1")]
    files = sorted(p for root in golden for p in (root / "packages").glob("*.protobuf"))
    assert len(files) >= 10
    for path in files:
        data = path.read_bytes()
        assert jvm._loaded(data).id == protobuf.loads(data).id, path.name


@needs_jvm
def test_a_protobuf_file_the_java_reader_refuses_fails_with_its_reason():
    cases = conformance.load_suite(CONFORMANCE)
    case = next(c for c in cases if c.name == "splits/rf-binary")
    msg = package_pb2.Package.FromString(protobuf.dumps(case.package))
    msg.model.tree_ensemble.trees[0].leaf_value[0] += 0.5  # still a package, not the one its id names
    data = msg.SerializeToString(deterministic=True)
    assert jvm.unsupported(data) is None  # not a kind it lacks: a refusal, which fails
    with pytest.raises(jvm.CrossformError, match=r"jvm: IdMismatch: .*package.pb: the content hashes to"):
        jvm._loaded(data)
