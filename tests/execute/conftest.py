"""Fixtures of the executor tests: a real Ray head on loopback (ray_helpers.py), one shared by a
module's tests and one of a test's own, for a test that stops it."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from linas_cli import E2E
from ray_helpers import RAY_ENV, RayCluster, start_cluster

sys.path.append(str(E2E))  # the e2e helpers (timing settings), as the e2e tests use them


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory) -> Iterator[RayCluster]:
    """A Ray head of 2 CPUs shared by the tests of a module; this process may connect to it."""
    cluster = start_cluster(tmp_path_factory.mktemp("ray"))
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in RAY_ENV.items():
                patch.setenv(name, value)
            yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def own_ray_cluster(tmp_path_factory) -> Iterator[RayCluster]:
    """A Ray head of this test's own, for a test that stops it."""
    cluster = start_cluster(tmp_path_factory.mktemp("ray-own"))
    try:
        yield cluster
    finally:
        cluster.stop()
