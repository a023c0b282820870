"""Translation data as tensors, and BLEU of a model's translations (sacreBLEU, detokenised)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from linas_host.supernets.transformer.corpus import Pair
from linas_host.supernets.transformer.vocab import BOS, EOS, PAD, Vocabulary
from linas_sdk.errors import InvalidArgument


def pad_ids(rows: Sequence[Sequence[int]], length: int) -> torch.Tensor:
    """Right-padded (len(rows), length) int64 ids; raises if a row is longer than `length`."""
    out = torch.full((len(rows), length), PAD, dtype=torch.long)
    for i, row in enumerate(rows):
        if len(row) > length:
            raise InvalidArgument(f"sentence of {len(row)} tokens exceeds the limit of {length}")
        out[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
    return out


def source_ids(vocab: Vocabulary, pairs: Sequence[Pair], length: int) -> torch.Tensor:
    """Source sides as padded ids (no BOS/EOS), `length` tokens each; a longer source is cut
    to its first `length` tokens, all the exported workload reads."""
    return pad_ids([vocab.encode(p.source)[:length] for p in pairs], length)


def teacher_ids(
    vocab: Vocabulary, pairs: Sequence[Pair], length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder inputs (BOS + target) and outputs (target + EOS), padded to `length`."""
    targets = [vocab.encode(p.target) for p in pairs]
    inputs = pad_ids([[BOS, *t] for t in targets], length)
    return inputs, pad_ids([[*t, EOS] for t in targets], length)


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (sacreBLEU defaults: 13a tokenisation, exponential smoothing), 0-100."""
    import sacrebleu

    if len(hypotheses) != len(references):
        raise InvalidArgument(
            f"{len(hypotheses)} hypotheses for {len(references)} references; expected one each"
        )
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


def bleu_of_ids(vocab: Vocabulary, token_ids, references: Sequence[str]) -> float:
    """BLEU of output token ids (a (n, steps) array or tensor, e.g. the `tokens` output an agent
    returns); each row is cut at its first EOS."""
    return bleu([vocab.decode(row) for row in token_ids.tolist()], references)
