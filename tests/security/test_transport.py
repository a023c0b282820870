"""Transport: listening beyond loopback, TLS and mutual TLS end to end, and tokens that never
leak. A search, an export, a survey and a measurement run against agents that require mutual
TLS and a token, reached through a devices file; then every file and every line any process
wrote is searched for the tokens."""

from __future__ import annotations

import shutil
import subprocess
import sys

import grpc
import linas_cli
import pytest
import yaml
from certs import agent_tls, make_certs
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from linas_cli import cli_env, tiny_search_config
from linas_host.devices import AgentClient, DeviceSpec
from security_helpers import MODELS

from linas_sdk.errors import DeviceUnavailable
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

TOKEN_A = "tok-A-7d41e2b9c0f3a5"
TOKEN_B = "tok-B-91c3aa08e6d2f4"
WRONG = "tok-WRONG-5e0b7c21d9"
TOKEN_ENV = "LINAS_SECURITY_TEST_TOKEN"
FAST = {
    "warmup_runs": 1,
    "warmup_seconds": 0.0,
    "min_runs": 3,
    "min_seconds": 0.0,
    "max_seconds": 0.5,
    "max_remeasures": 0,
}


@pytest.mark.timeout(90)
def test_insecure_is_the_only_way_beyond_loopback_and_it_says_so(agent_process, tmp_path) -> None:
    certs = make_certs(tmp_path / "certs")
    mutual = agent_tls(certs, mutual=True)
    refused = subprocess.run(  # mutual TLS is not a token: still refused without --insecure
        [
            sys.executable,
            "-m",
            "linas_sdk.cli",
            "agent",
            "serve",
            "--host",
            "0.0.0.0",
            "--cache-dir",
            str(tmp_path / "cache"),
            *mutual,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_env(),
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert "refusing to listen on 0.0.0.0 without a token" in refused.stderr
    assert "--insecure" in refused.stderr

    insecure = agent_process(host="0.0.0.0", args=["--insecure"])
    assert "WARNING" in insecure.log()
    assert "INSECURE: listening on 0.0.0.0 without a token; anyone on the network" in insecure.log()
    with grpc.insecure_channel(f"127.0.0.1:{insecure.port}") as channel:
        assert agent_pb2_grpc.AgentStub(channel).GetInfo(pb.GetInfoRequest(), timeout=10).name

    clear = agent_process(host="0.0.0.0", token=TOKEN_A)
    assert "without TLS: the token and the models cross the network in clear text" in clear.log()
    secure = agent_process(host="0.0.0.0", token=TOKEN_A, args=mutual)
    assert "WARNING" not in secure.log()
    guessable = agent_process(host="0.0.0.0", token="pi5", args=mutual)
    assert "the token is only 3 characters: anyone on the network may guess it" in guessable.log()


@pytest.mark.slow  # a real search with torch export: ~40 s on a busy 2-core machine
@pytest.mark.timeout(400)
def test_tokens_never_reach_logs_reports_or_manifests(agent_process, tmp_path) -> None:
    certs = make_certs(tmp_path / "certs")
    debug = ["--log-level", "DEBUG"]
    a = agent_process(
        name="board-a",
        labels={"board": "x"},
        token=TOKEN_A,
        args=[*agent_tls(certs, mutual=True), *debug],
    )
    b = agent_process(
        name="board-b", labels={"board": "x"}, token=TOKEN_B, args=[*agent_tls(certs), *debug]
    )
    (tmp_path / "a.token").write_text(TOKEN_A + "\n")
    devices = tmp_path / "devices.yaml"
    devices.write_text(
        yaml.safe_dump(
            {
                "devices": {
                    "board-a": {
                        "address": a.address,
                        "labels": {"board": "x"},
                        "token_file": "a.token",
                        "tls": {
                            "ca": "certs/ca.pem",
                            "cert": "certs/host.pem",
                            "key": "certs/host.key",
                        },
                    },
                    "board-b": {
                        "address": b.address,
                        "labels": {"board": "x"},
                        "token_env": TOKEN_ENV,
                        "tls": {"ca": "certs/ca.pem"},
                    },
                }
            }
        )
    )
    config = tiny_search_config(
        tmp_path / "search.yaml",
        devices=devices,
        method="random",
        budget=4,
        population=2,
        measure=FAST,
        cache_dir=tmp_path / "cache",
        out=tmp_path / "run",
    )

    def linas(*args: object) -> subprocess.CompletedProcess:
        return linas_cli.linas(*args, cwd=tmp_path, timeout=300, env={TOKEN_ENV: TOKEN_B})

    runs = [
        linas("search", config, "--progress", "jsonl"),
        linas(
            "export",
            tmp_path / "run",
            "--maximize",
            "accuracy",
            "-o",
            tmp_path / "fw",
        ),
        linas("devices", "list", "-d", devices),
        linas("devices", "ping", "-d", devices, "--json"),
        linas(
            "measure",
            MODELS / "mlp.onnx",
            "--device",
            "board-a",
            "-d",
            devices,
            "--json",
        ),
    ]
    for run in runs:
        assert run.returncode == 0, [*run.args[3:5], run.stderr[-2000:]]
    assert (tmp_path / "run" / "report.html").is_file()
    assert (tmp_path / "fw" / "manifest.json").is_file()

    with grpc.secure_channel(
        b.address, grpc.ssl_channel_credentials((certs / "ca.pem").read_bytes())
    ) as channel:  # a stranger's wrong token
        with pytest.raises(grpc.RpcError) as denied:
            agent_pb2_grpc.AgentStub(channel).GetInfo(
                pb.GetInfoRequest(), metadata=(("authorization", f"Bearer {WRONG}"),), timeout=10
            )
        assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert WRONG not in denied.value.details()
    a.stop()
    b.stop()

    texts = {
        f"{' '.join(map(str, run.args[3:5]))} {stream}": getattr(run, stream)
        for run in runs
        for stream in ("stdout", "stderr")
    }
    texts.update(
        {f"agent log {p.name}": p.read_text(errors="replace") for p in (a.log_path, b.log_path)}
    )
    where_tokens_live = {tmp_path / "a.token"}
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p not in where_tokens_live]
    files += [p for agent in (a, b) for p in agent.log_path.parent.rglob("*") if p.is_file()]
    assert len(files) > 20 and any(p.suffix == ".sqlite" for p in files)
    for secret in (TOKEN_A, TOKEN_B, WRONG):
        assert [name for name, text in texts.items() if secret in text] == []
        assert [p for p in files if secret.encode() in p.read_bytes()] == []


@pytest.mark.timeout(60)
def test_a_token_file_or_tls_key_others_can_read_is_warned_about(agent_process, tmp_path) -> None:
    certs = make_certs(tmp_path / "certs")
    token = tmp_path / "token"
    token.write_text(TOKEN_A)
    tls = agent_tls(certs)
    token.chmod(0o644)
    (certs / "agent.key").chmod(0o640)
    shared = agent_process(args=["--token-file", str(token), *tls])
    assert f"the token file {token} can be read by other users (mode 644)" in shared.log()
    assert "the TLS key" in shared.log() and "(mode 640); chmod 600 it" in shared.log()
    token.chmod(0o600)
    (certs / "agent.key").chmod(0o600)
    private = agent_process(args=["--token-file", str(token), *tls])
    assert "can be read by other users" not in private.log()


@pytest.mark.timeout(90)
def test_the_host_sends_nothing_to_an_agent_it_cannot_verify(agent_process, tmp_path) -> None:
    """No fallback to clear text, no other CA's certificate, no other name: the handshake fails
    before any call (and so before the token) is sent."""
    ours, theirs = make_certs(tmp_path / "ours"), make_certs(tmp_path / "theirs")
    impostor = agent_process(
        token=TOKEN_A,
        args=agent_tls(theirs),
    )
    plain = agent_process(token=TOKEN_A)
    genuine = agent_process(
        token=TOKEN_A,
        args=agent_tls(ours),
    )
    (tmp_path / "token").write_text(TOKEN_A)

    def spec(agent, **tls) -> DeviceSpec:
        return DeviceSpec(
            name="pi",
            address=agent.address,
            token_file=tmp_path / "token",
            tls={"ca": ours / "ca.pem", **tls},
        )

    for wrong in (spec(impostor), spec(plain), spec(genuine, server_name="pi5-a.local")):
        with AgentClient(wrong, retries=0) as client, pytest.raises(DeviceUnavailable):
            client.get_info()
    with AgentClient(spec(genuine)) as client:
        assert client.get_info().protocol_version == 1


@pytest.mark.timeout(60)
def test_only_the_health_check_is_open_without_the_token(agent_process) -> None:
    agent = agent_process(token=TOKEN_A)
    with grpc.insecure_channel(agent.address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        listing = reflection_pb2.ServerReflectionRequest(list_services="")
        with pytest.raises(grpc.RpcError) as refused:
            next(
                reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                    iter([listing]), timeout=10
                )
            )
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        reply = next(
            reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([listing]), metadata=agent.metadata, timeout=10
            )
        )
        assert "linas.agent.v1.Agent" in {s.name for s in reply.list_services_response.service}
