"""TLS and mutual TLS, with certificates made by the openssl command line for this test."""

from __future__ import annotations

import shutil
import subprocess

import grpc
import pytest
from agent_helpers import rpc_error

from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]


def self_signed(folder, name: str) -> tuple:
    """A self-signed certificate (its own CA) for localhost and 127.0.0.1."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def info(address: str, credentials, token: str) -> pb.DeviceInfo:
    with grpc.secure_channel(address, credentials) as channel:
        stub = agent_pb2_grpc.AgentStub(channel)
        return stub.GetInfo(pb.GetInfoRequest(), timeout=10,
                            metadata=(("authorization", f"Bearer {token}"),))  # fmt: skip


def test_tls_and_mutual_tls(agent_process, tmp_path) -> None:
    server_cert, server_key = self_signed(tmp_path, "server")
    client_cert, client_key = self_signed(tmp_path, "client")
    ca = server_cert.read_bytes()

    agent = agent_process(token="t", args=["--tls-cert", str(server_cert),
                                           "--tls-key", str(server_key)])  # fmt: skip
    assert info(agent.address, grpc.ssl_channel_credentials(ca), "t").protocol_version == 1
    with grpc.insecure_channel(agent.address) as plain:
        error = rpc_error(agent_pb2_grpc.AgentStub(plain).GetInfo, pb.GetInfoRequest(),
                          timeout=5)  # fmt: skip
        assert error.code() == grpc.StatusCode.UNAVAILABLE

    mutual = agent_process(token="t", args=["--tls-cert", str(server_cert), "--tls-key",
                                            str(server_key), "--tls-client-ca",
                                            str(client_cert)])  # fmt: skip
    with_cert = grpc.ssl_channel_credentials(
        ca, private_key=client_key.read_bytes(), certificate_chain=client_cert.read_bytes()
    )
    assert info(mutual.address, with_cert, "t").name
    error = rpc_error(info, mutual.address, grpc.ssl_channel_credentials(ca), "t")
    assert error.code() == grpc.StatusCode.UNAVAILABLE  # refused in the handshake
