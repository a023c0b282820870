"""ONNX export of a sub-network: one self-contained file (opset 17), on the search's hot path.

Uses torch's TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``). On torch
2.13 it exports a MobileNetV3 sub-network in a fraction of a second, while the dynamo exporter
(``dynamo=True``, torch.export + onnxscript) takes several seconds for the same module and
graph — measured in docs/supernets.md — and every candidate of a search is exported once, so
the older exporter keeps export well under the 1 s budget. The graphs are plain convolutions,
activations and matmuls, which both exporters translate alike. Small models never need external
data (a single file is written only under 2 GB, which a sub-network never approaches);
`export_onnx` checks that the result is one self-contained file.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from linas_sdk.errors import InvalidArgument

OPSET = 17


def export_onnx(
    module: torch.nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    *,
    path: str | Path | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: dict[str, dict[int, str]] | None = None,
    dynamic_batch: bool = True,
    opset: int = OPSET,
) -> bytes:
    """The ONNX file of `module` (run in eval mode) traced on `example_inputs`, as bytes;
    also written to `path` if given. With `dynamic_batch` the first dimension of every input
    and output is symbolic, so a validation set can run in batches; `dynamic_axes` overrides
    that with an explicit mapping (the exporter's own format)."""
    if opset < OPSET:
        raise InvalidArgument(f"ONNX opset {opset} is too old: expected {OPSET} or newer")
    if not isinstance(example_inputs, tuple):
        raise InvalidArgument(
            f"example_inputs must be a tuple of tensors, got {type(example_inputs).__name__}"
        )
    inputs = list(input_names or [f"input_{i}" for i in range(len(example_inputs))])
    outputs = list(output_names) if output_names else None
    if dynamic_axes is None and dynamic_batch:
        dynamic_axes = {name: {0: "batch"} for name in inputs + (outputs or [])}
    was_training = module.training
    module.eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # The TorchScript exporter is deprecated in favour of dynamo; the choice is
            # deliberate (see the module docstring), so its warning is not the user's concern.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            torch.onnx.export(
                module,
                example_inputs,
                buffer,
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=dynamic_axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    finally:
        module.train(was_training)
    data = buffer.getvalue()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    return data
