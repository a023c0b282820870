"""Batch-norm recalibration: a sub-network cut from a supernet inherits running statistics
gathered over many different sub-networks, which fit none of them. Re-estimating them on a few
training batches (Once-for-All, BigNAS) costs a few forward passes and restores accuracy."""

from __future__ import annotations

import torch
from torch import nn


def recalibrate_batchnorm(module: nn.Module, images: torch.Tensor, batch_size: int = 256) -> None:
    """Reset every batch norm's statistics in `module` to their average over `images`."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the calibration batches
    was_training = module.training
    module.train()
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            module(images[start : start + batch_size])
    for norm, momentum in zip(norms, saved, strict=True):
        norm.momentum = momentum
    module.train(was_training)
