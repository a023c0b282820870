"""Search efficiency on the bundled MobileNetV3 supernet, every evaluation real: LINAS against
NSGA-II and random search on top-1 accuracy against MACs.

    nice -n 10 .venv/bin/python benchmarks/supernet_efficiency.py [--seeds 5] [--first-seed 0]
        [--budget 500] [--population 50] [--validation 450] [--calibration 256]
        [--methods linas,nsga2,random] [--option linas.KEY=VALUE] [--estimate N] [--json OUT]

The space is the supernet's 45 variables (5 stage depths, 20 expand ratios and kernels; about
10^19 sub-networks). An evaluation extracts the sub-network, re-estimates its batch-norm
statistics on a fixed draw of ``--calibration`` training images, measures top-1 on the host on
the first ``--validation`` validation images (the same images and draw for every evaluation,
so a network's figures do not depend on when it is evaluated) and counts its MACs.

Real evaluations are kept in an SQLite cache in ``.cache/supernet_efficiency/`` (one file per
setting, named by a fingerprint of the supernet's answers on its two end networks), shared by
every method and seed and by reruns. A cached answer still counts as an evaluation of the
method that asked: the cache saves time, never budget.

Prints per method the median hypervolume gap at 100/200/300/500 evaluations [IQR over seeds],
with the reference point the worst of each objective over everything any method evaluated in
the run and the gap taken to the hypervolume of all those evaluations together; the
evaluations each method's median curve needs to reach NSGA-II's median 500-evaluation
hypervolume; and LINAS's host time per iteration (predictor fit, the 20,000-prediction GA,
selection). ``--estimate N`` times N uncached evaluations and projects the run's cost instead.
``--json`` writes the figures and each seed's evaluated configs and objectives in order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
from linas_host.bench import format_gaps, parse_method_options, summarise
from linas_host.evaluate.evaluators import CallableEvaluator
from linas_host.search import registry
from linas_host.search.hypervolume import HypervolumeTracker, hypervolume, worst_point
from linas_host.search.runner import SearchRun

OBJECTIVES = ["top1:max", "macs:min"]
CHECKPOINTS = (100, 200, 300, 500)
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "supernet_efficiency"


class RealEvaluations:
    """Top-1 and MACs of sub-networks, measured once per architecture and kept on disk."""

    def __init__(self, *, validation: int, calibration: int) -> None:
        import torch
        from linas_host.supernets.registry import create

        torch.set_num_threads(1)  # one core of a shared machine; deterministic sums
        self.supernet = create("mobilenetv3", calibration_samples=calibration)
        self.space = self.supernet.space
        self.validation = validation
        self.measured = 0
        ends = [self._measure(self.supernet.smallest), self._measure(self.supernet.largest)]
        fingerprint = hashlib.sha256(json.dumps(ends).encode()).hexdigest()[:12]
        CACHE.mkdir(parents=True, exist_ok=True)
        self.path = CACHE / f"mobilenetv3-val{validation}-cal{calibration}-{fingerprint}.sqlite"
        self.db = sqlite3.connect(self.path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS evaluation (key TEXT PRIMARY KEY, top1 REAL, macs REAL)"
        )

    def _measure(self, config: dict) -> dict:
        module = self.supernet.extract(config)  # recalibrates batch norm on the fixed draw
        top1 = self.supernet.evaluate(module, limit=self.validation)["accuracy"]
        self.measured += 1
        return {"top1": 100 * top1, "macs": float(self.supernet.macs(config))}

    def __call__(self, config: dict) -> dict:
        key = self.space.key(config)
        row = self.db.execute("SELECT top1, macs FROM evaluation WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return {"top1": row[0], "macs": row[1]}
        record = self._measure(config)
        self.db.execute("INSERT INTO evaluation VALUES (?, ?, ?)", (key, *record.values()))
        self.db.commit()
        return record


def estimate(evaluations: RealEvaluations, n: int, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(12345)
    started = time.perf_counter()
    for config in evaluations.space.sample(rng, n):
        evaluations._measure(config)
    each = (time.perf_counter() - started) / n
    total = len(args.methods) * args.seeds * args.budget
    print(
        f"{each:.3f} s per real evaluation (validation {args.validation}, calibration "
        f"{args.calibration}); {total} evaluations in the run, at most "
        f"{total * each / 60:.0f} min uncached"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds N .. N+seeds-1")
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--population", type=int, default=50)
    parser.add_argument("--validation", type=int, default=450, help="validation images")
    parser.add_argument("--calibration", type=int, default=256, help="batch-norm images")
    parser.add_argument("--methods", default="linas,nsga2,random", type=lambda t: t.split(","))
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="METHOD.KEY=VALUE",
        help="a keyword option of a method, as `linas bench --option`",
    )
    parser.add_argument("--estimate", type=int, metavar="N", help="time N evaluations only")
    parser.add_argument("--json", type=Path, help="write figures and every run's evaluations")
    args = parser.parse_args(argv)
    options = parse_method_options(args.option)
    evaluations = RealEvaluations(validation=args.validation, calibration=args.calibration)
    if args.estimate:
        estimate(evaluations, args.estimate, args)
        return 0

    started = time.monotonic()
    runs: dict[str, list[dict]] = {name: [] for name in args.methods}
    host: list[tuple[float, float]] = []  # per LINAS iteration: wall, CPU seconds
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for name in args.methods:
            method = registry.create(name, **options.get(name, {}))
            before, t0 = evaluations.measured, time.monotonic()
            result = SearchRun(
                space=evaluations.space,
                objectives=OBJECTIVES,
                method=method,
                evaluator=CallableEvaluator(evaluations),
                budget=args.budget,
                population_size=args.population,
                seed=seed,
            ).run()
            runs[name].append(
                {
                    "seed": seed,
                    "configs": [e.config for e in result.evaluations],
                    "objectives": [e.values for e in result.evaluations],
                    "F": [list(e.F) for e in result.evaluations],
                }
            )
            host += [
                (d["host_seconds"], d["host_cpu_seconds"])
                for d in getattr(method, "diagnostics", [])
            ]
            print(
                f"  {name} seed {seed}: {len(result.evaluations)} evaluations "
                f"({evaluations.measured - before} measured, the rest cached), "
                f"{time.monotonic() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    everything = np.array([f for group in runs.values() for run in group for f in run["F"]])
    reference = worst_point(everything)
    best = hypervolume(everything, reference)
    histories = {}
    for name, group in runs.items():
        histories[name] = []
        for run in group:
            tracker = HypervolumeTracker(reference)
            histories[name].append([tracker.add(f) for f in run.pop("F")])
    checkpoints = sorted({c for c in CHECKPOINTS if c <= args.budget} | {args.budget})
    figures = summarise(histories, best=best, checkpoints=checkpoints, budget=args.budget)

    natural = [float(-reference[0]), float(reference[1])]
    print(
        f"MobileNetV3 supernet (45 variables), top1 (%) vs MACs, budget {args.budget}, "
        f"seeds {args.first_seed}-{args.first_seed + args.seeds - 1}, population "
        f"{args.population}, validation {args.validation} images, calibration {args.calibration}"
    )
    print(
        f"reference point {natural} (worst over {len(everything)} evaluations of every "
        f"method), their joint hypervolume {best:.6g}"
    )
    print("hypervolume gap to everything evaluated, % (median [IQR] over seeds):")
    print("\n".join(format_gaps(figures)))
    if host:
        wall, cpu = np.array(host).T
        print(
            f"LINAS host time per iteration over {len(wall)} iterations: wall median "
            f"{np.median(wall):.2f} s (max {wall.max():.2f}), CPU median "
            f"{np.median(cpu):.2f} s (max {cpu.max():.2f})"
        )
        figures["linas_host_seconds"] = {
            "wall_median": float(np.median(wall)),
            "wall_max": float(wall.max()),
            "cpu_median": float(np.median(cpu)),
            "cpu_max": float(cpu.max()),
        }
    elapsed = time.monotonic() - started
    print(f"{evaluations.measured} real evaluations this time, total {elapsed:.0f} s")
    if args.json:
        for name, group in runs.items():
            figures["methods"][name]["runs"] = group
        figures.update(
            reference_point=natural,
            joint_hypervolume=best,
            method_options=options,
            validation=args.validation,
            calibration=args.calibration,
        )
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
