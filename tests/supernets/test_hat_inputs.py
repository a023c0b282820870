"""``variant: hat``'s text pipeline (Moses, joint BPE, fairseq's dictionary, both BLEUs) and its
refusals: every bad input is refused by the factory, before any candidate, naming the file and
what differs. Files at space0's layout scaled down in width (`hat_helpers.SMALL`)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from hat_helpers import SMALL, hat_args, hat_state, text_files, write_checkpoint
from linas_host.supernets import create
from linas_host.supernets.transformer.decode import unrolled_beam, unrolled_greedy
from linas_host.supernets.transformer.hat_text import EOS, compound_split

from linas_sdk.errors import ArtifactCorrupt, InvalidArgument


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hat")
    text = text_files(folder)
    args = hat_args(SMALL)
    checkpoint = write_checkpoint(folder / "super.pt", args, hat_state(args, text["vocab"]))
    return {**text, "checkpoint": checkpoint, "folder": folder}


def _create(files, **changes):
    options = {
        "checkpoint": files["checkpoint"], "dictionary": files["dictionary"],
        "bpe_codes": files["bpe_codes"], "valid": [files["source"], files["target"]],
        "steps": 12, "beam": 1, "max_len_b": 12, **changes,
    }  # fmt: skip
    return create("transformer", variant="hat", **options)


def test_text_round_trips_through_moses_bpe_and_the_dictionary(files):
    supernet = _create(files)
    pipeline = supernet.pipeline
    line = files["source"].read_text(encoding="utf-8").splitlines()[0]
    ids = pipeline.encode(line)
    assert ids[-1] == EOS and 3 not in ids  # ends with </s>; no <unk>
    assert any(pipeline.dictionary.symbols[i].endswith("@@") for i in ids)  # BPE cut words
    tokenized = pipeline.tokenized([*ids, 7, 8])  # what follows </s> is ignored
    assert "@@" not in tokenized
    assert pipeline.detokenize(tokenized) == line
    assert compound_split("a well-known , long-term x-y-z") == (
        "a well ##AT##-##AT## known , long ##AT##-##AT## term x ##AT##-##AT## y-z"
    )


def test_bleu_both_ways_scores_the_references_100_and_board_tokens_like_the_host(files):
    supernet = _create(files, bleu="sacre")
    references = [p.target for p in supernet.valid.pairs[:5]]
    tokens = np.full((5, 30), 1)
    for row, text in zip(tokens, references, strict=True):
        ids = supernet.pipeline.encode(text, "de")
        row[: len(ids)] = ids
    scores = supernet.score_outputs(tokens, limit=5)
    assert scores == pytest.approx({"bleu": 100.0, "bleu_tokenized": 100.0, "sacrebleu": 100.0})
    arrays = supernet.validation_arrays(limit=5)["src"]
    assert arrays.shape == (5, 12) and (arrays == EOS).sum() == 5
    module = supernet.extract(supernet.smallest)
    with torch.no_grad():
        board, _ = module(torch.from_numpy(arrays))  # the exported workload's tokens
    host = supernet.evaluate(module, limit=5)  # greedy, at most 12 tokens, like the workload
    assert supernet.score_outputs(board.numpy(), limit=5) == host


def test_a_truncated_file_is_refused_naming_it(files, tmp_path):
    data = files["checkpoint"].read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactCorrupt, match=r"cut\.pt could not be read .* truncated"):
        _create(files, checkpoint=cut)


def test_a_file_of_another_network_is_refused_naming_the_difference(files, tmp_path):
    for change, match in (
        ({"encoder_normalize_before": True}, "args.encoder_normalize_before is True, but HAT"),
        ({"decoder_learned_pos": True}, "decoder_learned_pos is True"),
        ({"share_all_embeddings": False}, "one embedding shared"),
        ({"encoder_layer_num_choice": [6, 5]}, r"encoder_layer_num_choice is \[6, 5\]"),
        ({"arch": "transformer_wmt_en_de"}, "not a HAT SuperTransformer"),
    ):
        args = hat_args(SMALL, **change)
        path = write_checkpoint(tmp_path / "other.pt", args, hat_state(hat_args(SMALL), 64))
        with pytest.raises(InvalidArgument, match=f"other.pt.*{match}"):
            _create(files, checkpoint=path)
    # tensors that do not fit the file's own args (another space's sizes)
    path = write_checkpoint(tmp_path / "sizes.pt", hat_args(SMALL, qkv_dim=16),
                            hat_state(hat_args(SMALL), 64))  # fmt: skip
    with pytest.raises(InvalidArgument, match=r"sizes.pt: encoder.layers.0.self_attn.in_proj_"):
        _create(files, checkpoint=path)


def test_a_file_that_would_run_code_is_refused(files, tmp_path):
    path = tmp_path / "code.pt"
    torch.save({"args": argparse.Namespace(), "model": {}, "hook": np.random.default_rng()}, path)
    with pytest.raises(ArtifactCorrupt, match=r"code.pt holds objects linas does not unpickle"):
        _create(files, checkpoint=path)


def test_a_dictionary_of_another_size_is_refused_naming_both(files, tmp_path):
    other = tmp_path / "dict.en.txt"
    lines = files["dictionary"].read_text(encoding="utf-8").splitlines()
    other.write_text("\n".join(lines[:-8]) + "\n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match=rf"dict.en.txt gives {len(lines) - 4} symbols .*"
                       rf"super.pt embeds {len(lines) + 4}"):  # fmt: skip
        _create(files, dictionary=other)
    other.write_text("hello\n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match=r"dict.en.txt line 1 is 'hello'; expected"):
        _create(files, dictionary=other)


def test_a_test_set_whose_lines_do_not_pair_up_is_refused(files, tmp_path):
    short = tmp_path / "test.de"
    short.write_text("\n".join(files["target"].read_text().splitlines()[:-3]) + "\n")
    with pytest.raises(InvalidArgument, match=r"test.en has 40 lines but .*test.de has 37"):
        _create(files, valid=[files["source"], short])


def test_bpe_codes_that_do_not_match_the_dictionary_are_refused(files, tmp_path):
    other = text_files(tmp_path / "other", merges=5)["bpe_codes"]  # learned with 5 merges
    with pytest.raises(InvalidArgument, match=r"BPE codes .*other/bpe.codes do not match "
                       r"dictionary .*dict.en.txt: \d+% of the pieces"):  # fmt: skip
        _create(files, bpe_codes=other)
    broken = tmp_path / "broken.codes"
    broken.write_text("#version: 0.2\na b c\n")
    with pytest.raises(InvalidArgument, match=r"broken.codes line 2 is 'a b c'"):
        _create(files, bpe_codes=broken)


def test_options_of_the_variant_are_checked(files):
    with pytest.raises(InvalidArgument, match=r"unknown option.* beam_width of variant hat"):
        _create(files, beam_width=4)
    with pytest.raises(InvalidArgument, match="bleu is 'chrf'"):
        _create(files, bleu="chrf")


def test_unrolled_beam_scores_its_tokens_as_teacher_forcing_does(files):
    supernet = _create(files)
    module = supernet.extract(supernet.largest)
    src = torch.from_numpy(supernet.validation_arrays(limit=3)["src"])

    def log_prob(tokens: torch.Tensor) -> torch.Tensor:
        prev = torch.cat([torch.full((3, 1), EOS), tokens[:, :-1]], dim=1)
        return module.log_probs(src, prev).gather(-1, tokens[..., None]).sum((1, 2))

    with torch.no_grad():
        tokens, score = unrolled_beam(module, src, 6, size=4, start=EOS)
        greedy, _ = unrolled_greedy(module, src, 6, start=EOS)
        torch.testing.assert_close(score, log_prob(tokens), atol=1e-4, rtol=0)
        assert bool((log_prob(greedy) <= score + 1e-4).all())  # as likely as greedy's at least
        assert torch.equal(unrolled_beam(module, src, 6, size=1, start=EOS)[0], greedy)
