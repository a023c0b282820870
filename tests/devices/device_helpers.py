"""Helpers of the device tests: tiny real ONNX models, quick and slow requests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from linas_sdk.measurement import MeasureRequest

FAST = MeasureRequest(settings={"warmup_runs": 1, "warmup_seconds": 0.0, "min_runs": 3,
                                "min_seconds": 0.0, "max_seconds": 1.0, "max_remeasures": 0})
"""A request that keeps a tiny model's measurement well under a second."""
SLOW = FAST.replace(settings=FAST.settings.replace(min_seconds=0.8, max_seconds=1.0,
                                                   max_runs=100_000))
"""About a second a measurement: long enough to act in the middle of one."""
MLP_TFLITE = Path(__file__).parents[1] / "agent" / "models" / "mlp.tflite"
"""A real TFLite model (tests/agent/models), for jobs that run on LiteRT."""


def tiny_onnx(seed: float = 1.0) -> bytes:
    """A real ONNX model, y = x @ W + seed (1x16 -> 1x16); each seed gives other bytes."""
    weight = np.full((16, 16), 0.01, dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
        [numpy_helper.from_array(weight, "w"),
         numpy_helper.from_array(np.array([seed], dtype=np.float32), "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()

