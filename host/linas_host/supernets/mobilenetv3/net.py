"""The elastic MobileNetV3 supernetwork (Once-for-All) and the plain network it extracts.

Five elastic stages follow a fixed stem and first block; each stage runs its first `depth`
blocks, each block at its own expand ratio and kernel size. The head (final 1x1 expansion,
pooling, feature mix, classifier) is fixed and scales with the width multiplier, so on small
sub-networks it does not dominate the exported file.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
from torch import nn

from linas_host.supernets.elastic import make_divisible
from linas_host.supernets.mobilenetv3.blocks import (
    ElasticInvertedResidual,
    conv_bn_act,
    depthwise_separable,
    named,
)

# Once-for-All's MobileNetV3 stages: output width, first stride, activation, squeeze-excite.
STAGE_WIDTHS = (24, 40, 80, 112, 160)
STAGE_ACTIVATIONS = ("relu", "relu", "hswish", "hswish", "hswish")
STAGE_SE = (False, True, False, True, True)


@dataclass(frozen=True)
class Architecture:
    """Constructor parameters of the supernet: what a checkpoint must be loaded into."""

    num_classes: int = 1000
    in_channels: int = 3
    width: float = 1.0
    stem_stride: int = 2
    stage_strides: tuple[int, ...] = (2, 2, 2, 1, 2)
    depths: tuple[int, ...] = (2, 3, 4)
    expand_ratios: tuple[int, ...] = (3, 4, 6)
    kernel_sizes: tuple[int, ...] = (3, 5, 7)
    head_width: int = 1280  # feature-mix channels at width 1.0
    divisor: int = 8  # channel counts are multiples of this (4 lets tiny widths stay tiny)
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Architecture:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class MobileNetV3(nn.Module):
    """A plain MobileNetV3 sub-network: standard torch layers only, exportable as is."""

    def __init__(
        self,
        first_conv: nn.Module,
        blocks: list[nn.Module],
        final_expand_layer: nn.Module,
        feature_mix_layer: nn.Module,
        classifier: nn.Module,
    ) -> None:
        super().__init__()
        self.first_conv = first_conv
        self.blocks = nn.Sequential(*blocks)
        self.final_expand_layer = final_expand_layer
        self.feature_mix_layer = feature_mix_layer
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.final_expand_layer(self.blocks(self.first_conv(x)))
        x = self.feature_mix_layer(x.mean((2, 3), keepdim=True))
        return self.classifier(x.flatten(1))


class ElasticMobileNetV3(nn.Module):
    """The supernet: `forward(x, config)` runs the sub-network `config` on shared weights.

    Its modules and state-dict keys are the reference's (`ofa`'s ``OFAMobileNetV3``):
    ``first_conv``, ``blocks.0`` (the fixed first block), ``blocks.1`` ... (stage S's block B is
    ``blocks[1 + max_depth * (S - 1) + B - 1]``), ``final_expand_layer``, ``feature_mix_layer``
    and ``classifier``.
    """

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.arch = arch
        divisor = arch.divisor
        stem_width = make_divisible(16 * arch.width, divisor)
        self.first_conv = conv_bn_act(arch.in_channels, stem_width, 3, arch.stem_stride, "hswish")
        blocks: list[nn.Module] = [depthwise_separable(stem_width, stem_width, "relu")]
        channels = stem_width
        for width, stride, act, se in zip(
            STAGE_WIDTHS, arch.stage_strides, STAGE_ACTIVATIONS, STAGE_SE, strict=True
        ):
            out = make_divisible(width * arch.width, divisor)
            blocks += [
                ElasticInvertedResidual(
                    channels if i == 0 else out,
                    out,
                    arch.expand_ratios,
                    arch.kernel_sizes,
                    stride if i == 0 else 1,
                    act,
                    se,
                    divisor,
                )
                for i in range(max(arch.depths))
            ]
            channels = out
        self.blocks = nn.ModuleList(blocks)
        final = channels * max(arch.expand_ratios)
        self.final_expand_layer = conv_bn_act(channels, final, 1, 1, "hswish")
        mix = make_divisible(arch.head_width * arch.width, divisor)
        self.feature_mix_layer = conv_bn_act(final, mix, 1, 1, "hswish", bn=False)
        self.classifier = named(
            dropout=nn.Dropout(arch.dropout), linear=nn.Linear(mix, arch.num_classes)
        )

    def active_blocks(self, config: dict):
        """(block, expand, kernel) for every elastic block the sub-network `config` runs."""
        depth = max(self.arch.depths)
        for s in range(1, len(STAGE_WIDTHS) + 1):
            for b in range(1, config[f"depth_{s}"] + 1):
                block = self.blocks[1 + depth * (s - 1) + b - 1]
                yield block, config[f"expand_{s}_{b}"], config[f"kernel_{s}_{b}"]

    def forward(self, x: torch.Tensor, config: dict) -> torch.Tensor:
        x = self.blocks[0](self.first_conv(x))
        for block, expand, kernel in self.active_blocks(config):
            x = block(x, expand, kernel)
        x = self.final_expand_layer(x)
        x = self.feature_mix_layer(x.mean((2, 3), keepdim=True))
        return self.classifier(x.flatten(1))

    def extract(self, config: dict) -> MobileNetV3:
        """The sub-network `config` as a standalone module with its sliced weights."""
        with torch.no_grad():
            blocks = [copy.deepcopy(self.blocks[0])]
            blocks += [block.extract(e, k) for block, e, k in self.active_blocks(config)]
            net = MobileNetV3(
                copy.deepcopy(self.first_conv),
                blocks,
                copy.deepcopy(self.final_expand_layer),
                copy.deepcopy(self.feature_mix_layer),
                copy.deepcopy(self.classifier),
            )
        return net.train(self.training)
