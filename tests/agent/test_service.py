"""The agent as a network service: manifest, health, reflection, tokens, how it starts and stops."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from agent_helpers import MODELS, Client, rpc_error
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from linas_sdk.artifacts import upload_chunks
from linas_sdk.grpc_settings import PROTOCOL_VERSION
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

pytestmark = pytest.mark.timeout(120)


def test_get_info_describes_the_device(client) -> None:
    info = client.info()
    assert info.name == "bench-1"
    assert dict(info.labels) == {"board": "vm", "site": "ci"}
    assert info.protocol_version == PROTOCOL_VERSION
    assert info.hostname and info.machine and info.os and info.python_version
    assert info.cpu_count >= 1 and info.memory_bytes > 0
    assert info.agent_version
    onnx = info.runtime("onnxruntime")
    assert onnx is not None and onnx.version and "CPUExecutionProvider" in onnx.providers
    litert = info.runtime("litert")
    assert litert is not None and litert.module.endswith(".interpreter")
    assert "XNNPACK" in litert.providers


def test_get_info_says_what_int8_costs_on_this_machine(client) -> None:
    info = client.info()
    # this machine's own /proc/cpuinfo, read here independently: the first core's flags
    flags = re.search(r"^(?:flags|Features)\s*:(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    assert flags is not None
    dot = {"avx_vnni", "avx512_vnni", "amx_int8", "asimddp", "i8mm"} & set(flags.group(1).split())
    assert info.cpu_int8_dot is not None and set(info.cpu_int8_dot) == dot
    emulated = [w for w in info.warnings if "no int8 dot-product instructions" in w]
    assert bool(emulated) == (not dot)
    # both runtimes' CPU kernels run int8 in integers; LiteRT 2.3's XNNPACK takes full integer
    assert info.runtime("onnxruntime").int8 == {"CPUExecutionProvider": ("static", "dynamic")}
    assert info.runtime("litert").int8 == {"XNNPACK": ("static",), "CPU": ("static", "dynamic")}


def test_health_and_reflection(agent) -> None:
    with grpc.insecure_channel(agent.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "linas.agent.v1.Agent"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        reply = next(stub.ServerReflectionInfo(iter([request]), timeout=10))
        names = {s.name for s in reply.list_services_response.service}
        assert {"linas.agent.v1.Agent", "grpc.health.v1.Health"} <= names


def test_token_required_on_every_rpc_but_health(agent_process) -> None:
    agent = agent_process(token="s3cret-token")
    with grpc.insecure_channel(agent.address) as channel:
        stub = agent_pb2_grpc.AgentStub(channel)
        for metadata in ((), (("authorization", "Bearer wrong"),),
                         (("authorization", "s3cret-token"),)):  # fmt: skip
            error = rpc_error(stub.GetInfo, pb.GetInfoRequest(), metadata=metadata, timeout=10)
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "bearer token" in error.details()
        error = rpc_error(stub.HasArtifact, pb.HasArtifactRequest(sha256="0" * 64), timeout=10)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        upload = upload_chunks((MODELS / "mlp.onnx").read_bytes(), pb.ARTIFACT_KIND_ONNX)
        error = rpc_error(stub.PutArtifact, upload, timeout=10)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        error = rpc_error(stub.Measure, pb.MeasureRequest(model_sha256="0" * 64), timeout=10)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        reflect = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        assert rpc_error(next, reflect).code() == grpc.StatusCode.UNAUTHENTICATED
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    client = Client(agent)
    try:
        assert client.info().protocol_version == PROTOCOL_VERSION
    finally:
        client.close()


def test_token_from_a_file(agent_process, tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    agent = agent_process(args=["--token-file", str(token_file)])
    with grpc.insecure_channel(agent.address) as channel:
        stub = agent_pb2_grpc.AgentStub(channel)
        error = rpc_error(stub.GetInfo, pb.GetInfoRequest(), timeout=10)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        good = (("authorization", "Bearer from-a-file"),)
        assert stub.GetInfo(pb.GetInfoRequest(), metadata=good, timeout=10).name
    (tmp_path / "empty").write_text("\n")
    result = subprocess.run(
        [sys.executable, "-m", "linas_sdk.cli", "agent", "serve", "--token-file",
         str(tmp_path / "empty"), "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "is empty" in result.stderr


def test_refuses_to_listen_beyond_loopback_without_token(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "linas_sdk.cli", "agent", "serve", "--host", "0.0.0.0",
         "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert "refusing to listen on 0.0.0.0 without a token" in result.stderr


def test_listens_beyond_loopback_with_a_token(agent_process) -> None:
    agent = agent_process(host="0.0.0.0", token="tok")
    assert agent.port > 0
    with grpc.insecure_channel(f"127.0.0.1:{agent.port}") as channel:
        stub = agent_pb2_grpc.AgentStub(channel)
        reply = stub.GetInfo(pb.GetInfoRequest(), metadata=agent.metadata, timeout=10)
        assert reply.protocol_version == PROTOCOL_VERSION


def test_selftest_passes(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "linas_sdk.cli", "agent", "selftest"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "top-1 0.600 on 200 samples" in result.stdout
    (int8,) = [line for line in result.stdout.splitlines() if line.startswith("int8: ")]
    assert "CPU dot-product instructions: " in int8
    assert "onnxruntime CPUExecutionProvider static+dynamic" in int8
    assert result.stdout.rstrip().endswith("selftest passed")
    assert not (tmp_path / ".cache").exists()  # its cache is temporary


def test_prints_one_line_and_stops_cleanly_on_sigterm_and_sigint(agent_process) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        agent = agent_process()
        agent.proc.send_signal(sig)
        assert agent.proc.wait(timeout=30) == 0, agent.log()
        assert agent.proc.stdout.read() == b""  # nothing after the listening line
        assert not any(p.exists() for p in agent.cache_dir.glob("incoming/*"))
