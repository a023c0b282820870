"""int8 candidates against FP32, on the bundled MobileNetV3 supernet (issue 28).

    .venv/bin/python benchmarks/quantized.py [--random 20] [--formats onnx,tflite] [--threads 1]
    .venv/bin/python benchmarks/quantized.py --mixed [--seeds 0,1,2] [--budget 150] [--work DIR]
    .venv/bin/python benchmarks/quantized.py --ofa [--formats onnx,tflite] [--threads 1]

For the supernet's two ends and `--random` seeded random sub-networks, each exported as ONNX
and TFLite and quantized as a `precision: int8` search quantizes it (static, 256 calibration
images, `linas_host.export.subnet.Exporter`), prints per sub-network and format:
- top-1 of the FP32 and of the int8 file on the supernet's 450 validation images, each scored
  by the file's runtime as a search scores it (`linas_sdk.scoring`), and the drop in points;
- the latency of each file on this machine (median of 200 single-image runs after 20 warm-up
  runs, `--threads` intra-op threads) and the int8/FP32 ratio;
- the quantization's wall time against the runtime's FP32 forward time over the calibration
  images (target: at most 1.5x that plus 1 s).
Then the median and worst drop per format (targets: median at most 1.0 point, worst at most
3).

With `--mixed`: LINAS searches of the demo's problem (examples/mobilenetv3-local.yaml: top-1
of the exported file on the host against latency through a local agent on this machine, ONNX)
at `precision: mixed`, `int8` and `fp32`, each for `--seeds` and `--budget` evaluations, in
`--work` (one run folder each, sharing a measurement cache; a run whose journal exists is
resumed, so an interrupted benchmark continues where it stopped). Prints the hypervolume of
top-1 against latency at 50, 100 and the budget's evaluations, every run with one reference
point (the worst top-1 and latency any of the runs measured), per seed and the median (target:
mixed at or above the better of the other two at 150).

With `--ofa`: Once-for-All's `ofa-w1.0` at 224 px (a random-weight checkpoint with the
reference's keys, 256 random normalised calibration images: the figures depend on the image
count, not their content), smallest and largest sub-network, each format: the latency of the
FP32 and of the static int8 file through a local agent (the agent's timing protocol,
`--threads`), their ratio, the agent's int8 flags (the CPU's dot-product instructions, the
runtimes' int8 kernels), and the quantization's wall time against the runtime's FP32 forward
time over the 256 calibration images (target: at most 1.5x that plus 1 s, largest end).
No assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
PRECISIONS = ("mixed", "int8", "fp32")


def latency_ms(session, feeds: dict, runs: int = 200, warmup: int = 20) -> float:
    session.set_inputs(feeds)
    for _ in range(warmup):
        session.invoke()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        session.invoke()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def mixed_runs(work: Path, seeds: list[int], budget: int) -> dict[tuple[str, int], Path]:
    """Run (or resume) each precision's search for each seed; -> (precision, seed) -> run."""
    from linas_sdk import search

    options = yaml.safe_load((ROOT / "examples" / "mobilenetv3-local.yaml").read_text())
    runs = {}
    for seed in seeds:
        for precision in PRECISIONS:
            run = runs[precision, seed] = work / f"{precision}-seed{seed}"
            started = time.perf_counter()
            result = search(**{**options, "precision": precision, "seed": seed,
                               "budget": budget, "out": run, "cache_dir": work / "cache"},
                            resume=(run / "journal.sqlite").is_file(), progress="quiet")
            print(f"{precision} seed {seed}: {result.evaluations} evaluations "
                  f"({time.perf_counter() - started:.0f} s this session)", flush=True)
    return runs


def mixed_report(runs: dict[tuple[str, int], Path], budget: int) -> None:
    """Hypervolume at 50, 100 and `budget` evaluations, one reference point for every run."""
    from linas_host.search.hypervolume import hypervolume, worst_point
    from linas_host.search.journal import SQLiteJournal

    points = {}
    for key, run in runs.items():
        with SQLiteJournal(run / "journal.sqlite") as journal:
            points[key] = [e.F if e.feasible else None for e in journal.evaluations()]
    reference = worst_point(np.array([f for fs in points.values() for f in fs if f is not None]))
    print(f"reference point: top-1 {-reference[0]:.4f}, latency {reference[1]:.4f} ms")
    marks = sorted({m for m in (50, 100, budget) if m <= budget})
    table: dict[str, dict[int, list[float]]] = {}
    for (precision, seed), fs in points.items():
        row = []
        for mark in marks:
            done = [f for f in fs[:mark] if f is not None]
            value = hypervolume(np.array(done), reference) if len(fs) >= mark else float("nan")
            table.setdefault(precision, {}).setdefault(mark, []).append(value)
            row.append(f"{value:.5f}")
        print(f"{precision:<6} seed {seed}: hypervolume at {marks}: {', '.join(row)}")
    for precision, by_mark in table.items():
        print(f"{precision:<6} median: " + ", ".join(
            f"{mark}: {statistics.median(v):.5f}" for mark, v in by_mark.items()))
    final = {p: statistics.median(table[p][marks[-1]]) for p in table}
    if set(PRECISIONS) <= set(final):
        best = max(final["int8"], final["fp32"])
        print(f"at {marks[-1]}: mixed {final['mixed']:.5f} against the better of int8 and fp32 "
              f"{best:.5f}: target (mixed at or above) "
              f"{'met' if final['mixed'] >= best else 'missed'}")


def ofa_ends(formats: list[str], threads: int) -> None:
    """OFA w1.0's ends at 224 px: int8 against FP32 latency through a local agent, with the
    agent's int8 flags, and the quantization's cost against the FP32 forward time."""
    import tempfile

    from linas_host.devices import DevicePool, LocalAgent
    from linas_host.export.quantize import Quantization
    from linas_host.export.subnet import Exporter
    from linas_host.supernets import create
    from ofa_ends import checkpoint, image_npz

    from linas_sdk import scoring
    from linas_sdk.formats import format_named
    from linas_sdk.measurement import MeasureRequest
    from linas_sdk.runtimes import RUNTIMES

    with tempfile.TemporaryDirectory() as tmp:
        images = str(image_npz(Path(tmp), 256))
        supernet = create("mobilenetv3", variant="ofa-w1.0", checkpoint=checkpoint(Path(tmp)),
                          data={"val": images, "calibration": images}, calibration_samples=256)
        with LocalAgent(name="local") as agent, DevicePool([agent.spec()]) as pool:
            (status,) = pool.wait_ready(timeout=60)
            info = status.info
            print(f"agent: CPU int8 dot-product instructions {info.cpu_int8_dot}; int8 kernels "
                  + "; ".join(f"{r.name} {dict(r.int8)}" for r in info.runtimes))
            print(f"{'end':<9} {'format':<7} {'fp32 ms':>8} {'int8 ms':>8} {'ratio':>6} "
                  f"{'quantize s':>10} {'floor s':>8} {'limit s':>8}")
            for fmt_name in formats:
                fmt = format_named(fmt_name)
                engine = RUNTIMES[fmt.runtime]()
                fp32 = Exporter(supernet, fmt.name)
                int8 = Exporter(supernet, fmt.name, Quantization())
                request = MeasureRequest(runtime=fmt.runtime, threads=threads)
                for end in ("smallest", "largest"):
                    config = getattr(supernet, end)
                    module = supernet.extract(config)
                    fp32_file = fp32(module, config)
                    calibration = int8.calibration(config)
                    start = time.perf_counter()
                    int8_file = int8(module, config)
                    quantize_s = time.perf_counter() - start
                    session = engine.load(fp32_file, provider=engine.info().providers[0],
                                          options={}, threads=threads, inputs=())
                    start = time.perf_counter()
                    scoring.run_validation(session, calibration, "outputs")
                    floor = time.perf_counter() - start
                    ms = [pool.measure(f, request).median_ms for f in (fp32_file, int8_file)]
                    print(f"{end:<9} {fmt.name:<7} {ms[0]:>8.2f} {ms[1]:>8.2f} "
                          f"{ms[1] / ms[0]:>6.2f} {quantize_s:>10.2f} {floor:>8.2f} "
                          f"{1.5 * floor + 1:>8.2f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--random", type=int, default=20)
    parser.add_argument("--formats", default="onnx,tflite")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--mixed", action="store_true", help="the precision searches instead")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "quantized-mixed")
    parser.add_argument("--ofa", action="store_true", help="OFA w1.0's ends through an agent")
    args = parser.parse_args()
    from linas_host.threads import passive_openmp

    passive_openmp()  # before torch loads: the searches share the CPU with their local agent
    if args.mixed:
        args.work.mkdir(parents=True, exist_ok=True)
        runs = mixed_runs(args.work, [int(s) for s in args.seeds.split(",")], args.budget)
        mixed_report(runs, args.budget)
        return 0
    if args.ofa:
        ofa_ends(args.formats.split(","), args.threads)
        return 0

    from linas_host.export.quantize import Quantization
    from linas_host.export.subnet import Exporter
    from linas_host.supernets import create

    from linas_sdk import scoring
    from linas_sdk.formats import format_named
    from linas_sdk.runtimes import RUNTIMES, random_inputs

    supernet = create("mobilenetv3")
    valid = supernet.validation_arrays(450)
    configs = {"smallest": supernet.smallest, "largest": supernet.largest}
    rng = np.random.default_rng(0)
    for i, config in enumerate(supernet.space.sample(rng, args.random)):
        configs[f"random {i}"] = config
    drops: dict[str, list[float]] = {}
    print(f"{'sub-network':<12} {'format':<7} {'fp32 %':>7} {'int8 %':>7} {'drop':>6} "
          f"{'fp32 ms':>8} {'int8 ms':>8} {'ratio':>6} {'quantize s':>10} {'floor s':>8}")
    for fmt_name in args.formats.split(","):
        fmt = format_named(fmt_name)
        engine = RUNTIMES[fmt.runtime]()
        provider = engine.info().providers[0]
        fp32 = Exporter(supernet, fmt.name)
        int8 = Exporter(supernet, fmt.name, Quantization())
        for name, config in configs.items():
            module = supernet.extract(config)
            files = {"fp32": fp32(module, config)}
            start = time.perf_counter()
            files["int8"] = int8(module, config)
            quantize_s = time.perf_counter() - start
            row = {}
            for precision, data in files.items():
                session = engine.load(data, provider=provider, options={},
                                      threads=args.threads, inputs=())
                top1, _ = scoring.run_validation(session, valid, "top1")
                row[precision] = (100 * top1, latency_ms(session, random_inputs(session.inputs)))
            session = engine.load(files["fp32"], provider=provider, options={},
                                  threads=args.threads, inputs=())
            calibration = int8.calibration(config)
            start = time.perf_counter()
            scoring.run_validation(session, calibration, "outputs")
            floor = time.perf_counter() - start
            drop = row["fp32"][0] - row["int8"][0]
            drops.setdefault(fmt.name, []).append(drop)
            print(f"{name:<12} {fmt.name:<7} {row['fp32'][0]:>7.2f} {row['int8'][0]:>7.2f} "
                  f"{drop:>6.2f} {row['fp32'][1]:>8.3f} {row['int8'][1]:>8.3f} "
                  f"{row['int8'][1] / row['fp32'][1]:>6.2f} {quantize_s:>10.2f} {floor:>8.3f}",
                  flush=True)
    for fmt_name, values in drops.items():
        print(f"{fmt_name}: top-1 drop median {statistics.median(values):.2f} points, worst "
              f"{max(values):.2f} (targets 1.0 and 3.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
