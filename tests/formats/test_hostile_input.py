"""Hostile input: crafted files, special files and odd scoring input never give a traceback,
a hang or memory far beyond the input, only a named crossform error.

Whatever needs a resource limit runs in a subprocess under RLIMIT_AS; whatever could hang
runs with a timeout.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import crossform
from crossform import errors
from crossform.exporters.stripe_json import bonsai
from helpers.packages import small_package
from helpers.paths import CONFORMANCE, REPO
from helpers.protobuf import refused_in_java

ADDRESS_SPACE = 2 << 30  # 2 GiB: python, numpy, onnx and protobuf fit, an 8-byte-per-node array of 2^28 does not
TIMEOUT = 120


def run_limited(code: str, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh python under an address-space limit; it reads ``sys.argv[1:]``."""
    prelude = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
    """)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


CLI = """
    import sys
    from crossform.cli import main
    sys.exit(main(sys.argv[1:]))
"""


def cli_limited(*args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return run_limited(CLI, *args, timeout=timeout)


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """A crossform error message naming ``words``, no traceback, a failing exit code."""
    output = result.stdout + result.stderr
    assert result.returncode not in (0, None), output[-3000:]
    assert "Traceback" not in output and "MemoryError" not in output, output[-3000:]
    for word in words:
        assert word in output, output[-3000:]


# ---------------------------------------------------------------- declared counts beyond the file


def complete_tree_bonsai(n_nodes: int) -> bytes:
    """One complete tree of ``n_nodes`` (odd) nodes: header, tree offsets, a valid structure
    bitset and rank directory, then no columns at all; the checksum is right."""
    n_splits = (n_nodes - 1) // 2
    words = np.zeros((n_nodes + 63) // 64, dtype=">u8")
    words[: n_splits // 64] = np.uint64(2**64 - 1)
    if n_splits % 64:
        words[n_splits // 64] = np.uint64((1 << (n_splits % 64)) - 1)
    blocks = (len(words) + 7) // 8
    ranks = np.minimum(np.arange(blocks, dtype=np.int64) * 512, n_splits).astype(">u4")
    body = (
        struct.pack(">8sHHIIIQ", bonsai.MAGIC, 1, 0, 0, 1, 1, n_nodes)
        + struct.pack(">II", 0, n_nodes)
        + words.tobytes()
        + ranks.tobytes()
    )
    return body + struct.pack(">I", zlib.crc32(body))


def stripe_json_with_trees(tmp_path: Path, trees: bytes) -> Path:
    path = crossform.save(small_package(), tmp_path / "pkg")
    model_doc = json.loads((path / "model.json").read_text())
    (path / model_doc["trees"]["path"]).write_bytes(trees)
    return path


def test_small_complete_tree_bonsai_is_what_the_crafted_file_claims_to_be():
    # the crafted bytes are a real bonsai prefix: with no columns they fail only for truncation
    with pytest.raises(errors.BonsaiTruncatedError):
        bonsai.loads(complete_tree_bonsai(7), "t.bonsai", 2)


@pytest.mark.parametrize("n_nodes", [2**28 - 1, 2**27 + 1])
def test_bonsai_declaring_more_nodes_than_its_bytes_is_refused_before_allocating(tmp_path, n_nodes):
    trees = tmp_path / "trees.bonsai"
    trees.write_bytes(complete_tree_bonsai(n_nodes))
    result = run_limited(
        """
        import sys
        from crossform import errors
        from crossform.exporters.stripe_json import bonsai
        try:
            bonsai.loads(open(sys.argv[1], "rb").read(), sys.argv[1], 2)
        except errors.BonsaiTruncatedError as exc:
            print("refused:", exc)
    """,
        str(trees),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused:" in result.stdout and "split feature" in result.stdout, result.stdout


@pytest.mark.parametrize("command", ["validate", "info", "id", "compat", "score"])
def test_cli_refuses_the_crafted_bonsai_by_name_under_a_memory_limit(tmp_path, command):
    path = stripe_json_with_trees(tmp_path, complete_tree_bonsai(2**28 - 1))
    args = [command, str(path)]
    if command == "score":
        rows = tmp_path / "rows.csv"
        rows.write_text("colour,size\nred,1.0\n")
        args.append(str(rows))
    assert_refused(cli_limited(*args), "trees.bonsai")


def test_load_refuses_the_crafted_bonsai_under_a_memory_limit(tmp_path):
    path = stripe_json_with_trees(tmp_path, complete_tree_bonsai(2**28 - 1))
    result = run_limited(
        """
        import sys, crossform
        from crossform import errors
        try:
            crossform.load(sys.argv[1])
        except errors.BonsaiTruncatedError as exc:
            print("refused:", exc)
    """,
        str(path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused:" in result.stdout


# ---------------------------------------------------------------- special files as packages


def test_character_device_is_refused_before_reading(tmp_path):
    result = cli_limited("validate", "/dev/zero", timeout=60)
    assert_refused(result, "/dev/zero", "regular file")
    with pytest.raises(errors.SpecialFileError, match="regular file or a directory"):
        crossform.load("/dev/zero")


@pytest.mark.parametrize("command", ["validate", "score", "info"])
def test_fifo_is_refused_without_blocking(tmp_path, command):
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    args = [command, str(fifo)]
    if command == "score":
        rows = tmp_path / "rows.csv"
        rows.write_text("colour,size\nred,1.0\n")
        args.append(str(rows))
    assert_refused(cli_limited(*args, timeout=60), str(fifo), "FIFO")


def test_fifo_is_refused_by_load_and_sniff(tmp_path):
    fifo = tmp_path / "pkg"
    os.mkfifo(fifo)
    for call in (crossform.load, crossform.exporters.sniff):
        with pytest.raises(errors.SpecialFileError, match="FIFO"):
            call(fifo)


def test_a_foreign_runtime_scores_the_bytes_that_were_checked(tmp_path, monkeypatch):
    """A package file is read once: the runtime gets the bytes whose id was checked, not a
    second read that a file swapped in meanwhile (or a FIFO) would answer."""
    from crossform.runtime import unavailable

    if unavailable("onnxruntime") is not None:
        pytest.skip(f"onnxruntime: {unavailable('onnxruntime')}")
    path = crossform.save(small_package(), tmp_path / "model.onnx")
    reads = []
    real = crossform.exporters.read_regular_file
    monkeypatch.setattr(crossform.exporters, "read_regular_file", lambda *a, **k: reads.append(a) or real(*a, **k))
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self} read a second time"))
    score = crossform.scorer(path, "onnxruntime")
    assert len(reads) == 1
    rows = {"colour": ["red", "blue", None], "size": [1.0, 20.0, 3.0]}
    assert score(rows).values.tolist() == crossform.score(small_package(), rows).values.tolist()


def test_fifo_inside_a_package_directory_is_refused(tmp_path):
    path = crossform.save(small_package(), tmp_path / "pkg")
    model_doc = json.loads((path / "model.json").read_text())
    trees = path / model_doc["trees"]["path"]
    trees.unlink()
    os.mkfifo(trees)
    with pytest.raises(errors.SpecialFileError, match="trees"):
        crossform.load(path)


def test_a_package_file_reads_under_an_address_space_limit(tmp_path):
    # reading never asks for the 2 GiB cap up front, which no 2 GiB address space can give
    path = crossform.save(small_package(), tmp_path / "m.pb", format="protobuf")
    result = run_limited(
        """
        import sys, crossform
        print(crossform.load(sys.argv[1]).id)
    """,
        str(path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == small_package().id


def test_save_refuses_a_nul_in_the_path(tmp_path):
    with pytest.raises(errors.UnsafePackageError, match="NUL"):
        crossform.save(small_package(), str(tmp_path / "a\x00b"))
    with pytest.raises(errors.UnsafePackageError, match="NUL"):
        crossform.load(str(tmp_path / "a\x00b"))


# ---------------------------------------------------------------- scoring input


def test_a_duplicated_input_column_is_an_input_error_naming_it():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame([["red", 1.0, 2.0]], columns=["colour", "size", "size"])
    with pytest.raises(errors.InputError, match="'size'.*2 columns|2 columns.*'size'"):
        crossform.score(small_package(), frame)


def test_a_duplicated_column_the_package_does_not_read_is_harmless():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame([["red", 1.0, 2.0, 3.0]], columns=["colour", "size", "extra", "extra"])
    plain = pd.DataFrame([["red", 1.0]], columns=["colour", "size"])
    np.testing.assert_array_equal(
        crossform.score(small_package(), frame).values, crossform.score(small_package(), plain).values
    )


@pytest.mark.parametrize(
    "value, kind",
    [
        (np.complex128(1.5 + 2j), "complex128"),
        (1.5 + 2j, "complex"),
        (np.timedelta64(7, "s"), "timedelta64"),
        (np.datetime64("2026-01-01"), "datetime64"),
        (b"7", "bytes"),
        (np.bytes_(b"7"), "bytes_"),
    ],
)
def test_only_real_numbers_are_numbers(value, kind):
    scores = crossform.score(small_package(), [{"colour": "red", "size": value}, {"colour": "red", "size": 7.0}])
    assert scores.errors[0] is not None and "expected a number" in scores.errors[0] and kind in scores.errors[0]
    assert scores.errors[1] is None


@pytest.mark.parametrize(
    "column",
    [
        np.array([1.5 + 2j, 7.0]),
        np.array([7, 8], dtype="timedelta64[s]"),
        np.array(["2026-01-01", "2026-01-02"], dtype="datetime64[D]"),
    ],
)
def test_complex_and_time_arrays_are_row_errors(column):
    scores = crossform.score(small_package(), {"colour": ["red", "red"], "size": column})
    assert all(e is not None and "expected a number" in e for e in scores.errors), scores.errors


@pytest.mark.parametrize("value", [Decimal("2.5"), Fraction(5, 2)])
def test_decimal_and_fraction_are_real_numbers(value):
    pkg = small_package()
    got = crossform.score(pkg, [{"colour": "red", "size": value}])
    same = crossform.score(pkg, [{"colour": "red", "size": 2.5}])
    assert got.errors == [None]
    np.testing.assert_array_equal(got.values, same.values)


def test_a_decimal_float64_cannot_hold_is_a_row_error():
    scores = crossform.score(
        small_package(), [{"colour": "red", "size": Decimal("sNaN")}, {"colour": "red", "size": 1.0}]
    )
    assert scores.errors[0] is not None and "size" in scores.errors[0] and scores.errors[1] is None


@pytest.mark.parametrize(
    "data, found",
    [
        ({"colour": "red", "size": 3.0}, "str"),
        ({"colour": ["red"], "size": 3.0}, "float"),
        ({"colour": ["red"], "size": (x for x in [3.0])}, "generator"),
        ({"colour": ["red"], "size": np.float64(3.0)}, "float64"),
        ({"colour": ["red"], "size": np.array(3.0)}, "array"),
    ],
)
def test_scalars_or_generators_instead_of_columns_are_input_errors(data, found):
    with pytest.raises(errors.InputError, match=f"expected a column.*{found}"):
        crossform.score(small_package(), data)


def test_error_messages_cut_a_huge_value():
    huge = "x" * 100_000
    scores = crossform.score(small_package(), [{"colour": huge, "size": 1.0}, {"colour": "red", "size": huge}])
    for error in scores.errors:
        assert error is not None and len(error) < 300 and "xxx" in error
    with pytest.raises(errors.InputError) as info:
        crossform.score(small_package(), {huge: [1.0], "colour": ["red"]})
    assert len(str(info.value)) < 500


# ---------------------------------------------------------------- fuzzing every reader

FUZZ_SECONDS = 4.0  # per reader; seeded, so a failure names the case that reproduces it
FUZZ = """
    import json, random, re, struct, sys, time, warnings, zlib
    sys.path.insert(0, sys.argv[4])
    from helpers.packages import small_package
    from crossform import errors, ir
    from crossform.exporters import Files, get_format
    from crossform.exporters.stripe_json import bonsai

    name, seed, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    warnings.simplefilter("ignore")
    fmt = get_format(name)
    import crossform
    packages = [small_package()] + [crossform.load(f"{sys.argv[5]}/{case}") for case in sys.argv[6:]]
    unsupported = getattr(fmt, "unsupported", lambda package: None)
    originals = [fmt.dumps(p) for p in packages if unsupported(p) is None]
    rng = random.Random(seed)
    BIG = [2**31 - 1, 2**32 - 1, 2**28 - 1, 2**63 - 1, 2**17, 2**16, 10**9, 10**18, 0, 1]
    NUMBER = re.compile(rb"-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?")

    def declared_count(data):
        # a count, length or size field claiming more than the file holds
        if data.startswith(bonsai.MAGIC):
            at = rng.choice([20, 24, 28, 32, rng.randrange(32, len(data) - 4)])
            width = 8 if at == 28 else 4
            body = bytearray(data[:-4])
            body[at:at + width] = rng.choice(BIG).to_bytes(8, "big")[-width:]
            return bytes(body[:len(data) - 4]) + struct.pack(">I", zlib.crc32(bytes(body[:len(data) - 4])))
        numbers = list(NUMBER.finditer(data)) if data[:1] in (b"{", b"[", b"<") else []
        if numbers:
            m = rng.choice(numbers)
            return data[:m.start()] + str(rng.choice(BIG + [-1, "1e999", "-1e999"])).encode() + data[m.end():]
        at = rng.randrange(len(data))
        value, varint = rng.choice(BIG), bytearray()
        while True:  # protobuf lengths and counts are varints
            varint.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
            value >>= 7
            if not value:
                break
        return data[:at] + bytes(varint) + data[at + len(varint):]

    def flipped(data):
        data = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        if data.startswith(bonsai.MAGIC) and rng.random() < 0.5:  # past the checksum, into the structure
            data[-4:] = struct.pack(">I", zlib.crc32(bytes(data[:-4])))
        return bytes(data)

    def truncated(data):
        return data[:rng.randrange(len(data))]

    MUTATIONS = (truncated, flipped, declared_count)
    cases, loaded, failures = 0, 0, []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(failures) < 5:
        mutation, original = rng.choice(MUTATIONS), rng.choice(originals)
        if isinstance(original, dict):
            files = dict(original)
            target = rng.choice([p for p in files if p.endswith(".bonsai")] + list(files))
            files[target] = mutation(files[target])
            source, what = Files.from_mapping(files, "pkg"), f"{target} {mutation.__name__}"
        else:
            source, what = mutation(original), mutation.__name__
        print(cases, what, file=sys.stderr, flush=True)  # the last line names a case that hangs
        try:
            fmt.loads(source)
            loaded += 1
        except errors.CrossformError:
            pass
        except BaseException as exc:
            failures.append(f"case {cases} ({what}): {type(exc).__name__}: {str(exc)[:300]}")
        cases += 1
    print(json.dumps({"cases": cases, "loaded": loaded, "failures": failures}))
"""


# besides the hand-built package: set splits, one-hot blocks, linear models, boosting, many classes
FUZZ_CASES = (
    "hgb-string-categories",
    "one-hot-infrequent",
    "logistic-multinomial",
    "gb-multiclass",
    "isolation-forest",
    "rf-trained-with-nan",
)
CONFORMANCE_PACKAGES = CONFORMANCE / "packages"


@pytest.mark.parametrize("name", ["stripe-json", "protobuf", "onnx", "pmml"])
def test_fuzzed_packages_load_or_fail_by_name(name):
    if name == "onnx":
        pytest.importorskip("onnx")
    result = run_limited(
        FUZZ,
        name,
        "14",
        str(FUZZ_SECONDS),
        str(REPO / "tests"),
        str(CONFORMANCE_PACKAGES),
        *FUZZ_CASES,
        timeout=FUZZ_SECONDS + 90,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["cases"] > 50, report
    assert report["failures"] == [], report["failures"]


def leafless_protobuf(n_nodes: int, n_classes: int) -> bytes:
    """A protobuf tree_ensemble of n_classes classes whose first tree is n_nodes splits and
    no leaf (every child is node 1): no leaf values are stored, yet a reader that sized its
    leaf-value array by nodes x classes before checking the tree's shape would ask for
    n_nodes x n_classes doubles."""
    from crossform.exporters import protobuf
    from crossform.v1 import package_pb2 as pb

    msg = pb.Package()
    msg.ParseFromString(protobuf.dumps(small_package()))
    ens = msg.model.tree_ensemble
    del ens.classes[:]
    for k in range(n_classes):
        ens.classes.add().text = f"c{k}"
    tree = ens.trees[0]
    for field in ("feature", "left", "right", "threshold", "missing_left", "leaf_value"):
        del getattr(tree, field)[:]
    tree.feature.extend([0] * n_nodes)
    tree.left.extend([1] * n_nodes)
    tree.right.extend([1] * n_nodes)
    tree.threshold.extend([0.5] * n_nodes)
    tree.missing_left.extend([False] * n_nodes)
    return msg.SerializeToString()


def test_protobuf_tree_without_leaves_is_refused_before_allocating(tmp_path):
    path = tmp_path / "m.pb"
    path.write_bytes(leafless_protobuf(20_000, 2**16))  # 0.8 MB claiming 10 GB of leaf values
    result = run_limited(
        """
        import sys, crossform
        from crossform import errors
        try:
            crossform.load(sys.argv[1])
        except errors.CrossformError as exc:
            print("refused:", type(exc).__name__, exc)
    """,
        str(path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused: ProtobufCountError" in result.stdout and "trees[0]" in result.stdout, result.stdout


def test_protobuf_tree_without_leaves_is_refused_by_the_java_reader_before_allocating():
    # 20,000 splits of 2^16 classes would be 10 GB of leaf values: the JVM's heap holds far less
    from crossform.exporters import protobuf

    message = refused_in_java(leafless_protobuf(20_000, 2**16), protobuf.ProtobufCountError)
    assert "trees[0]" in message and "leaves" in message, message


def test_readers_cut_a_huge_value_they_echo(tmp_path):
    huge = "x" * 100_000
    path = crossform.save(small_package(), tmp_path / "pkg")
    manifest = json.loads((path / "MODEL").read_text())
    manifest["formatVersion"] = "1." + huge
    (path / "MODEL").write_text(json.dumps(manifest))
    with pytest.raises(errors.FormatVersionError) as info:
        crossform.load(path)
    assert len(str(info.value)) < 500 and "xxx" in str(info.value)

    from crossform.exporters import pmml

    text = (
        pmml.dumps(small_package())
        .decode()
        .replace('<ScoreDistribution value="no"', f'<ScoreDistribution value="{huge}"', 1)
    )
    with pytest.raises(errors.CrossformError) as info:
        pmml.loads(text.encode(), where="model.pmml")
    assert len(str(info.value)) < 500 and "xxx" in str(info.value)
