"""One sub-network of a supernet as the bytes of an ONNX or TFLite file: the single place where
a search run and `linas export` call the exporters of `linas_host.export`, so both produce the
same file for the same architecture (and a model timed on a board can be shipped byte for byte).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any


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


def exporter(supernet: Any, fmt: str) -> Callable[[Any, dict], bytes]:
    """The host work's export: (extracted module, config) -> the sub-network's file as `fmt`.
    It pickles (the host work is shipped to Ray workers)."""
    return partial(_export, supernet, fmt)


def _export(supernet: Any, fmt: str, module: Any, config: dict) -> bytes:
    return subnetwork_bytes(supernet, config, fmt, module)
