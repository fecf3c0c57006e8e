"""Peak memory and time of reading hostile and honest packages, as multiples of the file size.

Each read runs in a fresh python (peak RSS, VmHWM), next to the anchor of the same
python importing crossform and every reader and reading the file's bytes without parsing them: the reader's
own cost is the difference. Rows:

- crafted bonsai: a header declaring 2^28-1 nodes over a valid 32 MB structure bitset and no
  columns (issue: 11 GB peak and 41 s before the reader checked counts against bytes);
- /dev/zero and a FIFO as the package path (refused before they are opened);
- the bench forest (about 814k nodes) as stripe-json, protobuf and onnx: an honest file read
  whole, for scale (the IR itself holds about 41 bytes per node).

Run: .venv/bin/python bench/bench_hostile.py [--no-forest]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

READ = """
import sys, time
import crossform
import crossform.exporters
from crossform import errors
start = time.perf_counter()
outcome = "read"
if sys.argv[1] == "anchor":  # every reader imported, the bytes read, nothing parsed
    import pathlib
    crossform.exporters.registry()
    p = pathlib.Path(sys.argv[2])
    for f in ([p] if p.is_file() else sorted(p.rglob("*")) if p.is_dir() else []):
        f.is_file() and f.read_bytes()
else:
    try:
        crossform.load(sys.argv[2])
    except errors.CrossformError as exc:
        outcome = type(exc).__name__
# VmHWM, not ru_maxrss: ru_maxrss keeps the parent's peak across fork and exec
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(time.perf_counter() - start, hwm * 1024, outcome)
"""


def measure(mode: str, path: Path) -> tuple:
    out = subprocess.run(
        [sys.executable, "-c", READ, mode, str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, OPENBLAS_NUM_THREADS="1"),
    )
    if out.returncode:
        return float("nan"), float("nan"), out.stderr.strip().splitlines()[-1]
    seconds, peak, outcome = out.stdout.split()
    return float(seconds), int(peak), outcome


def size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.is_file() else 0


def row(label: str, path: Path) -> None:
    seconds, peak, outcome = measure("read", path)
    _, anchor, _ = measure("anchor", path)
    n = size(path)
    extra = peak - anchor
    ratio = f"{extra / n:6.1f}x" if n else "     -"
    print(
        f"{label:34} {n / 2**20:9.1f} MB {seconds:7.2f} s {peak / 2**20:8.0f} MB peak "
        f"{extra / 2**20:8.0f} MB over the anchor {ratio} the file  {outcome}"
    )


def main() -> int:
    from conftest import small_package
    from test_hostile_input import complete_tree_bonsai, stripe_json_with_trees

    import crossform

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        row("crafted bonsai, 2^28-1 nodes", stripe_json_with_trees(tmp, complete_tree_bonsai(2**28 - 1)))
        row("/dev/zero", Path("/dev/zero"))
        fifo = tmp / "fifo"
        os.mkfifo(fifo)
        row("FIFO", fifo)
        if "--no-forest" not in sys.argv:
            from _forest import bench_forest

            package = crossform.from_sklearn(bench_forest()[0], checks=0)
            for name, fmt in (("forest", "stripe-json"), ("forest.pb", "protobuf"), ("forest.onnx", "onnx")):
                path = crossform.save(package, tmp / name, format=fmt)
                row(f"bench forest, {fmt}", path)
        crossform.save(small_package(), tmp / "small")
        row("small package, stripe-json", tmp / "small")
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - start:.0f} s)")
    sys.exit(code)
