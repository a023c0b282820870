"""`linas bench`: search methods side by side on a measured table, over several seeds.

Every run replays the table (`TableEvaluator`), so the only thing that differs between methods
is which rows they ask for. The figures:

- the hypervolume *gap* to the table's true front, ``(HV_true - HV) / HV_true``, after each
  checkpoint's number of evaluations: median and interquartile range over seeds;
- the evaluations a method needs to reach the hypervolume NSGA-II has after the *target
  budget* (the full budget unless told; the median over NSGA-II's seeds, NSGA-II running that
  long): the first evaluation count at which the method's median hypervolume curve (median over
  seeds after each evaluation) reaches it, None (printed ">budget") if it never does; the JSON
  also holds each seed's own count.

Any number of objectives (2 to 4); the hypervolume is pymoo's, exact in every dimension. The
reference point defaults to the worst value of every objective over the whole table, so the
true front's hypervolume is fixed by the table alone. Seeds run from ``first_seed``, so a
selection protocol's separate seed sets (docs/linas.md) are each one command;
``method_options`` passes keyword options to a method's factory (LINAS's ablations).
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linas_host.config.schema import SearchConfig, validate
from linas_host.evaluate.evaluators import TableEvaluator
from linas_host.evaluate.table import MeasuredTable
from linas_host.run.problem import build_problem
from linas_host.run.session import create_method, search_run
from linas_host.search.hypervolume import (
    hypervolume,
    reference_in_minimised_form,
)
from linas_sdk.cell import Cell
from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import parse_constraints, parse_objectives

SHARED_TABLE = Path(__file__).resolve().parent / "data" / "nb201_pi5_cifar100.csv.gz"
# its e0..e5 columns: the ops on a NAS-Bench-201 cell's edges (node 0 the input, 3 the output)
SHARED_CELL = Cell(
    edges={"e0": (0, 1), "e1": (0, 2), "e2": (1, 2), "e3": (0, 3), "e4": (1, 3), "e5": (2, 3)},
    zero="none",
)
CHECKPOINTS = (100, 250, 500, 1000)
TARGET_METHOD = "nsga2"


@dataclass(frozen=True)
class BenchRun:
    method: str
    seed: int
    rows: list[int]
    hypervolume: list[float]
    status: str
    wall_seconds: float
    resumed: int


@dataclass(frozen=True)
class _Job:
    """One run of the bench: its config (validated as `linas search` validates one) and its
    journal."""

    config: SearchConfig
    journal: str | None
    resume: bool


_TABLES: dict = {}


def _run_one(job: _Job) -> BenchRun:
    config, key = job.config, _table_key(job.config)
    if key not in _TABLES:  # each worker process loads a table once
        space = config.space
        cell = Cell.from_dict(space.cell) if space.cell is not None else None
        _TABLES[key] = MeasuredTable.load(space.table, space.variables, cell=cell)
    problem = build_problem(config, table=_TABLES[key])
    run = search_run(config, problem, TableEvaluator(problem.table), journal=job.journal,
                     resume=job.resume)
    result = run.run()
    return BenchRun(
        method=config.method,
        seed=config.seed,
        rows=[int(e.record["row"]) for e in result.evaluations],
        hypervolume=[float(h) for h in result.hypervolume],
        status=result.status,
        wall_seconds=result.wall_seconds,
        resumed=result.resumed,
    )


def _table_key(config: SearchConfig) -> tuple:
    space = config.space
    return str(space.table), tuple(space.variables or ()), repr(space.cell)


def run_bench(
    *,
    table: str | Path,
    variables: Sequence[str],
    objectives: Sequence[str],
    budget: int = 1000,
    seeds: int = 10,
    first_seed: int = 0,
    target_budget: int | None = None,
    methods: Sequence[str] = ("linas", "nsga2", "random"),
    method_options: Mapping[str, Mapping] | None = None,
    population: int = 50,
    constraints: Sequence[str] = (),
    reference_point: Sequence[float] | None = None,
    cell: Cell | None = None,
    journal_dir: str | Path | None = None,
    resume: bool = False,
    jobs: int = 1,
    on_run: Callable[[BenchRun], None] | None = None,
) -> dict:
    """Run every method for ``seeds`` seeds (``first_seed`` on) and return the report as a dict
    (what ``--json`` writes; `format_report` prints it). ``cell`` says which variables are a
    cell's edges (`linas_sdk.cell`), for the predictors' features. The target is NSGA-II's
    median hypervolume after ``target_budget`` evaluations (default ``budget``; NSGA-II runs
    that long when it is more). ``method_options`` maps a method's name to keyword options of
    its factory."""
    objectives = parse_objectives(objectives)
    constraints = parse_constraints(constraints)
    methods = list(dict.fromkeys(methods))
    if not methods:
        raise InvalidArgument("name at least one method")
    if seeds < 1:
        raise InvalidArgument(f"--seeds must be >= 1, got {seeds}")
    if first_seed < 0:
        raise InvalidArgument(f"--first-seed must be >= 0, got {first_seed}")
    target_budget = budget if target_budget is None else target_budget
    if target_budget < population:
        raise InvalidArgument(
            f"the target budget ({target_budget}) is smaller than the population ({population})"
        )
    method_options = {name: dict(o) for name, o in (method_options or {}).items()}
    stray = sorted(set(method_options) - set(methods))
    if stray:
        raise InvalidArgument(
            f"options given for {stray}, which are not among the methods run ({methods})"
        )
    if reference_point is not None:  # refused as a run refuses it, before anything runs
        reference_in_minimised_form(objectives, reference_point)
    common = {
        "space": {"table": str(table), "variables": list(variables),
                  "cell": None if cell is None else cell.to_dict()},
        "objectives": [{"metric": "column", "column": o.name, "direction": o.direction}
                       for o in objectives],
        "constraints": [str(c) for c in constraints],
        "population": population,
        "reference_point": None if reference_point is None else dict(
            zip([o.name for o in objectives], reference_point, strict=True)),
    }
    jobs_list = []
    for name in methods:  # every run's config is checked now, not after others ran
        for seed in range(first_seed, first_seed + seeds):
            config = validate(
                {**common, "method": name, "method_options": method_options.get(name, {}),
                 "seed": seed,
                 "budget": max(budget, target_budget) if name == TARGET_METHOD else budget},
                source=f"linas bench, {name} seed {seed}",
            )
            if seed == first_seed:
                create_method(config)  # a bad option fails now
            journal = (None if journal_dir is None
                       else str(Path(journal_dir) / f"{name}-seed{seed}.sqlite"))
            jobs_list.append(_Job(config, journal, resume))
    data = MeasuredTable.load(table, variables, cell=cell)
    # the run's own rule (build_problem) fixes the reference: the given one, else the table's
    # worst value of each objective; so the true front's hypervolume is the table's alone
    natural = build_problem(jobs_list[0].config, table=data).reference
    reference = reference_in_minimised_form(objectives, natural)
    feasible = np.all(data.violations(constraints) <= 0, axis=1)
    true_hv = hypervolume(data.minimised(objectives)[feasible], reference)
    if true_hv <= 0:
        raise InvalidArgument(
            "the table's true front has zero hypervolume w.r.t. the reference point "
            f"{natural}; no feasible row is better than it in every objective"
        )
    if journal_dir is not None:
        Path(journal_dir).mkdir(parents=True, exist_ok=True)
    _TABLES[_table_key(jobs_list[0].config)] = data  # forked workers inherit it
    try:
        runs = _execute(jobs_list, jobs, on_run)
    finally:
        _TABLES.clear()
    return _report(
        runs,
        methods=methods,
        budget=budget,
        target_budget=target_budget,
        true_hv=true_hv,
        meta={
            "table": str(table),
            "rows": len(data),
            "variables": list(variables),
            "objectives": [str(o) for o in objectives],
            "constraints": [str(c) for c in constraints],
            "budget": budget,
            "seeds": seeds,
            "first_seed": first_seed,
            "method_options": method_options,
            "population": population,
            "reference_point": list(natural.values()),
            "true_hypervolume": true_hv,
            "cell": None if cell is None else cell.to_dict(),
        },
    )


def parse_method_options(items: Sequence[str]) -> dict[str, dict]:
    """``METHOD.KEY=VALUE`` texts (``--option``) as keyword options by method, each value
    read as YAML (``linas.trust_radius=null``, ``linas.predictors=[ridge, svr]``)."""
    import yaml

    options: dict[str, dict] = {}
    for text in items:
        name, equals, value = text.partition("=")
        method, _, key = name.partition(".")
        if not (method and key.isidentifier() and equals):
            raise InvalidArgument(
                f"--option {text!r}: expected METHOD.KEY=VALUE, e.g. linas.extremes=0"
            )
        try:
            options.setdefault(method, {})[key] = yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise InvalidArgument(f"--option {text!r}: the value is not YAML ({error})") from None
    return options


def _execute(jobs: list[_Job], workers: int, on_run) -> list[BenchRun]:
    runs = []
    if workers <= 1:
        for job in jobs:
            runs.append(_run_one(job))
            if on_run:
                on_run(runs[-1])
        return runs
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        for run in pool.map(_run_one, jobs):
            runs.append(run)
            if on_run:
                on_run(run)
    return runs


def _at(history: Sequence[float], n: int) -> float:
    """Hypervolume after ``n`` evaluations (the last value if the run ended earlier)."""
    return history[min(n, len(history)) - 1] if history else 0.0


def _spread(values: Sequence[float]) -> dict:
    q25, q50, q75 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return {"median": float(q50), "q25": float(q25), "q75": float(q75)}


def summarise(
    histories: Mapping[str, Sequence[Sequence[float]]],
    *,
    best: float,
    checkpoints: Sequence[int],
    budget: int,
    target_budget: int | None = None,
) -> dict:
    """The figures of hypervolume histories (per method, one per seed: the hypervolume after
    each evaluation): the gap ``(best - HV) / best`` and the hypervolume at each checkpoint
    (median and IQR over seeds) and, when NSGA-II is among them, the evaluations (within
    ``budget``) each method needs to reach NSGA-II's median hypervolume after
    ``target_budget`` (default ``budget``) evaluations."""
    target_budget = budget if target_budget is None else target_budget
    target = None
    if TARGET_METHOD in histories:
        target = float(np.median([_at(h, target_budget) for h in histories[TARGET_METHOD]]))
    out: dict = {
        "checkpoints": list(checkpoints),
        "target_method": TARGET_METHOD,
        "target_budget": target_budget,
        "target_hypervolume": target,
        "methods": {},
    }
    for name, group in histories.items():
        entry: dict = {
            "gap": {
                str(c): _spread([(best - _at(h, c)) / best for h in group]) for c in checkpoints
            },
            "hypervolume": {str(c): _spread([_at(h, c) for h in group]) for c in checkpoints},
        }
        if target is not None:
            curves = [_padded(h, budget) for h in group]
            entry["evaluations_to_target"] = {
                "median_curve": _first_reaching(np.median(curves, axis=0), target),
                "per_seed": [_first_reaching(c, target) for c in curves],
            }
        out["methods"][name] = entry
    return out


def _report(runs: list[BenchRun], *, methods, budget, target_budget, true_hv, meta) -> dict:
    checkpoints = sorted({c for c in CHECKPOINTS if c <= budget} | {budget})
    by_method = {name: [r for r in runs if r.method == name] for name in methods}
    report = dict(
        meta,
        **summarise(
            {name: [r.hypervolume for r in group] for name, group in by_method.items()},
            best=true_hv,
            checkpoints=checkpoints,
            budget=budget,
            target_budget=target_budget,
        ),
    )
    for name, group in by_method.items():
        report["methods"][name]["runs"] = [
            {
                "seed": r.seed,
                "status": r.status,
                "evaluations": len(r.rows),
                "wall_seconds": round(r.wall_seconds, 3),
                "resumed": r.resumed,
                "rows": r.rows,
            }
            for r in group
        ]
    return report


def _padded(history: Sequence[float], budget: int) -> np.ndarray:
    """A run's hypervolume after 1..budget evaluations (held at its last value if it ended)."""
    return np.array([_at(history, n) for n in range(1, budget + 1)])


def _first_reaching(history: Sequence[float], target: float) -> int | None:
    # a hair of tolerance: NSGA-II's own median run reaches its median exactly
    hits = np.flatnonzero(np.asarray(history) >= target * (1 - 1e-12))
    return int(hits[0]) + 1 if len(hits) else None


def format_report(report: dict) -> str:
    """The report as a plain-text table (what `linas bench` prints)."""
    first = report.get("first_seed", 0)
    lines = [
        f"table {report['table']} ({report['rows']} rows), objectives "
        f"{', '.join(report['objectives'])}, budget {report['budget']}, {report['seeds']} seeds "
        f"({first}..{first + report['seeds'] - 1}), population {report['population']}",
        f"reference point {report['reference_point']}, true-front hypervolume "
        f"{report['true_hypervolume']:.6g}",
    ]
    if report.get("cell"):
        edges = ", ".join(f"{k} {a}-{b}" for k, (a, b) in report["cell"]["edges"].items())
        lines.append(f"cell edges {edges} (zero op {report['cell']['zero']})")
    for name, options in report.get("method_options", {}).items():
        lines.append(f"{name} options {options}")
    lines.append("hypervolume gap to the true front, % (median [IQR] over seeds):")
    return "\n".join(lines + format_gaps(report))


def format_gaps(figures: dict) -> list[str]:
    """The gap table of `summarise`'s figures: a row per method, a column per checkpoint, and
    the evaluations to the target with the speed-up over the target budget."""
    budget = max(figures["checkpoints"])
    target_budget = figures.get("target_budget", budget)
    header = f"{'method':<10}" + "".join(f"{'@' + str(c):>24}" for c in figures["checkpoints"])
    if figures["target_hypervolume"] is not None:
        header += f"  evals to {figures['target_method']}@{target_budget}"
    lines = [header]
    for name, entry in figures["methods"].items():
        row = f"{name:<10}"
        for c in figures["checkpoints"]:
            g = entry["gap"][str(c)]
            cell = f"{100 * g['median']:.3f} [{100 * g['q25']:.3f}-{100 * g['q75']:.3f}]"
            row += f"  {cell:>22}"
        if "evaluations_to_target" in entry:
            needed = entry["evaluations_to_target"]["median_curve"]
            row += (
                f"  >{budget}" if needed is None else f"  {needed} ({target_budget / needed:.1f}x)"
            )
        lines.append(row)
    return lines


def write_json(report: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report, indent=1) + "\n")
