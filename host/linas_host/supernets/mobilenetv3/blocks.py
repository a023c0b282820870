"""MobileNetV3 building blocks, elastic (in the supernet) and plain (in extracted sub-networks).

The inverted residual: a 1x1 expansion to `expand x in` channels, a depthwise k x k convolution,
optional squeeze-and-excitation, a 1x1 projection, and a shortcut when shape allows. Both kinds
name their parts as Once-for-All does (``conv.inverted_bottleneck``, ``conv.depth_conv``,
``conv.point_linear``, each with its ``conv`` and ``bn``), so the reference's checkpoints load
into the supernet key for key.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from linas_host.supernets.elastic import (
    ElasticBatchNorm,
    ElasticDepthwise,
    ElasticPointwise,
    ElasticSqueezeExcite,
    make_divisible,
)

ACTIVATIONS = {"relu": nn.ReLU, "hswish": nn.Hardswish}


def named(**layers: nn.Module | None) -> nn.Sequential:
    """A sequence of layers under these names (None left out)."""
    return nn.Sequential(OrderedDict((k, v) for k, v in layers.items() if v is not None))


class InvertedResidual(nn.Module):
    """A plain inverted residual block, as extracted from the supernet (no expansion when
    `inverted_bottleneck` is None: MobileNetV3's first block)."""

    def __init__(
        self,
        inverted_bottleneck: nn.Module | None,
        depth_conv: nn.Module,
        point_linear: nn.Module,
        residual: bool,
    ) -> None:
        super().__init__()
        self.conv = nn.Module()
        self.conv.inverted_bottleneck = (
            nn.Identity() if inverted_bottleneck is None else inverted_bottleneck
        )
        self.conv.depth_conv = depth_conv
        self.conv.point_linear = point_linear
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layers = self.conv
        out = layers.point_linear(layers.depth_conv(layers.inverted_bottleneck(x)))
        return x + out if self.residual else out


class ElasticInvertedResidual(nn.Module):
    """An inverted residual block with an elastic expand ratio and kernel size.

    The middle width is `make_divisible(in * expand)`; a sub-network's block uses the first
    that many channels of the shared expansion, depthwise and projection weights.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expand_ratios: tuple[int, ...],
        kernel_sizes: tuple[int, ...],
        stride: int,
        activation: str,
        use_se: bool,
        divisor: int = 8,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.divisor, self.activation = divisor, activation
        max_mid = self.middle(max(expand_ratios))
        self.conv = nn.Module()
        self.conv.inverted_bottleneck = nn.ModuleDict(
            {"conv": ElasticPointwise(in_channels, max_mid), "bn": ElasticBatchNorm(max_mid)}
        )
        depth_conv = {
            "conv": ElasticDepthwise(max_mid, kernel_sizes, stride),
            "bn": ElasticBatchNorm(max_mid),
        }
        if use_se:
            depth_conv["se"] = ElasticSqueezeExcite(max_mid, divisor)
        self.conv.depth_conv = nn.ModuleDict(depth_conv)
        self.conv.point_linear = nn.ModuleDict(
            {"conv": ElasticPointwise(max_mid, out_channels), "bn": ElasticBatchNorm(out_channels)}
        )
        self.act = ACTIVATIONS[activation]()
        self.residual = stride == 1 and in_channels == out_channels

    def middle(self, expand: float) -> int:
        return make_divisible(round(self.in_channels * expand), self.divisor)

    def forward(self, x: torch.Tensor, expand: int, kernel: int) -> torch.Tensor:
        expansion, depth, point = (
            self.conv.inverted_bottleneck,
            self.conv.depth_conv,
            self.conv.point_linear,
        )
        out = self.act(expansion["bn"](expansion["conv"](x, self.middle(expand))))
        out = self.act(depth["bn"](depth["conv"](out, kernel)))
        if "se" in depth:
            out = depth["se"](out)
        out = point["bn"](point["conv"](out, self.out_channels))
        return x + out if self.residual else out

    def extract(self, expand: int, kernel: int) -> InvertedResidual:
        mid = self.middle(expand)
        act = ACTIVATIONS[self.activation]
        expansion, depth, point = (
            self.conv.inverted_bottleneck,
            self.conv.depth_conv,
            self.conv.point_linear,
        )
        return InvertedResidual(
            inverted_bottleneck=named(
                conv=expansion["conv"].extract(self.in_channels, mid),
                bn=expansion["bn"].extract(mid),
                act=act(),
            ),
            depth_conv=named(
                conv=depth["conv"].extract(mid, kernel),
                bn=depth["bn"].extract(mid),
                act=act(),
                se=depth["se"].extract(mid) if "se" in depth else None,
            ),
            point_linear=named(
                conv=point["conv"].extract(mid, self.out_channels),
                bn=point["bn"].extract(self.out_channels),
            ),
            residual=self.residual,
        )


def conv_bn_act(
    in_channels: int,
    out_channels: int,
    kernel: int,
    stride: int,
    activation: str | None,
    *,
    bn: bool = True,
) -> nn.Sequential:
    """A fixed (non-elastic) convolution, batch norm (unless `bn` is False) and activation."""
    return named(
        conv=nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        bn=nn.BatchNorm2d(out_channels) if bn else None,
        act=ACTIVATIONS[activation]() if activation is not None else None,
    )


def depthwise_separable(channels: int, out_channels: int, activation: str) -> InvertedResidual:
    """MobileNetV3's first block: a 3x3 depthwise and a 1x1 projection, no expansion."""
    depthwise = nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False)
    return InvertedResidual(
        inverted_bottleneck=None,
        depth_conv=named(
            conv=depthwise, bn=nn.BatchNorm2d(channels), act=ACTIVATIONS[activation]()
        ),
        point_linear=conv_bn_act(channels, out_channels, 1, 1, None),
        residual=channels == out_channels,
    )
