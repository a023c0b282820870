"""int8 candidates against FP32, on the bundled MobileNetV3 supernet (issue 28).

    .venv/bin/python benchmarks/quantized.py [--random 20] [--formats onnx,tflite] [--threads 1]

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
3). No assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--random", type=int, default=20)
    parser.add_argument("--formats", default="onnx,tflite")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

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
