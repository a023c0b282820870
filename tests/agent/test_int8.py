"""The runtimes' int8 kernels, as the agent finds them (the real agent's manifest on this
machine is checked in test_service.py): the bundled probes are the models they stand for, and
a probe that cannot run leaves its provider not known rather than without int8."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest
from linas_agent import int8

from linas_sdk.runtimes import LiteRt

Interpreter = pytest.importorskip("ai_edge_litert.interpreter").Interpreter


def tensors(model: str) -> list[dict]:
    """The tensors each FULLY_CONNECTED of a bundled model reads and writes."""
    interpreter = Interpreter(model_content=files("linas_agent.examples").joinpath(model)
                              .read_bytes())  # fmt: skip
    interpreter.allocate_tensors()
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] == "FULLY_CONNECTED"]
    assert len(ops) == 2  # the tiny MLP's two layers
    return [[details[i] for i in (*op["inputs"], *op["outputs"]) if i >= 0] for op in ops]


def test_the_probes_are_full_integer_and_dynamic_range() -> None:
    for data, weights, bias, out in tensors(int8.LITERT_PROBES["static"]):
        assert data["dtype"] == weights["dtype"] == out["dtype"] == np.int8
        assert bias["dtype"] == np.int32 and data["quantization"][0] > 0
    for data, weights, bias, out in tensors(int8.LITERT_PROBES["dynamic"]):
        assert weights["dtype"] == np.int8
        assert data["dtype"] == bias["dtype"] == out["dtype"] == np.float32


def test_a_probe_that_cannot_run_says_not_known(monkeypatch) -> None:
    monkeypatch.setattr(int8, "LITERT_PROBES", {"static": "tiny_mlp.npz",
                                                 "dynamic": "tiny_mlp.npz"})  # fmt: skip
    assert int8.runtime_info(LiteRt()).int8 == {}  # not "no int8 kernels"

