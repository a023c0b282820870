"""Multiply-accumulates of the exported translation workload, by formula (microseconds per
sub-network, so the search can call it freely; a test checks it against torch's FLOP counter).

The workload is `unrolled_greedy`: the encoder runs once over `steps` source tokens, and each
decoder layer projects its cross-attention keys and values of the encoder's output once (the
concatenated outputs of its last `ende` encoder layers); then for t = 1..steps the decoder
reruns over the t-token prefix (self-attention keys and values included: no cache for those,
as exported), attends to those cached keys and values, and the output projection scores the
last position. Every matrix product counts, attention's included; element-wise work (norms,
softmax, activations) does not.
"""

from __future__ import annotations

from linas_host.supernets.transformer.layers import Arch


def _keys_values(keys: int, key_dim: int, width: int) -> int:
    return 2 * keys * key_dim * width


def _attend(queries: int, keys: int, query_dim: int, width: int) -> int:
    """Query projection, scores, weighted values and output projection."""
    return 2 * queries * query_dim * width + 2 * queries * keys * width


def workload_macs(
    arch: Arch, *, steps: int, vocab_size: int, head_dim: int = 0, qkv_dim: int | None = None
) -> int:
    """MACs of one `unrolled_greedy` inference (batch 1) of the sub-network `arch`: attention
    is `head_dim` per head wide, or `qkv_dim` wide whatever the heads (HAT's network)."""
    s, e, d = steps, arch.encoder_embed, arch.decoder_embed

    def width(heads: int) -> int:
        return qkv_dim if qkv_dim is not None else heads * head_dim

    total = 0
    for hidden, heads in zip(arch.encoder_ffn, arch.encoder_heads, strict=True):
        total += _keys_values(s, e, width(heads)) + _attend(s, s, e, width(heads))
        total += 2 * s * e * hidden
    for i, heads in enumerate(arch.decoder_cross_heads):
        total += _keys_values(arch.decoder_ende[i] * s, e, width(heads))
    for t in range(1, steps + 1):
        for i, hidden in enumerate(arch.decoder_ffn):
            self_width = width(arch.decoder_self_heads[i])
            total += _keys_values(t, d, self_width) + _attend(t, t, d, self_width)
            memory = arch.decoder_ende[i] * s
            total += _attend(t, memory, d, width(arch.decoder_cross_heads[i]))
            total += 2 * t * d * hidden
        total += d * vocab_size
    return total
