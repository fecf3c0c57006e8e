"""The estimator x format coverage table of the README, generated.

Rows: every estimator crossform's built-in converter tables name
(``crossform.sklearn.FAMILIES``). Columns: every registered format, each
cell summing the conformance results of the cases whose fitted pipeline
uses that estimator (``estimators.json``, written by generate.py from the
fits themselves), over every runtime and variant of the format. So a cell
says "passed" only because cases with that estimator ran and passed there.
A runtime that is a second implementation of the rules (the Java scorer)
also has a column of its own, summing its results over the formats it reads.

    python conformance/coverage_table.py            rewrite the README table (runs the suite)
    python conformance/coverage_table.py --check    exit 1 if the README table is not what the suite gives
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
ESTIMATORS = HERE / "estimators.json"
# runtime -> its column: a second implementation of the rules, shown apart from the formats it reads
RUNTIME_COLUMNS = {"jvm": "jvm (Java)"}
START, END = "<!-- coverage:start (conformance/coverage_table.py writes this table) -->", "<!-- coverage:end -->"


def estimator_classes(estimator) -> list:
    """The classes of every step of a fitted estimator, pipelines and column transformers opened."""
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.pipeline import Pipeline

    found = [estimator]
    out = []
    while found:
        est = found.pop(0)
        if isinstance(est, str) or est is None:
            continue
        out.append(type(est))
        if isinstance(est, Pipeline):
            found.extend(step for _, step in est.steps)
        elif isinstance(est, ColumnTransformer):
            found.extend(trans for _, trans, _ in est.transformers_)
        elif isinstance(est, TransformedTargetRegressor):
            found.append(est.regressor_)  # its regressor is converted as a step of its own
        # an imputer's indicator is part of its own conversion, not a step of the pipeline
    return out


def qualified(cls: type) -> str:
    return f"{cls.__module__.split('._')[0]}.{cls.__qualname__}"


def builtin_table() -> dict:
    """family module -> the estimator classes its CONVERTERS table names."""
    from crossform.sklearn import FAMILIES, LIBRARY_FAMILIES

    modules = FAMILIES + tuple(LIBRARY_FAMILIES.values())
    return {module: list(importlib.import_module(module).CONVERTERS) for module in modules}


def cells(report, uses: dict) -> dict:
    """estimator name -> format name -> counts of passed/failed/skipped results and the skip reasons."""
    from crossform.exporters import parse_label

    out: dict = {}
    for r in report.results:
        columns = [parse_label(r.format)[0].NAME]
        if r.runtime in RUNTIME_COLUMNS:
            columns.append(RUNTIME_COLUMNS[r.runtime])
        for name in uses.get(r.case.rsplit("/", 1)[-1], ()):  # results name cases "feature/name"
            for column in columns:
                cell = out.setdefault(name, {}).setdefault(
                    column, {"passed": 0, "failed": 0, "skipped": 0, "cases": set()}
                )
                cell[r.status] += 1
                cell["cases"].add(r.case)
    return out


def skip_notes(report) -> list:
    """One line per skip reason: the pair, the cases, the reason (without what names one file)."""
    import re

    grouped: dict = {}
    for r in report.results:
        if r.status == "skipped":
            reason = re.split(r"(?<=\)), ", r.reason or "no reason given")[0]
            grouped.setdefault((r.format, r.runtime, reason), []).append(r.case.rsplit("/", 1)[-1])
    return [
        f"- {fmt} in {runtime}, {len(cases)} case{'s' if len(cases) > 1 else ''} ({', '.join(sorted(cases))}): {reason}"
        for (fmt, runtime, reason), cases in sorted(grouped.items())
    ]


def _cell_text(cell) -> str:
    if cell is None:
        return "no case"
    n = len(cell["cases"])
    if cell["failed"]:
        return f"**FAILS** {cell['failed']} of {cell['passed'] + cell['failed'] + cell['skipped']}"
    if cell["skipped"] and not cell["passed"]:
        return f"skipped ({n})"
    text = f"yes ({n})"
    return text + " *" if cell["skipped"] else text


def table(report, uses: dict) -> str:
    from crossform import formats

    names = formats() + [
        column for runtime, column in RUNTIME_COLUMNS.items() if runtime in {r for _, r in report.pairs()}
    ]
    data = cells(report, uses)
    lines = ["| estimator | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for classes in builtin_table().values():
        for cls in classes:
            name = qualified(cls)
            row = data.get(name, {})
            lines.append(f"| `{name}` | " + " | ".join(_cell_text(row.get(f)) for f in names) + " |")
    counts = (
        f"{report.count('passed')} passed, {report.count('failed')} failed, {report.count('skipped')} skipped "
        f"over {len(report.cases)} cases"
    )
    text = [
        START,
        "",
        *lines,
        "",
        f'A cell counts the conformance cases using the estimator; "yes" means every one passed in every '
        f'runtime and variant of the format ({counts}). "*" marks a cell with a named skip:',
        "",
    ]
    text += skip_notes(report) or ["- none"]
    text += ["", END]
    return "\n".join(text)


def current_table(report=None) -> str:
    from crossform import conformance

    if report is None:
        report = conformance.run(conformance.load_suite(HERE))
    uses = json.loads(ESTIMATORS.read_text(encoding="utf-8"))
    return table(report, uses)


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{README} has no coverage markers ({START!r} ... {END!r})")
    return text[text.index(START) : text.index(END) + len(END)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the README table is out of date")
    args = parser.parse_args(argv)
    new = current_table()
    if args.check:
        if readme_table() != new:
            print(
                "README.md's coverage table is not what the conformance suite gives; "
                "run: python conformance/coverage_table.py",
                file=sys.stderr,
            )
            return 1
        return 0
    text = README.read_text(encoding="utf-8")
    README.write_text(text.replace(readme_table(), new), encoding="utf-8")
    print(f"wrote the coverage table in {README}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
