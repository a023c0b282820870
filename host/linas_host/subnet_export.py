"""One sub-network of a supernet as the bytes of an ONNX or TFLite file: the single place where
a search run and `linas export` call the exporters of `linas_host.export`, so both produce the
same file for the same architecture (and a model timed on a board can be shipped byte for byte).
"""

from __future__ import annotations

from typing import Any


def subnetwork_bytes(supernet: Any, config: dict, fmt: str, module: Any = None) -> bytes:
    """Export `config` (its extracted `module`, when the caller has it already) as `fmt`
    ("onnx" or "tflite")."""
    from linas_host.export import export_bytes

    module = supernet.extract(config) if module is None else module
    return export_bytes(module, supernet.example_input(config), fmt,
                        input_names=supernet.input_names, output_names=supernet.output_names)
