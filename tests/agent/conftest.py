"""Fixtures of the agent's tests: one agent process shared by a module, and its client."""

from __future__ import annotations

import pytest
from agent_helpers import Client


@pytest.fixture(scope="module")
def agent(module_agent_process):
    """One agent shared by a module's tests."""
    return module_agent_process(name="bench-1", labels={"board": "vm", "site": "ci"})


@pytest.fixture(scope="module")
def client(agent):
    c = Client(agent)
    yield c
    c.close()

