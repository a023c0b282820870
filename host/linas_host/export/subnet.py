"""One sub-network of a supernet as the bytes of an ONNX or TFLite file: the single place where
a search run and `linas export` call the exporters of `linas_host.export`, so both produce the
same file for the same architecture (and a model timed on a board can be shipped byte for byte).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from linas_host.export.quantize import Quantization, quantize
from linas_host.export.stages import operator_names, stage_operators
from linas_sdk.errors import InvalidArgument


def subnetwork_bytes(supernet: Any, config: dict, fmt: str, module: Any = None) -> bytes:
    """Export `config` (its extracted `module`, when the caller has it already) as `fmt`
    ("onnx" or "tflite")."""
    module = supernet.extract(config) if module is None else module
    inputs = supernet.example_input(config)
    if fmt == "tflite":
        from linas_host.export.tflite import export_tflite

        return export_tflite(module, inputs)
    from linas_host.export.onnx import export_onnx

    return export_onnx(module, inputs, input_names=supernet.input_names,
                       output_names=supernet.output_names)


class Exporter:
    """The host work's export: (extracted module, config) -> the candidate's file as `fmt`,
    quantized to int8 when `quantization` is given (static: calibrated on the supernet's
    `calibration_arrays`, `calibration_samples` of them). A supernet with precision genes
    (`stage_precisions`, `precision: mixed`: `linas_host.supernets.precision`) has only its
    int8 stages quantized, the float stages' operators excluded: every stage in float is the
    FP32 file, every stage in int8 the `precision: int8` file. It pickles (the host work is
    shipped to Ray workers), without the calibration hashes made in this process."""

    def __init__(self, supernet: Any, fmt: str, quantization: Quantization | None = None,
                 calibration_samples: int = 256) -> None:
        self.supernet, self.fmt = supernet, fmt
        self.quantization, self.calibration_samples = quantization, calibration_samples
        self._hashes: dict[tuple, str] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_hashes": {}}

    def stages(self, config: dict) -> dict[str, str] | None:
        """Each stage's precision (fp32 or int8) at `config` when the precision is chosen by
        stage, else None."""
        by_stage = getattr(self.supernet, "stage_precisions", None)
        return None if self.quantization is None or by_stage is None else by_stage(config)

    def precision(self, config: dict) -> str:
        """What the file of `config` is: fp32, int8, or mixed (some stages in int8)."""
        if self.quantization is None:
            return "fp32"
        stages = self.stages(config)
        if stages is None:
            return "int8"
        chosen = set(stages.values())
        return chosen.pop() if len(chosen) == 1 else "mixed"

    def __call__(self, module: Any, config: dict) -> bytes:
        data = subnetwork_bytes(self.supernet, config, self.fmt, module)
        precision = self.precision(config)
        if precision == "fp32":
            return data
        keep_float: list[str] = []
        if precision == "mixed":
            owned = stage_operators(operator_names(data, self.fmt),
                                    self.supernet.stage_operators(config, self.fmt))
            keep_float = [name for stage, chosen in self.stages(config).items()
                          if chosen == "fp32" for name in owned[stage]]
        return quantize(data, self.fmt, self.quantization, self.calibration(config), keep_float)

    def calibration(self, config: dict) -> dict[str, np.ndarray] | None:
        """The calibration inputs for the sub-network at `config` (None: dynamic or fp32),
        checked against the inputs it takes."""
        if self.quantization is None or self.quantization.scheme != "static":
            return None
        arrays = self.supernet.calibration_arrays(self.calibration_samples, config)
        expected = [tuple(t.shape[1:]) for t in self.supernet.example_input(config)]
        given = [tuple(a.shape[1:]) for k, a in arrays.items() if k != "y"]
        if given != expected:
            raise InvalidArgument(
                f"the calibration images have the shape {given} per sample; the sub-network "
                f"takes {expected}: expected calibration images like the validation images")
        return arrays

    def calibration_sha256(self, config: dict) -> str:
        """The hash of the calibration set `config`'s sub-network is quantized with ("" for
        none), made once per input shape."""
        shape = tuple(tuple(t.shape[1:]) for t in self.supernet.example_input(config))
        if shape not in self._hashes:
            arrays = self.calibration(config)
            digest = hashlib.sha256()
            for name in sorted(arrays or {}):
                digest.update(name.encode())
                digest.update(np.ascontiguousarray(arrays[name]).tobytes())
            self._hashes[shape] = digest.hexdigest() if arrays else ""
        return self._hashes[shape]
