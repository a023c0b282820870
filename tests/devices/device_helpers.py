"""Helpers of the device tests: tiny real ONNX models, quick settings, waiting."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FAST = {"warmup_runs": 1, "warmup_seconds": 0.0, "min_runs": 3, "min_seconds": 0.0,
        "max_seconds": 1.0, "max_remeasures": 0}
"""Measurement settings that keep a tiny model's measurement well under a second."""


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

