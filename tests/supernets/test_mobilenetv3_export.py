"""Exported sub-networks: ONNX (onnxruntime) and TFLite (LiteRT) compute what PyTorch does,
and the file follows the sub-network's size. How long an export takes is a figure of
benchmarks/mobilenetv3_ends.py (its `export(s)` column), not a test."""

from __future__ import annotations

import importlib.util

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from linas_host.export import export_onnx, export_tflite
from mobilenetv3_helpers import committed_supernet, configs

HAS_LITERT_TORCH = importlib.util.find_spec("litert_torch") is not None


def _onnx(supernet, module):
    return export_onnx(
        module, supernet.example_input(), input_names=supernet.input_names,
        output_names=supernet.output_names,
    )


def test_onnx_matches_pytorch_within_1e_4_with_a_dynamic_batch():
    supernet = committed_supernet()
    x = supernet.validation(32)[0]
    for config in configs(supernet, n=1):
        module = supernet.extract(config)
        data = _onnx(supernet, module)
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        (got,) = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            expected = module(x).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_onnx_is_one_self_contained_file_at_opset_17_or_newer(tmp_path):
    supernet = committed_supernet()
    path = tmp_path / "small.onnx"
    data = export_onnx(supernet.extract(supernet.smallest), supernet.example_input(), path=path)
    assert path.read_bytes() == data
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert not any(
        t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer
    )
    assert list(tmp_path.iterdir()) == [path]


def test_smallest_onnx_file_is_less_than_half_the_largest():
    supernet = committed_supernet()
    small = _onnx(supernet, supernet.extract(supernet.smallest, calibrate=False))
    large = _onnx(supernet, supernet.extract(supernet.largest, calibrate=False))
    assert len(small) * 2 < len(large)


@pytest.mark.slow  # litert-torch converts through torch.export and JAX: tens of seconds
@pytest.mark.skipif(not HAS_LITERT_TORCH, reason="litert_torch (the `tflite` extra) is absent")
@pytest.mark.timeout(300)
def test_tflite_matches_pytorch_within_1e_3_with_the_same_argmax():
    from ai_edge_litert.interpreter import Interpreter

    supernet = committed_supernet()
    module = supernet.extract(supernet.space.sample(5, 1)[0])
    data = export_tflite(module, supernet.example_input())
    interpreter = Interpreter(model_content=data)
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    x = supernet.validation(8)[0]
    with torch.no_grad():
        expected = module(x).numpy()
    for i in range(len(x)):
        interpreter.set_tensor(inp["index"], x[i : i + 1].numpy())
        interpreter.invoke()
        got = interpreter.get_tensor(out["index"])[0]
        np.testing.assert_allclose(got, expected[i], atol=1e-3, rtol=0)
        assert got.argmax() == expected[i].argmax()
