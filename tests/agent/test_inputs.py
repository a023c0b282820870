"""Latency inputs: the kept normal stream gives the very values a fresh generator draws."""

from __future__ import annotations

import numpy as np

from linas_sdk import runtimes
from linas_sdk.measurement import TensorSpec
from linas_sdk.runtimes import NORMALS_KEPT, random_inputs


def drawn(specs: list[TensorSpec], seed: int = 0) -> dict[str, np.ndarray]:
    """What the inputs were before the stream was kept: one generator, drawn in order."""
    rng = np.random.default_rng(seed)
    return {
        s.name: rng.standard_normal(s.shape).astype(s.dtype)
        if np.dtype(s.dtype).kind == "f" else np.zeros(s.shape, s.dtype)
        for s in specs
    }  # fmt: skip


def assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert list(got) == list(want)
    for name, array in want.items():
        assert got[name].dtype == array.dtype and got[name].shape == array.shape, name
        np.testing.assert_array_equal(got[name], array, err_msg=name)


def test_inputs_from_the_kept_stream_equal_a_fresh_draw() -> None:
    specs = [TensorSpec("a", (768, 512), "float32"), TensorSpec("ids", (3,), "int64"),
             TensorSpec("b", (2, 5), "float16"), TensorSpec("c", (7,), "float64")]  # fmt: skip
    assert_same(random_inputs(specs), drawn(specs))
    assert_same(random_inputs(specs, seed=3), drawn(specs, seed=3))
    assert runtimes.normal_stream().flags.writeable is False  # shared by forked processes


def test_inputs_beyond_the_kept_stream_are_drawn() -> None:
    specs = [TensorSpec("a", (NORMALS_KEPT // 2,), "float32"),
             TensorSpec("b", (NORMALS_KEPT // 2 + 1,), "float32")]  # fmt: skip
    assert_same(random_inputs(specs), drawn(specs))
