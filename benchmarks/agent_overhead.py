"""What measuring through the agent costs, against onnxruntime called in this process.

    .venv/bin/python benchmarks/agent_overhead.py [--repeats 5] [--min-seconds 1.0] [--cpu N]

For ONNX models from ~0.1 ms to ~50 ms (MatMul and Conv chains made with the onnx helper
API; two hold ~5 MB of weights), prints:
- the median latency in-process (onnxruntime, same session options, same timing protocol as
  the agent's: linas_agent.timing) and through a real agent process over loopback, and their
  ratio (each the median of `--repeats` medians, runs interleaved);
- the fixed per-candidate overhead: client wall time of a first measurement (hashing,
  HasArtifact, upload, load in a fresh process, one timed sample, reply) minus the model's own
  run time (first inference, warm-up calls and timed calls, each as the agent timed it), the
  median over `--repeats` variants of the model (other weights, so each is uploaded);
- bytes uploaded for that first measurement and for a second one of the same model (0: the
  host asks HasArtifact first);
- the coefficient of variation of the repeated medians, in-process and through the agent.
Both sides use one intra-op thread pinned to the same CPU (`--cpu`, default the last one).
No assertions; the issue's targets are printed below the table for comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np
import onnx
import onnxruntime as ort
from linas_agent import timing
from onnx import TensorProto, helper, numpy_helper

from linas_sdk import serde
from linas_sdk.artifacts import sha256_hex, upload_chunks
from linas_sdk.grpc_settings import channel_options
from linas_sdk.measurement import MeasureRequest, MeasureSettings, TensorSpec
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc
from linas_sdk.runtimes import random_inputs

# name: (kind, batch, width, layers); MatMul chains [batch, width] x L, Conv chains on 56x56.
# The names give the rough latency on one x86 core (the table prints what was measured).
MODELS = {
    "matmul-0.1ms": ("matmul", 16, 256, 4),
    "matmul-1ms": ("matmul", 192, 256, 4),
    "conv-5ms": ("conv", 1, 56, 3),
    "matmul-5MB": ("matmul", 32, 512, 5),
    "matmul-50ms": ("matmul", 768, 512, 5),
}


def make_model(kind: str, batch: int, width: int, layers: int, variant: int = 0) -> bytes:
    """The model; each `variant` has other weights (other bytes, so it must be uploaded)."""
    rng = np.random.default_rng([width, layers, variant])
    nodes, inits, x = [], [], "x"
    for i in range(layers):
        if kind == "matmul":
            w = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
            nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"]))
        else:
            w = (rng.standard_normal((width, width, 3, 3)) / width).astype(np.float32)
            nodes.append(helper.make_node("Conv", [x, f"w{i}"], [f"m{i}"], pads=[1, 1, 1, 1]))
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("Relu", [f"m{i}"], [f"r{i}"]))
        x = f"r{i}"
    shape = [batch, width] if kind == "matmul" else [batch, width, 56, 56]
    graph = helper.make_graph(
        nodes, kind, [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)], initializer=inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return model.SerializeToString()


def in_process_median(path: Path, settings: MeasureSettings) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    arg = session.get_inputs()[0]
    feeds = random_inputs([TensorSpec(arg.name, tuple(arg.shape), "float32")])
    return timing.measure(lambda: session.run(None, feeds), settings).median_ms


class AgentProcess:
    def __init__(self, cache: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "linas_sdk.cli", "agent", "serve", "--port", "0",
             "--cache-dir", str(cache), "--log-level", "WARNING"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline()
        if not line.startswith("linas-agent listening on "):
            raise SystemExit(f"the agent did not start: {line!r}")
        self.channel = grpc.insecure_channel(line.split()[-1], options=channel_options())
        self.stub = agent_pb2_grpc.AgentStub(self.channel)

    def measure(self, data: bytes, settings: dict, cpu: int) -> tuple[object, int]:
        """Measure as a host does (upload only if missing); returns (measurement, bytes sent)."""
        digest = sha256_hex(data)
        sent = 0
        if not self.stub.HasArtifact(pb.HasArtifactRequest(sha256=digest)).present:
            self.stub.PutArtifact(upload_chunks(data, pb.ARTIFACT_KIND_ONNX, digest))
            sent = len(data)
        request = serde.request_to_proto(
            MeasureRequest(runtime="onnxruntime", threads=1, cpu_affinity=[cpu], settings=settings),
            model_sha256=digest,
        )
        return serde.measurement_from_proto(self.stub.Measure(request, timeout=600)), sent

    def stop(self) -> None:
        self.channel.close()
        self.proc.terminate()
        self.proc.wait(30)


def model_ms(m) -> float:
    """The model's own time in a measurement: every call the agent made, as it timed them.
    The child runs the first inference, then the warm-up (at least one call, even with
    warmup_runs 0: it sizes calls_per_sample), then each sample of calls_per_sample calls."""
    return m.first_inference_ms + m.warmup_ms + sum(m.samples_ms) * m.calls_per_sample


def cv(values: list[float]) -> float:
    a = np.asarray(values)
    return float(a.std(ddof=1) / a.mean()) if len(a) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    settings = {"min_seconds": args.min_seconds, "max_seconds": 4 * args.min_seconds}
    first_only = {"warmup_runs": 0, "warmup_seconds": 0.0, "min_runs": 1, "min_seconds": 0.0,
                  "max_runs": 1}  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="linas-bench-") as tmp:
        agent = AgentProcess(Path(tmp) / "cache")  # free to use every CPU, like on a board
        os.sched_setaffinity(0, {args.cpu})
        try:
            for name in args.models:
                data = make_model(*MODELS[name])
                path = Path(tmp) / f"{name}.onnx"
                path.write_bytes(data)
                onnx.checker.check_model(str(path))
                overheads, loads, sent_first = [], [], 0
                for variant in range(1, args.repeats + 1):  # fresh bytes: a first measurement
                    fresh = make_model(*MODELS[name], variant=variant)
                    start = time.perf_counter()
                    first, sent_first = agent.measure(fresh, first_only, args.cpu)
                    wall_ms = (time.perf_counter() - start) * 1000
                    overheads.append(wall_ms - model_ms(first))
                    loads.append(first.load_ms)
                local, remote, resent = [], [], []
                agent.measure(data, first_only, args.cpu)  # upload it once
                for _ in range(args.repeats):
                    local.append(in_process_median(path, MeasureSettings(**settings)))
                    m, sent = agent.measure(data, settings, args.cpu)
                    remote.append(m.median_ms)
                    resent.append(sent)
                rows.append((name, len(data) / 1e6, float(np.median(local)),
                             float(np.median(remote)), float(np.median(overheads)),
                             float(np.median(loads)),
                             sent_first, max(resent), cv(local), cv(remote)))  # fmt: skip
                print_row(rows[-1], header=len(rows) == 1)
        finally:
            agent.stop()
    print(
        "\ntargets (issue 2): ratio within 1.00 +- 0.05 for models >= 1 ms; overhead <= 50 ms "
        "for the 5 MB model; 0 bytes re-sent; CV of repeated medians <= 3% on an idle core.\n"
        f"machine: {os.uname().machine}, {os.cpu_count()} CPUs, onnxruntime {ort.__version__}, "
        f"pinned to CPU {args.cpu}, {args.repeats} repeats of >= {args.min_seconds:g} s each"
    )


def print_row(row, header: bool) -> None:
    if header:
        print(f"{'model':<14}{'MB':>6}{'in-proc ms':>12}{'agent ms':>11}{'ratio':>8}"
              f"{'overhead ms':>13}{'(load ms)':>11}{'sent B':>10}{'re-sent B':>11}"
              f"{'CV in-proc':>12}{'CV agent':>10}")  # fmt: skip
    name, mb, local, remote, overhead, load, sent, resent, cv_local, cv_remote = row
    print(f"{name:<14}{mb:>6.2f}{local:>12.4f}{remote:>11.4f}{remote / local:>8.3f}"
          f"{overhead:>13.1f}{load:>11.1f}{sent:>10d}{resent:>11d}"
          f"{cv_local:>11.1%}{cv_remote:>10.1%}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
