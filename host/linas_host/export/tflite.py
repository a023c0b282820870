"""TFLite (LiteRT) export through litert-torch, the PyTorch-to-LiteRT converter.

litert-torch is an optional extra (``pip install linas-sdk[tflite]``): it pulls in a large
stack (JAX, the LiteRT converter), so it is imported only when a TFLite file is asked for.
Conversion goes through torch.export and takes seconds, much longer than ONNX export; the
inputs keep PyTorch's layout (NCHW), and litert-torch inserts the transposes.
"""

from __future__ import annotations

from pathlib import Path

import torch

from linas_sdk._imports import require
from linas_sdk.errors import InvalidArgument


def export_tflite(
    module: torch.nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    *,
    path: str | Path | None = None,
) -> bytes:
    """The TFLite flatbuffer of `module` (run in eval mode) for inputs shaped like
    `example_inputs` (shapes are fixed), as bytes; also written to `path` if given."""
    if not isinstance(example_inputs, tuple):
        raise InvalidArgument(
            f"example_inputs must be a tuple of tensors, got {type(example_inputs).__name__}"
        )
    litert_torch = require("litert_torch", "tflite")
    was_training = module.training
    module.eval()
    try:
        model = litert_torch.convert(module, example_inputs)
    finally:
        module.train(was_training)
    data = bytes(model.model_content())
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    return data
