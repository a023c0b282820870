"""The two ends of Once-for-All's `ofa-w1.0` MobileNetV3 at 224 px, from a random-weight
checkpoint with the reference's key names that this script writes itself (nothing downloaded):
extraction and ONNX export seconds (the hot path of every candidate: median of --exports, as a
search exports), ONNX size, MACs, parameters, and onnxruntime latency through a local agent
(one thread, the agent's timing protocol); and what else a candidate costs on the host: batch-norm
recalibration on --images images and top-1 on the host per image (PyTorch, one thread, random
normalised images: the figures depend on the image count, not their content). `--profile`
prints where extraction plus export spends its time (cProfile, largest end, cumulative time).

    python benchmarks/ofa_ends.py [--exports 3] [--min-seconds 2] [--images 64] [--profile]

Run it on a quiet machine: every time is a wall-clock figure. Target (issue 13): extraction plus
ONNX export at most 1.5 s for the largest sub-network.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from linas_host.devices import DevicePool, LocalAgent
from linas_host.export.subnet import subnetwork_bytes
from linas_host.supernets import create
from linas_host.supernets.mobilenetv3.net import ElasticMobileNetV3
from linas_host.supernets.mobilenetv3.ofa import VARIANTS

from linas_sdk.measurement import MeasureRequest

TARGET_S = 1.5


def image_npz(folder: Path, count: int) -> Path:
    """`count` random normalised 224 px images with labels, as a data: .npz holds them."""
    rng = np.random.default_rng(0)
    path = folder / "images.npz"
    x = rng.standard_normal((count, 3, 224, 224)).astype(np.float32)
    np.savez(path, x=x, y=rng.integers(0, 1000, count))
    return path


def seconds(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def checkpoint(folder: Path) -> Path:
    """A random-weight ``ofa-w1.0`` checkpoint as the published files hold one."""
    torch.manual_seed(0)
    path = folder / "ofa_mbv3_d234_e346_k357_w1.0"
    torch.save({"state_dict": ElasticMobileNetV3(VARIANTS["ofa-w1.0"]).state_dict()}, path)
    return path


def extract_and_export(supernet, config: dict) -> tuple[bytes, float, float]:
    """The ONNX bytes as a search makes them, with the extraction and export seconds."""
    started = time.perf_counter()
    module = supernet.extract(config, calibrate=False)
    extracted = time.perf_counter()
    data = subnetwork_bytes(supernet, config, "onnx", module)
    return data, extracted - started, time.perf_counter() - extracted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exports", type=int, default=3, help="timed extract + export per end")
    parser.add_argument("--min-seconds", type=float, default=2.0, help="agent's timed seconds")
    parser.add_argument("--images", type=int, default=64, help="calibration and top-1 images")
    parser.add_argument("--profile", action="store_true", help="profile the largest end")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        images = str(image_npz(Path(folder), args.images))
        supernet = create(
            "mobilenetv3",
            variant="ofa-w1.0",
            checkpoint=checkpoint(Path(folder)),
            data={"val": images, "calibration": images},
            calibration_samples=args.images,
        )
        ends = {"smallest": supernet.smallest, "largest": supernet.largest}
        request = MeasureRequest(threads=1, settings={
            "warmup_runs": 5, "warmup_seconds": 0.5, "min_runs": 20,
            "min_seconds": args.min_seconds, "max_seconds": 4 * args.min_seconds,
        })  # fmt: skip
        print(
            "end      extract(s) export(s) total(s) ONNX(MB) MACs(M) params(M) latency(ms) "
            f"calibrate-{args.images}(s) top-1(ms/image)"
        )
        with LocalAgent(name="local") as agent, DevicePool([agent.spec()]) as pool:
            for end, config in ends.items():
                runs = [extract_and_export(supernet, config) for _ in range(args.exports)]
                data = runs[0][0]
                extract_s = statistics.median(r[1] for r in runs)
                export_s = statistics.median(r[2] for r in runs)
                total_s = statistics.median(r[1] + r[2] for r in runs)
                latency = pool.measure(data, request).median_ms
                supernet.extract(config)  # the images are read once, then kept
                calibrate_s = seconds(lambda c=config: supernet.extract(c))
                module = supernet.extract(config, calibrate=False)
                top1_s = seconds(lambda m=module: supernet.evaluate(m))
                print(f"{end:8} {extract_s:10.2f} {export_s:9.2f} {total_s:8.2f} "
                      f"{len(data) / 1e6:8.1f} {supernet.macs(config) / 1e6:7.0f} "
                      f"{supernet.params(config) / 1e6:9.2f} {latency:11.2f} "
                      f"{calibrate_s:14.2f} {top1_s / args.images * 1e3:16.1f}")  # fmt: skip
        print(f"target: extraction + export <= {TARGET_S} s for the largest")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(extract_and_export, supernet, ends["largest"])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
