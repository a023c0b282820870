"""Multiply-accumulates of the exported translation workload, by formula (microseconds per
sub-network, so the search can call it freely; a test checks it against torch's FLOP counter).

The workload is `unrolled_greedy`: the encoder runs once over `steps` source tokens; then for
t = 1..steps the decoder reruns over the t-token prefix (no key/value cache, as exported),
each layer attending to the concatenated outputs of its last `ende` encoder layers, and the
output projection scores the last position. Every matrix product counts, attention's
included; element-wise work (norms, softmax, activations) does not.
"""

from __future__ import annotations

from linas_host.supernets.transformer_layers import Arch


def _attention(queries: int, keys: int, query_dim: int, key_dim: int, width: int) -> int:
    projections = queries * query_dim * width + 2 * keys * key_dim * width
    return projections + 2 * queries * keys * width + queries * width * query_dim


def workload_macs(arch: Arch, *, steps: int, vocab_size: int, head_dim: int) -> int:
    """MACs of one `unrolled_greedy` inference (batch 1) of the sub-network `arch`."""
    s, e, d = steps, arch.encoder_embed, arch.decoder_embed
    total = 0
    for hidden, heads in zip(arch.encoder_ffn, arch.encoder_heads, strict=True):
        total += _attention(s, s, e, e, heads * head_dim) + 2 * s * e * hidden
    for t in range(1, steps + 1):
        for i, hidden in enumerate(arch.decoder_ffn):
            total += _attention(t, t, d, d, arch.decoder_self_heads[i] * head_dim)
            memory = arch.decoder_ende[i] * s
            total += _attention(t, memory, d, e, arch.decoder_cross_heads[i] * head_dim)
            total += 2 * t * d * hidden
        total += d * vocab_size
    return total
