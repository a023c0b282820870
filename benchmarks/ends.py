"""What the `*_ends.py` benchmarks share: the smallest and largest sub-network of a supernet
side by side, its own quality columns first, then MACs, parameters, ONNX size, export time (the
way a search exports) and onnxruntime latency on the sub-network's example input."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--weights", default=None, help="weights file (default: committed)")
    parser.add_argument("--threads", type=int, default=1, help="torch and onnxruntime threads")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per model")
    parser.add_argument("--exports", type=int, default=3, help="timed exports per model")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    return args


def export_onnx(supernet: Any, config: dict, module: Any, exports: int) -> tuple[bytes, float]:
    """The ONNX file of `config` (its extracted `module`) as a search makes it
    (`subnetwork_bytes`), and the median wall time of `exports` exports, in seconds."""
    from linas_host.subnet_export import subnetwork_bytes

    times = []
    for _ in range(exports):
        started = time.perf_counter()
        data = subnetwork_bytes(supernet, config, "onnx", module)
        times.append(time.perf_counter() - started)
    return data, statistics.median(times)


def latency_ms(data: bytes, supernet: Any, config: dict, threads: int, runs: int) -> float:
    """Median onnxruntime latency of the model `data` on `config`'s example input, after
    5 warm-up runs."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = threads
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    feed = {name: tensor.numpy() for name, tensor in zip(
        supernet.input_names, supernet.example_input(config), strict=True)}  # fmt: skip
    for _ in range(5):
        session.run(None, feed)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def compare(
    supernet: Any, args: argparse.Namespace, header: str, quality: Callable[[Any], str]
) -> None:
    """Print one row per end: `quality(module)` (columns under `header`), then the figures."""
    print(f"end      {header}  MACs(M) params(k) ONNX(kB) export(s) latency(ms)")
    for end, config in (("smallest", supernet.smallest), ("largest", supernet.largest)):
        module = supernet.extract(config)
        columns = quality(module)
        data, export_s = export_onnx(supernet, config, module, args.exports)
        latency = latency_ms(data, supernet, config, args.threads, args.runs)
        print(f"{end:8} {columns} {supernet.macs(config) / 1e6:8.2f} "
              f"{supernet.params(config) / 1e3:9.0f} {len(data) / 1e3:8.0f} {export_s:9.2f} "
              f"{latency:11.2f}")  # fmt: skip
