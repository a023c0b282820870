"""HAT's SuperTransformer network (Wang et al., 2020), as HAT's code defines it, built at one
sub-network's sizes. It differs from linas's own elastic Transformer (`layers`) in five ways:

- post-norm layers (add the residual, then normalise) and no final layer norm;
- sinusoidal positions (fairseq's: sines then cosines, position numbers counting non-padding
  tokens from PAD + 1), computed at the *supernet's* embedding width and cut to the
  sub-network's, as HAT slices them;
- token embeddings scaled by the square root of the sub-network's width, one table shared by
  encoder, decoder and output projection (the encoder reads its first `encoder_embed` columns,
  the decoder and output their first `decoder_embed`);
- attention whose query/key/value width is fixed (`qkv_dim`) and split into `heads` heads of
  ``qkv_dim / heads``: the head count changes no weight, only how the width is cut;
- decoder layer i attends to the outputs of the last `decoder_ende[i]` encoder layers,
  concatenated in time, last layer first (HAT's order), without a norm.

Parameter names and shapes are HAT's, so a published state dict loads as it is, with one
exception: the encoder-decoder attention holds its query, key and value projections apart
(``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``, HAT's own layout when encoder and
decoder widths differ), because a sub-network may cut the encoder's and decoder's widths
differently. Every weight of a sub-network is then a leading slice of the supernet's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from linas_host.supernets.transformer.layers import Arch, LayerMemory

PAD = 1  # fairseq's dictionary: <s> 0, <pad> 1, </s> 2, <unk> 3
_NEG = -1e9  # a hidden key; finite, so a fully hidden row stays finite on random inputs


def positions(ids: torch.Tensor) -> torch.Tensor:
    """fairseq's position numbers: PAD + 1, PAD + 2, ... over non-padding tokens, PAD on pads."""
    mask = (ids != PAD).long()
    return torch.cumsum(mask, dim=1) * mask + PAD


def sinusoid(ids: torch.Tensor, table_dim: int, dim: int) -> torch.Tensor:
    """fairseq's sinusoidal embedding of `ids`' positions at `table_dim` features (sines, then
    cosines), its first `dim` columns; zero on padding."""
    half = table_dim // 2
    frequencies = torch.exp(torch.arange(half, dtype=torch.float) * -(math.log(10000) / (half - 1)))
    where = positions(ids)
    angles = where.float()[..., None] * frequencies
    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)[..., :dim]
    return table * (where != PAD)[..., None].float()


class _Attention(nn.Module):
    """What both attentions share: the fixed width, the output projection and the heads."""

    def __init__(self, query_dim: int, qkv_dim: int):
        super().__init__()
        self.qkv_dim = qkv_dim
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * qkv_dim))
        self.out_proj = nn.Linear(qkv_dim, query_dim)

    def _split(self, t: torch.Tensor, heads: int) -> torch.Tensor:
        """(batch, time, qkv_dim) -> (batch * heads, time, qkv_dim / heads)."""
        batch, time = t.shape[0], t.shape[1]
        t = t.reshape(batch, time, heads, self.qkv_dim // heads).transpose(1, 2)
        return t.reshape(batch * heads, time, self.qkv_dim // heads)

    def _attend(
        self, q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
        heads: int,
    ) -> torch.Tensor:  # fmt: skip
        """Projected queries `q` (batch, queries, qkv_dim) attending to split `keys`/`values`;
        `mask` is additive, broadcastable to (batch, heads, queries, keys)."""
        batch, queries = q.shape[0], q.shape[1]
        head_dim = self.qkv_dim // heads
        scores = torch.bmm(self._split(q, heads) * head_dim**-0.5, keys.transpose(1, 2))
        n = scores.shape[-1]
        scores = (scores.reshape(batch, heads, queries, n) + mask).reshape(-1, queries, n)
        context = torch.bmm(torch.softmax(scores, dim=-1), values)
        context = context.reshape(batch, heads, queries, head_dim).transpose(1, 2)
        return self.out_proj(context.reshape(batch, queries, self.qkv_dim))


class SelfAttention(_Attention):
    """Self-attention with HAT's stacked projection ``in_proj_weight`` (3 qkv_dim, dim)."""

    def __init__(self, dim: int, qkv_dim: int):
        super().__init__(dim, qkv_dim)
        self.in_proj_weight = nn.Parameter(torch.zeros(3 * qkv_dim, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, heads: int) -> torch.Tensor:
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        return self._attend(q, self._split(k, heads), self._split(v, heads), mask, heads)


class EncoderAttention(_Attention):
    """Encoder-decoder attention: queries from the decoder (width `dim`), keys and values from
    the encoder (`memory_dim`), projected once per sentence by `keys_values`."""

    def __init__(self, dim: int, memory_dim: int, qkv_dim: int):
        super().__init__(dim, qkv_dim)
        self.q_proj_weight = nn.Parameter(torch.zeros(qkv_dim, dim))
        self.k_proj_weight = nn.Parameter(torch.zeros(qkv_dim, memory_dim))
        self.v_proj_weight = nn.Parameter(torch.zeros(qkv_dim, memory_dim))

    def keys_values(self, memory: torch.Tensor, heads: int) -> tuple[torch.Tensor, torch.Tensor]:
        w, b = self.qkv_dim, self.in_proj_bias
        k = F.linear(memory, self.k_proj_weight, b[w : 2 * w])
        v = F.linear(memory, self.v_proj_weight, b[2 * w :])
        return self._split(k, heads), self._split(v, heads)

    def forward(
        self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
        heads: int,
    ) -> torch.Tensor:  # fmt: skip
        q = F.linear(x, self.q_proj_weight, self.in_proj_bias[: self.qkv_dim])
        return self._attend(q, keys, values, mask, heads)


class EncoderLayer(nn.Module):
    def __init__(self, dim: int, hidden: int, qkv_dim: int):
        super().__init__()
        self.self_attn = SelfAttention(dim, qkv_dim)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, heads: int) -> torch.Tensor:
        x = self.self_attn_layer_norm(x + self.self_attn(x, mask, heads))
        return self.final_layer_norm(x + self.fc2(torch.relu(self.fc1(x))))


class DecoderLayer(nn.Module):
    def __init__(self, dim: int, memory_dim: int, hidden: int, qkv_dim: int):
        super().__init__()
        self.self_attn = SelfAttention(dim, qkv_dim)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.encoder_attn = EncoderAttention(dim, memory_dim, qkv_dim)
        self.encoder_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(
        self, x: torch.Tensor, causal: torch.Tensor, memory: LayerMemory, self_heads: int,
        cross_heads: int,
    ) -> torch.Tensor:  # fmt: skip
        x = self.self_attn_layer_norm(x + self.self_attn(x, causal, self_heads))
        x = self.encoder_attn_layer_norm(x + self.encoder_attn(x, *memory, cross_heads))
        return self.final_layer_norm(x + self.fc2(torch.relu(self.fc1(x))))


class HatNet(nn.Module):
    """HAT's encoder-decoder at the sizes of `arch`; `position_dim` is the supernet's embedding
    width, at which the sinusoidal table is computed. The embedding table (width: the larger of
    the two embedding widths) is one parameter, named ``encoder.embed_tokens.weight`` and
    ``decoder.embed_tokens.weight`` as in HAT's files."""

    def __init__(self, vocab_size: int, arch: Arch, *, qkv_dim: int, position_dim: int):
        super().__init__()
        self.vocab_size, self.arch = vocab_size, arch
        self.qkv_dim, self.position_dim = qkv_dim, position_dim
        e, d = arch.encoder_embed, arch.decoder_embed
        embed = nn.Embedding(vocab_size, max(e, d))
        self.encoder, self.decoder = nn.Module(), nn.Module()
        self.encoder.embed_tokens = self.decoder.embed_tokens = embed
        self.encoder.layers = nn.ModuleList(EncoderLayer(e, f, qkv_dim) for f in arch.encoder_ffn)
        self.decoder.layers = nn.ModuleList(
            DecoderLayer(d, e, f, qkv_dim) for f in arch.decoder_ffn
        )

    def _table(self, dim: int) -> torch.Tensor:
        """The embedding's first `dim` columns; the whole table when that is all of it (so an
        exported graph stores the parameter itself, not a sliced copy folded from it)."""
        weight = self.encoder.embed_tokens.weight
        return (
            weight
            if dim == max(self.arch.encoder_embed, self.arch.decoder_embed)
            else (weight[:, :dim])
        )

    def _embed(self, ids: torch.Tensor, table: torch.Tensor, dim: int) -> torch.Tensor:
        return F.embedding(ids, table) * math.sqrt(dim) + sinusoid(ids, self.position_dim, dim)

    def encode(self, src: torch.Tensor) -> list[LayerMemory]:
        """What each decoder layer reads of `src` (fairseq ids: tokens, EOS, PAD): its
        encoder-decoder keys, values and additive mask, computed once per sentence."""
        arch = self.arch
        mask = (src == PAD).to(torch.float32)[:, None, None, :] * _NEG
        x = self._embed(src, self._table(arch.encoder_embed), arch.encoder_embed)
        outputs = []
        for layer, heads in zip(self.encoder.layers, arch.encoder_heads, strict=True):
            x = layer(x, mask, heads)
            outputs.append(x)
        memory = []
        for i, layer in enumerate(self.decoder.layers):
            ende, heads = arch.decoder_ende[i], arch.decoder_cross_heads[i]
            states = torch.cat(outputs[::-1][:ende], dim=1) if ende > 1 else outputs[-1]
            keys, values = layer.encoder_attn.keys_values(states, heads)
            memory.append((keys, values, torch.cat([mask] * ende, dim=-1) if ende > 1 else mask))
        return memory

    def decode(
        self, tgt: torch.Tensor, memory: Sequence[LayerMemory], last: bool = False
    ) -> torch.Tensor:
        """Next-token logits at every position of `tgt` (batch, time, vocab), or with `last` at
        the last one only; `tgt` starts with fairseq's EOS, as ``prev_output_tokens`` do."""
        arch, steps = self.arch, tgt.shape[1]
        causal = torch.triu(torch.full((steps, steps), _NEG), diagonal=1)
        table = self._table(arch.decoder_embed)
        x = self._embed(tgt, table, arch.decoder_embed)
        for i, layer in enumerate(self.decoder.layers):
            x = layer(x, causal, memory[i], arch.decoder_self_heads[i], arch.decoder_cross_heads[i])
        x = x[:, -1:] if last else x
        # table @ x^T, not x @ table^T: the lookups and this product read one (vocab, dim)
        # tensor, so an exported graph holds the table once, with no transposed copy
        return torch.matmul(table, x.transpose(1, 2)).transpose(1, 2)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits of `tgt` (``prev_output_tokens``) given `src`."""
        return self.decode(tgt, self.encode(src))
