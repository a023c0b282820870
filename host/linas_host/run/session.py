"""One `linas search`, from a validated config to a run directory a person can read (its files
are listed in `linas_host.config.layout`).

With no devices file, a local agent process is started on loopback and measures on this
machine. Host and agent then share the CPU, so the search is synchronous around measurement:
every batch is exported and scored on the host first, then timed with the host idle, one
model at a time (see `SupernetEvaluator`); the GA and predictor training run between batches.
Each candidate's host work runs on the config's executor: this process, or a Ray cluster
(`linas_host.execute`); run.json and the report say which, and results.csv names the node.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from linas_host.config.layout import RunDirectory
from linas_host.config.schema import ConfigError, SearchConfig
from linas_host.evaluate.cache import MeasurementCache
from linas_host.evaluate.evaluators import Evaluator, TableEvaluator
from linas_host.evaluate.plan import MeasurementPlan
from linas_host.evaluate.supernet import SupernetEvaluator
from linas_host.execute import Executor, open_executor
from linas_host.export.subnet import Exporter
from linas_host.paths import cache_dir
from linas_host.report.outputs import write_outputs
from linas_host.run.boards import Boards
from linas_host.run.counterparts import front_counterparts
from linas_host.run.log import RunLog
from linas_host.run.problem import Problem, build_problem, candidate_exporter
from linas_host.run.progress import Reporter, make_reporter
from linas_host.run.resume import check_resumable
from linas_host.run.warm import ReusingEvaluator, run_prior
from linas_host.search import registry
from linas_host.search.evaluation import Evaluation
from linas_host.search.hypervolume import non_dominated
from linas_host.search.method import Method
from linas_host.search.prior import Prior
from linas_host.search.runner import Progress, SearchRun
from linas_host.threads import passive_openmp
from linas_sdk.measurement import MeasureRequest


@dataclass(frozen=True)
class RunResult:
    """What `linas_sdk.search` returns: where the run is and what it found."""

    out: Path
    report: Path
    status: str
    evaluations: int
    front: list[dict[str, Any]]
    hypervolume: float | None


def run_search(
    config: SearchConfig, *, resume: bool = False, progress: str = "rich",
    stream: TextIO | None = None,
) -> RunResult:
    """Run the search `config` describes (continuing its journal with `resume`): what `linas
    search` and `linas_sdk.search` both do."""
    passive_openmp()
    run_dir = RunDirectory(Path(config.out))
    if resume:
        check_resumable(run_dir, config)
    run_dir.root.mkdir(parents=True, exist_ok=True)
    reporter = make_reporter(progress, stream)
    with contextlib.ExitStack() as stack:
        stack.callback(reporter.close)
        log = RunLog(run_dir.log)
        stack.callback(log.close)
        reporter.log = log
        log.write(f"linas search {'resumed' if resume else 'started'}: {run_dir.root}")
        stack.enter_context(log.collecting_warnings())
        if config.host_threads is not None and config.space.supernet is not None:
            import torch

            torch.set_num_threads(config.host_threads)
        problem = build_problem(config)
        executor = stack.enter_context(open_executor(config.executor))
        if executor.kind != "local":
            reporter.note(f"host work on {_executor_line(executor.describe())}")
        plan = measurement_plan(config)
        targets = plan.targets(problem.objectives) if problem.supernet is not None else []
        boards = cache = None
        if targets:
            root = cache_dir(config.cache_dir)
            if config.cache:
                cache = stack.enter_context(contextlib.closing(MeasurementCache(root)))
                reporter.note(f"measurement cache: {cache.path}")
            boards = stack.enter_context(Boards(
                config.devices, targets, config.runtime, agent_cache=root / "agent-artifacts",
                reporter=reporter, wait_s=config.wait_for_devices_s))
        exporter = None
        if problem.table is not None:
            evaluator: Evaluator = TableEvaluator(problem.table)
        else:
            exporter = candidate_exporter(config, problem.supernet)
            exporter.calibration(problem.supernet.space.extreme(largest=True))  # refused now
            evaluator = SupernetEvaluator(problem.supernet, problem.objectives, plan,
                                          pool=boards and boards.pool, cache=cache,
                                          executor=executor, export=exporter,
                                          host_threads=config.host_threads)
        prior = board_only = None
        if config.warm_start is not None:
            prior = run_prior(config.warm_start, config, problem.space, problem.objectives)
            reporter.note(f"warm start from {config.warm_start}: {len(prior.X)} architectures, "
                          f"reusing {', '.join(prior.describe()['reused'])}")
            if exporter is not None:  # the new board's objectives alone for the known ones
                board = [problem.objectives[j] for j in range(len(problem.objectives))
                         if j not in prior.reused]
                board_only = SupernetEvaluator(problem.supernet, board, plan,
                                               pool=boards and boards.pool, cache=cache,
                                               executor=executor, export=exporter,
                                               host_threads=config.host_threads)
        watch = _Watch(reporter, problem, run_dir, executor)
        run = search_run(config, problem, evaluator, journal=run_dir.journal, resume=resume,
                         callbacks=[watch], prior=prior, board_only=board_only)
        stack.callback(run.journal.close)
        watch.method = run.method
        run_dir.config.write_text(config.to_yaml())
        run_dir.write_devices(boards.manifests() if boards else [])
        watch.begin(run.journal.evaluations(), boards.names if boards else [], config.budget)
        result = run.run()
        watch.save()  # the host work of the evaluations made since the last save
        front = result.front()
        models = (export_front(exporter, front, run_dir)
                  if config.export_front and exporter is not None else {})
        counterparts = {}
        if config.precision != "fp32" and front:
            reporter.note(f"measuring the front's {len(front)} architectures at FP32 and int8, "
                          "outside the budget, for the report")
            counterparts = front_counterparts(evaluator, front)
        summary = {
            "method": config.method, "status": result.status, "budget": config.budget,
            "population": config.population, "seed": config.seed,
            "wall time (s)": f"{result.wall_seconds:.1f}", "resumed evaluations": result.resumed,
            "executor": _executor_line(watch.executor),
            "host work by node": ", ".join(f"{node}: {n}" for node, n in watch.host_work().items())
            or "-",
            **_measured_on(config, problem, boards, cache),
        }
        report = write_outputs(run_dir, result, predicted=watch.predicted(),
                               iterations=getattr(run.method, "diagnostics", None) or [],
                               models=models, summary=summary, counterparts=counterparts)
        collected = log.summary()
        if collected:
            reporter.note(collected)
    hv = result.hypervolume[-1] if result.hypervolume else None
    reporter.finish(done=len(result.evaluations), hypervolume=hv, out=str(run_dir.root))
    return RunResult(
        out=run_dir.root, report=report, status=result.status,
        evaluations=len(result.evaluations),
        front=[{"key": e.key, "config": e.config, **e.values} for e in front],
        hypervolume=hv,
    )


def measurement_plan(config: SearchConfig) -> MeasurementPlan:
    """How the config's candidates are measured on the boards and scored."""
    request = MeasureRequest(runtime=config.runtime, provider=config.provider or None,
                             threads=config.threads, settings=config.measure)
    return MeasurementPlan(request, config.accuracy_on, config.accuracy_limit)


def search_run(config: SearchConfig, problem: Problem, evaluator: Evaluator, *,
               journal: Any, resume: bool = False, callbacks: Sequence[Any] = (),
               prior: Prior | None = None, board_only: Evaluator | None = None) -> SearchRun:
    """The search core's run of `config`'s method over `problem`, measured by `evaluator`:
    what `linas search` runs, and what `linas bench` runs for each method and seed. With a
    `prior` (a warm start), the architectures it knows are measured by `board_only` (the new
    board's objectives alone; default `evaluator`) and its board-independent values reused."""
    if prior is not None:
        evaluator = ReusingEvaluator(evaluator, prior, problem.space, board_only)
    return SearchRun(
        space=problem.space, objectives=problem.objectives, method=create_method(config),
        evaluator=evaluator,
        budget=config.budget, constraints=problem.constraints,
        population_size=config.population, seed=config.seed,
        reference_point=problem.reference, journal=journal, resume=resume, callbacks=callbacks,
        prior=prior,
    )


def create_method(config: SearchConfig) -> Method:
    """The config's method, made with its `method_options`."""
    try:
        return registry.create(config.method, **config.method_options)
    except TypeError as error:
        raise ConfigError(
            f"method_options do not fit method {config.method!r}: {error}") from None


def export_front(exporter: Exporter, front: list[Evaluation],
                 run_dir: RunDirectory) -> dict[str, str]:
    """Write each front sub-network's candidate file (the one measured: same export, same
    quantization) into the run's models folder; -> key -> its path relative to the run."""
    if not front:
        return {}
    run_dir.models.mkdir(parents=True, exist_ok=True)
    files = {}
    for evaluation in front:
        path = run_dir.model(evaluation.index, exporter.fmt)
        module = exporter.supernet.extract(evaluation.config)
        path.write_bytes(exporter(module, evaluation.config))
        files[evaluation.key] = str(path.relative_to(run_dir.root))
    return files


def _measured_on(config: SearchConfig, problem: Problem, boards: Boards | None,
                 cache: MeasurementCache | None) -> dict[str, str]:
    """The report's lines on where the figures came from."""
    if boards is None:
        if problem.table is not None:
            return {"measured on": f"replayed from table {config.space.table}"}
        return {"measured on": "host only"}
    out = {
        "runtime": f"{config.runtime} {config.provider}".strip(),
        "scheduling": "one measurement at a time, host idle while a board times a model"
        if boards.pool.serial
        else "boards measure concurrently, one model at a time each",
        "devices": ", ".join(boards.names),
    }
    if cache is not None:
        out["measurement cache"] = f"{cache.path} ({cache.hits} hits, {cache.misses} measured)"
    return out


def _executor_line(described: dict[str, Any]) -> str:
    """The executor as the report and the notes name it: its kind, address and nodes."""
    nodes = ", ".join(n["hostname"] for n in described.get("nodes", []))
    if described["kind"] != "ray":
        return f"{described['kind']} ({nodes})"
    return (f"ray at {described['address']}: tasks of {described['num_cpus']:g} CPU, "
            f"{described['num_gpus']:g} GPU on {len(described['nodes'])} node(s) ({nodes})")


class _Watch:
    """The runner's callback: shows the run's progress, and keeps run.json's reference point
    (null until the runner fixes an automatic one after the initial population), executor and
    host work by node."""

    def __init__(self, reporter: Reporter, problem: Problem, run_dir: RunDirectory,
                 executor: Executor) -> None:
        self.reporter, self.problem, self.run_dir = reporter, problem, run_dir
        self.method: Any = None
        self.executor = executor.describe()
        self.evaluations: list[Evaluation] = []
        self.reference: dict[str, float] | None = problem.reference

    def begin(self, previous: list[Evaluation], devices: list[str], budget: int) -> None:
        self.reporter.start(budget=budget, done=len(previous),
                            objectives=self.problem.directions, out=str(self.run_dir.root),
                            devices=devices)
        self.evaluations = list(previous)
        self.save()
        if previous:
            self.reporter.note(f"resumed {len(previous)} evaluations from the journal")
            self._report(previous[-1].iteration, previous[-1].hypervolume)

    def host_work(self) -> dict[str, int]:
        """How many evaluations each node did the host work of (this run and any it resumed)."""
        return dict(sorted(Counter(e.host for e in self.evaluations if e.host).items()))

    def save(self) -> None:
        self.run_dir.write_run_json(self.reference, self.executor, self.host_work())

    def __call__(self, progress: Progress) -> None:
        self.evaluations.append(progress.evaluation)
        if progress.reference_point is not None and self.reference is None:
            self.reference = progress.reference_point
            self.save()
        self._report(progress.iteration, progress.hypervolume)

    def _report(self, iteration: int, hypervolume: float | None) -> None:
        feasible = [e for e in self.evaluations if e.feasible]
        mask = non_dominated(np.array([e.F for e in feasible])) if feasible else []
        rows = [e.values for e, keep in zip(feasible, mask, strict=True) if keep]
        self.reporter.update(
            done=len(self.evaluations), hypervolume=hypervolume, front=rows,
            predictors=self._predictor_quality(), iteration=iteration,
        )

    def _predictor_quality(self) -> dict[str, dict[str, float]]:
        """The method's latest cross-validated predictor quality per objective, if it has any."""
        history = getattr(self.method, "diagnostics", None) or []
        return dict(history[-1].get("predictors", {})) if history else {}

    def predicted(self) -> list[dict[str, float]]:
        """The front the method's predictors expected at its last iteration, if it has one."""
        history = getattr(self.method, "diagnostics", None) or []
        return list(history[-1].get("predicted_front", [])) if history else []
