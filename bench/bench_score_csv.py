"""`crossform score` on a large numeric CSV next to the Python API on a DataFrame.

The anchors are what a Python user writes: ``pandas.read_csv`` then
``crossform.score(package, frame)``, and the same writing the scores with
``DataFrame.to_csv`` (the command writes them too). The command reads, scores and writes the
same file in chunks. Each runs in its own process, which reports its time
(in-process, and with interpreter start-up as seen by the parent) and its peak
resident memory; the command runs a second time on a quarter of the rows to
show that its peak does not grow with the input. Ratios are
printed against the anchor of the same run. Defaults: 2,000,000 rows of 4
numeric columns (about 80 MB), a 10-tree depth-8 forest. Run:

    .venv/bin/python bench/bench_score_csv.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import crossform

# Each child prints its own in-process seconds and peak resident set (VmHWM: reset by
# exec, unlike ru_maxrss, which keeps the forking parent's size).
PEAK = (
    "print(time.perf_counter() - start, "
    "next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')))"
)
ANCHOR = f"""
import sys, time
import pandas as pd
import crossform
start = time.perf_counter()
scores = crossform.score(sys.argv[1], pd.read_csv(sys.argv[2]))
{PEAK}
"""
ANCHOR_WRITING = f"""
import sys, time
import pandas as pd
import crossform
start = time.perf_counter()
scores = crossform.score(sys.argv[1], pd.read_csv(sys.argv[2]))
pd.DataFrame(scores.values, columns=scores.outputs).assign(error=scores.errors).to_csv(sys.argv[3], index=False)
{PEAK}
"""
COMMAND = f"""
import sys, time
from crossform.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
{PEAK}
sys.exit(code)
"""


def measured(argv: list) -> tuple:
    """(wall seconds with start-up, in-process seconds, peak resident MB) of a child process."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:6]} failed: {done.stderr[-2000:]}")
    seconds, peak_kb = done.stdout.split()[-2:]
    return wall, float(seconds), int(peak_kb) / 1024


def write_rows(path: Path, n: int, rng) -> None:
    with open(path, "w") as fh:
        fh.write("x0,x1,x2,x3\n")
        for start in range(0, n, 200_000):
            block = rng.normal(size=(min(200_000, n - start), 4))
            fh.writelines(f"{a:.6g},{b:.6g},{c:.6g},{d:.6g}\n" for a, b, c, d in block.tolist())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()

    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=5000, n_features=4, n_informative=3, n_redundant=1, random_state=0)
    forest = RandomForestClassifier(n_estimators=10, max_depth=8, random_state=0).fit(X, y)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        package = crossform.save(crossform.from_sklearn(forest, checks=0), tmp / "pkg")
        rng = np.random.default_rng(0)
        big, small = tmp / "rows.csv", tmp / "quarter.csv"
        write_rows(big, args.rows, rng)
        write_rows(small, args.rows // 4, rng)
        size_mb = big.stat().st_size / 2**20

        api_wall, api_seconds, api_peak = measured([sys.executable, "-c", ANCHOR, str(package), str(big)])
        out_wall, out_seconds, out_peak = measured(
            [sys.executable, "-c", ANCHOR_WRITING, str(package), str(big), str(tmp / "api-scores.csv")]
        )
        cli = [sys.executable, "-c", COMMAND, "score", str(package)]
        cli_wall, cli_seconds, cli_peak = measured(cli + [str(big), "-o", str(tmp / "scores.csv"), "--quiet"])
        _, _, quarter_peak = measured(cli + [str(small), "-o", str(tmp / "quarter-scores.csv"), "--quiet"])

        import pandas as pd

        got = pd.read_csv(tmp / "scores.csv")
        want = crossform.score(package, pd.read_csv(big))
        same = bool(np.array_equal(got[list(want.outputs)].to_numpy(), want.values))

    print(f"{args.rows:,} rows, {size_mb:.0f} MB of CSV, a forest of 10 trees; command output equals the API's: {same}")
    print(
        f"python API (read_csv + score):   {api_seconds:6.2f} s in-process, {api_wall:6.2f} s with start-up, "
        f"peak {api_peak:6.0f} MB"
    )
    print(
        f"python API, scores to_csv:       {out_seconds:6.2f} s in-process, {out_wall:6.2f} s with start-up, "
        f"peak {out_peak:6.0f} MB"
    )
    print(
        f"crossform score (read, score, write): {cli_seconds:6.2f} s in-process, {cli_wall:6.2f} s with start-up, "
        f"peak {cli_peak:6.0f} MB ({cli_peak / size_mb:.1f}x the input); a quarter of the rows: peak "
        f"{quarter_peak:.0f} MB"
    )
    print(
        f"ratio command / API: time {cli_seconds / api_seconds:.2f}x in-process, {cli_wall / api_wall:.2f}x with "
        f"start-up (goal <= 1.5x); peak memory {cli_peak / api_peak:.2f}x"
    )
    print(
        f"ratio command / API writing its scores too: time {cli_seconds / out_seconds:.2f}x in-process, "
        f"{cli_wall / out_wall:.2f}x with start-up; peak memory {cli_peak / out_peak:.2f}x"
    )
    print(
        json.dumps(
            {
                "rows": args.rows,
                "input_mb": size_mb,
                "api_seconds": api_seconds,
                "api_wall": api_wall,
                "api_peak_mb": api_peak,
                "api_to_csv_seconds": out_seconds,
                "api_to_csv_peak_mb": out_peak,
                "cli_seconds": cli_seconds,
                "cli_wall": cli_wall,
                "cli_peak_mb": cli_peak,
                "cli_quarter_peak_mb": quarter_peak,
                "time_ratio": cli_seconds / api_seconds,
                "time_ratio_with_writing": cli_seconds / out_seconds,
                "identical": same,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
