"""What the `*_ends.py` benchmarks share: the smallest and largest sub-network of a supernet
side by side, its own quality columns first, then MACs, parameters, ONNX size, export time (the
way a search exports) and onnxruntime latency on the sub-network's example input. With
`--tflite`, also each end's TFLite file as a search converts it (once: over a minute for the
Transformer's largest), its conversion time, and LiteRT latency on the same input."""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--weights", default=None, help="weights file (default: committed)")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch, onnxruntime and LiteRT threads"
    )
    parser.add_argument("--runs", type=int, default=50, help="timed runs per model")
    parser.add_argument("--exports", type=int, default=3, help="timed exports per model")
    parser.add_argument(
        "--tflite", action="store_true", help="also convert each end to TFLite (slow), time LiteRT"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    return args


def export_onnx(supernet: Any, config: dict, module: Any, exports: int) -> tuple[bytes, float]:
    """The ONNX file of `config` (its extracted `module`) as a search makes it
    (`subnetwork_bytes`), and the median wall time of `exports` exports, in seconds."""
    from linas_host.export.subnet import subnetwork_bytes

    times = []
    for _ in range(exports):
        started = time.perf_counter()
        data = subnetwork_bytes(supernet, config, "onnx", module)
        times.append(time.perf_counter() - started)
    return data, statistics.median(times)


def convert_tflite(supernet: Any, config: dict, module: Any) -> tuple[bytes, float, float]:
    """The TFLite file of `config` as a search makes it, with the wall and CPU time (seconds) of
    one conversion. CPU time is `time.process_time`: every thread of this process (torch.export,
    the converter's own threads), no child processes (litert-torch starts none). litert-torch's
    progress lines go to stderr, so stdout keeps only the table."""
    from linas_host.export.subnet import subnetwork_bytes

    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(sys.stderr):
        data = subnetwork_bytes(supernet, config, "tflite", module)
    return data, time.perf_counter() - wall, time.process_time() - cpu


def median_ms(run: Callable[[], Any], runs: int) -> float:
    """Median wall time of `run()` over `runs` calls after 5 warm-up calls, in milliseconds."""
    for _ in range(5):
        run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def latency_ms(data: bytes, supernet: Any, config: dict, threads: int, runs: int) -> float:
    """Median onnxruntime latency of the model `data` on `config`'s example input, after
    5 warm-up runs."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = threads
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    feed = {name: tensor.numpy() for name, tensor in zip(
        supernet.input_names, supernet.example_input(config), strict=True)}  # fmt: skip
    return median_ms(lambda: session.run(None, feed), runs)


def litert_latency_ms(data: bytes, supernet: Any, config: dict, threads: int, runs: int) -> float:
    """Median LiteRT latency (default delegates, XNNPACK) of the TFLite model `data` on the same
    example input as `latency_ms`, cast to the model's input types (the Transformer's source ids
    are int32 in LiteRT), after 5 warm-up runs."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=data, num_threads=threads)
    interpreter.allocate_tensors()
    for detail, tensor in zip(
        interpreter.get_input_details(), supernet.example_input(config), strict=True
    ):
        interpreter.set_tensor(detail["index"], tensor.numpy().astype(detail["dtype"]))
    return median_ms(interpreter.invoke, runs)


def compare(
    supernet: Any, args: argparse.Namespace, header: str, quality: Callable[[Any], str]
) -> None:
    """Print one row per end: `quality(module)` (columns under `header`), then the figures."""
    extra = " TFLite(kB) convert(s) convert-CPU(s) LiteRT(ms)" if args.tflite else ""
    print(f"end      {header}  MACs(M) params(k) ONNX(kB) export(s) latency(ms){extra}")
    for end, config in (("smallest", supernet.smallest), ("largest", supernet.largest)):
        module = supernet.extract(config)
        columns = quality(module)
        data, export_s = export_onnx(supernet, config, module, args.exports)
        latency = latency_ms(data, supernet, config, args.threads, args.runs)
        row = (f"{end:8} {columns} {supernet.macs(config) / 1e6:8.2f} "
               f"{supernet.params(config) / 1e3:9.0f} {len(data) / 1e3:8.0f} {export_s:9.2f} "
               f"{latency:11.2f}")  # fmt: skip
        if args.tflite:
            tflite, wall_s, cpu_s = convert_tflite(supernet, config, module)
            litert = litert_latency_ms(tflite, supernet, config, args.threads, args.runs)
            row += f" {len(tflite) / 1e3:10.0f} {wall_s:10.1f} {cpu_s:14.1f} {litert:10.2f}"
        print(row)
