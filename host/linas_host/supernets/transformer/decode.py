"""Decoding for translation models: greedy and beam search on the host, and the unrolled greedy
wrapper that is exported for latency.

A model here is anything with `encode(src) -> memory` and `decode(tgt, memory, last) -> logits
(batch, time, vocab)` (with `last`, the last position only), as `SubTransformer` has. The memory
is what the decoder reads of the source, computed once per sentence (the cross-attention keys
and values): a sequence of tuples of tensors whose rows run sentence by sentence, the same
number of rows for each sentence.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from linas_host.supernets.transformer.vocab import BOS, EOS, PAD


class Specials(NamedTuple):
    """The ids decoding needs: the decoder's first input, the filler after an end, the end.
    They differ between vocabularies (fairseq starts the decoder with its EOS)."""

    start: int
    pad: int
    eos: int


DEMO = Specials(start=BOS, pad=PAD, eos=EOS)


@torch.no_grad()
def greedy(
    model: nn.Module, src: torch.Tensor, max_len: int, *, specials: Specials = DEMO
) -> torch.Tensor:
    """The most likely next token at each step, until every sentence has ended or `max_len`.

    Returns (batch, steps) token ids without the start token; after a sentence's EOS come PADs.
    """
    memory = model.encode(src)
    tokens = torch.full((src.shape[0], 1), specials.start, dtype=torch.long)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    for _ in range(max_len):
        next_token = model.decode(tokens, memory, last=True)[:, -1].argmax(-1)
        next_token = next_token.masked_fill(done, specials.pad)
        tokens = torch.cat([tokens, next_token[:, None]], dim=1)
        done |= next_token == specials.eos
        if bool(done.all()):
            break
    return tokens[:, 1:]


@torch.no_grad()
def beam(
    model: nn.Module, src: torch.Tensor, max_len: int, *, size: int = 4,
    length_penalty: float = 1.0, specials: Specials = DEMO,
) -> torch.Tensor:  # fmt: skip
    """Beam search keeping `size` hypotheses per sentence; finished ones are ranked by their
    log-probability divided by length ** `length_penalty` (0 ranks by raw log-probability,
    larger values favour longer outputs). Returns (batch, steps) ids like `greedy`.
    """
    batch = src.shape[0]
    memory = [tuple(_per_beam(t, batch, size) for t in part) for part in model.encode(src)]
    tokens = torch.full((batch * size, 1), specials.start, dtype=torch.long)
    scores = torch.full((batch, size), float("-inf"))
    scores[:, 0] = 0.0  # one live hypothesis at the start, so the beams do not repeat it
    lengths = torch.zeros(batch, size)
    done = torch.zeros(batch, size, dtype=torch.bool)
    for _ in range(max_len):
        logp = torch.log_softmax(model.decode(tokens, memory, last=True)[:, -1], dim=-1)
        vocab = logp.shape[-1]
        logp = logp.view(batch, size, vocab)
        # A finished hypothesis can only be extended by PAD, at no cost.
        ended = torch.full((vocab,), float("-inf"))
        ended[specials.pad] = 0.0
        logp = torch.where(done[..., None], ended, logp)
        top, index = (scores[..., None] + logp).view(batch, -1).topk(size, dim=-1)
        origin, token = index // vocab, index % vocab
        rows = (origin + torch.arange(batch)[:, None] * size).view(-1)
        tokens = torch.cat([tokens[rows], token.view(-1, 1)], dim=1)
        lengths = torch.gather(lengths, 1, origin) + (~torch.gather(done, 1, origin)).float()
        done = torch.gather(done, 1, origin) | (token == specials.eos)
        scores = top
        if bool(done.all()):
            break
    ranked = scores / lengths.clamp(min=1) ** length_penalty
    best = ranked.argmax(-1) + torch.arange(batch) * size
    return tokens[best, 1:]


def _per_beam(t: torch.Tensor, batch: int, size: int) -> torch.Tensor:
    """`t` with each sentence's run of rows repeated `size` times, one run per hypothesis."""
    return t.reshape(batch, 1, -1).expand(batch, size, -1).reshape(-1, *t.shape[1:])


def unrolled_greedy(
    model: nn.Module, src: torch.Tensor, steps: int, *, start: int = BOS
) -> tuple[torch.Tensor, torch.Tensor]:
    """What a user waits for, made comparable across sub-networks: `steps` source tokens encoded
    once, then `steps` target tokens decoded greedily with no data-dependent stop (a plain
    unrolled graph that any runtime executes, every sub-network doing the same work).

    Returns `tokens` (batch, steps) int64 ids (after EOS they mean nothing: cut at the first
    EOS) and `scores` (batch, steps) float32, each step's winning logit, for numerical checks.
    """
    memory = model.encode(src)
    tokens = torch.full((src.shape[0], 1), start, dtype=torch.long)
    scores = []
    for _ in range(steps):
        best, token = model.decode(tokens, memory, last=True)[:, -1].max(-1)
        tokens = torch.cat([tokens, token[:, None]], dim=1)
        scores.append(best)
    return tokens[:, 1:], torch.stack(scores, dim=1)


def unrolled_beam(
    model: nn.Module, src: torch.Tensor, steps: int, *, size: int = 4, start: int = BOS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Beam search's work made comparable, as `unrolled_greedy` makes greedy's: `steps` tokens
    for each of `size` hypotheses per sentence, the best `size` of ``size x vocabulary``
    extensions kept at each step, with no data-dependent stop (a finished hypothesis keeps
    growing: only the timed work matters). Returns the best hypothesis's `tokens` (batch,
    steps) and its summed log-probability (batch,)."""
    batch = src.shape[0]
    memory = [tuple(_per_beam(t, batch, size) for t in part) for part in model.encode(src)]
    tokens = torch.full((batch * size, 1), start, dtype=torch.long)
    scores = torch.full((batch, size), -1e9)
    scores[:, 0] = 0.0  # one live hypothesis at the start
    for _ in range(steps):
        logp = torch.log_softmax(model.decode(tokens, memory, last=True)[:, -1], dim=-1)
        vocab = logp.shape[-1]
        scores, index = (
            (scores[..., None] + logp.view(batch, size, vocab)).view(batch, -1).topk(size, dim=-1)
        )
        rows = (index // vocab + torch.arange(batch)[:, None] * size).view(-1)
        tokens = torch.cat([tokens[rows], (index % vocab).view(-1, 1)], dim=1)
    best = scores.argmax(-1) + torch.arange(batch) * size
    return tokens[best, 1:], scores.max(-1).values
