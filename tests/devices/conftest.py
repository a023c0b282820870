"""Fixtures of the device tests: real agent processes (through the shared `module_agent_process`
fixture, or LocalAgent where a test restarts one on its port), and scripted gRPC agents for
what a real agent cannot be made to do (see scripted_agent.py)."""

from __future__ import annotations

import pytest
from linas_host.devices import DeviceSpec, LocalAgent
from scripted_agent import ScriptedAgent


@pytest.fixture
def scripted():
    """A factory of scripted agents (real gRPC servers on loopback), stopped afterwards."""
    agents: list[ScriptedAgent] = []

    def start(**kwargs) -> ScriptedAgent:
        agents.append(ScriptedAgent(**kwargs).start())
        return agents[-1]

    yield start
    for agent in agents:
        agent.stop()


@pytest.fixture(scope="module")
def live_device(module_agent_process) -> DeviceSpec:
    """A real agent process shared by a module's tests (which do not stop it), as a spec."""
    agent = module_agent_process(name="live", labels={"board": "loopback"})
    return DeviceSpec(name="live", address=agent.address, labels={"board": "loopback"})


@pytest.fixture
def local_agents():
    """A factory of real agent processes (LocalAgent), each closed after the test."""
    agents = []

    def start(name: str, **kwargs):
        agents.append(LocalAgent(name=name, **kwargs).start())
        return agents[-1]

    yield start
    for agent in agents:
        agent.close()
