"""Host-side throughput of the MobileNetV3 demo supernet (examples/mobilenetv3-local.yaml) in
this process and through Ray with 1 and 2 workers, Ray's fixed overhead per task, and how idle
a board fed by that host work would stand.

    nice -n 10 .venv/bin/python benchmarks/ray_executor.py [--candidates 12] [--noop 200]

Each candidate's host work is the demo's: extract, re-estimate batch norms on 128 images, top-1
on 450 validation images, export to ONNX, hash (`linas_host.evaluate.supernet.HostWork`); the
candidates are one fixed random draw, the same for every executor, and every worker runs one
intra-op thread (Ray's default for a 1-CPU task; this process is set to match). The Ray
clusters are real heads on loopback (`ray start --head` with 1 or 2 CPUs, as the tests start
them). The fixed overhead per task is the wall time per task of a no-op mapped through a
1-worker cluster. The board's idle fraction is 1 - (board time per candidate x host
throughput), capped at 0, taking the demo's measurement settings' floor (warm-up 0.1 s + timed
runs 0.3 s, plus ~50 ms of upload and load: benchmarks/agent_overhead.py) as a board's time per
candidate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "execute"), str(ROOT / "tests")]
BOARD_SECONDS = 0.1 + 0.3 + 0.05
"""A board's time per demo candidate, at least (see the docstring)."""


def host_work():
    import torch
    from linas_host.config.schema import SearchConfig
    from linas_host.evaluate.scored import FileScorer
    from linas_host.evaluate.supernet import HostWork
    from linas_host.export.subnet import Exporter
    from linas_host.run.problem import build_problem

    torch.set_num_threads(1)
    config = SearchConfig.model_validate(
        yaml.safe_load((ROOT / "examples" / "mobilenetv3-local.yaml").read_text())
    )
    problem = build_problem(config)
    supernet = problem.supernet
    work = HostWork(
        supernet,
        problem.objectives,
        Exporter(supernet, "onnx"),
        "onnxruntime",
        measured=True,
        score_on_host=True,
        accuracy_limit=config.accuracy_limit,
        scorer=FileScorer(supernet, config.accuracy_limit),
    )
    return work, supernet.space


def timed(executor, function, items) -> float:
    start = time.perf_counter()
    outcomes = list(executor.map(function, items))
    wall = time.perf_counter() - start
    failed = [o for _, o, _ in outcomes if isinstance(o, Exception)]
    if failed:
        raise SystemExit(f"host work failed: {failed[0]}")
    return wall


def noop(x: int) -> int:
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=12)
    parser.add_argument("--noop", type=int, default=200)
    args = parser.parse_args()
    from linas_host.execute import LocalExecutor
    from linas_host.execute.ray_cluster import RayExecutor
    from ray_helpers import RAY_ENV, start_cluster

    os.environ.update(RAY_ENV)
    work, space = host_work()
    configs = [dict(c) for c in space.sample(np.random.default_rng(0), args.candidates)]
    rows = {}
    with LocalExecutor() as local:
        timed(local, work, configs[:1])  # warm: first export imports the exporter
        rows["this process"] = timed(local, work, configs)
    for workers in (1, 2):
        cluster = start_cluster(Path(f"/tmp/linas-bench-ray-{os.getpid()}"), num_cpus=workers)
        try:
            with RayExecutor(cluster.address) as ray:
                timed(ray, work, configs[:workers])  # each worker loads the supernet once
                rows[f"Ray, {workers} worker(s)"] = timed(ray, work, configs)
                if workers == 1:
                    timed(ray, noop, range(10))
                    per_task = timed(ray, noop, range(args.noop)) / args.noop
        finally:
            cluster.stop()
    local_s = rows["this process"] / args.candidates
    print(
        f"{args.candidates} candidates of the MobileNetV3 demo; load average "
        f"{os.getloadavg()[0]:.1f} at the end\n"
    )
    print("| executor | s per candidate | candidates/min | board idle |")
    print("|---|---|---|---|")
    for name, wall in rows.items():
        rate = args.candidates / wall
        idle = max(0.0, 1 - BOARD_SECONDS * rate)
        print(f"| {name} | {wall / args.candidates:.2f} | {60 * rate:.1f} | {idle:.0%} |")
    ray1 = rows["Ray, 1 worker(s)"] / args.candidates
    print(
        f"\nfixed overhead per Ray task (no-op, {args.noop} tasks): {1000 * per_task:.1f} ms "
        f"= {per_task / local_s:.2%} of a demo candidate's host time ({local_s:.2f} s)"
    )
    print(
        f"Ray 1 worker against this process, per candidate: {ray1 - local_s:+.3f} s "
        f"({(ray1 - local_s) / local_s:+.1%}); target: overhead at most 5%"
    )


if __name__ == "__main__":
    main()
