"""The runtimes' int8 kernels, as the agent finds them (the real agent's manifest on this
machine is checked in test_service.py): the bundled probes are the models they stand for, a
model whose layers run in float does not count, and a probe that cannot run leaves its
provider not known rather than without int8."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest
from linas_agent import int8

from linas_sdk.runtimes import LiteRt, OnnxRuntime

onnx = pytest.importorskip("onnx")
Interpreter = pytest.importorskip("ai_edge_litert.interpreter").Interpreter


def example(name: str) -> bytes:
    return files("linas_agent.examples").joinpath(name).read_bytes()


def test_the_onnx_probes_are_qdq_and_dynamic() -> None:
    for scheme, marks in (("static", {"QuantizeLinear", "DequantizeLinear"}),
                          ("dynamic", {"DynamicQuantizeLinear"})):  # fmt: skip
        graph = onnx.load_from_string(example(int8.PROBES[scheme] + ".onnx")).graph
        assert marks <= {node.op_type for node in graph.node}, scheme
        weights = [t for t in graph.initializer if t.data_type == onnx.TensorProto.INT8]
        assert {tuple(t.dims) for t in weights} >= {(16, 32), (32, 4)}, scheme  # both layers


def fully_connected(model: str) -> list[list[dict]]:
    """The tensors each FULLY_CONNECTED of a bundled model reads and writes."""
    interpreter = Interpreter(model_content=example(model))
    interpreter.allocate_tensors()
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] == "FULLY_CONNECTED"]
    assert len(ops) == 2  # the tiny MLP's two layers
    return [[details[i] for i in (*op["inputs"], *op["outputs"]) if i >= 0] for op in ops]


def test_the_tflite_probes_are_full_integer_and_dynamic_range() -> None:
    for data, weights, bias, out in fully_connected(int8.PROBES["static"] + ".tflite"):
        assert data["dtype"] == weights["dtype"] == out["dtype"] == np.int8
        assert bias["dtype"] == np.int32 and data["quantization"][0] > 0
    for data, weights, bias, out in fully_connected(int8.PROBES["dynamic"] + ".tflite"):
        assert weights["dtype"] == np.int8
        assert data["dtype"] == bias["dtype"] == out["dtype"] == np.float32


def test_layers_run_in_float_do_not_count(monkeypatch) -> None:
    """The float MLP as the static probe: onnxruntime runs it as Gemm, so no "static"."""
    monkeypatch.setitem(int8.PROBES, "static", "tiny_mlp")
    assert int8.runtime_info(OnnxRuntime()).int8 == {"CPUExecutionProvider": ("dynamic",)}


@pytest.mark.parametrize("runtime", [OnnxRuntime, LiteRt])
def test_a_probe_that_cannot_run_says_not_known(monkeypatch, runtime) -> None:
    monkeypatch.setattr(int8, "_probe", lambda runtime, scheme: b"not a model")
    assert int8.runtime_info(runtime()).int8 == {}  # not "no int8 kernels"
