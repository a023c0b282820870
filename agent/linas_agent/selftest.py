"""`linas agent selftest`: prove that this machine can serve measurements.

Starts an agent in this process on loopback, guarded by a random token, with a throw-away
cache; then, as a host would, over gRPC: checks health, reads the manifest (and prints what
int8 costs there), uploads the bundled tiny model and its validation set, measures it with
top-1 accuracy (and checks a second upload is skipped), measures its TFLite twin too when
LiteRT is installed, and prints the figures;
then asks each other ONNX Runtime provider listed (CUDA, TensorRT, ...) to run it and says
which one did: a provider whose libraries are missing is listed, but the CPU runs instead.
Needs only `pip install linas-sdk[agent]`.
"""

from __future__ import annotations

import secrets
import tempfile
from importlib.resources import files
from typing import TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from linas_agent import launch
from linas_sdk import serde
from linas_sdk.artifacts import sha256_hex, upload_chunks
from linas_sdk.errors import LinasError
from linas_sdk.formats import FORMATS, format_of_runtime
from linas_sdk.grpc_settings import bearer_metadata, channel_options
from linas_sdk.measurement import DeviceInfo, MeasureRequest
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

SETTINGS = {"warmup_seconds": 0.05, "min_runs": 10, "min_seconds": 0.2, "max_seconds": 2.0,
            "timeout_seconds": 60.0}  # fmt: skip


def run(out: TextIO) -> int:
    token = secrets.token_urlsafe(24)
    examples = files("linas_agent.examples")
    models = {name: examples.joinpath(f"tiny_mlp.{ext}").read_bytes()
              for name, ext in ((f.runtime, f.name) for f in FORMATS)}  # fmt: skip
    valid = examples.joinpath("tiny_mlp.npz").read_bytes()
    with tempfile.TemporaryDirectory(prefix="linas-selftest-") as cache:
        server = launch.start(name="selftest", cache_dir=cache, token=token)
        try:
            with grpc.insecure_channel(server.address, options=channel_options()) as channel:
                _exercise(channel, bearer_metadata(token), models, valid, out)
        finally:
            server.stop(grace=1.0)
    print("selftest passed", file=out)
    return 0


def _int8_line(info: DeviceInfo) -> str:
    """What int8 costs here: the CPU's dot-product instructions, and each runtime's providers
    with the int8 schemes they run with integer kernels."""
    dot = info.cpu_int8_dot
    cpu = "not known" if dot is None else ", ".join(dot) or "none (int8 runs emulated)"
    kernels = "; ".join(
        f"{r.name} " + ", ".join(f"{p} {'+'.join(s) or 'none'}" for p, s in r.int8.items())
        for r in info.runtimes
        if r.int8
    )
    return f"CPU dot-product instructions: {cpu}; kernels: {kernels or 'not known'}"


def _exercise(channel, auth, models: dict[str, bytes], valid: bytes, out: TextIO) -> None:
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    if health.status != health_pb2.HealthCheckResponse.SERVING:
        raise LinasError(f"the agent's health check says {health.status}, not SERVING")
    agent = agent_pb2_grpc.AgentStub(channel)
    info = serde.device_info_from_proto(agent.GetInfo(pb.GetInfoRequest(), metadata=auth))
    runtimes = ", ".join(
        f"{r.name} {r.version} ({r.module}) {list(r.providers)}" for r in info.runtimes
    )
    print(f"device: {info.hostname} ({info.machine}, {info.cpu_model}, {info.cpu_count} CPUs)",
          file=out)  # fmt: skip
    print(f"runtimes: {runtimes}", file=out)
    print(f"int8: {_int8_line(info)}", file=out)
    for warning in info.warnings:
        print(f"warning: {warning}", file=out)
    agent.PutArtifact(upload_chunks(valid, pb.ARTIFACT_KIND_NPZ), metadata=auth, timeout=30)
    for runtime, model in models.items():
        if info.runtime(runtime) is None:
            print(f"{runtime}: not installed, skipped", file=out)
            continue
        kind = format_of_runtime(runtime).kind
        agent.PutArtifact(upload_chunks(model, kind), metadata=auth, timeout=30)
        again = agent.PutArtifact(upload_chunks(model, kind), metadata=auth, timeout=30)
        if not again.already_present:
            raise LinasError("the agent stored the same model twice; content addressing is broken")
        request = serde.request_to_proto(
            MeasureRequest(runtime=runtime, threads=1, settings=SETTINGS, metric="top1"),
            model_sha256=sha256_hex(model),
            validation_sha256=sha256_hex(valid),
        )
        m = serde.measurement_from_proto(agent.Measure(request, metadata=auth, timeout=90))
        print(
            f"tiny MLP on {runtime} ({m.provider}, {m.threads} thread): median "
            f"{m.median_ms:.4f} ms, p90 {m.p90_ms:.4f} ms, cv {m.cv:.3f}, {m.samples} samples x "
            f"{m.calls_per_sample} calls; load {m.load_ms:.1f} ms, first inference "
            f"{m.first_inference_ms:.2f} ms, peak memory {m.peak_memory_bytes / 2**20:.1f} MiB, "
            f"top-1 {m.accuracy:.3f} on {m.validation_samples} samples",
            file=out,
        )
        plausible = m.min_ms <= m.median_ms <= m.max_ms and m.samples >= SETTINGS["min_runs"]
        if not plausible or m.accuracy is None:
            raise LinasError(f"implausible measurement: {m.to_dict()}")
    onnx = info.runtime("onnxruntime")
    for provider in onnx.providers[1:] if onnx else ():  # CPU came first, above
        request = serde.request_to_proto(
            MeasureRequest(runtime="onnxruntime", provider=provider, threads=1, settings=SETTINGS),
            model_sha256=sha256_hex(models["onnxruntime"]),
        )
        m = serde.measurement_from_proto(agent.Measure(request, metadata=auth, timeout=90))
        print(f"tiny MLP asked of {provider}: {m.provider} ran it, median {m.median_ms:.4f} ms",
              file=out)  # fmt: skip
        for warning in m.warnings:
            if provider in warning:
                print(f"warning: {warning}", file=out)
