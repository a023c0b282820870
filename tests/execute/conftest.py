"""Fixtures of the executor tests: a real Ray head on loopback (ray_helpers.py), one shared by
every test (a start takes seconds) and one of a test's own, for a test that stops it."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from linas_cli import E2E
from ray_helpers import RAY_ENV, RayCluster, start_cluster

sys.path.append(str(E2E))  # the e2e helpers (timing settings), as the e2e tests use them


@pytest.fixture(scope="module", autouse=True)
def ray_env() -> Iterator[None]:
    """This process connects as the cluster's drivers do (ray_helpers.RAY_ENV)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in RAY_ENV.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory) -> Iterator[RayCluster]:
    """A Ray head of 2 CPUs shared by the executor tests; this process may connect to it."""
    cluster = start_cluster(tmp_path_factory.mktemp("ray"))
    try:
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
