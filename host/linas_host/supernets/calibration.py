"""Batch-norm recalibration: a sub-network cut from a supernet inherits running statistics
gathered over many different sub-networks, which fit none of them. Re-estimating them on a few
training batches (Once-for-All, BigNAS) costs a few forward passes and restores accuracy.

Each batch norm's statistics must be those of its input as train mode makes it, every earlier
batch norm normalising by the statistics of the same batch; so the batch size is part of what
the statistics are, and the pass is one train-mode forward per batch. What makes it fast is
how that forward runs: channels-last activations (oneDNN's convolutions and PyTorch's batch-norm
kernels are several times faster on them than on NCHW) under inference mode. The alternatives
measured (batch statistics gathered by hooks in eval mode, the statistics graph run by
onnxruntime, ...) are in benchmarks/RESULTS.md, issue 26.
"""

from __future__ import annotations

import torch
from torch import nn


def recalibrate_batchnorm(module: nn.Module, images: torch.Tensor, batch_size: int = 256) -> None:
    """Reset every batch norm's statistics in `module` to their average over the batches of
    `batch_size` of `images` (what a train-mode pass with momentum None leaves), in one
    forward pass over the images."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the calibration batches
    layout = torch.channels_last if images.dim() == 4 else torch.contiguous_format
    was_training = module.training
    module.train()
    try:
        with torch.inference_mode():
            for batch in images.split(batch_size):
                module(batch.contiguous(memory_format=layout))
    finally:
        for norm, momentum in zip(norms, saved, strict=True):
            norm.momentum = momentum
        module.train(was_training)
