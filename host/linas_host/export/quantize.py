"""int8 candidates: an exported FP32 file quantized after training, before it is measured, by
the toolchain of its runtime, so the file a board times is the file the user ships.

- ONNX, static: onnxruntime's quantizer, QDQ format, int8 weights per channel and uint8
  activations, calibrated on the given images (MinMax). Inputs and outputs stay float.
- TFLite, static: ai-edge-quantizer's full-integer recipe (int8 weights and activations),
  calibrated on the same images as its representative dataset (each tensor's range its min
  and max over them, as MinMax takes it); inputs and outputs are int8 with `integer_io`,
  else float with a quantize and a dequantize op at the edges.
- Dynamic (a model whose work is its linear layers, the Transformer): int8 weights of its
  matrix products, activations quantized at run time; no calibration.

Operators named in `keep_float` (`precision: mixed`: the float stages' operators, named as
`linas_host.export.stages.operator_names` gives them) stay float through the quantizer's own
exclusion list: onnxruntime's ``nodes_to_exclude``, an ai-edge-quantizer ``NO_QUANTIZE``
config for exactly their scopes.

A quantizer's failure (an operator it cannot take) is the candidate's `ModelError`, so the
record says so and the search goes on.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linas_sdk.errors import InvalidArgument, ModelError

SCHEMES = ("static", "dynamic")
STATIC_ACTIVATIONS = {"onnx": "uint8", "tflite": "int8"}
"""The activations' type of a static int8 file by format (`_onnx` says why ONNX's are uint8)."""
CALIBRATION_BATCH = 32


class _PreProcessAdvice(logging.Filter):
    """Drops the advice onnxruntime's quantizer logs on the root logger for every file, to run
    its `quant_pre_process` first: the exporter's graph is already folded, and pre-processing
    changed neither latency nor the top-1 drop beyond noise (benchmarks/RESULTS.md)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not ("onnxruntime" in record.pathname and "pre-process" in record.getMessage())


_ADVICE = _PreProcessAdvice()


@dataclass(frozen=True)
class Quantization:
    """How a candidate is quantized: `scheme` static or dynamic, int8 weights per channel
    (`per_channel`), and integer inputs and outputs (`integer_io`, TFLite only)."""

    scheme: str = "static"
    per_channel: bool = True
    integer_io: bool = False

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise InvalidArgument(f"quantization scheme {self.scheme!r}: expected one of "
                                  f"{list(SCHEMES)}")

    def to_dict(self) -> dict:
        return {"scheme": self.scheme, "per_channel": self.per_channel,
                "integer_io": self.integer_io}


def quantize(model: bytes, fmt: str, quantization: Quantization,
             calibration: Mapping[str, np.ndarray] | None = None,
             keep_float: Collection[str] = ()) -> bytes:
    """The int8 file of the FP32 file `model` (format `fmt`: onnx or tflite), the operators
    named in `keep_float` left in float. A static scheme needs `calibration`: the model's
    inputs by name (a single input may go by any name)."""
    if quantization.scheme == "static" and not calibration:
        raise InvalidArgument("static int8 quantization needs calibration images")
    try:
        if fmt == "onnx":
            return _onnx(model, quantization, calibration, sorted(keep_float))
        if fmt == "tflite":
            return _tflite(model, quantization, calibration, sorted(keep_float))
    except (InvalidArgument, ModelError):
        raise
    except Exception as error:  # the quantizers raise their own classes for ops they refuse
        raise ModelError(f"int8 quantization of the {fmt} file failed: {error}") from error
    raise InvalidArgument(f"unknown model format {fmt!r}; expected onnx or tflite")


def _onnx(model: bytes, quantization: Quantization,
          calibration: Mapping[str, np.ndarray] | None, keep_float: list[str]) -> bytes:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self, batches: Iterator[dict[str, np.ndarray]]) -> None:
            self.batches = batches

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    logging.getLogger().addFilter(_ADVICE)  # once: a filter is added only if absent
    with tempfile.TemporaryDirectory(prefix="linas-int8-") as folder:
        source, target = Path(folder, "fp32.onnx"), Path(folder, "int8.onnx")
        source.write_bytes(model)
        if quantization.scheme == "dynamic":
            quantize_dynamic(source, target, weight_type=QuantType.QInt8,
                             per_channel=quantization.per_channel,
                             op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=keep_float)
        else:
            names = _onnx_inputs(model)
            # uint8 activations with int8 weights: onnxruntime's fast path on x86 (VNNI
            # multiplies unsigned by signed bytes); with int8 activations OFA w1.0's largest
            # sub-network ran 2.6x slower than FP32 here, with uint8 as fast (RESULTS.md).
            quantize_static(source, target, Reader(_batches(calibration, names)),
                            quant_format=QuantFormat.QDQ, per_channel=quantization.per_channel,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=keep_float)
        return target.read_bytes()


def _onnx_inputs(model: bytes) -> list[str]:
    import onnx

    graph = onnx.load_from_string(model).graph
    initialised = {i.name for i in graph.initializer}
    return [i.name for i in graph.input if i.name not in initialised]


def _tflite(model: bytes, quantization: Quantization,
            calibration: Mapping[str, np.ndarray] | None, keep_float: list[str]) -> bytes:
    from ai_edge_quantizer import calibrator, qtyping, quantizer, recipe, recipe_manager
    from ai_edge_quantizer.algorithm_manager import AlgorithmName
    from ai_edge_quantizer.utils import qsv_utils

    engine = quantizer.Quantizer(model)
    recipes = recipe_manager.RecipeManager()
    if quantization.scheme == "dynamic":
        recipes.load_quantization_recipe(recipe.dynamic_wi8_afp32())
    else:
        recipes.add_static_config(
            regex=".*", operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
            activation_num_bits=8, weight_num_bits=8,
            algorithm_key=AlgorithmName.MIN_MAX_UNIFORM_QUANT)
        if not quantization.integer_io:
            for edge in (qtyping.TFLOperationName.INPUT, qtyping.TFLOperationName.OUTPUT):
                recipes.add_quantization_config(regex=".*", operation_name=edge,
                                                algorithm_key=AlgorithmName.NO_QUANTIZE)
    if keep_float:  # the last config a scope matches wins: exactly these ops stay float
        recipes.add_quantization_config(
            regex="^(?:" + "|".join(re.escape(name) for name in keep_float) + ")$",
            operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
            algorithm_key=AlgorithmName.NO_QUANTIZE)
    engine.load_quantization_recipe(recipes.get_quantization_recipe())
    if quantization.scheme == "dynamic":
        return bytes(engine.quantize().quantized_model)
    (signature, names), = _tflite_inputs(model).items()
    samples = list(_batches(calibration, names, size=1))  # a TFLite file fixes batch 1
    # Each tensor's range is its min and max over all the images, as onnxruntime's MinMax
    # takes it. `Quantizer.calibrate` keeps a moving average of each image's range instead,
    # which clips what the rest of the images reach: 4-11 points of top-1 on the bundled
    # supernet at 8 and at 16 activation bits alike (benchmarks/RESULTS.md, issue 28).
    ranges = calibrator.Calibrator(model, num_threads=os.cpu_count() or 1,
                                   qsv_update_func=qsv_utils.min_max_update)
    ranges.calibrate({signature: samples}, recipes)
    return bytes(engine.quantize(ranges.get_model_qsvs()).quantized_model)


def _tflite_inputs(model: bytes) -> dict[str, list[str]]:
    """The model's one signature and its input names, in order."""
    from ai_edge_litert.interpreter import Interpreter

    signatures = Interpreter(model_content=model).get_signature_list()
    if len(signatures) != 1:
        raise ModelError(f"expected a TFLite file with one signature, got {sorted(signatures)}")
    return {name: list(spec["inputs"]) for name, spec in signatures.items()}


def _batches(calibration: Mapping[str, np.ndarray], names: list[str],
             size: int = CALIBRATION_BATCH) -> Iterator[dict[str, np.ndarray]]:
    """The calibration images as feeds of `size` samples for the model's inputs `names` (a
    single input takes the only array, whatever its name)."""
    arrays = {k: v for k, v in calibration.items() if k != "y"}
    if len(names) == 1 and names[0] not in arrays and len(arrays) == 1:
        arrays = {names[0]: next(iter(arrays.values()))}
    missing = sorted(set(names) - set(arrays))
    if missing:
        raise InvalidArgument(f"calibration images for inputs {missing} are missing; given "
                              f"{sorted(arrays)}")
    n = len(arrays[names[0]])
    for start in range(0, n, size):
        yield {name: np.ascontiguousarray(arrays[name][start:start + size], dtype=np.float32)
               for name in names}
