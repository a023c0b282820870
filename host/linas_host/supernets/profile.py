"""MACs and parameters of a module, counted by forward hooks (no extra dependency).

Counts the multiply-accumulates of convolutions and linear layers, which dominate a CNN's or
Transformer's projections; element-wise work (activations, batch norm, pooling) is left out,
as in the MAC figures of the MobileNet and Once-for-All papers.
"""

from __future__ import annotations

import torch
from torch import nn


def count_params(module: nn.Module) -> int:
    """Parameters of `module` (trainable or not; buffers such as BN statistics excluded)."""
    return sum(p.numel() for p in module.parameters())


def count_macs(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> int:
    """Multiply-accumulates of one forward pass of `module` on `inputs`, per sample in the
    batch (the first dimension of the first input)."""
    total = 0

    def conv_hook(layer: nn.Conv2d, _args, output: torch.Tensor) -> None:
        nonlocal total
        kernel = layer.kernel_size[0] * layer.kernel_size[1]
        total += output.numel() * (layer.in_channels // layer.groups) * kernel

    def linear_hook(layer: nn.Linear, _args, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * layer.in_features

    handles = []
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            handles.append(layer.register_forward_hook(conv_hook))
        elif isinstance(layer, nn.Linear):
            handles.append(layer.register_forward_hook(linear_hook))
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return total // max(1, inputs[0].shape[0])
