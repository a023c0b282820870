"""Fixtures for the search tests."""

from __future__ import annotations

import pytest
from search_helpers import small_space

from linas_sdk.space import SearchSpace


@pytest.fixture
def space() -> SearchSpace:
    return small_space()
