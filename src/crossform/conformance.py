"""The conformance runner: every case, in every format, in every runtime that executes it.

For each case and each registered format: write the package, read it back,
compare the read-back id with the original, then score the case's rows in
each runtime the format lists and compare with the expected outputs under
docs/SEMANTICS.md (crossform.checks.compare). A runtime that is not
installed, or a format that cannot express the package, is a skip with its
reason, shown in every report; nothing is skipped silently.

Cases come from the conformance suite (conformance/cases/*.json, expected
outputs from scikit-learn), from the checks a package carries (scikit-learn's
outputs at export), or from rows generated at a package's own splits, whose
expected outputs are the reference evaluator's on the package as stored:
that case proves the formats and runtimes agree with the reference.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from . import checks as checks_module
from . import ir
from ._version import __version__
from .checks import Checks, Comparison, compare
from .errors import CrossformError, IdMismatchError, MalformedPackageError, PackageError, UnsupportedModelError
from .exporters import Files, _json, parse_label, sniff
from .exporters import labels as format_labels
from .exporters import load as load_package
from .exporters import registry as format_registry
from .runtime import get_runtime, unavailable

CASES_SCHEMA = "conformance-cases-1.schema.json"
REPORT_SCHEMA = "conform-report-2.schema.json"  # 1: the same report with camelCase keys (crossform <= 0.5.0)
DEFAULT_MAX_ROWS = 2000
MAX_DESCRIPTION = 120

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class Case:
    """Rows and expected outputs for one package.

    ``package`` is the package as read (None when it could not be read, with
    ``problem`` saying why). ``problem`` is also set when the package was read
    but is not what the case expects (an id that differs): every result of
    the case then fails with it, and the rows are still scored so the report
    names the rows the change affects.
    """

    name: str
    description: str
    checks: Union[Checks, None]
    package: Union[ir.Package, None]
    problem: Union[str, None] = None


@dataclass
class Result:
    case: str
    format: str
    runtime: str
    status: str
    reason: Union[str, None] = None
    comparison: Union[Comparison, None] = None
    id_expected: Union[str, None] = None
    id_got: Union[str, None] = None
    seconds: float = 0.0

    def to_json(self) -> dict:
        comparison = self.comparison
        return {
            "case": self.case,
            "format": self.format,
            "runtime": self.runtime,
            "status": self.status,
            "reason": self.reason,
            "rows": comparison.rows if comparison else 0,
            "differences": dict(comparison.counts) if comparison else {},
            "max_relative_difference": comparison.max_relative_difference if comparison else None,
            "leaves_compared": comparison.leaves_compared if comparison else False,
            "mismatches": [m.to_json() for m in comparison.mismatches] if comparison else [],
            "id_expected": self.id_expected,
            "id_got": self.id_got,
            "seconds": round(self.seconds, 6),
        }


@dataclass
class Report:
    results: list = field(default_factory=list)
    cases: list = field(default_factory=list)  # (name, description)

    @property
    def ok(self) -> bool:
        return all(r.status != FAILED for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def pairs(self) -> list:
        """The (format, runtime) pairs in the order they ran."""
        seen: dict = {}
        for r in self.results:
            seen.setdefault((r.format, r.runtime), None)
        return list(seen)

    def to_json(self) -> dict:
        matrix = []
        for fmt, runtime in self.pairs():
            cell = [r for r in self.results if (r.format, r.runtime) == (fmt, runtime)]
            reasons = sorted({r.reason for r in cell if r.status == SKIPPED and r.reason})
            matrix.append(
                {
                    "format": fmt,
                    "runtime": runtime,
                    "passed": sum(r.status == PASSED for r in cell),
                    "failed": sum(r.status == FAILED for r in cell),
                    "skipped": sum(r.status == SKIPPED for r in cell),
                    "skip_reasons": reasons,
                }
            )
        return {
            "schema": f"urn:crossform:schemas:{REPORT_SCHEMA.removesuffix('.schema.json')}",
            "crossform": __version__,
            "ok": self.ok,
            "summary": {
                "cases": len(self.cases),
                "passed": self.count(PASSED),
                "failed": self.count(FAILED),
                "skipped": self.count(SKIPPED),
            },
            "cases": [{"name": n, "description": d} for n, d in self.cases],
            "runtimes": [_runtime_entry(name) for name in dict.fromkeys(r for _, r in self.pairs())],
            "matrix": matrix,
            "results": [r.to_json() for r in self.results],
        }

    # ---- JUnit XML: one testcase per case x format x runtime

    def junit(self) -> bytes:
        suites = ET.Element(
            "testsuites",
            name="crossform conform",
            tests=str(len(self.results)),
            failures=str(self.count(FAILED)),
            skipped=str(self.count(SKIPPED)),
        )
        for fmt, runtime in self.pairs():
            cell = [r for r in self.results if (r.format, r.runtime) == (fmt, runtime)]
            suite = ET.SubElement(
                suites,
                "testsuite",
                name=f"{fmt} x {runtime}",
                tests=str(len(cell)),
                failures=str(sum(r.status == FAILED for r in cell)),
                errors="0",
                skipped=str(sum(r.status == SKIPPED for r in cell)),
                time=f"{sum(r.seconds for r in cell):.6f}",
            )
            for r in cell:
                case = ET.SubElement(
                    suite, "testcase", classname=f"conform.{fmt}.{runtime}", name=r.case, time=f"{r.seconds:.6f}"
                )
                if r.status == FAILED:
                    failure = ET.SubElement(case, "failure", message=_xml_text(r.reason or "failed"), type="mismatch")
                    failure.text = _xml_text("\n".join(failure_lines(r)))
                elif r.status == SKIPPED:
                    ET.SubElement(case, "skipped", message=_xml_text(r.reason or "skipped"))
        ET.indent(suites)
        return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def _runtime_entry(name: str) -> dict:
    reason = unavailable(name)
    version = None if reason is not None else get_runtime(name).version()
    return {"name": name, "version": version, "unavailable": reason}


def _xml_text(text: str) -> str:
    # XML 1.0 cannot carry most control characters, even escaped.
    return "".join(c if c in "\t\n\r" or ord(c) >= 32 else "\ufffd" for c in text)


def failure_lines(result: Result) -> list:
    lines = [result.reason] if result.reason else []
    comparison = result.comparison
    if comparison is not None and not comparison.ok:
        if comparison.summary() != result.reason:
            lines.append(comparison.summary())
        lines.extend(m.describe() for m in comparison.mismatches)
        shown = len(comparison.mismatches)
        total = sum(comparison.counts.values())
        if total > shown:
            lines.append(f"... ({total} row differences in all; the first {shown} shown)")
    return lines


# ---------------------------------------------------------------- cases


def _read_json(path: Path, schema: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MalformedPackageError(str(path), f"cannot read: {exc.strerror or exc}") from None
    doc = _json.parse(data, str(path))
    _json.validate(doc, schema, str(path))
    return doc


def _stored(path: Path) -> tuple:
    """(package, problem): an id mismatch still yields the package as read."""
    try:
        return load_package(path), None
    except IdMismatchError as exc:
        return exc.package, str(exc)


def case_files(root: Path) -> list:
    """The case files of a suite directory (root/cases/*.json), or [root] for one file."""
    if root.is_file():
        return [root]
    return sorted((root / "cases").glob("*.json"))


def is_suite(path: Union[str, Path]) -> bool:
    path = Path(path)
    if path.is_dir():
        return (path / "cases").is_dir()
    return path.suffix == ".json"


def suite_root(case_file: Path) -> Path:
    """Packages are named relative to the suite root, the parent of cases/."""
    return case_file.parent.parent if case_file.parent.name == "cases" else case_file.parent


def load_suite(path: Union[str, Path]) -> list:
    """The cases of a suite directory or of one case file."""
    path = Path(path)
    cases = []
    for file in case_files(path):
        doc = _read_json(file, CASES_SCHEMA)
        root = suite_root(file)
        for entry in doc["cases"]:
            name = f"{doc['feature']}/{entry['name']}"
            where = f"{file}: case {entry['name']}"
            checks = checks_module.from_document(entry["vectors"], where)
            package_path = root / entry["package"]
            try:
                package, problem = _stored(package_path)
            except (CrossformError, OSError) as exc:
                cases.append(Case(name, entry["description"], checks, None, f"package {entry['package']}: {exc}"))
                continue
            if problem is None and package.id != entry["id"]:
                problem = (
                    f"package {entry['package']} hashes to {package.id}, but the case expects "
                    f"{entry['id']}: the package is not the one the case was generated for"
                )
            cases.append(Case(name, entry["description"], checks, package, problem))
    return cases


def reference_checks(
    package: ir.Package, columns: Sequence[ir.Field], rows: Sequence[Sequence], labels: Sequence[str], description: str
) -> Checks:
    """Checks whose expected outputs are the reference evaluator's on ``package``."""
    from .evaluator import score as evaluate

    data = {f.name: [row[j] for row in rows] for j, f in enumerate(columns)}
    scores = evaluate(package, data)
    errors = ~scores.ok
    predicted = tuple(scores.labels()) if package.model.is_classifier else None
    return Checks(
        description,
        tuple(columns),
        tuple(tuple(r) for r in rows),
        tuple(labels),
        package.outputs,
        scores.values,
        errors,
        predicted,
        checks_module.leaf_positions(package.model, scores.leaves),
        checks_module.TOLERANCE,
        f"crossform reference {__version__} on the package as stored",
    )


def package_cases(
    path: Union[str, Path],
    rows: Union[Sequence[dict], None] = None,
    rows_name: str = "rows",
    max_rows: int = DEFAULT_MAX_ROWS,
    seed: int = 0,
) -> list:
    """Cases for a user's package: the checks it carries (scikit-learn's outputs
    at export), rows generated at its own splits, and ``rows`` if given, the
    last two with the reference's outputs on the package as stored."""
    from .vectors import generate

    label = str(path)
    try:
        package, problem = _stored(Path(path))
    except (CrossformError, OSError) as exc:
        return [Case(f"{label}", "the package as stored", None, None, f"cannot read the package: {exc}")]
    cases = []
    if package.checks is not None:
        cases.append(Case(f"{label}: checks", package.checks.description, package.checks, package, problem))
    vectors = generate(package, seed=seed, max_rows=max_rows)
    cases.append(
        Case(
            f"{label}: vectors",
            f"{len(vectors)} rows at the model's splits and leaves, special values "
            "and random rows; expected: the reference on the package as stored",
            reference_checks(package, package.inputs, vectors.rows, vectors.labels, "generated rows"),
            package,
            problem,
        )
    )
    if rows is not None:
        names = [f.name for f in package.inputs]
        table = [[row.get(n) for n in names] for row in rows]
        cases.append(
            Case(
                f"{label}: {rows_name}",
                f"{len(table)} rows from {rows_name}; expected: the reference on the package as stored",
                reference_checks(
                    package, package.inputs, table, [f"{rows_name} row {i + 1}" for i in range(len(table))], rows_name
                ),
                package,
                problem,
            )
        )
    return cases


# ---------------------------------------------------------------- running


def _loads(fmt, content):
    return fmt.loads(Files.from_mapping(content, label=f"<{fmt.NAME}>") if fmt.LAYOUT == "directory" else content)


def run_one(case: Case, fmt_name: str, runtime_name: str) -> Result:
    start = time.perf_counter()
    result = Result(case.name, fmt_name, runtime_name, FAILED)
    try:
        _run_one(case, fmt_name, runtime_name, result)
    except CrossformError as exc:
        result.status, result.reason = FAILED, f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - start
    return result


def _run_one(case: Case, fmt_name: str, runtime_name: str, result: Result) -> None:
    if case.package is None:
        result.reason = case.problem
        return
    fmt, variant, options = parse_label(fmt_name)
    reason = unavailable(runtime_name)
    if reason is not None:
        result.status, result.reason = SKIPPED, reason
        return
    reason = fmt.unsupported(case.package)
    if reason is not None:
        result.status, result.reason = SKIPPED, f"{fmt_name} cannot express this package: {reason}"
        return
    try:
        content = fmt.dumps(case.package, **options)
    except UnsupportedModelError as exc:  # a variant that refuses the package by name (onnx[float32])
        result.status, result.reason = SKIPPED, f"{fmt_name} cannot express this package: {exc}"
        return
    cannot = getattr(get_runtime(runtime_name), "unsupported", None)
    reason = cannot(content) if cannot is not None else None
    if reason is not None:  # a known defect of that runtime on this very file: a named skip
        result.status, result.reason = SKIPPED, f"{runtime_name} cannot run this file: {reason}"
        return
    back = _loads(fmt, content)
    # a lossy variant (onnx[float32]) holds a rounded package, held to its own rows and tolerance
    expected, checks = fmt.stored(case.package, case.checks, **options) if options else (case.package, case.checks)
    result.id_expected, result.id_got = expected.id, back.id
    problems = [case.problem] if case.problem else []
    if back.id != expected.id:
        problems.append(f"read back from {fmt_name}, the package hashes to {back.id}, not {expected.id}")
    if checks is None:
        result.reason = "; ".join(problems) or "no rows to score"
        return
    scores = get_runtime(runtime_name).prepare(content, fmt)(checks.data())
    result.comparison = compare(checks, scores, back.model)
    if problems:
        result.reason = "; ".join(problems)
    elif not result.comparison.ok:
        result.reason = result.comparison.summary()
    else:
        result.status = PASSED


def plan(formats: Union[Sequence[str], None] = None, runtimes: Union[Sequence[str], None] = None) -> list:
    """The (format, runtime) pairs to run: every registered format and every
    runtime it lists, narrowed by ``formats`` / ``runtimes`` when given."""
    pairs = []
    for name in formats or list(format_registry()):
        # a bare name runs the format and its variants; "onnx[float32]" one variant
        fmt, _, _ = parse_label(name)
        for label in format_labels(name) if "[" not in name else [name]:
            for runtime in fmt.RUNTIMES:
                if runtimes is None or runtime in runtimes:
                    pairs.append((label, runtime))
    return pairs


def run(
    cases: Iterable[Case],
    formats: Union[Sequence[str], None] = None,
    runtimes: Union[Sequence[str], None] = None,
    progress: Union[Callable[[int, int, str], None], None] = None,
) -> Report:
    cases = list(cases)
    pairs = plan(formats, runtimes)
    report = Report(cases=[(c.name, c.description) for c in cases])
    total, done = len(cases) * len(pairs), 0
    for case in cases:
        for fmt_name, runtime_name in pairs:
            if progress is not None:
                progress(done, total, f"{case.name} {fmt_name} x {runtime_name}")
            report.results.append(run_one(case, fmt_name, runtime_name))
            done += 1
    if progress is not None:
        progress(total, total, "")
    return report


# ---------------------------------------------------------------- the suite itself


@dataclass
class SuiteProblem:
    file: str
    case: str
    problem: str

    def to_json(self) -> dict:
        return {"file": self.file, "case": self.case, "problem": self.problem}


def check_suite(path: Union[str, Path]) -> tuple:
    """Verify the suite itself: (number of cases, [SuiteProblem]).

    Every case file valid against its schema and named after its feature;
    case names and descriptions unique and short; every referenced package
    present, readable, with the recorded id; rows covering the package's
    inputs; expected outputs matching the package's outputs and trees.
    """
    path = Path(path)
    problems: list = []
    names: dict = {}
    descriptions: dict = {}
    count = 0
    files = case_files(path)
    if not files:
        problems.append(SuiteProblem(str(path), "", "no case files (expected cases/*.json)"))
    for file in files:
        try:
            doc = _read_json(file, CASES_SCHEMA)
        except PackageError as exc:
            problems.append(SuiteProblem(str(file), "", exc.reason))
            continue
        if path.is_dir() and doc["feature"] != file.stem:
            problems.append(SuiteProblem(str(file), "", f"feature {doc['feature']!r} differs from the file name"))
        root = suite_root(file)
        for entry in doc["cases"]:
            count += 1
            name = entry["name"]

            def add(problem: str, name: str = name, file: Path = file) -> None:
                problems.append(SuiteProblem(str(file), name, problem))

            if name in names:
                add(f"the name {name!r} is also used in {names[name]}")
            names.setdefault(name, str(file))
            text = entry["description"]
            if text in descriptions:
                add(f"the description {text!r} is also used by case {descriptions[text]!r}")
            descriptions.setdefault(text, name)
            if "\n" in text or len(text) > MAX_DESCRIPTION:
                add(f"the description must be one line of at most {MAX_DESCRIPTION} characters")
            try:
                vectors = checks_module.from_document(entry["vectors"], f"{file}: case {name}")
            except PackageError as exc:
                add(exc.reason)
                continue
            try:
                package = load_package(root / entry["package"])
            except (CrossformError, OSError) as exc:
                add(f"package {entry['package']}: {exc}")
                continue
            if package.id != entry["id"]:
                add(f"package {entry['package']} hashes to {package.id}, the case records {entry['id']}")
            missing = [f.name for f in package.inputs if f.name not in {c.name for c in vectors.columns}]
            if missing:
                add(f"the rows lack the package's inputs {missing}")
            if tuple(vectors.outputs) != tuple(package.outputs):
                add(f"expected outputs {list(vectors.outputs)} differ from the package's {list(package.outputs)}")
            n_trees = len(getattr(package.model, "trees", ()))
            if vectors.leaves is not None and vectors.leaves.shape[1] not in (0, n_trees):
                add(f"expected leaves for {vectors.leaves.shape[1]} trees; the model has {n_trees}")
    return count, problems


def report_json_text(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, allow_nan=False)


def assert_conforms(
    target: Union[str, Path, ir.Package],
    rows: Union[Sequence[dict], None] = None,
    formats: Union[Sequence[str], None] = None,
    runtimes: Union[Sequence[str], None] = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Report:
    """Run conformance for a package path, a Package, or a suite; raise
    AssertionError naming every failing case, format, runtime and row."""
    if isinstance(target, ir.Package):
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            from .exporters import save

            path = save(target, Path(tmp) / "package")
            report = run(package_cases(path, rows, max_rows=max_rows), formats, runtimes)
    elif is_suite(target):
        report = run(load_suite(target), formats, runtimes)
    else:
        sniff(target)
        report = run(package_cases(target, rows, max_rows=max_rows), formats, runtimes)
    if not report.ok:
        lines = []
        for r in report.results:
            if r.status == FAILED:
                lines.append(f"{r.case} [{r.format} x {r.runtime}]")
                lines.extend(f"    {line}" for line in failure_lines(r))
        raise AssertionError("the package does not conform:\n" + "\n".join(lines))
    return report


__all__ = [
    "Case",
    "Result",
    "Report",
    "load_suite",
    "package_cases",
    "reference_checks",
    "run",
    "run_one",
    "plan",
    "check_suite",
    "assert_conforms",
    "failure_lines",
    "is_suite",
]
