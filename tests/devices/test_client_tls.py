"""The devices file's TLS fields reach the channel: server TLS and mutual TLS against real agent
processes serving certificates made by openssl for the test."""

from __future__ import annotations

import shutil

import pytest
from certs import agent_tls, make_certs
from linas_host.devices import AgentClient, DeviceSpec, load_devices

from linas_sdk.errors import DeviceUnavailable

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]

TOKEN = "t" * 24


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = make_certs(tmp_path_factory.mktemp("certs"))
    (folder / "token").write_text(TOKEN)
    return folder


@pytest.fixture(scope="module")
def agents(certs, module_agent_process):
    """mutual -> a real agent: over server TLS, or over mutual TLS with a token."""
    return {
        False: module_agent_process(name="tls", args=agent_tls(certs)),
        True: module_agent_process(name="mtls", token=TOKEN, args=agent_tls(certs, mutual=True)),
    }


def device(certs, agent, tls: str) -> DeviceSpec:
    token = ", token_file: token" if agent.token else ""
    path = certs / "devices.yaml"
    path.write_text(f"devices:\n  secure: {{address: '{agent.address}'{token}{tls}}}\n")
    return load_devices(path).devices["secure"]  # relative PEM paths: from the file's folder


@pytest.mark.parametrize(
    ("mutual", "accepted", "refused"),
    [
        (False, ", tls: {ca: ca.pem}", ""),
        (True, ", tls: {ca: ca.pem, cert: host.pem, key: host.key}", ", tls: {ca: ca.pem}"),
    ],
    ids=["server-tls", "mutual-tls-needs-the-hosts-certificate"],
)
def test_tls_fields_reach_the_channel(certs, agents, mutual, accepted, refused):
    """The files the devices file names make a channel the agent accepts; fewer are refused."""
    agent = agents[mutual]
    with AgentClient(device(certs, agent, accepted)) as client:
        assert client.get_info().name == ("mtls" if mutual else "tls")
    weaker = AgentClient(device(certs, agent, refused), retries=0)
    with weaker, pytest.raises(DeviceUnavailable):
        weaker.get_info()


def test_a_real_agent_over_mutual_tls_with_a_token(certs, agents):
    agent = agents[True]
    def spec(**tls) -> DeviceSpec:
        return DeviceSpec(name="mtls", address=agent.address, token_file=certs / "token",
                          tls={"ca": certs / "ca.pem", **tls})  # fmt: skip

    with AgentClient(spec(cert=certs / "host.pem", key=certs / "host.key")) as client:
        assert client.get_info().name == "mtls"
        assert client.ping() > 0
    anonymous = AgentClient(spec(), retries=0)
    with anonymous, pytest.raises(DeviceUnavailable):
        anonymous.get_info()
