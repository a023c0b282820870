"""Fixtures of the security tests: `stub`, a wire client of the module's own `agent` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from security_helpers import Stub


@pytest.fixture(scope="module")
def stub(agent) -> Iterator[Stub]:
    client = Stub(agent)
    yield client
    client.close()
