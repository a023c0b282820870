"""Named suites of bench problems, run together: what LINAS's defaults are chosen on.

Every problem searches NAS-Bench-201's cell space (6 edges, 5 ops each) on a real Pi 5 table,
described two ways: *plain*, six categorical variables as a user with any other space would
describe them, and *cell*, the same variables told as the edges of a cell graph
(`SHARED_CELL`, `--edge ... --zero-op none`), which LINAS's predictors use.

- ``shared``: the shared table's accuracy (``acc_cifar100``) against each of its six latency
  and energy columns, and against ONNX latency and energy together (three objectives);
- ``held-out``: NAS-Bench-201's cifar10-valid and ImageNet16-120 validation accuracies
  (`nb201.joined_table`) against the Pi 5's ONNX and LiteRT latencies;
- ``wide``: both.

`run_suite` runs every problem's methods and seeds in one pool of ``jobs`` processes, problem
after problem, and hands each problem's report over as soon as its last run ends. With a
journal folder every run is journaled (``PROBLEM/METHOD-seedN.sqlite``) and every finished
problem's report kept (``PROBLEM.json``), so a resumed protocol reads what finished, replays
nothing, and continues the runs that were cut short.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from linas_host.bench import compare
from linas_host.bench.compare import SHARED_CELL, SHARED_TABLE, BenchPlan
from linas_host.bench.figures import write_json
from linas_host.bench.nb201 import joined_table
from linas_sdk.errors import InvalidArgument

VARIABLES = tuple(f"e{i}" for i in range(6))
COLUMNS = (
    "lat_pi5_onnx_ms", "energy_pi5_onnx_mj", "lat_pi5_litert_ms", "energy_pi5_litert_mj",
    "lat_pi5_torchmobile_ms", "energy_pi5_torchmobile_mj",
)


@dataclass(frozen=True)
class SuiteProblem:
    """One problem of a suite: its objectives (``COLUMN:DIR``), whether the variables are told
    as a cell, and whether it needs the joined table (held-out accuracies)."""

    objectives: tuple[str, ...]
    cell: bool
    joined: bool = False

    @property
    def name(self) -> str:
        columns = "+".join(o.split(":")[0] for o in self.objectives)
        return f"{columns}/{'cell' if self.cell else 'plain'}"

    def table(self, folder: Path) -> Path:
        return joined_table(folder) if self.joined else SHARED_TABLE


def _both(objectives: Sequence[str], joined: bool = False) -> list[SuiteProblem]:
    return [SuiteProblem(tuple(objectives), cell, joined) for cell in (False, True)]


_SHARED = [
    *(p for column in COLUMNS for p in _both(["acc_cifar100:max", f"{column}:min"])),
    *_both(["acc_cifar100:max", "lat_pi5_onnx_ms:min", "energy_pi5_onnx_mj:min"]),
]
_HELD_OUT = [
    p for accuracy in ("acc_cifar10_valid", "acc_imagenet16_120")
    for column in ("lat_pi5_onnx_ms", "lat_pi5_litert_ms")
    for p in _both([f"{accuracy}:max", f"{column}:min"], joined=True)
]
SUITES: dict[str, list[SuiteProblem]] = {
    "shared": _SHARED, "held-out": _HELD_OUT, "wide": _SHARED + _HELD_OUT,
}


def suite_problems(name: str, only: Sequence[str] = ()) -> list[SuiteProblem]:
    """The suite's problems (those named in ``only``, when given), or InvalidArgument."""
    if name not in SUITES:
        raise InvalidArgument(f"unknown suite {name!r}; expected one of {sorted(SUITES)}")
    problems = SUITES[name]
    unknown = sorted(set(only) - {p.name for p in problems})
    if unknown:
        raise InvalidArgument(
            f"suite {name!r} has no problem {unknown}; its problems: "
            f"{[p.name for p in problems]}")
    return [p for p in problems if not only or p.name in only]


def run_suite(
    name: str,
    *,
    only: Sequence[str] = (),
    jobs: int = 1,
    journal_dir: str | Path | None = None,
    resume: bool = False,
    table_dir: str | Path | None = None,
    on_problem: Callable[[dict], None] | None = None,
    on_run: Callable[[compare.BenchRun], None] | None = None,
    **settings,
) -> list[dict]:
    """Every problem of suite ``name`` with the same ``settings`` (`plan_bench`'s keywords:
    budget, seeds, methods...); -> their reports in the suite's order. ``table_dir`` holds
    the joined table (default: the journal folder, else the working directory)."""
    if resume and journal_dir is None:
        raise InvalidArgument("resuming a suite needs its journal folder")
    problems = suite_problems(name, only)
    folder = None if journal_dir is None else Path(journal_dir)
    tables = Path(table_dir or folder or ".")
    plans: dict[str, BenchPlan] = {}
    reports: dict[str, dict] = {}
    for problem in problems:  # every problem is checked before anything runs
        slug = problem.name.replace("/", "-")
        plan = compare.plan_bench(
            table=problem.table(tables), variables=VARIABLES, objectives=problem.objectives,
            cell=SHARED_CELL if problem.cell else None, name=problem.name, resume=resume,
            journal_dir=None if folder is None else folder / slug, **settings)
        saved = None if folder is None else folder / f"{slug}.json"
        if resume and saved is not None and saved.is_file():
            report = json.loads(saved.read_text())
            if _same(report, plan.meta):
                reports[problem.name] = report
                if on_problem:
                    on_problem(report)
                continue
        plans[problem.name] = plan
    names = list(plans)
    for n, report in compare.run_plans(list(plans.values()), jobs, on_run):
        reports[names[n]] = report
        if folder is not None:
            write_json(report, folder / f"{names[n].replace('/', '-')}.json")
        if on_problem:
            on_problem(report)
    return [reports[p.name] for p in problems]


def _same(report: Mapping, meta: Mapping) -> bool:
    """Whether a saved report was made with the settings of this plan."""
    return all(json.loads(json.dumps(meta[k])) == report.get(k) for k in meta
               if k not in ("table", "true_hypervolume"))


def format_row(report: Mapping) -> str:
    """One problem's figures as a Markdown table row: LINAS's and NSGA-II's median gaps (%) at
    each checkpoint, and LINAS's evaluations to NSGA-II's target hypervolume."""
    methods = report["methods"]
    cells = [report["problem"]]
    for method in ("linas", "nsga2"):
        if method in methods:
            gaps = methods[method]["gap"]
            cells.append(" / ".join(f"{100 * gaps[str(c)]['median']:.3f}"
                                    for c in report["checkpoints"]))
    linas = methods.get("linas", {}).get("evaluations_to_target")
    if linas is not None:
        needed = linas["median_curve"]
        cells.append(f">{report['budget']}" if needed is None else str(needed))
    return "| " + " | ".join(cells) + " |"
