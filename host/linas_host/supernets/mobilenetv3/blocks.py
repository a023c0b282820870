"""MobileNetV3 building blocks, elastic (in the supernet) and plain (in extracted sub-networks).

The inverted residual: a 1x1 expansion to `expand x in` channels, a depthwise k x k convolution,
optional squeeze-and-excitation, a 1x1 projection, and a shortcut when shape allows.
"""

from __future__ import annotations

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


class InvertedResidual(nn.Module):
    """A plain inverted residual block, as extracted from the supernet."""

    def __init__(
        self,
        expand: nn.Module | None,
        depthwise: nn.Module,
        se: nn.Module | None,
        project: nn.Module,
        residual: bool,
    ) -> None:
        super().__init__()
        self.expand = expand if expand is not None else nn.Identity()
        self.depthwise = depthwise
        self.se = se if se is not None else nn.Identity()
        self.project = project
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.se(self.depthwise(self.expand(x))))
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
        self.expand_conv = ElasticPointwise(in_channels, max_mid)
        self.expand_bn = ElasticBatchNorm(max_mid)
        self.depthwise = ElasticDepthwise(max_mid, kernel_sizes, stride)
        self.depthwise_bn = ElasticBatchNorm(max_mid)
        self.se = ElasticSqueezeExcite(max_mid, divisor) if use_se else None
        self.project_conv = ElasticPointwise(max_mid, out_channels)
        self.project_bn = ElasticBatchNorm(out_channels)
        self.act = ACTIVATIONS[activation]()
        self.residual = stride == 1 and in_channels == out_channels

    def middle(self, expand: float) -> int:
        return make_divisible(self.in_channels * expand, self.divisor)

    def forward(self, x: torch.Tensor, expand: int, kernel: int) -> torch.Tensor:
        out = self.act(self.expand_bn(self.expand_conv(x, self.middle(expand))))
        out = self.act(self.depthwise_bn(self.depthwise(out, kernel)))
        if self.se is not None:
            out = self.se(out)
        out = self.project_bn(self.project_conv(out, self.out_channels))
        return x + out if self.residual else out

    def extract(self, expand: int, kernel: int) -> InvertedResidual:
        mid = self.middle(expand)
        act = ACTIVATIONS[self.activation]
        return InvertedResidual(
            expand=nn.Sequential(
                self.expand_conv.extract(self.in_channels, mid), self.expand_bn.extract(mid), act()
            ),
            depthwise=nn.Sequential(
                self.depthwise.extract(mid, kernel), self.depthwise_bn.extract(mid), act()
            ),
            se=None if self.se is None else self.se.extract(mid),
            project=nn.Sequential(
                self.project_conv.extract(mid, self.out_channels),
                self.project_bn.extract(self.out_channels),
            ),
            residual=self.residual,
        )


def conv_bn_act(
    in_channels: int, out_channels: int, kernel: int, stride: int, activation: str | None
) -> nn.Sequential:
    """A fixed (non-elastic) convolution, batch norm and activation."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if activation is not None:
        layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def depthwise_separable(channels: int, out_channels: int, activation: str) -> InvertedResidual:
    """MobileNetV3's first block: a 3x3 depthwise and a 1x1 projection, no expansion."""
    return InvertedResidual(
        expand=None,
        depthwise=nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False),
            nn.BatchNorm2d(channels),
            ACTIVATIONS[activation](),
        ),
        se=None,
        project=conv_bn_act(channels, out_channels, 1, 1, None),
        residual=channels == out_channels,
    )
