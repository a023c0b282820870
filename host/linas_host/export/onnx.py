"""ONNX export of a sub-network: one self-contained file (opset 17), on the search's hot path.

Uses torch's TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``), for three
reasons. Speed: every candidate of a search is exported once, and on torch 2.13 it exports the
demo MobileNetV3 sub-networks in 0.15 s (smallest) to 0.30 s (largest) on this 2-core machine
at light load (0.46 s to 1.07 s with it loaded, about a third of a core free), while issue 4's
trial of the dynamo exporter took about 4 s against 0.3 s. Dependencies: ``dynamo=True`` needs
``onnxscript`` (and ``onnx-ir``), which no linas extra installs (here it fails with
"No module named 'onnxscript'"). Coverage: these graphs are plain convolutions, activations
and matmuls, which the TorchScript exporter translates fully. A sub-network is far below the
2 GB protobuf limit, so the file never needs external data.

A module whose workload is a loop (a translation model decoding token by token) is not traced
whole: tracing time grows with the graph, and an unrolled decoder is many graphs. Such a module
has an ``onnx_model(example_inputs, *, input_names, output_names, dynamic_batch, opset)``
method that traces its parts with `trace` and assembles them (`translation_onnx`);
`export_onnx` calls it, so every caller still has one way to export.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import onnx
import torch

from linas_sdk.errors import InvalidArgument

OPSET = 17


def trace(
    module: torch.nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    *,
    input_names: Sequence[str],
    output_names: Sequence[str] | None,
    dynamic_axes: dict[str, dict[int, str]] | None,
    opset: int = OPSET,
) -> onnx.ModelProto:
    """`module` (in eval mode) traced on `example_inputs` by the TorchScript exporter."""
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
                input_names=list(input_names),
                output_names=list(output_names) if output_names else None,
                dynamic_axes=dynamic_axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    finally:
        module.train(was_training)
    return onnx.load_from_string(buffer.getvalue())


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
    assemble = getattr(module, "onnx_model", None)
    if assemble is not None:
        if dynamic_axes is not None:
            raise InvalidArgument(
                f"{type(module).__name__} builds its own graph: give dynamic_batch, not "
                "dynamic_axes"
            )
        model = assemble(example_inputs, input_names=inputs, output_names=outputs,
                         dynamic_batch=dynamic_batch, opset=opset)  # fmt: skip
    else:
        if dynamic_axes is None and dynamic_batch:
            dynamic_axes = {name: {0: "batch"} for name in inputs + (outputs or [])}
        model = trace(module, example_inputs, input_names=inputs, output_names=outputs,
                      dynamic_axes=dynamic_axes, opset=opset)  # fmt: skip
    data = model.SerializeToString()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    return data
