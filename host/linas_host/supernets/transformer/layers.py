"""Elastic Transformer building blocks: each layer runs at any width up to the one it was built
with, using the leading slice of its weights (a prefix of the rows and columns).

Because every elastic dimension is a prefix, a sub-network is the same network built at the
smaller sizes with the sliced weights copied in: `TransformerNet` serves both as the
supernetwork (built at the largest sizes, run with a smaller `Arch`) and as the standalone
extracted sub-network (built at the sub-network's sizes, run at its own `Arch`, where no slicing
happens). Attention heads have a fixed width (`head_dim`); choosing fewer heads keeps the first
ones, so fewer heads means narrower projections, smaller files and fewer MACs.

Layers are pre-norm (LayerNorm before each block), which trains stably at these depths without
warm-up tricks; positions are learned embeddings, sliced like the token embeddings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

_NEG = -1e9  # added to attention scores to hide a key; finite, so a fully hidden row stays finite

# What one decoder layer reads of the encoder: its cross-attention keys and values of the
# memory, each (batch * heads, memory positions, head_dim) with each sentence's heads in a run
# of rows, and the additive memory mask (batch, 1, 1, memory positions).
LayerMemory = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Arch:
    """The active sizes of one sub-network; per-layer tuples have one entry per active layer.

    `decoder_ende[i]` is how many of the last encoder layers decoder layer i attends to
    (HAT's arbitrary encoder-decoder attention): their outputs are concatenated in time.
    """

    encoder_embed: int
    encoder_ffn: tuple[int, ...]
    encoder_heads: tuple[int, ...]
    decoder_embed: int
    decoder_ffn: tuple[int, ...]
    decoder_self_heads: tuple[int, ...]
    decoder_cross_heads: tuple[int, ...]
    decoder_ende: tuple[int, ...]


class Linear(nn.Linear):
    """A linear layer that reads as many inputs as `x` has and yields `out` outputs."""

    def forward(self, x: torch.Tensor, out: int | None = None) -> torch.Tensor:
        out = self.out_features if out is None else out
        weight, bias = self.weight, self.bias
        if (out, x.shape[-1]) != tuple(weight.shape):
            weight, bias = weight[:out, : x.shape[-1]], bias[:out]
        return F.linear(x, weight, bias)


class LayerNorm(nn.LayerNorm):
    """Layer normalisation over the first `x.shape[-1]` features."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x.shape[-1]
        if d == self.weight.shape[0]:  # no slicing: a plain layer norm, as exported
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return F.layer_norm(x, (d,), self.weight[:d], self.bias[:d], self.eps)


class Attention(nn.Module):
    """Multi-head attention whose query width, key width and head count are elastic.

    Keys and values are projected apart from the rest (`keys_values`), so a decoder can project
    the encoder's output once per sentence and `attend` to it at every step.
    """

    def __init__(self, query_dim: int, key_dim: int, heads: int, head_dim: int):
        super().__init__()
        self.head_dim = head_dim
        self.q = Linear(query_dim, heads * head_dim)
        self.k = Linear(key_dim, heads * head_dim)
        self.v = Linear(key_dim, heads * head_dim)
        self.out = Linear(heads * head_dim, query_dim)

    def _split(self, t: torch.Tensor, batch: int, heads: int) -> torch.Tensor:
        """(batch, time, heads * head_dim) -> (batch * heads, time, head_dim)."""
        t = t.reshape(batch, t.shape[1], heads, self.head_dim).transpose(1, 2)
        return t.reshape(batch * heads, -1, self.head_dim)

    def keys_values(self, memory: torch.Tensor, heads: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The keys and values of `memory`, each (batch * heads, time, head_dim)."""
        batch, width = memory.shape[0], heads * self.head_dim
        k, v = self.k(memory, width), self.v(memory, width)
        return self._split(k, batch, heads), self._split(v, batch, heads)

    def attend(
        self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
        heads: int,
    ) -> torch.Tensor:  # fmt: skip
        """`x` attending to `keys_values`' output; `mask` is additive, broadcastable to
        (batch, 1, queries, keys)."""
        batch, queries, d = x.shape
        width = heads * self.head_dim
        # Three-dimensional batched products: every runtime and converter takes them as they are
        # (LiteRT's rejects rank 4, and makes one of a reshape feeding a product: keys and values
        # arrive three-dimensional).
        q = self._split(self.q(x, width), batch, heads) * (1.0 / math.sqrt(self.head_dim))
        scores = torch.bmm(q, keys.transpose(1, 2))
        n = scores.shape[-1]
        scores = (scores.reshape(batch, heads, queries, n) + mask).reshape(-1, queries, n)
        context = torch.bmm(torch.softmax(scores, dim=-1), values)
        context = context.reshape(batch, heads, queries, self.head_dim).transpose(1, 2)
        context = context.reshape(batch, queries, width)
        return self.out(context, d)

    def forward(
        self, x: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor, heads: int
    ) -> torch.Tensor:
        return self.attend(x, *self.keys_values(memory, heads), mask, heads)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = Linear(dim, hidden)
        self.fc2 = Linear(hidden, dim)

    def forward(self, x: torch.Tensor, hidden: int) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x, hidden)), x.shape[-1])


class EncoderLayer(nn.Module):
    def __init__(self, dim: int, hidden: int, heads: int, head_dim: int):
        super().__init__()
        self.norm1, self.norm2 = LayerNorm(dim), LayerNorm(dim)
        self.attn = Attention(dim, dim, heads, head_dim)
        self.ffn = FeedForward(dim, hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, hidden: int, heads: int):
        h = self.norm1(x)
        x = x + self.attn(h, h, mask, heads)
        return x + self.ffn(self.norm2(x), hidden)


class DecoderLayer(nn.Module):
    def __init__(
        self, dim: int, memory_dim: int, hidden: int, self_heads: int, cross_heads: int,
        head_dim: int,
    ):  # fmt: skip
        super().__init__()
        self.norm1, self.norm2, self.norm3 = LayerNorm(dim), LayerNorm(dim), LayerNorm(dim)
        self.self_attn = Attention(dim, dim, self_heads, head_dim)
        self.cross_attn = Attention(dim, memory_dim, cross_heads, head_dim)
        self.ffn = FeedForward(dim, hidden)

    def forward(
        self, x: torch.Tensor, causal: torch.Tensor, memory: LayerMemory, hidden: int,
        self_heads: int, cross_heads: int,
    ) -> torch.Tensor:  # fmt: skip
        h = self.norm1(x)
        x = x + self.self_attn(h, h, causal, self_heads)
        x = x + self.cross_attn.attend(self.norm2(x), *memory, cross_heads)
        return x + self.ffn(self.norm3(x), hidden)


class TransformerNet(nn.Module):
    """Encoder-decoder Transformer whose per-layer sizes are upper bounds.

    The output projection is tied to the target embedding. Token id 0 is padding.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        encoder_embed: int,
        encoder_ffn: Sequence[int],
        encoder_heads: Sequence[int],
        decoder_embed: int,
        decoder_ffn: Sequence[int],
        decoder_self_heads: Sequence[int],
        decoder_cross_heads: Sequence[int],
        head_dim: int,
        max_len: int,
    ):
        super().__init__()
        self.vocab_size, self.head_dim, self.max_len = vocab_size, head_dim, max_len
        self.src_embed = nn.Embedding(vocab_size, encoder_embed)
        self.src_pos = nn.Embedding(max_len, encoder_embed)
        self.tgt_embed = nn.Embedding(vocab_size, decoder_embed)
        self.tgt_pos = nn.Embedding(max_len, decoder_embed)
        self.encoder = nn.ModuleList(
            EncoderLayer(encoder_embed, f, h, head_dim)
            for f, h in zip(encoder_ffn, encoder_heads, strict=True)
        )
        self.decoder = nn.ModuleList(
            DecoderLayer(decoder_embed, encoder_embed, f, s, c, head_dim)
            for f, s, c in zip(decoder_ffn, decoder_self_heads, decoder_cross_heads, strict=True)
        )
        self.encoder_norm = LayerNorm(encoder_embed)
        self.decoder_norm = LayerNorm(decoder_embed)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def _embed(self, table: nn.Embedding, pos: nn.Embedding, ids: torch.Tensor, dim: int):
        positions = pos.weight[: ids.shape[1], :dim]
        return F.embedding(ids, table.weight[:, :dim]) * math.sqrt(dim) + positions

    def encode(self, src: torch.Tensor, arch: Arch) -> list[LayerMemory]:
        """What each active decoder layer reads of `src`, computed once per sentence."""
        mask = (src == 0).to(torch.float32)[:, None, None, :] * _NEG
        x = self._embed(self.src_embed, self.src_pos, src, arch.encoder_embed)
        outputs = []
        for layer, hidden, heads in zip(
            self.encoder, arch.encoder_ffn, arch.encoder_heads, strict=True
        ):
            x = layer(x, mask, hidden, heads)
            outputs.append(x)
        states = [self.encoder_norm(x) for x in outputs[-max(arch.decoder_ende) :]]
        memory = []
        for i, layer in enumerate(self.decoder[: len(arch.decoder_ffn)]):
            ende = arch.decoder_ende[i]
            keys, values = layer.cross_attn.keys_values(
                torch.cat(states[-ende:], dim=1) if ende > 1 else states[-1],
                arch.decoder_cross_heads[i],
            )
            memory.append((keys, values, torch.cat([mask] * ende, dim=-1) if ende > 1 else mask))
        return memory

    def decode(
        self, tgt: torch.Tensor, memory: Sequence[LayerMemory], arch: Arch, last: bool = False
    ) -> torch.Tensor:
        """Next-token logits at every target position (batch, time, vocab), or with `last` at
        the last one only (batch, 1, vocab), which is all a decoding step needs; `memory` is
        `encode`'s."""
        steps = tgt.shape[1]
        causal = torch.triu(torch.full((steps, steps), _NEG), diagonal=1)
        x = self._embed(self.tgt_embed, self.tgt_pos, tgt, arch.decoder_embed)
        for i, layer in enumerate(self.decoder[: len(arch.decoder_ffn)]):
            x = layer(
                x, causal, memory[i], arch.decoder_ffn[i], arch.decoder_self_heads[i],
                arch.decoder_cross_heads[i],
            )  # fmt: skip
        x = self.decoder_norm(x[:, -1:] if last else x)
        return F.linear(x, self.tgt_embed.weight[:, : arch.decoder_embed])

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, arch: Arch) -> torch.Tensor:
        """Teacher-forced logits of `tgt` (which starts with BOS) given `src`."""
        return self.decode(tgt, self.encode(src, arch), arch)
