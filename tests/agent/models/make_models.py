"""Make the tiny models the agent's tests (and its bundled self-test) measure.

    .venv/bin/python tests/agent/models/make_models.py

Writes, next to this script:
- mlp.onnx      16 -> 32 -> 4 MLP (Gemm, Relu, Gemm), dynamic batch; well under a millisecond
- mlp.tflite    the same MLP (same weights), converted from torch with litert-torch, batch 1
- mlp_int8.onnx, mlp_dynamic.onnx  mlp.onnx quantized by onnxruntime's quantizer: static QDQ
                (int8 activations, per-channel int8 weights, calibrated on valid.npz's first 64
                samples) and dynamic (int8 weights)
- mlp_int8.tflite, mlp_dynamic.tflite  mlp.tflite quantized by ai-edge-quantizer: full integer
                (int8 weights, activations, inputs and outputs, calibrated alike) and dynamic
                range (int8 weights)
- hang.onnx     an ONNX Loop whose trip count is 2**62: it never ends (the timeout test)
- bloat.onnx    expands its one-float input to 2**27 floats (512 MiB) and sums them (the memory
                limit test)
- valid.npz     200 samples "x" (200, 16) float32 and labels "y" (200,) int64; the labels agree
                with the MLP's prediction on the first 120 samples and are shifted by one class
                on the rest, so top-1 accuracy is 0.6
and copies mlp.onnx / mlp.tflite / valid.npz into agent/linas_agent/examples/ as
tiny_mlp.onnx / tiny_mlp.tflite / tiny_mlp.npz, which `linas agent selftest` measures and the
agent's worker runs once at start to warm up, and the quantized ones as tiny_mlp_int8.* /
tiny_mlp_dynamic.*, which the worker runs once at start to find which providers run int8 with
integer kernels (linas_agent.int8). Fixed seeds: the same weights and data every run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[2] / "agent" / "linas_agent" / "examples"
OPSET = [helper.make_opsetid("", 17)]
IR_VERSION = 8  # readable by onnxruntime >= 1.10, as old boards have


def mlp_weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "w1": rng.standard_normal((16, 32)).astype(np.float32) / 4,
        "b1": rng.standard_normal(32).astype(np.float32) / 10,
        "w2": rng.standard_normal((32, 4)).astype(np.float32) / 4,
        "b2": rng.standard_normal(4).astype(np.float32) / 10,
    }


def mlp_numpy(x: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    return np.maximum(x @ w["w1"] + w["b1"], 0) @ w["w2"] + w["b2"]


def make_mlp(w: dict[str, np.ndarray]) -> onnx.ModelProto:
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"]),
        ],
        "tiny_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])],
        initializer=[numpy_helper.from_array(v, k) for k, v in w.items()],
    )
    return helper.make_model(graph, opset_imports=OPSET, ir_version=IR_VERSION)


def make_hang() -> onnx.ModelProto:
    """y = x + 1 + 1 + ... 2**62 times, by a Loop that never finishes."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("iter", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1]),
        ],
        initializer=[numpy_helper.from_array(np.ones(1, np.float32), "one")],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "cond", "x"], ["y"], body=body)],
        "hang",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        initializer=[
            numpy_helper.from_array(np.array(2**62, np.int64), "trips"),
            numpy_helper.from_array(np.array(True), "cond"),
        ],
    )
    return helper.make_model(graph, opset_imports=OPSET, ir_version=IR_VERSION)


def make_bloat() -> onnx.ModelProto:
    graph = helper.make_graph(
        [
            helper.make_node("Expand", ["x", "shape"], ["big"]),
            helper.make_node("ReduceSum", ["big"], ["y"], keepdims=1),
        ],
        "bloat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        initializer=[numpy_helper.from_array(np.array([2**27], np.int64), "shape")],
    )
    return helper.make_model(graph, opset_imports=OPSET, ir_version=IR_VERSION)


def make_validation(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    x = np.random.default_rng(11).standard_normal((200, 16)).astype(np.float32)
    y = mlp_numpy(x, w).argmax(axis=1).astype(np.int64)
    y[120:] = (y[120:] + 1) % 4
    return {"x": x, "y": y}


def make_tflite(w: dict[str, np.ndarray], path: Path) -> None:
    import litert_torch
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(w["w1"].T))
        net[0].bias.copy_(torch.from_numpy(w["b1"]))
        net[2].weight.copy_(torch.from_numpy(w["w2"].T))
        net[2].bias.copy_(torch.from_numpy(w["b2"]))
    litert_torch.convert(net.eval(), (torch.zeros(1, 16),)).export(str(path))


QUANTIZED = ("mlp_int8.onnx", "mlp_dynamic.onnx", "mlp_int8.tflite", "mlp_dynamic.tflite")


def make_quantized(x: np.ndarray) -> None:
    """Write QUANTIZED: mlp.onnx and mlp.tflite quantized static (calibrated on `x`'s first 64
    samples) and dynamic."""
    from ai_edge_quantizer import quantizer, recipe
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.calibrate import CalibrationDataReader

    samples = x[:64, None]

    class Calibration(CalibrationDataReader):
        def __init__(self) -> None:
            self.rows = iter(samples)

        def get_next(self) -> dict[str, np.ndarray] | None:
            row = next(self.rows, None)
            return None if row is None else {"x": row}

    quantize_static(HERE / "mlp.onnx", HERE / "mlp_int8.onnx", Calibration(),
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)  # fmt: skip
    quantize_dynamic(HERE / "mlp.onnx", HERE / "mlp_dynamic.onnx", weight_type=QuantType.QInt8)
    for name, scheme in (("mlp_int8.tflite", recipe.static_wi8_ai8()),
                         ("mlp_dynamic.tflite", recipe.dynamic_wi8_afp32())):  # fmt: skip
        tflite = quantizer.Quantizer(str(HERE / "mlp.tflite"))
        tflite.load_quantization_recipe(scheme)
        calibration = None
        if tflite.need_calibration:
            calibration = tflite.calibrate({"serving_default": [{"args_0": s} for s in samples]})
        (HERE / name).write_bytes(tflite.quantize(calibration).quantized_model)


def main() -> None:
    w = mlp_weights()
    models = {"mlp.onnx": make_mlp(w), "hang.onnx": make_hang(), "bloat.onnx": make_bloat()}
    for name, model in models.items():
        onnx.checker.check_model(model)
        onnx.save(model, HERE / name)
    np.savez(HERE / "valid.npz", **make_validation(w))
    make_tflite(w, HERE / "mlp.tflite")
    EXAMPLES.mkdir(exist_ok=True)
    shutil.copyfile(HERE / "mlp.onnx", EXAMPLES / "tiny_mlp.onnx")
    shutil.copyfile(HERE / "valid.npz", EXAMPLES / "tiny_mlp.npz")
    shutil.copyfile(HERE / "mlp.tflite", EXAMPLES / "tiny_mlp.tflite")
    make_quantized(make_validation(w)["x"])
    for name in QUANTIZED:
        shutil.copyfile(HERE / name, EXAMPLES / f"tiny_{name}")
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("*.[ont]*")) if p.suffix != ".py"))


if __name__ == "__main__":
    main()
