"""The devices file's TLS fields reach the channel: server TLS and mutual TLS against a real
gRPC server with certificates made by openssl for the test."""

from __future__ import annotations

import shutil

import grpc
import pytest
from certs import agent_tls, make_certs
from linas_host.devices import AgentClient, load_devices
from scripted_agent import ScriptedAgent

from linas_sdk.errors import DeviceUnavailable

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


def serve(certs, *, mutual: bool) -> ScriptedAgent:
    credentials = grpc.ssl_server_credentials(
        [((certs / "agent.key").read_bytes(), (certs / "agent.pem").read_bytes())],
        root_certificates=(certs / "ca.pem").read_bytes() if mutual else None,
        require_client_auth=mutual,
    )
    return ScriptedAgent().start(credentials)


def device(certs, agent, tls: str):
    path = certs / "devices.yaml"
    path.write_text(f"devices:\n  secure: {{address: '{agent.address}'{tls}}}\n")
    return load_devices(path).devices["secure"]  # relative PEM paths: from the file's folder


@pytest.mark.parametrize(
    ("mutual", "accepted", "refused"),
    [
        (False, ", tls: {ca: ca.pem}", ""),
        (True, ", tls: {ca: ca.pem, cert: host.pem, key: host.key}", ", tls: {ca: ca.pem}"),
    ],
    ids=["server-tls", "mutual-tls-needs-the-hosts-certificate"],
)
def test_tls_fields_reach_the_channel(certs, mutual, accepted, refused):
    """The files the devices file names make a channel the agent accepts; fewer are refused."""
    agent = serve(certs, mutual=mutual)
    try:
        with AgentClient(device(certs, agent, accepted)) as client:
            assert client.get_info().name == "scripted"
        weaker = AgentClient(device(certs, agent, refused), retries=0)
        with weaker, pytest.raises(DeviceUnavailable):
            weaker.get_info()
    finally:
        agent.stop()


def test_a_real_agent_over_mutual_tls_with_a_token(certs, local_agents):
    agent = local_agents(
        "tls",
        token="t" * 24,
        extra_args=agent_tls(certs, mutual=True),
    )
    tls = {"ca": certs / "ca.pem", "cert": certs / "host.pem", "key": certs / "host.key"}
    with AgentClient(agent.spec(tls=tls)) as client:
        assert client.get_info().name == "tls"
        assert client.ping() > 0
    anonymous = AgentClient(agent.spec(tls={"ca": certs / "ca.pem"}), retries=0)
    with anonymous, pytest.raises(DeviceUnavailable):
        anonymous.get_info()
