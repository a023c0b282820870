"""Host seconds per candidate against onnxruntime's forward time on the same images (issue 26).

Once-for-All's `ofa-w1.0` MobileNetV3 at 224 px, from a random-weight checkpoint with the
reference's key names written here (as the tests write one; nothing downloaded), calibrated on
256 and scored on 500 random normalised images (two .npz files, as `data:` takes them: the
figures depend on the image count, not their content). For the smallest and the largest
sub-network, with 2 threads:

- **host work**: one call of the pipeline's own `HostWork`, built by the `SupernetEvaluator` a
  search builds (top-1 on the host of the first 500 images, latency on a board, ONNX), so it
  times whatever the pipeline does: extraction, recalibration, export, scoring;
- **phases**: the same functions called one by one: `extract(calibrate=False)`,
  `recalibrate_batchnorm` on the supernet's calibration images, and the host work's own
  export and scorer (at this commit the exported file scored by onnxruntime, batches of 64;
  PyTorch's `evaluate` if the host work has no scorer);
- **floor**: onnxruntime's forward time (session made beforehand) for the exported sub-network
  over the same 756 images in batches of `--floor-batch`, 2 intra-op threads.

It prints medians over `--repeats` (each repeat runs every measurement of both ends, so a
burst of load spreads over all of them) and the load average; it asserts nothing. Target: host
work at most 1.5 times the floor at both ends. A local agent is started (idle) because the
evaluator of a search with a latency objective needs a device pool; nothing is sent to it.

    python benchmarks/host_work.py [--repeats 3] [--floor-batch 64]
"""

# ruff: noqa: E402 (OpenMP's wait policy is set before torch is imported)
from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from linas_host.threads import passive_openmp

passive_openmp()  # as `run_search` does, before torch is imported

import numpy as np
import onnxruntime as ort
import torch
from linas_host.devices import DevicePool, LocalAgent
from linas_host.evaluate.plan import MeasurementPlan
from linas_host.evaluate.supernet import SupernetEvaluator
from linas_host.supernets import create
from linas_host.supernets.calibration import recalibrate_batchnorm
from ofa_ends import checkpoint

from linas_sdk.measurement import MeasureRequest
from linas_sdk.objectives import Objective

THREADS = 2
RESOLUTION = 224
CALIBRATION, VALIDATION = 256, 500
TARGET = 1.5


def image_npz(path: Path, count: int, seed: int) -> Path:
    """`count` random normalised images at 224 px with labels, as a `data:` .npz holds them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 3, RESOLUTION, RESOLUTION), dtype=np.float32)
    np.savez(path, x=x, y=rng.integers(0, 1000, count))
    return path


def seconds(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def forward_seconds(model: bytes, sets: list[np.ndarray], batch: int) -> float:
    """onnxruntime's time to run every image of `sets` through `model` in batches of `batch`
    (one session, made beforehand)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    started = time.perf_counter()
    for images in sets:
        for start in range(0, len(images), batch):
            session.run(None, {name: images[start : start + batch]})
    return time.perf_counter() - started


def machine() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def measure(supernet, work, config: dict, images: list[np.ndarray], batch: int) -> dict:
    """One repeat of every measurement for one end (seconds)."""
    figures = {}
    figures["host work"], (_, model) = seconds(lambda: work(config))
    figures["extraction"], module = seconds(lambda: supernet.extract(config, calibrate=False))
    calibration = supernet.calibration_images(RESOLUTION)
    figures["recalibration"], _ = seconds(lambda: recalibrate_batchnorm(module, calibration))
    figures["export"], file = seconds(lambda: work.export(module, config))
    if work.scorer is not None:
        figures["scoring"], _ = seconds(lambda: work.scorer(file, work.runtime, config, THREADS))
    else:
        figures["scoring"], _ = seconds(lambda: supernet.evaluate(module, limit=VALIDATION))
    figures["floor"] = forward_seconds(model, images, batch)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="measurements of each end")
    parser.add_argument("--floor-batch", type=int, default=64, help="onnxruntime batch size")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    print(f"{machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, onnxruntime {ort.__version__}, {THREADS} threads; "
          f"load average at start {load_average()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        calibration = image_npz(folder / "calibration.npz", CALIBRATION, seed=0)
        validation = image_npz(folder / "val.npz", VALIDATION, seed=1)
        supernet = create(
            "mobilenetv3", variant="ofa-w1.0", checkpoint=checkpoint(folder),
            data={"val": str(validation), "calibration": str(calibration)},
            calibration_samples=CALIBRATION,
        )  # fmt: skip
        images = [np.load(path)["x"] for path in (calibration, validation)]
        objectives = [Objective("accuracy", "max", metric="accuracy"),
                      Objective("latency_ms", "min", "ms", metric="latency")]
        plan = MeasurementPlan(MeasureRequest(runtime="onnxruntime", threads=THREADS),
                               accuracy_on="host", accuracy_limit=VALIDATION)
        ends = {"smallest": supernet.smallest, "largest": supernet.largest}
        runs: dict[str, dict[str, list[float]]] = {end: defaultdict(list) for end in ends}
        with LocalAgent(name="local") as agent, DevicePool([agent.spec()]) as pool:
            work = SupernetEvaluator(supernet, objectives, plan, pool=pool).host_work
            work(ends["smallest"])  # once per search: reads the images, imports the exporter
            for repeat in range(args.repeats):
                for end, config in ends.items():
                    figures = measure(supernet, work, config, images, args.floor_batch)
                    for name, value in figures.items():
                        runs[end][name].append(value)
                print(f"repeat {repeat + 1}/{args.repeats} done, load average {load_average()}",
                      flush=True)
    report(runs, args)


def report(runs: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    columns = ["host work", "extraction", "recalibration", "export", "scoring", "floor"]
    print(f"\nmedians of {args.repeats} repeats, seconds per candidate; floor: onnxruntime "
          f"over {CALIBRATION + VALIDATION} images in batches of {args.floor_batch}")
    print(f"{'end':9}" + "".join(f"{c:>14}" for c in columns) + f"{'phases':>9}"
          + f"{'host/floor':>12}")
    for end, figures in runs.items():
        median = {name: statistics.median(values) for name, values in figures.items()}
        phases = sum(median[c] for c in columns[1:5])
        print(f"{end:9}" + "".join(f"{median[c]:14.2f}" for c in columns) + f"{phases:9.2f}"
              + f"{median['host work'] / median['floor']:12.2f}")
    print(f"\nper image, ms: recalibration over {CALIBRATION}, scoring over {VALIDATION}, "
          f"floor over {CALIBRATION + VALIDATION}")
    for end, figures in runs.items():
        median = {name: statistics.median(values) for name, values in figures.items()}
        print(f"{end:9} recalibration {median['recalibration'] / CALIBRATION * 1e3:6.1f}   "
              f"scoring {median['scoring'] / VALIDATION * 1e3:6.1f}   floor "
              f"{median['floor'] / (CALIBRATION + VALIDATION) * 1e3:6.1f}")
    print(f"target: host work <= {TARGET} x floor at both ends")


if __name__ == "__main__":
    main()
