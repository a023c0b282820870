"""Elastic layers: one set of shared weights, any active width or kernel size, and the plain
`torch.nn` layer holding the slice a sub-network uses.

Each layer has a `forward` that runs at the active size (weights sliced on the fly, as in
Once-for-All) and an `extract` that copies the slice into a standalone module, so an extracted
sub-network carries only its own weights: the exported file shrinks with it.
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
    """A 1x1 convolution using the first `in` input and first `out` output channels."""

    def __init__(self, max_in: int, max_out: int, bias: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(max_in, max_out, 1, bias=bias)

    def forward(self, x: torch.Tensor, out_channels: int) -> torch.Tensor:
        weight = self.conv.weight[:out_channels, : x.shape[1]]
        bias = None if self.conv.bias is None else self.conv.bias[:out_channels]
        return F.conv2d(x, weight, bias)

    def extract(self, in_channels: int, out_channels: int) -> nn.Conv2d:
        conv = nn.Conv2d(in_channels, out_channels, 1, bias=self.conv.bias is not None)
        conv.weight.data.copy_(self.conv.weight.data[:out_channels, :in_channels])
        if conv.bias is not None:
            conv.bias.data.copy_(self.conv.bias.data[:out_channels])
        return conv


class ElasticDepthwise(nn.Module):
    """A depthwise convolution whose kernel shrinks from its largest size by centre crops.

    As in Once-for-All, each smaller kernel is the centre of the next larger one passed through
    a learned (size² x size²) transform, shared by all channels and initialised to the identity,
    so the small kernels need not equal the middle of the large ones.
    """

    def __init__(self, max_channels: int, kernel_sizes: tuple[int, ...], stride: int) -> None:
        super().__init__()
        self.kernel_sizes = tuple(sorted(kernel_sizes))
        self.stride = stride
        largest = self.kernel_sizes[-1]
        self.weight = nn.Parameter(torch.empty(max_channels, 1, largest, largest))
        nn.init.kaiming_normal_(self.weight, mode="fan_out")
        self.transforms = nn.ParameterDict(
            {f"{k}": nn.Parameter(torch.eye(k * k)) for k in self.kernel_sizes[:-1]}
        )

    def kernel(self, size: int, channels: int) -> torch.Tensor:
        weight = self.weight[:channels]
        for current in reversed(self.kernel_sizes[:-1]):
            if current < size:
                break
            margin = (weight.shape[-1] - current) // 2
            crop = weight[:, :, margin : margin + current, margin : margin + current]
            flat = crop.reshape(channels, current * current)
            weight = F.linear(flat, self.transforms[f"{current}"]).view(crop.shape)
        return weight

    def forward(self, x: torch.Tensor, kernel_size: int) -> torch.Tensor:
        weight = self.kernel(kernel_size, x.shape[1])
        return F.conv2d(x, weight, None, self.stride, kernel_size // 2, 1, x.shape[1])

    def extract(self, channels: int, kernel_size: int) -> nn.Conv2d:
        conv = nn.Conv2d(
            channels, channels, kernel_size, self.stride, kernel_size // 2,
            groups=channels, bias=False,
        )
        conv.weight.data.copy_(self.kernel(kernel_size, channels).detach())
        return conv


class ElasticBatchNorm(nn.BatchNorm2d):
    """Batch norm over the first channels of its statistics and affine parameters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative average, as nn.BatchNorm2d
                momentum = 1.0 / float(self.num_batches_tracked)
        return F.batch_norm(
            x, self.running_mean[:c], self.running_var[:c], self.weight[:c], self.bias[:c],
            self.training, momentum, self.eps,
        )

    def extract(self, channels: int) -> nn.BatchNorm2d:
        bn = nn.BatchNorm2d(channels, eps=self.eps, momentum=self.momentum)
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(bn, name).data.copy_(getattr(self, name).data[:channels])
        return bn


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation with a hard sigmoid gate (MobileNetV3)."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = F.hardsigmoid(self.expand(F.relu(self.reduce(scale))))
        return x * scale


class ElasticSqueezeExcite(nn.Module):
    """Squeeze-and-excitation whose width (and bottleneck, a quarter of it) follows the input."""

    def __init__(self, max_channels: int, divisor: int = 8) -> None:
        super().__init__()
        self.divisor = divisor
        self.reduce = ElasticPointwise(max_channels, self.reduced(max_channels), bias=True)
        self.expand = ElasticPointwise(self.reduced(max_channels), max_channels, bias=True)

    def reduced(self, channels: int) -> int:
        return make_divisible(channels / 4, self.divisor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        scale = F.relu(self.reduce(F.adaptive_avg_pool2d(x, 1), self.reduced(c)))
        return x * F.hardsigmoid(self.expand(scale, c))

    def extract(self, channels: int) -> SqueezeExcite:
        se = SqueezeExcite(channels, self.reduced(channels))
        se.reduce = self.reduce.extract(channels, self.reduced(channels))
        se.expand = self.expand.extract(self.reduced(channels), channels)
        return se
