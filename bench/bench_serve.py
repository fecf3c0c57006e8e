"""Serving on loopback: crossform serve against MLflow's models serve and the in-process floor.

`crossform serve` and MLflow's `mlflow models serve` answer on the same fitted models, beside
crossform scoring the same rows in-process (the floor), in one run.

wrk (bench/_wrk.py) POSTs JSON to each server for --seconds per measurement after a short
warm-up: single rows from one client sending back to back (p50, p99: the best p99 of --repeats
runs), from --connections clients (requests/s with the server kept busy), at 1 and 2 uvicorn
workers; 1,000-row batches (rows/s); and on the small forest, a tag with 3 shadow models beside a
tag without, in the same server, also with one client pausing PACE_MS after each answer (a steady
rate the server answers with room to spare). After every run the bench waits for the server's
shadow work to settle. Every server's answers to the bench's rows are first checked against
scikit-learn's predict_proba; the goals of issue 17 end the output as PASS / FAIL lines.

Forests: **small** is the demo's pipeline (imputers, an ordinal encoder and RandomForestClassifier
(50 trees, max_depth=10) on 6 bird columns, crossform.demo.pipeline); its shadows are the same
pipeline retrained on weeks 1-3. **bench** is bench/README.md's bench forest (100 trees, 20
columns, ~814k nodes). Rows are drawn without missing values, as MLflow's JSON has no way to say
"missing" that its pandas reading keeps for an object column.

Run: ./dev bench serve [--forest small|bench|both] [--seconds S] [--repeats N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _mlflow  # noqa: E402
import _wrk  # noqa: E402
from _forest import bench_forest, best_of  # noqa: E402
from _servers import free_port, get, post_json, running  # noqa: E402
from run import environment  # noqa: E402

import crossform  # noqa: E402
import crossform.runtime  # noqa: E402
from crossform import demo  # noqa: E402
from crossform.deployer import Deployer  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "serve.json"
BATCH_ROWS = 1000
SINGLE_ROWS = 200  # distinct single-row bodies wrk sends in turn
CHECKED_ROWS = 20  # rows each server answers before it is timed, compared with scikit-learn
SHADOWS = 3
WARM_UP_S = 2  # a wrk run before each server's measurements: first loads in every worker, JIT, caches
FLOOR_CALLS = 2000
# the server's Prometheus counters of shadow work: rows compared, jobs dropped on a full queue
SHADOW_METRICS = {"rows": "crossform_serve_shadow_rows_total", "dropped": "crossform_serve_shadow_dropped_total"}
SETTLE_TIMEOUT_S = 60
# the paced client's pause after each answer: the small forest's server then sees a steady rate
# of about 1/(PACE_MS + its latency), well below what it can answer
PACE_MS = 4
SHADOW_CLIENTS = {"paced_client": f"1 client pausing {PACE_MS} ms", "one_client": "1 client back to back"}
FLOOR_SECONDS = 3.0
# a server's answer may differ from predict_proba by float rounding, never by a tree or a class
AGREES = 1e-9
# the goals of issue 17 for this 2-core machine
GOAL_P99_MS = 3.0
GOAL_VS_MLFLOW = 5.0
GOAL_SHADOW_P99 = 1.2
GOAL_OVERHEAD_MS = 0.5


class Model(NamedTuple):
    name: str
    about: str
    estimator: object
    frame: object  # pandas DataFrame: the bench's rows, in the estimator's input columns
    shadows: list  # estimators deployed as shadows of its tag


def small_model() -> Model:
    pipe, train, _ = demo.pipeline(0)
    columns = list(demo.CATEGORIES) + demo.NUMERIC
    rows = demo.frame(np.random.default_rng(1), 3 * BATCH_ROWS)[columns].dropna().iloc[:BATCH_ROWS]
    rows = rows.reset_index(drop=True)
    shadows = [demo.pipeline(week)[0] for week in range(1, SHADOWS + 1)]
    return Model("small", "the demo's pipeline: 50 trees, max_depth 10, 6 columns", pipe, rows, shadows)


def bench_model() -> Model:
    import pandas as pd

    forest, X, _ = bench_forest()
    names = [field.name for field in crossform.from_sklearn(forest, checks=0).inputs]
    rows = pd.DataFrame(X[-BATCH_ROWS:], columns=names)  # rows it was fitted on, as any caller's
    return Model("bench", "the bench forest: 100 trees, 20 columns", forest, rows, [])


MODELS = {"small": small_model, "bench": bench_model}


# ----------------------------------------------------------------------------- request bodies


def _row(frame, i: int) -> dict:
    return {name: _plain(value) for name, value in frame.iloc[i].items()}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def crossform_single(model: Model) -> list:
    return [json.dumps(_row(model.frame, i)) for i in range(SINGLE_ROWS)]


def crossform_batch(model: Model) -> str:
    return json.dumps({"columns": {name: [_plain(v) for v in model.frame[name]] for name in model.frame.columns}})


def mlflow_body(model: Model, frame) -> str:
    """MLflow's pyfunc input: a DataFrame by column name when the estimator was fitted on one (the
    pipeline selects columns by name), else a plain array (the forest, fitted on numpy)."""
    data = [[_plain(v) for v in row] for row in frame.itertuples(index=False)]
    if hasattr(model.estimator, "feature_names_in_"):
        return json.dumps({"dataframe_split": {"columns": list(frame.columns), "data": data}})
    return json.dumps({"inputs": data})


def mlflow_single(model: Model) -> list:
    return [mlflow_body(model, model.frame.iloc[i : i + 1]) for i in range(SINGLE_ROWS)]


def sklearn_input(model: Model, frame):
    return frame if hasattr(model.estimator, "feature_names_in_") else frame.to_numpy()


# ----------------------------------------------------------------------------- the checks


def _max_diff(got, expected) -> float:
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        raise RuntimeError(f"expected answers of shape {expected.shape}, got {got.shape}")
    return float(np.max(np.abs(got - expected)))


def check_answers(model: Model, url: str, single: list, batch: str, read) -> float:
    """Largest difference from predict_proba over the checked single rows and the batch; raises
    past AGREES, since a server that answers something else is not one to time."""
    expected = model.estimator.predict_proba(sklearn_input(model, model.frame))
    diffs = [_max_diff(read(post_json(url, single[i])), expected[i : i + 1]) for i in range(CHECKED_ROWS)]
    diffs.append(_max_diff(read(post_json(url, batch)), expected))
    worst = max(diffs)
    if not worst <= AGREES:
        raise RuntimeError(f"{url} answers differ from scikit-learn's predict_proba by up to {worst:.3g}")
    return worst


def read_crossform(answer: dict) -> list:
    if any(error is not None for error in answer["errors"]):
        raise RuntimeError(f"crossform serve refused a row: {answer['errors']}")
    return answer["values"]


def read_mlflow(answer: dict) -> list:
    return answer["predictions"]


# ----------------------------------------------------------------------------- the floor


def floor(package, runtime: str, model: Model) -> dict:
    """p50 and p99 of crossform.scorer's prepared function scoring one row, the bench's rows in turn,
    in this process, and its rows/s on the bench's batch as columns (best of 3): what a server
    cannot go under."""
    score = crossform.scorer(package, runtime=runtime)
    # columns as arrays (float64, or object for strings): what a server hands the scorer once it
    # has read the JSON, so the floor is the scoring alone
    columns = {name: model.frame[name].to_numpy() for name in model.frame.columns}
    rows = [{name: values[i : i + 1] for name, values in columns.items()} for i in range(SINGLE_ROWS)]
    for row in rows[:20]:
        score(row)
    times = []
    deadline = time.perf_counter() + FLOOR_SECONDS
    while len(times) < FLOOR_CALLS and time.perf_counter() < deadline:
        row = rows[len(times) % len(rows)]
        start = time.perf_counter()
        score(row)
        times.append(time.perf_counter() - start)
    batch_rows_per_s = len(model.frame) / best_of(lambda: score(columns))
    return {
        "calls": len(times),
        "p50_ms": _quantile(times, 0.50) * 1e3,
        "p99_ms": _quantile(times, 0.99) * 1e3,
        "batch_rows_per_s": batch_rows_per_s,
    }


def _quantile(values: list, q: float) -> float:
    return float(np.quantile(np.asarray(values), q))


# ----------------------------------------------------------------------------- the servers


class Plan(NamedTuple):
    seconds: float
    connections: int
    repeats: int
    workers: tuple


def measure(
    urls: dict, single: list, batch: Optional[str], plan: Plan, log, settle=lambda: None, paced: bool = False
) -> dict:
    """wrk's figures for each of ``urls`` ({name: url}, the same bodies), by name.

    One client: the run with the lowest p99 of plan.repeats (other work on the shared machine
    only ever adds latency), the urls taken in turn so that it falls on each alike; with
    ``paced``, also one client pausing PACE_MS after each answer. Then plan.connections clients,
    and (when given) batches, on the first url. ``settle`` runs after each run, so that no run
    pays for work a previous one left queued."""

    def load(url, bodies, connections, seconds, pause_ms=0):
        got = _wrk.run(url, bodies, connections=connections, seconds=seconds, pause_ms=pause_ms)
        settle()
        return got

    for url in urls.values():
        load(url, single, plan.connections, WARM_UP_S)
    clients = {"one_client": 0, **({"paced_client": PACE_MS} if paced else {})}
    runs = {(name, kind): [] for name in urls for kind in clients}
    for _ in range(plan.repeats):
        for name, url in urls.items():
            for kind, pause_ms in clients.items():
                runs[name, kind].append(load(url, single, 1, plan.seconds, pause_ms))
    figures = {}
    for name, url in urls.items():
        figures[name] = {}
        for kind in clients:
            figures[name][kind] = min(runs[name, kind], key=lambda run: run.p99_ms)
            figures[name][kind + "_p99_ms"] = [run.p99_ms for run in runs[name, kind]]
        figures[name]["clients"] = load(url, single, plan.connections, plan.seconds)
    if batch is not None:
        first = next(iter(urls))
        figures[first]["batch"] = load(urls[first], [batch], 2, plan.seconds)
    for name, got in figures.items():
        for what, load in got.items():
            if isinstance(load, _wrk.Load):
                log(f"    {name + ' ' + what:24s} {_load_line(load)}")
    return figures


def _load_line(load: _wrk.Load) -> str:
    failed = f"  FAILED {load.failed}: {load.errors}" if load.failed else ""
    return f"{load.per_s:9.1f} req/s  p50 {load.p50_ms:7.3f} ms  p99 {load.p99_ms:7.3f} ms  ({load.requests}){failed}"


def crossform_serve_missing() -> Optional[str]:
    import importlib.util

    if importlib.util.find_spec("crossform.serve") is None:
        return "crossform serve is not in this install (no crossform.serve package)"
    for module in ("starlette", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'crossform[serve]')"
    return None


def _metric_total(metrics: str, name: str) -> float:
    """The sum of every series of counter ``name`` in a Prometheus text page."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(name))


def shadows_settled(base: str) -> None:
    """Wait until the server's shadow work stops growing (its shadow rows counter holds still for
    half a second, at most SETTLE_TIMEOUT_S): a many-client run on the shadowed tag queues shadow
    jobs that go on being scored after it, on the same two cores as the next run."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        status, metrics = get(f"{base}/metrics")
        now = _metric_total(metrics, SHADOW_METRICS["rows"]) if status == 200 else None
        if now == last:
            return
        last = now
        time.sleep(0.5)


def _preloads() -> bool:
    """Whether `crossform serve` takes --tag (load the tag's model before /readyz says ready)."""
    done = subprocess.run([sys.executable, "-m", "crossform.cli", "serve", "--help"], capture_output=True, text=True)
    return "--tag" in done.stdout


def bench_crossform(model: Model, package, plan: Plan, work: Path, log) -> dict:
    """`crossform serve` over a store holding the model (stripe-json and ONNX, so it may pick either
    runtime) and a registry with two tags on it: one plain, one with the shadows."""
    deployer = Deployer(store=str(work / "store"), registry=str(work / "registry.sqlite"))
    model_id = deployer.push(package)
    deployer.push(package, format="onnx")
    plain, shadowed = f"bench.{model.name}", f"bench.{model.name}.shadowed"
    deployer.deploy(plain, model_id, force=True)
    deployer.deploy(shadowed, model_id, force=True)
    for estimator in model.shadows:
        shadow = crossform.from_sklearn(estimator)
        deployer.push(shadow)
        deployer.add_shadow(shadowed, deployer.push(shadow, format="onnx"), force=True)
    single, batch = crossform_single(model), crossform_batch(model)
    result = {"id": model_id}
    for workers in plan.workers:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-m", "crossform.cli", "serve",
            "--store", deployer.store_url, "--registry", deployer.registry_url,
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--shadow-log", str(work / f"shadows-{workers}.sqlite"),
        ]  # fmt: skip
        if _preloads():  # /readyz then waits for both tags' models in every worker
            command += ["--tag", plain, "--tag", shadowed]
        log(f"  crossform serve, {workers} worker(s)")
        with running(command, f"{base}/readyz", work / f"crossform-{workers}.log"):
            url = f"{base}/tag/{plain}/predict"
            result["max_abs_diff_vs_sklearn"] = check_answers(model, url, single, batch, read_crossform)
            status, about = get(f"{base}/model/{model_id}")
            result["runtime"] = json.loads(about).get("runtime") if status == 200 else None
            urls = {plain: url}
            if model.shadows and workers == 1:  # the shadows' cost, in the same server and runs
                urls[shadowed] = f"{base}/tag/{shadowed}/predict"
                check_answers(model, urls[shadowed], single, batch, read_crossform)
            settle = lambda: shadows_settled(base)  # noqa: E731, B023
            run = measure(urls, single, batch if workers == 1 else None, plan, log, settle, paced=len(urls) > 1)
            result[workers] = run[plain]
            if shadowed in run:
                result[workers]["shadowed"] = run[shadowed]
                metrics = get(f"{base}/metrics")[1]
                counts = {what: _metric_total(metrics, name) for what, name in SHADOW_METRICS.items()}
                result[workers]["shadowed"]["shadow_work"] = counts
                log(f"    shadow work over the server's life: {counts}")
    return result


def bench_mlflow(model: Model, plan: Plan, work: Path, log) -> dict:
    saved = _mlflow.save(model.estimator, work / f"mlflow-{model.name}")
    single, batch = mlflow_single(model), mlflow_body(model, model.frame)
    result = {}
    for workers in plan.workers:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command, env = _mlflow.serve_command(saved, port, workers)
        log(f"  mlflow models serve, {workers} worker(s)")
        with running(command, f"{base}/ping", work / f"mlflow-{workers}.log", env=env):
            url = f"{base}/invocations"
            result["max_abs_diff_vs_sklearn"] = check_answers(model, url, single, batch, read_mlflow)
            result[workers] = measure({"mlflow": url}, single, batch if workers == 1 else None, plan, log)["mlflow"]
    return result


# ----------------------------------------------------------------------------- the report


def run_forest(model: Model, plan: Plan, skips: list, log) -> dict:
    # with export's default checks: the server scores them to choose a runtime that is exact
    package = crossform.from_sklearn(model.estimator)
    figures = {"about": model.about, "nodes": package.model.n_nodes, "floor": {}}
    log(f"{model.name} forest ({model.about}; {package.model.n_nodes:,} nodes)")
    for runtime in ("reference", "onnxruntime"):
        reason = crossform.runtime.unavailable(runtime)
        if reason is not None:
            skips.append(f"floor {runtime}: {reason}")
            continue
        figures["floor"][runtime] = floor(package, runtime, model)
        log(f"  in-process one row, {runtime}: p50 {figures['floor'][runtime]['p50_ms']:.3f} ms")
    with tempfile.TemporaryDirectory(prefix="crossform-bench-serve-") as work:
        work = Path(work)
        for name, missing, bench in (
            ("crossform serve", crossform_serve_missing, lambda: bench_crossform(model, package, plan, work, log)),
            ("mlflow models serve", _mlflow.missing, lambda: bench_mlflow(model, plan, work, log)),
        ):
            reason = missing()
            if reason is None:
                try:
                    figures[name] = bench()
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:  # fails to start, answers wrong
                    reason = str(exc)
            if reason is not None:
                skips.append(f"{model.name} forest, {name}: {reason}")
                log(f"  skip {name}: {reason}")
    return figures


def print_tables(results: dict, plan: Plan) -> None:
    for forest, figures in results.items():
        print(f"\n{forest} forest: {figures['about']} ({figures['nodes']:,} nodes)")
        head = (
            f"| server | workers | p50 ms (1 client) | p99 ms (1 client) | req/s (1 client) "
            f"| req/s ({plan.connections} clients) | p99 ms ({plan.connections} clients) "
            f"| {BATCH_ROWS:,}-row batch rows/s | req/s vs MLflow |"
        )
        print(head)
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for runtime, got in figures["floor"].items():
            print(f"| in-process crossform.scorer, {runtime} | - | {got['p50_ms']:.3f} | {got['p99_ms']:.3f} "
                  f"| - | - | - | {got['batch_rows_per_s']:,.0f} | - |")  # fmt: skip
        anchor = figures.get("mlflow models serve", {})
        for server in ("crossform serve", "mlflow models serve"):
            for workers in plan.workers:
                run = figures.get(server, {}).get(workers)
                if run is None:
                    continue
                label = server + (f" ({figures[server]['runtime']})" if figures[server].get("runtime") else "")
                print(_table_row(label, workers, run, anchor.get(workers)))
                if "shadowed" in run:
                    print(_table_row(f"{label}, {SHADOWS} shadows on the tag", workers, run["shadowed"], None))
        shadowed = figures.get("crossform serve", {}).get(1, {}).get("shadowed")
        if shadowed is not None:
            print_shadows(figures["crossform serve"][1], plan)


def print_shadows(plain: dict, plan: Plan) -> None:
    print(f"\ncrossform serve, 1 worker, by a tag with no shadows and by one with {SHADOWS}:")
    print("| client | shadows | p50 ms | p99 ms | req/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for kind, about in {**SHADOW_CLIENTS, "clients": f"{plan.connections} clients"}.items():
        for count, run in ((0, plain), (SHADOWS, plain["shadowed"])):
            load = run[kind]
            failed = f" ({load.failed} failed)" if load.failed else ""
            print(f"| {about}{failed} | {count} | {load.p50_ms:.3f} | {load.p99_ms:.3f} | {load.per_s:,.0f} |")
    work = plain["shadowed"].get("shadow_work")
    if work:
        print(f"shadow rows compared {work['rows']:,.0f}, shadow jobs dropped (queue full) {work['dropped']:,.0f}")


def best_per_s(run: dict) -> float:
    """A server's requests/s: the better of its one-client and many-client runs (MLflow answers
    fewer requests/s with 8 clients than with one)."""
    return max(run["one_client"].per_s, run["clients"].per_s)


def _table_row(label: str, workers: int, run: dict, anchor: Optional[dict]) -> str:
    one, many = run["one_client"], run["clients"]
    batch = f"{run['batch'].per_s * BATCH_ROWS:,.0f}" if "batch" in run else "-"
    ratio = f"{best_per_s(run) / best_per_s(anchor):.1f}x" if anchor else "-"
    if anchor is run:
        ratio = "1 (anchor)"
    failed = f" ({many.failed + one.failed} failed)" if many.failed + one.failed else ""
    return (
        f"| {label}{failed} | {workers} | {one.p50_ms:.3f} | {one.p99_ms:.3f} | {one.per_s:,.0f} | {many.per_s:,.0f} "
        f"| {many.p99_ms:.3f} | {batch} | {ratio} |"
    )


def goals(results: dict, plan: Plan) -> list:
    """(verdict, line) for each goal the run could measure: PASS, FAIL, or "info" for a figure
    shown beside a goal. A goal measured on runs where any request failed fails: failed requests
    are quick, so they flatter every number."""
    small = results.get("small", {})
    served, anchor = small.get("crossform serve"), small.get("mlflow models serve")
    if served is None:
        return []
    lines = []

    def goal(passed: bool, line: str, *runs) -> None:
        failed = sum(run.failed for run in runs)
        lines.append(
            ("PASS" if passed and not failed else "FAIL", line + (f" ({failed} requests failed)" if failed else ""))
        )

    one = served[1]["one_client"]
    goal(one.p99_ms < GOAL_P99_MS, f"small forest single-row p99 {one.p99_ms:.3f} ms < {GOAL_P99_MS} ms", one)
    for workers in (w for w in (1, 2) if w in served and anchor and w in anchor):
        ours, theirs = served[workers], anchor[workers]
        ratio = best_per_s(ours) / best_per_s(theirs)
        runs = (ours["one_client"], ours["clients"], theirs["one_client"], theirs["clients"])
        goal(
            ratio >= GOAL_VS_MLFLOW,
            f"{workers} worker(s): {ratio:.1f}x MLflow's requests/s >= {GOAL_VS_MLFLOW}x",
            *runs,
        )
    if "shadowed" in served[1]:
        plain, shadowed = served[1], served[1]["shadowed"]
        for kind in ("paced_client", "one_client"):
            ratio = shadowed[kind].p99_ms / plain[kind].p99_ms
            goal(
                ratio <= GOAL_SHADOW_P99,
                f"p99 with {SHADOWS} shadows {ratio:.2f}x of none, {SHADOW_CLIENTS[kind]} <= {GOAL_SHADOW_P99}x",
                plain[kind],
                shadowed[kind],
            )
        loaded = shadowed["clients"].p99_ms / plain["clients"].p99_ms
        lines.append(("info", f"p99 with {SHADOWS} shadows {loaded:.2f}x of none with {plan.connections} clients"))
    runtime = served.get("runtime")
    if runtime in small["floor"]:
        overhead = one.p50_ms - small["floor"][runtime]["p50_ms"]
        goal(
            overhead < GOAL_OVERHEAD_MS,
            f"server p50 over in-process {runtime} {overhead:.3f} ms < {GOAL_OVERHEAD_MS} ms",
            one,
        )
    return lines


def _json_ready(value):
    if isinstance(value, _wrk.Load):
        return value.to_json()
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forest", choices=[*MODELS, "both"], default="both")
    parser.add_argument("--seconds", type=float, default=5.0, help="each wrk measurement (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="clients of the requests/s runs (default 8)")
    parser.add_argument("--repeats", type=int, default=3, help="one-client runs, the best p99 kept (default 3)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where the figures go (default {RESULTS})")
    args = parser.parse_args()
    reason = _wrk.wrk_missing()
    if reason is not None:
        print(f"bench_serve: {reason}", file=sys.stderr)
        return 2
    plan = Plan(args.seconds, args.connections, args.repeats, (1, 2))
    forests = list(MODELS) if args.forest == "both" else [args.forest]
    started = time.monotonic()
    env = environment()
    print(f"load average {env['load_average_1m']:.1f} at the start; {args.seconds:g} s per measurement")
    skips, results = [], {}
    for name in forests:
        results[name] = run_forest(MODELS[name](), plan, skips, lambda line: print(line, flush=True))
    print_tables(results, plan)
    checked = goals(results, plan)
    print()
    for verdict, line in checked:
        print(f"{verdict} {line}")
    for skip in skips:
        print(f"skip {skip}")
    elapsed = time.monotonic() - started
    print(f"\n{elapsed:.0f} s in all")
    report = {
        "environment": env,
        "seconds_per_measurement": args.seconds,
        "connections": args.connections,
        "results": results,
        "goals": [{"verdict": verdict, "goal": line} for verdict, line in checked],
        "skips": skips,
        "elapsed_s": elapsed,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_json_ready(report), indent=1, allow_nan=False) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
