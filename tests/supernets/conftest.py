"""Torch runs single-threaded in these tests: on a shared, busy machine two OpenMP threads that
spin while waiting for each other made a small training test 25 times slower (216 s against
8 s, measured); one thread is as fast as two on these small models when the machine is quiet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
