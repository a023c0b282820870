"""Extracted sub-networks are standalone, smaller, and compute what the supernet computes at
their config; decoding, MACs and parameter counts are checked against independent references."""

from __future__ import annotations

import pytest
import torch
from linas_host.supernets.transformer.bleu import teacher_ids
from torch.utils.flop_counter import FlopCounterMode
from transformer_helpers import configs, small_supernet


@pytest.fixture(scope="module")
def supernet():
    return small_supernet()


def test_extracted_matches_the_supernet_at_its_config(supernet):
    pairs = supernet.corpus()["valid"][:16]
    src = supernet.validation(16)[0]
    tgt_in, _ = teacher_ids(supernet.vocab, pairs, supernet.steps)
    with torch.no_grad():
        for config in configs(supernet):
            sub = supernet.extract(config)
            shared = supernet.net(src, tgt_in, supernet.arch(config))
            alone = sub.net(src, tgt_in, sub.arch)
            torch.testing.assert_close(alone, shared, atol=1e-5, rtol=0)
            tokens, scores = sub(src)
            ref_tokens, ref_scores = supernet.at(config)(src)
            assert torch.equal(tokens, ref_tokens)
            torch.testing.assert_close(scores, ref_scores, atol=1e-5, rtol=0)


def test_extracted_holds_only_its_own_sliced_weights(supernet):
    small, large = supernet.extract(supernet.smallest), supernet.extract(supernet.largest)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(small) == supernet.params(supernet.smallest)
    assert count(large) == supernet.params(supernet.largest)
    assert count(small) < count(large) == sum(p.numel() for p in supernet.net.parameters())
    shared = {p.data_ptr() for p in supernet.net.parameters()}
    assert not shared & {p.data_ptr() for p in small.parameters()}
    assert len(small.net.decoder) == 1 and not small.training


def test_macs_formula_matches_torchs_flop_counter(supernet):
    src = supernet.validation(1)[0]
    for config in configs(supernet):
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            supernet.extract(config)(src)
        assert supernet.macs(config) == counter.get_total_flops() // 2
    assert supernet.macs(supernet.smallest) < supernet.macs(supernet.largest)


def test_greedy_equals_beam_of_size_one_and_the_unrolled_export(supernet):
    src = supernet.validation(32)[0]
    for config in configs(supernet, 2):
        sub = supernet.extract(config)
        greedy = sub.translate(src)
        for penalty in (0.0, 1.0):
            assert torch.equal(sub.translate(src, beam_size=1, length_penalty=penalty), greedy)
        with torch.no_grad():
            unrolled = sub(src)[0]
        decoded = [supernet.vocab.decode(row) for row in greedy.tolist()]
        assert decoded == [supernet.vocab.decode(row) for row in unrolled.tolist()]


def test_beam_search_returns_its_best_scored_hypothesis(supernet):
    src = supernet.validation(8)[0]
    sub = supernet.extract(supernet.largest)
    beams = sub.translate(src, beam_size=4, length_penalty=0.0)
    greedy = sub.translate(src)
    assert beams.shape[0] == 8 and beams.shape[1] <= supernet.steps

    def logprob(out: torch.Tensor) -> torch.Tensor:
        from linas_host.supernets.transformer.vocab import BOS, EOS, PAD

        rows = []
        for row in out.tolist():
            row = row[: row.index(EOS) + 1] if EOS in row else [t for t in row if t != PAD]
            rows.append(row)
        total = []
        with torch.no_grad():
            for row in rows:
                tgt = torch.tensor([[BOS, *row[:-1]]])
                memory = sub.encode(src[len(total) : len(total) + 1])
                logp = torch.log_softmax(sub.decode(tgt, memory), -1)[0]
                total.append(float(logp[torch.arange(len(row)), torch.tensor(row)].sum()))
        return torch.tensor(total)

    # Beam search keeps greedy's path among its candidates for most sentences; its pick is
    # never worse on average (length penalty 0 ranks by raw log-probability).
    assert logprob(beams).mean() >= logprob(greedy).mean() - 1e-4
