"""Elastic layers: one set of shared weights, any active width or kernel size, and the plain
`torch.nn` layer holding the slice a sub-network uses.

Each layer has a `forward` that runs at the active size (weights sliced on the fly, as in
Once-for-All) and an `extract` that copies the slice into a standalone module, so an extracted
sub-network carries only its own weights: the exported file shrinks with it. Parameters are
named as in the reference implementation (the `ofa` package), so a state dict of its elastic
MobileNetV3 loads into these layers key for key.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def make_divisible(value: float, divisor: int = 8) -> int:
    """`value` rounded to a multiple of `divisor`, never more than 10% below it (MobileNet)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class ElasticPointwise(nn.Module):
    """A 1x1 convolution (no bias) using the first `in` input and first `out` output channels."""

    def __init__(self, max_in: int, max_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(max_in, max_out, 1, bias=False)

    def forward(self, x: torch.Tensor, out_channels: int) -> torch.Tensor:
        return F.conv2d(x, self.conv.weight[:out_channels, : x.shape[1]])

    def extract(self, in_channels: int, out_channels: int) -> nn.Conv2d:
        conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        conv.weight.data.copy_(self.conv.weight.data[:out_channels, :in_channels])
        return conv


class ElasticDepthwise(nn.Module):
    """A depthwise convolution whose kernel shrinks from its largest size by centre crops.

    As in Once-for-All, each smaller kernel is the centre of the next larger one passed through
    a learned (size² x size²) transform, shared by all channels and initialised to the identity,
    so the small kernels need not equal the middle of the large ones. The parameters keep the
    reference's names (``conv.weight``, ``7to5_matrix``, ``5to3_matrix``), so its checkpoints
    load as they are.
    """

    def __init__(self, max_channels: int, kernel_sizes: tuple[int, ...], stride: int) -> None:
        super().__init__()
        self.kernel_sizes = tuple(sorted(kernel_sizes))
        self.stride = stride
        largest = self.kernel_sizes[-1]
        self.conv = nn.Conv2d(
            max_channels, max_channels, largest, stride, groups=max_channels, bias=False
        )
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out")
        for larger, smaller in zip(self.kernel_sizes[1:], self.kernel_sizes, strict=False):
            self.register_parameter(
                self._matrix(larger, smaller), nn.Parameter(torch.eye(smaller * smaller))
            )

    @staticmethod
    def _matrix(larger: int, smaller: int) -> str:
        return f"{larger}to{smaller}_matrix"

    def kernel(self, size: int, channels: int) -> torch.Tensor:
        weight = self.conv.weight[:channels]
        pairs = zip(self.kernel_sizes[1:], self.kernel_sizes, strict=False)
        for larger, smaller in reversed(list(pairs)):
            if larger <= size:
                break
            margin = (larger - smaller) // 2
            crop = weight[:, :, margin : margin + smaller, margin : margin + smaller]
            flat = crop.reshape(channels, smaller * smaller)
            weight = F.linear(flat, getattr(self, self._matrix(larger, smaller))).view(crop.shape)
        return weight

    def forward(self, x: torch.Tensor, kernel_size: int) -> torch.Tensor:
        weight = self.kernel(kernel_size, x.shape[1])
        return F.conv2d(x, weight, None, self.stride, kernel_size // 2, 1, x.shape[1])

    def extract(self, channels: int, kernel_size: int) -> nn.Conv2d:
        conv = nn.Conv2d(
            channels,
            channels,
            kernel_size,
            self.stride,
            kernel_size // 2,
            groups=channels,
            bias=False,
        )
        conv.weight.data.copy_(self.kernel(kernel_size, channels).detach())
        return conv


class ElasticBatchNorm(nn.Module):
    """Batch norm over the first channels of its statistics and affine parameters (held by
    an inner ``bn``, as the reference names it)."""

    def __init__(self, max_channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(max_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bn, c = self.bn, x.shape[1]
        momentum = 0.0 if bn.momentum is None else bn.momentum
        if bn.training:
            bn.num_batches_tracked.add_(1)
            if bn.momentum is None:  # cumulative average, as nn.BatchNorm2d
                momentum = 1.0 / float(bn.num_batches_tracked)
        return F.batch_norm(
            x,
            bn.running_mean[:c],
            bn.running_var[:c],
            bn.weight[:c],
            bn.bias[:c],
            bn.training,
            momentum,
            bn.eps,
        )

    def extract(self, channels: int) -> nn.BatchNorm2d:
        bn = nn.BatchNorm2d(channels, eps=self.bn.eps, momentum=self.bn.momentum)
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(bn, name).data.copy_(getattr(self.bn, name).data[:channels])
        return bn


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation with a hard sigmoid gate (MobileNetV3); ``fc.reduce`` and
    ``fc.expand`` as the reference names them."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.fc = nn.Module()
        self.fc.reduce = nn.Conv2d(channels, reduced, 1)
        self.fc.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = F.hardsigmoid(self.fc.expand(F.relu(self.fc.reduce(scale))))
        return x * scale


class ElasticSqueezeExcite(SqueezeExcite):
    """Squeeze-and-excitation whose width (and bottleneck, a quarter of it) follows the input."""

    def __init__(self, max_channels: int, divisor: int = 8) -> None:
        self.divisor = divisor
        super().__init__(max_channels, self.reduced(max_channels))

    def reduced(self, channels: int) -> int:
        return make_divisible(channels // 4, self.divisor)

    def _sliced(self, channels: int) -> tuple[torch.Tensor, ...]:
        mid, reduce, expand = self.reduced(channels), self.fc.reduce, self.fc.expand
        return (
            reduce.weight[:mid, :channels],
            reduce.bias[:mid],
            expand.weight[:channels, :mid],
            expand.bias[:channels],
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduce_w, reduce_b, expand_w, expand_b = self._sliced(x.shape[1])
        scale = F.relu(F.conv2d(F.adaptive_avg_pool2d(x, 1), reduce_w, reduce_b))
        return x * F.hardsigmoid(F.conv2d(scale, expand_w, expand_b))

    def extract(self, channels: int) -> SqueezeExcite:
        se = SqueezeExcite(channels, self.reduced(channels))
        for target, source in zip(
            (se.fc.reduce.weight, se.fc.reduce.bias, se.fc.expand.weight, se.fc.expand.bias),
            self._sliced(channels),
            strict=True,
        ):
            target.data.copy_(source.data)
        return se
