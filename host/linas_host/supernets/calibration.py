"""Batch-norm recalibration: a sub-network cut from a supernet inherits running statistics
gathered over many different sub-networks, which fit none of them. Re-estimating them on a few
training batches (Once-for-All, BigNAS) costs a few forward passes and restores accuracy.

Each batch norm's statistics must be those of its input as train mode makes it, every earlier
batch norm normalising by the statistics of the same batch; so the batch size is part of what
the statistics are, and the pass is one train-mode forward per batch, whose tensors are large
(a batch of 256 images at 224 px). What makes it fast is how that forward runs:

- channels-last activations, on which oneDNN's convolutions and PyTorch's batch-norm kernels
  run about twice as fast as on NCHW, under inference mode;
- activations that directly follow a batch norm in a `nn.Sequential` overwrite its output (no
  one else can see that tensor) instead of allocating another;
- glibc keeps the blocks freed during the pass for the next layers (`_freed_blocks_kept`),
  where it would return each to the kernel and take fresh, zeroed pages for the next: those
  page faults cost more than the computation.

benchmarks/RESULTS.md (issue 26) has the pass measured and profiled, and an alternative that
lost: the statistics computed by onnxruntime on the exported train-mode graph.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import platform
import sys
import threading
from collections.abc import Iterator

import torch
from torch import nn

# glibc's mallopt parameters (malloc.h) and what they are set back to after the pass: the
# mmap threshold and trim threshold its dynamic rule settles at once a process has freed a
# block of 32 MiB or more (any torch process working on images), and the default mmap count.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_SETTLED = {_M_MMAP_THRESHOLD: 32 << 20, _M_TRIM_THRESHOLD: 64 << 20, _M_MMAP_MAX: 65536}


def recalibrate_batchnorm(module: nn.Module, images: torch.Tensor, batch_size: int = 256) -> None:
    """Reset every batch norm's statistics in `module` to their average over the batches of
    `batch_size` of `images` (what a train-mode pass with momentum None leaves), in one
    forward pass over the images."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the calibration batches
    overwriting = _after_batch_norm(module)
    layout = torch.channels_last if images.dim() == 4 else torch.contiguous_format
    was_training = module.training
    module.train()
    try:
        for activation in overwriting:
            activation.inplace = True
        with torch.inference_mode(), _freed_blocks_kept():
            for batch in images.split(batch_size):
                module(batch.contiguous(memory_format=layout))
    finally:
        for activation in overwriting:
            activation.inplace = False
        for norm, momentum in zip(norms, saved, strict=True):
            norm.momentum = momentum
        module.train(was_training)


def _after_batch_norm(module: nn.Module) -> list[nn.Module]:
    """The layers with an ``inplace`` switch, off, that directly follow a batch norm in an
    `nn.Sequential`: their input is the batch norm's output, which nothing else reads."""
    found = []
    for sequence in module.modules():
        if isinstance(sequence, nn.Sequential):
            for previous, layer in itertools.pairwise(sequence):
                if (isinstance(previous, nn.modules.batchnorm._BatchNorm)
                        and getattr(layer, "inplace", None) is False):
                    found.append(layer)
    return found


@contextlib.contextmanager
def _freed_blocks_kept() -> Iterator[None]:
    """glibc serves blocks above its mmap threshold (at most 32 MiB) by mmap and unmaps them
    when freed, so the next such block is fresh memory the kernel zeroes page by page: at 224 px
    the pass's page faults cost more than its arithmetic. While the pass runs, freed blocks
    stay in the heap; afterwards the settled thresholds are set back and the heap is trimmed,
    so the process holds no more memory than before. Only the main thread allocates from the
    heap these settings govern; elsewhere (another thread, another C library) nothing is
    changed."""
    libc = _glibc() if threading.current_thread() is threading.main_thread() else None
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_MAX, 0)
    libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    try:
        yield
    finally:
        for parameter, value in _SETTLED.items():
            libc.mallopt(parameter, value)
        libc.malloc_trim(0)


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return None
    return ctypes.CDLL(None)
