"""`linas bench`: search methods side by side on a measured table, over several seeds.

Every run replays the table (`TableEvaluator`), so the only thing that differs between methods
is which rows they ask for. The figures (`figures.py`):

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
A warm start (``warm_start_from``) replays a second board: each seed's LINAS run starts from a
finished LINAS run on another column (`linas_host.run.warm`), and counts only its own rows.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linas_host.bench.figures import CHECKPOINTS, TARGET_METHOD, summarise
from linas_host.config.schema import SearchConfig, validate
from linas_host.evaluate.evaluators import TableEvaluator
from linas_host.evaluate.table import MeasuredTable
from linas_host.run.problem import build_problem
from linas_host.run.session import create_method, search_run
from linas_host.run.warm import table_prior
from linas_host.search.hypervolume import (
    hypervolume,
    reference_in_minimised_form,
)
from linas_host.search.journal import SQLiteJournal
from linas_host.search.prior import Prior
from linas_host.search.runner import SearchResult
from linas_sdk.cell import Cell
from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import parse_constraints, parse_objectives

SHARED_TABLE = Path(__file__).resolve().parents[1] / "data" / "nb201_pi5_cifar100.csv.gz"
# its e0..e5 columns: the ops on a NAS-Bench-201 cell's edges (node 0 the input, 3 the output)
SHARED_CELL = Cell(
    edges={"e0": (0, 1), "e1": (0, 2), "e2": (1, 2), "e3": (0, 3), "e4": (1, 3), "e5": (2, 3)},
    zero="none",
)


@dataclass(frozen=True)
class BenchRun:
    method: str
    seed: int
    rows: list[int]
    hypervolume: list[float]
    status: str
    wall_seconds: float
    resumed: int
    problem: str = ""


@dataclass(frozen=True)
class _Job:
    """One run of the bench: its config (validated as `linas search` validates one), its
    journal, and for a warm-started run the config and journal of its source run."""

    config: SearchConfig
    journal: str | None
    resume: bool
    problem: str = ""
    source: SearchConfig | None = None
    source_journal: str | None = None


@dataclass
class BenchPlan:
    """Every run of one bench problem, checked before any runs, and what its report needs."""

    jobs: list[_Job]
    methods: list[str]
    budget: int
    target_budget: int
    true_hv: float
    meta: dict
    data: MeasuredTable


_TABLES: dict = {}


def _run_one(job: _Job) -> BenchRun:
    prior = None
    if job.source is not None:
        source = _search(job.source, job.source_journal, resume=True)
        prior = table_prior(source.evaluations, _table(job.config).space,
                            objectives=_objectives(job.config),
                            previous=_objectives(job.source), source=str(job.source_journal))
    result = _search(job.config, job.journal, resume=job.resume, prior=prior)
    return BenchRun(
        method=job.config.method,
        seed=job.config.seed,
        rows=[int(e.record["row"]) for e in result.evaluations],
        hypervolume=[float(h) for h in result.hypervolume],
        status=result.status,
        wall_seconds=result.wall_seconds,
        resumed=result.resumed,
        problem=job.problem,
    )


def _search(config: SearchConfig, journal: str | None, *, resume: bool,
            prior: Prior | None = None) -> SearchResult:
    """One run of `config` on its table; a journal already holding the whole budget is read,
    not replayed (a resumed protocol skips the runs that finished)."""
    if resume and journal is not None and Path(journal).is_file():
        with SQLiteJournal(journal) as stored:
            done = stored.evaluations()
            if stored.meta() is not None and len(done) >= config.budget:
                return SearchResult(space=_table(config).space, objectives=(),
                                    evaluations=done, status="budget", resumed=len(done),
                                    hypervolume=[e.hypervolume for e in done])
    problem = build_problem(config, table=_table(config))
    run = search_run(config, problem, TableEvaluator(problem.table), journal=journal,
                     resume=resume, prior=prior)
    return run.run()


def _table(config: SearchConfig) -> MeasuredTable:
    key = _table_key(config)
    if key not in _TABLES:  # each worker process loads a table once
        space = config.space
        cell = Cell.from_dict(space.cell) if space.cell is not None else None
        _TABLES[key] = MeasuredTable.load(space.table, space.variables, cell=cell)
    return _TABLES[key]


def _objectives(config: SearchConfig) -> list:
    return [o.objective() for o in config.objectives]


def _table_key(config: SearchConfig) -> tuple:
    space = config.space
    return str(space.table), tuple(space.variables or ()), repr(space.cell)


def run_bench(*, jobs: int = 1, on_run: Callable[[BenchRun], None] | None = None,
              **problem) -> dict:
    """Run every method for ``seeds`` seeds (``first_seed`` on) and return the report as a dict
    (what ``--json`` writes; `format_report` prints it). ``problem`` is `plan_bench`'s
    keywords; ``jobs`` runs that many at once (processes)."""
    plan = plan_bench(**problem)
    for _, report in run_plans([plan], jobs, on_run):
        return report
    raise AssertionError("unreachable: a plan has runs")


def run_plans(plans: Sequence[BenchPlan], jobs: int = 1,
              on_run: Callable[[BenchRun], None] | None = None) -> Iterator[tuple[int, dict]]:
    """Run the runs of every plan in one pool of ``jobs`` processes, plan after plan, and yield
    (position of the plan, its report) as soon as a plan's last run ends."""
    owner = [(n, i) for n, plan in enumerate(plans) for i in range(len(plan.jobs))]
    runs: list[list] = [[None] * len(plan.jobs) for plan in plans]
    pending = [len(plan.jobs) for plan in plans]
    for plan in plans:  # forked workers inherit the loaded tables
        _TABLES[_table_key(plan.jobs[0].config)] = plan.data
    try:
        jobs_list = [job for plan in plans for job in plan.jobs]
        for position, run in execute(jobs_list, jobs, on_run):
            n, i = owner[position]
            runs[n][i] = run
            pending[n] -= 1
            if not pending[n]:
                yield n, bench_report(plans[n], runs[n])
    finally:
        _TABLES.clear()


def plan_bench(
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
    warm_start_from: str | None = None,
    warm_budget: int = 1000,
    name: str = "",
) -> BenchPlan:
    """Check one bench problem and plan its runs. ``cell`` says which variables are a cell's
    edges (`linas_sdk.cell`), for the predictors' features. The target is NSGA-II's median
    hypervolume after ``target_budget`` evaluations (default ``budget``; NSGA-II runs that long
    when it is more). ``method_options`` maps a method's name to keyword options of its
    factory. With ``warm_start_from`` (a column), each seed's LINAS run is warm-started from a
    LINAS run of ``warm_budget`` evaluations on the first objective and that column (minimised),
    same seed, journaled beside it (``warm-COLUMN-seedN.sqlite``) and reused when finished; the
    other methods run cold, and every figure counts only the runs' own evaluations."""
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
    if warm_start_from is not None:
        if warm_start_from in {o.name for o in objectives}:
            raise InvalidArgument(
                f"--warm-start-from {warm_start_from}: the source board's column is an "
                f"objective of this search ({[str(o) for o in objectives]}); warm-start from "
                "another board's column"
            )
        if "linas" not in methods:
            raise InvalidArgument("--warm-start-from warm-starts LINAS: add linas to --methods")
    if reference_point is not None:  # refused as a run refuses it, before anything runs
        reference_in_minimised_form(objectives, reference_point)
    common = {
        "space": {"table": str(table), "variables": list(variables),
                  "cell": None if cell is None else cell.to_dict()},
        "constraints": [str(c) for c in constraints],
        "population": population,
    }
    columns = [{"metric": "column", "column": o.name, "direction": o.direction}
               for o in objectives]
    reference = None if reference_point is None else dict(
        zip([o.name for o in objectives], reference_point, strict=True))
    folder = None if journal_dir is None else Path(journal_dir)
    jobs_list = []
    for method in methods:  # every run's config is checked now, not after others ran
        for seed in range(first_seed, first_seed + seeds):
            config = validate(
                {**common, "objectives": columns, "reference_point": reference,
                 "method": method, "method_options": method_options.get(method, {}),
                 "seed": seed,
                 "budget": max(budget, target_budget) if method == TARGET_METHOD else budget},
                source=f"linas bench, {method} seed {seed}",
            )
            if seed == first_seed:
                create_method(config)  # a bad option fails now
            journal = None if folder is None else str(folder / f"{method}-seed{seed}.sqlite")
            source = source_journal = None
            if warm_start_from is not None and method == "linas":
                source = validate(
                    {**common, "objectives": [columns[0], {
                        "metric": "column", "column": warm_start_from, "direction": "min"}],
                     "method": "linas", "seed": seed, "budget": warm_budget},
                    source=f"linas bench, the warm start's source run, seed {seed}",
                )
                if folder is None:
                    raise InvalidArgument(
                        "--warm-start-from keeps its source runs in --journal DIR: give one")
                source_journal = str(folder / f"warm-{warm_start_from}-seed{seed}.sqlite")
            jobs_list.append(_Job(config, journal, resume, name, source, source_journal))
    data = MeasuredTable.load(table, variables, cell=cell)
    if warm_start_from is not None:
        data.check(parse_objectives([objectives[0], f"{warm_start_from}:min"]), ())
    # the run's own rule (build_problem) fixes the reference: the given one, else the table's
    # worst value of each objective; so the true front's hypervolume is the table's alone
    natural = build_problem(jobs_list[0].config, table=data).reference
    minimised_reference = reference_in_minimised_form(objectives, natural)
    feasible = np.all(data.violations(constraints) <= 0, axis=1)
    true_hv = hypervolume(data.minimised(objectives)[feasible], minimised_reference)
    if true_hv <= 0:
        raise InvalidArgument(
            "the table's true front has zero hypervolume w.r.t. the reference point "
            f"{natural}; no feasible row is better than it in every objective"
        )
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    meta = {
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
    }
    if warm_start_from is not None:
        meta["warm_start"] = {"from": warm_start_from, "budget": warm_budget,
                              "methods": ["linas"]}
    if name:
        meta = {"problem": name, **meta}
    return BenchPlan(jobs_list, methods, budget, target_budget, true_hv, meta, data)


def bench_report(plan: BenchPlan, runs: Sequence[BenchRun]) -> dict:
    """The figures of a plan's finished runs."""
    return _report(list(runs), methods=plan.methods, budget=plan.budget,
                   target_budget=plan.target_budget, true_hv=plan.true_hv, meta=plan.meta)


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


def execute(jobs: Sequence[_Job], workers: int, on_run=None) -> Iterator[tuple[int, BenchRun]]:
    """Run the jobs (``workers`` processes at once, in the order given) and yield each as it
    finishes, with its position in ``jobs``."""
    if workers <= 1:
        for n, job in enumerate(jobs):
            run = _run_one(job)
            if on_run:
                on_run(run)
            yield n, run
        return
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers,
                                                initializer=_one_thread) as pool:
        futures = {pool.submit(_run_one, job): n for n, job in enumerate(jobs)}
        for future in concurrent.futures.as_completed(futures):
            run = future.result()
            if on_run:
                on_run(run)
            yield futures[future], run


def _one_thread() -> None:
    """A pool's worker runs one run at a time on one core: BLAS and OpenMP threads of its own
    would only contend with the other workers' (the jobs fill the cores)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # for the rest of the worker's life
