"""Export a torch module for a board: ONNX (`onnx.export_onnx`) and TFLite
(`tflite.export_tflite`, needs the ``tflite`` extra). Both return the file's bytes, and write
it too when given a path."""

from __future__ import annotations

from linas_host.export.onnx import export_onnx
from linas_host.export.tflite import export_tflite

__all__ = ["export_onnx", "export_tflite"]
