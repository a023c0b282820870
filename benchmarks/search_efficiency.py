"""Search efficiency on the real Pi 5 table: LINAS against NSGA-II, random and Optuna.

    .venv/bin/python benchmarks/search_efficiency.py [--seeds 10] [--tpe-seeds 3] [--budget 1000]
        [--methods linas,nsga2,random,optuna-nsga2,optuna-tpe] [--problem NAME] [--json OUT]

Runs `linas bench`'s logic (`linas_host.bench.run_bench`) on the bundled NAS-Bench-201
table (accuracy on CIFAR-100 vs ONNX Runtime latency measured on a Raspberry Pi 5; 15,625
architectures, 6 categorical edges with 5 ops each, described to the space as a cell graph,
`SHARED_CELL`, which only LINAS's predictors use), population 50. Optuna's multi-objective
samplers run as further peers under the *same* runner and accounting: they are wrapped as
ask / tell methods, a repeated architecture is answered from the archive and is not an
evaluation, the budget is exact. NSGAIISampler (population 50) is asked a generation at a
time; TPESampler one trial at a time (it is sequential, and slow: fewer seeds, `--tpe-seeds`).

`--problem NAME` runs a problem of `linas bench --suite wide` instead (e.g.
`acc_cifar100+lat_pi5_onnx_ms+energy_pi5_onnx_mj/plain`: six categorical variables, no cell).

Prints the hypervolume gap to the table's true front (median [IQR] over seeds) at 100 / 250 /
500 / 1000 evaluations, the evaluations each method needs to reach NSGA-II's 1000-evaluation
hypervolume (on the median curve over seeds), and LINAS's host time per iteration (predictor
training + the 20,000-prediction GA + selection): wall and CPU seconds, median and max.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from linas_host.bench import (
    SHARED_CELL,
    SHARED_TABLE,
    evaluations_to,
    format_report,
    run_bench,
    write_json,
)
from linas_host.bench.suite import suite_problems
from linas_host.search import registry
from linas_host.search.linas import LINAS
from linas_host.search.method import Method

VARIABLES = [f"e{i}" for i in range(6)]
OBJECTIVES = ["acc_cifar100:max", "lat_pi5_onnx_ms:min"]


class OptunaMethod(Method):
    """An Optuna sampler as an ask / tell method: each variable a categorical over its choice
    indices, every objective minimised (F is already in minimised form)."""

    def __init__(self, *, sampler: str, batch: int | None = None) -> None:
        self.sampler_name, self.batch = sampler, batch
        self.name = f"optuna-{sampler}"

    def _setup(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        constraints = (lambda t: t.user_attrs["G"]) if self.constraints else None
        if self.sampler_name == "nsga2":
            sampler = optuna.samplers.NSGAIISampler(
                population_size=self.population_size, seed=self.seed,
                constraints_func=constraints,
            )
        else:
            sampler = optuna.samplers.TPESampler(
                seed=self.seed, multivariate=True, constraints_func=constraints
            )
        self.study = optuna.create_study(
            directions=["minimize"] * len(self.objectives), sampler=sampler
        )
        self.distributions = {
            v.name: optuna.distributions.CategoricalDistribution(list(range(len(v.choices))))
            for v in self.space.variables
        }
        self._pending: list = []

    def _ask(self) -> list[dict]:
        n = self.batch or self.population_size
        self._pending = [self.study.ask(self.distributions) for _ in range(n)]
        return [
            self.space.decode([t.params[v.name] for v in self.space.variables])
            for t in self._pending
        ]

    def _tell(self, configs, F, G) -> None:
        import optuna

        for trial, f, g in zip(self._pending, F, G, strict=True):
            if not np.all(np.isfinite(f)):
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            trial.set_user_attr("G", [float(x) for x in g])
            self.study.tell(trial, [float(x) for x in f])
        self._pending = []

    def to_dict(self) -> dict:
        return {"name": self.name, "batch": self.batch}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tpe-seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--population", type=int, default=50)
    parser.add_argument("--methods", default="linas,nsga2,random,optuna-nsga2,optuna-tpe")
    parser.add_argument("--problem", help="a problem of the wide suite (default: the shared "
                        "table's acc_cifar100 against lat_pi5_onnx_ms, as a cell)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the figures (and rows) as JSON")
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]

    diagnostics: list[list[dict]] = []

    def linas_factory(**options) -> LINAS:
        method = LINAS(**options)
        original = method._setup

        def setup() -> None:  # keep each run's per-iteration diagnostics
            original()
            diagnostics.append(method.diagnostics)

        method._setup = setup
        return method

    registry.register("linas", linas_factory)
    registry.register("optuna-nsga2", lambda: OptunaMethod(sampler="nsga2"))
    registry.register("optuna-tpe", lambda: OptunaMethod(sampler="tpe", batch=1))

    def progress(run) -> None:
        print(f"  {run.method} seed {run.seed}: {len(run.rows)} evaluations, "
              f"{run.wall_seconds:.1f} s", file=sys.stderr, flush=True)

    table, objectives, cell = SHARED_TABLE, OBJECTIVES, SHARED_CELL
    if args.problem:
        problem = suite_problems("wide", [args.problem])[0]
        table, objectives = problem.table(Path(".cache")), list(problem.objectives)
        cell = SHARED_CELL if problem.cell else None
    common = dict(table=table, variables=VARIABLES, objectives=objectives, cell=cell,
                  budget=args.budget, population=args.population, on_run=progress,
                  first_seed=args.first_seed)
    main_methods = [m for m in methods if m != "optuna-tpe"]
    started = time.monotonic()
    report = run_bench(seeds=args.seeds, methods=main_methods, **common)
    if "optuna-tpe" in methods:
        tpe_runs = []

        def keep(run) -> None:
            tpe_runs.append(run)
            progress(run)

        tpe = run_bench(seeds=args.tpe_seeds, methods=["optuna-tpe"], **dict(common, on_run=keep))
        entry = tpe["methods"]["optuna-tpe"]
        entry["seeds"] = args.tpe_seeds
        if report["target_hypervolume"] is not None:
            entry["evaluations_to_target"] = evaluations_to(
                [r.hypervolume for r in tpe_runs], report["target_hypervolume"], args.budget)
        report["methods"]["optuna-tpe"] = entry

    print(format_report(report))
    if "optuna-tpe" in report["methods"]:
        print(f"(optuna-tpe: {args.tpe_seeds} seeds)")
    if diagnostics:
        iterations = [d for run in diagnostics for d in run]
        wall = np.array([d["host_seconds"] for d in iterations])
        cpu = np.array([d["host_cpu_seconds"] for d in iterations])
        fit = np.array([d["fit_seconds"] for d in iterations])
        ga = np.array([d["ga_seconds"] for d in iterations])
        print(f"LINAS host time per iteration over {len(iterations)} iterations: wall median "
              f"{np.median(wall):.2f} s (max {wall.max():.2f}; predictor fit "
              f"{np.median(fit):.2f}, GA {np.median(ga):.2f}), CPU median {np.median(cpu):.2f} s "
              f"(max {cpu.max():.2f})")
        report["linas_host_seconds"] = {
            "wall_median": float(np.median(wall)), "wall_max": float(wall.max()),
            "cpu_median": float(np.median(cpu)), "cpu_max": float(cpu.max()),
        }
    print(f"total {time.monotonic() - started:.0f} s")
    if args.json:
        write_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
