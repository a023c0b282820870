"""One `linas search`, from a validated config to a run directory a person can read.

    config.yaml    the configuration as run (defaults filled in)
    journal.sqlite every evaluation, appended as it arrives (resume with --resume)
    run.json       the hypervolume reference point and the linas version
    devices.json   the devices that measured, with their manifests (never tokens)
    results.csv, pareto.csv, pareto.png, hypervolume.png, report.html
    models/        the front's sub-networks, exported (ONNX or TFLite)

With no devices file, a local agent process is started on loopback and measures on this
machine. Host and agent then share the CPU, so the search is synchronous around measurement:
every batch is exported and scored on the host first, then timed with the host idle, one
model at a time (see `SupernetEvaluator`); the GA and predictor training run between batches.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from linas_host.report.outputs import write_outputs
from linas_host.run.boards import RunDevices
from linas_host.run.config import ConfigError, SearchConfig
from linas_host.run.problem import Problem, build_problem
from linas_host.run.progress import Reporter, make_reporter
from linas_host.search import registry
from linas_host.search.evaluation import Evaluation
from linas_host.search.hypervolume import (
    HypervolumeTracker,
    non_dominated,
    reference_in_minimised_form,
)
from linas_host.search.runner import Progress, SearchRun
from linas_sdk.objectives import Objective

REFERENCE_MARGIN = 0.1
"""An automatic reference point lies this fraction of the range beyond the worst value seen."""


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
    """Run the search `config` describes (continuing its journal with `resume`)."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    reporter = make_reporter(progress, stream)
    if config.host_threads is not None and config.space.supernet is not None:
        import torch

        torch.set_num_threads(config.host_threads)
    problem = build_problem(config)
    try:
        method = registry.create(config.method, **config.method_options)
    except TypeError as error:
        raise ConfigError(f"method_options do not fit method {config.method!r}: {error}") from None
    with contextlib.ExitStack() as stack:
        stack.callback(reporter.close)
        devices = stack.enter_context(RunDevices(config, problem, reporter))
        evaluator = devices.evaluator()
        watch = _Watch(reporter, problem, config, out, method)
        run = SearchRun(
            space=problem.space, objectives=problem.objectives, method=method,
            evaluator=evaluator, budget=config.budget, constraints=problem.constraints,
            population_size=config.population, seed=config.seed,
            reference_point=problem.reference, journal=out / "journal.sqlite", resume=resume,
            callbacks=[watch],
        )
        stack.callback(run.journal.close)
        (out / "config.yaml").write_text(config.to_yaml())
        devices.save_manifests(out / "devices.json")
        watch.begin(run.journal.evaluations(), devices.names)
        result = run.run()
        models = devices.export_front(result.front(), out / "models") if config.export_front \
            else {}
        summary = {
            "method": config.method, "status": result.status, "budget": config.budget,
            "population": config.population, "seed": config.seed,
            "wall time (s)": f"{result.wall_seconds:.1f}", "resumed evaluations": result.resumed,
            **devices.summary(),
        }
    report = write_outputs(out, result, reference=watch.reference, predicted=watch.predicted(),
                           iterations=getattr(method, "diagnostics", None) or [],
                           models=models, summary=summary)
    hv = watch.tracker.value if watch.tracker else None
    reporter.finish(done=len(result.evaluations), hypervolume=hv, out=str(out))
    return RunResult(
        out=out, report=report, status=result.status, evaluations=len(result.evaluations),
        front=[{"key": e.key, "config": e.config, **e.values} for e in result.front()],
        hypervolume=hv,
    )


class _Watch:
    """The runner's callback: keeps the hypervolume and front for the reporter. Without a
    reference point from the config or the table, one is fixed after the initial population
    (its worst values, widened by REFERENCE_MARGIN of the range); run.json keeps it (null until
    then) with the linas version."""

    def __init__(self, reporter: Reporter, problem: Problem, config: SearchConfig, out: Path,
                 method: Any) -> None:
        self.reporter, self.problem, self.config, self.method = reporter, problem, config, method
        self.path = out / "run.json"
        saved = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.reference: dict[str, float] | None = problem.reference or saved.get(
            "reference_point")
        self.evaluations: list[Evaluation] = []
        self.tracker: HypervolumeTracker | None = None

    def begin(self, previous: list[Evaluation], devices: list[str]) -> None:
        self.reporter.start(budget=self.config.budget, done=len(previous),
                            objectives=self.problem.directions, out=str(self.path.parent),
                            devices=devices)
        self._save()
        for evaluation in previous:
            self._add(evaluation)
        if previous:
            self.reporter.note(f"resumed {len(previous)} evaluations from the journal")
            self._report(previous[-1].iteration)

    def __call__(self, progress: Progress) -> None:
        self._add(progress.evaluation)
        self._report(progress.iteration)

    def _add(self, evaluation: Evaluation) -> None:
        self.evaluations.append(evaluation)
        if self.reference is None and len(self.evaluations) >= self.config.population:
            self._fix_reference()
        if self.reference is not None and self.tracker is None:
            self.tracker = HypervolumeTracker(
                reference_in_minimised_form(self.problem.objectives, self.reference))
            for e in self.evaluations:
                self.tracker.add(e.F, e.feasible)
        elif self.tracker is not None:
            self.tracker.add(evaluation.F, evaluation.feasible)

    def _fix_reference(self) -> None:
        F = np.array([e.F for e in self.evaluations if e.feasible])
        if len(F) == 0:
            return
        worst = F.max(axis=0) + REFERENCE_MARGIN * (np.ptp(F, axis=0) + 1e-12)
        objectives: tuple[Objective, ...] = self.problem.objectives
        self.reference = {o.name: float(o.sign * w) for o, w in zip(objectives, worst,
                                                                     strict=True)}
        self._save()

    def _save(self) -> None:
        from linas_sdk import __version__

        self.path.write_text(json.dumps(
            {"reference_point": self.reference, "linas_version": __version__}, indent=2) + "\n")

    def _report(self, iteration: int) -> None:
        feasible = [e for e in self.evaluations if e.feasible]
        mask = non_dominated(np.array([e.F for e in feasible])) if feasible else []
        rows = [e.values for e, keep in zip(feasible, mask, strict=True) if keep]
        self.reporter.update(
            done=len(self.evaluations), hypervolume=self.tracker.value if self.tracker else None,
            front=rows, predictors=self._predictor_quality(), iteration=iteration,
        )

    def _predictor_quality(self) -> dict[str, dict[str, float]]:
        """The method's latest cross-validated predictor quality per objective, if it has any."""
        history = getattr(self.method, "diagnostics", None) or []
        return dict(history[-1].get("predictors", {})) if history else {}

    def predicted(self) -> list[dict[str, float]]:
        """The front the method's predictors expected at its last iteration, if it has one."""
        history = getattr(self.method, "diagnostics", None) or []
        return list(history[-1].get("predicted_front", [])) if history else []
