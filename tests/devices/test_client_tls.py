"""The devices file's TLS fields reach the channel: server TLS and mutual TLS against a real
gRPC server with certificates made by openssl for the test."""

from __future__ import annotations

import shutil
import subprocess

import grpc
import pytest
from linas_host.devices import AgentClient, load_devices
from scripted_agent import ScriptedAgent

from linas_sdk.errors import DeviceUnavailable

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it."""
    folder = tmp_path_factory.mktemp("certs")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", f"{name}.pem",
                cwd=folder)
    return folder


def serve(certs, *, mutual: bool) -> ScriptedAgent:
    credentials = grpc.ssl_server_credentials(
        [((certs / "server.key").read_bytes(), (certs / "server.pem").read_bytes())],
        root_certificates=(certs / "ca.pem").read_bytes() if mutual else None,
        require_client_auth=mutual,
    )
    return ScriptedAgent().start(credentials)


def device(certs, agent, tls: str):
    path = certs / "devices.yaml"
    path.write_text(f"devices:\n  secure: {{address: '{agent.address}'{tls}}}\n")
    return load_devices(path).devices["secure"]  # relative PEM paths: from the file's folder


def test_server_tls(certs):
    agent = serve(certs, mutual=False)
    try:
        with AgentClient(device(certs, agent, ", tls: {ca: ca.pem}")) as client:
            assert client.get_info().name == "scripted"
        plain = AgentClient(device(certs, agent, ""), retries=0)
        with plain, pytest.raises(DeviceUnavailable):
            plain.get_info()
    finally:
        agent.stop()


def test_mutual_tls_needs_the_hosts_certificate(certs):
    agent = serve(certs, mutual=True)
    try:
        mutual = ", tls: {ca: ca.pem, cert: client.pem, key: client.key}"
        with AgentClient(device(certs, agent, mutual)) as client:
            assert client.get_info().name == "scripted"
        anonymous = AgentClient(device(certs, agent, ", tls: {ca: ca.pem}"), retries=0)
        with anonymous, pytest.raises(DeviceUnavailable):
            anonymous.get_info()
    finally:
        agent.stop()


def test_a_real_agent_over_mutual_tls_with_a_token(certs, local_agents):
    agent = local_agents("tls", token="t" * 24, extra_args=[
        "--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
        "--tls-client-ca", str(certs / "ca.pem"),
    ])
    tls = {"ca": certs / "ca.pem", "cert": certs / "client.pem", "key": certs / "client.key"}
    with AgentClient(agent.spec(tls=tls)) as client:
        assert client.get_info().name == "tls"
        assert client.ping() > 0
    anonymous = AgentClient(agent.spec(tls={"ca": certs / "ca.pem"}), retries=0)
    with anonymous, pytest.raises(DeviceUnavailable):
        anonymous.get_info()
