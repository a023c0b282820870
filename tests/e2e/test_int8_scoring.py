"""A fully-int8 TFLite model (int8 inputs and outputs) is scored through its own quantization
parameters, on the host and on a board alike: the same top-1 as a reference loop that
quantizes each input by the model's scale and zero point. Casting the float data instead, as
the agent once did, scores another model entirely."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ai_edge_litert.interpreter import Interpreter
from ai_edge_quantizer import quantizer, recipe
from linas_host.devices import DeviceSpec
from linas_host.devices.client import AgentClient
from linas_host.export.tflite import export_tflite
from linas_host.export.validation import validation_npz

from linas_sdk import scoring
from linas_sdk.measurement import MeasureRequest
from linas_sdk.runtimes import LiteRt

CLASSES, FEATURES, SAMPLES = 4, 16, 400


def blobs(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs around fixed centres, on a scale far from int8's: a cast loses them."""
    centres = np.random.default_rng(0).normal(0, 0.6, (CLASSES, FEATURES))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    return (centres[y] + rng.normal(0, 0.5, (n, FEATURES))).astype(np.float32), y


@pytest.fixture(scope="module")
def int8_model() -> bytes:
    """A small classifier trained on the blobs, exported to TFLite and quantized to full
    integer (int8 weights, activations, inputs and outputs) by ai-edge-quantizer."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, 32), torch.nn.ReLU(),
                                torch.nn.Linear(32, CLASSES))
    x, y = (torch.from_numpy(a) for a in blobs(1, 2000))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(200):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    fp32 = export_tflite(model.eval(), (x[:1],))
    quantize = quantizer.Quantizer(fp32)
    quantize.load_quantization_recipe(recipe.static_wi8_ai8())
    samples = [{"args_0": row[None]} for row in blobs(2, 64)[0]]
    return bytes(quantize.quantize(quantize.calibrate({"serving_default": samples}))
                 .quantized_model)


def reference_top1(model: bytes, x: np.ndarray, y: np.ndarray, *, cast: bool = False) -> float:
    """One sample at a time, the input quantized by the model's own (scale, zero point)."""
    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    (given,), (taken,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert given["dtype"] == taken["dtype"] == np.int8  # a fully-int8 model
    scale, zero_point = given["quantization"]
    correct = 0
    for row, label in zip(x, y, strict=True):
        q = row if cast else np.clip(np.round(row / scale) + zero_point, -128, 127)
        interpreter.set_tensor(given["index"], q[None].astype(np.int8))
        interpreter.invoke()
        correct += int(interpreter.get_tensor(taken["index"])[0].argmax() == label)
    return correct / len(y)


def test_int8_io_is_fed_through_its_scale_and_zero_point_on_host_and_board(
    int8_model, agent_process
) -> None:
    x, y = blobs(3, SAMPLES)
    reference = reference_top1(int8_model, x, y)
    assert reference > 0.8  # the quantized model still classifies the blobs
    assert reference_top1(int8_model, x, y, cast=True) < reference - 0.3  # a cast does not

    runtime = LiteRt()
    session = runtime.load(int8_model, provider="XNNPACK", options={}, threads=1, inputs=())
    host, outputs = scoring.run_validation(session, {"x": x, "y": y}, "top1")
    assert host == reference
    assert outputs.dtype == np.float32  # read back through the output's own parameters

    agent = agent_process(name="int8")
    client = AgentClient(DeviceSpec(name="int8", address=agent.address))
    try:
        board = client.measure(int8_model, MeasureRequest(runtime="litert", metric="top1"),
                               validation=validation_npz({"x": x, "y": y}))
    finally:
        client.close()
    assert board.accuracy == reference and board.validation_samples == SAMPLES
