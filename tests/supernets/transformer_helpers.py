"""A small untrained Transformer supernet for fast tests (seeded, so every run sees the same
weights), and the configs the tests walk through."""

from __future__ import annotations

import torch
from linas_host.supernets.transformer import corpus as phrases
from linas_host.supernets.transformer.supernet import TransformerSupernet, build, learn_vocab

SMALL = {
    "encoder_layers": 3,
    "decoder_layers": (1, 2, 3),
    "embed": (16, 32),
    "ffn": (16, 32, 48),
    "heads": (1, 2),
    "ende": (1, 2, 3),
    "head_dim": 8,
}


def small_supernet(seed: int = 0, options: dict | None = None) -> TransformerSupernet:
    torch.manual_seed(seed)
    return build(options or SMALL, vocab=learn_vocab(phrases.load()))


def configs(supernet: TransformerSupernet, n: int = 4) -> list[dict]:
    """Both ends and `n` random sub-networks."""
    return [supernet.smallest, supernet.largest, *supernet.space.sample(1, n)]
