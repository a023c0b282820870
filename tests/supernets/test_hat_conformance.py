"""``variant: hat`` against HAT's network: a random-weight SuperTransformer at space0's full
sizes (random biases and layer norms too), written as fairseq's trainer writes HAT's files, is
loaded tensor by tensor; the 17 published WMT'14 En-De SubTransformers and 20 random ones give
teacher-forced log-probabilities equal to incremental decoding's and to the exported ONNX's
within 1e-4; parameters match HAT's published figures; and, when HAT's own code is set up
(LINAS_HAT_PYTHON), equal HAT's outputs within 1e-4."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from hat_helpers import (
    REFERENCE_PYTHON,
    SKIP_REFERENCE,
    SMALL,
    hat_args,
    hat_form,
    hat_state,
    reference_outputs,
    text_files,
    write_checkpoint,
)
from linas_host.export import export_onnx
from linas_host.supernets import create
from linas_host.supernets.transformer import hat_file
from linas_host.supernets.transformer.hat_configs import config_from_hat
from linas_host.supernets.transformer.hat_published import WMT14_EN_DE

EOS, PAD = 2, 1


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hat")
    text = text_files(folder)
    args = hat_args()
    state = hat_state(args, text["vocab"])
    checkpoint = write_checkpoint(folder / "HAT_wmt14ende_super_space0.pt", args, state)
    return {**text, "checkpoint": checkpoint, "state": state, "args": args}


@pytest.fixture(scope="module")
def supernet(files):
    return create(
        "transformer",
        variant="hat",
        checkpoint=files["checkpoint"],
        dictionary=files["dictionary"],
        bpe_codes=files["bpe_codes"],
        steps=8,
    )


@pytest.fixture(scope="module")
def configs(supernet):
    published = [config_from_hat(p.description, space=supernet.space) for p in WMT14_EN_DE]
    return published + supernet.space.sample(7, 20)


def _inputs(vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two sources (the second padded) ending with EOS, and prev_output_tokens from EOS."""
    g = torch.Generator().manual_seed(3)
    src = torch.randint(4, vocab, (2, 9), generator=g)
    src[:, -1] = EOS
    src[1, 6:] = PAD
    src[1, 5] = EOS
    prev = torch.randint(4, vocab, (2, 7), generator=g)
    prev[:, 0] = EOS
    return src, prev


def test_a_file_in_hats_layout_loads_every_tensor(tmp_path):
    args = hat_args(SMALL)
    written = hat_state(args, 48)
    for legacy in (False, True):  # torch's zip format and the pre-1.6 one HAT's era wrote
        path = write_checkpoint(tmp_path / f"legacy{legacy}.pt", args, written, legacy=legacy)
        loaded = hat_file.read(path).state
        used = set()
        for key, tensor in written.items():
            if key in hat_file.BUFFERS:
                continue
            if key.endswith("encoder_attn.in_proj_weight"):
                stem = key[: -len("in_proj_weight")]
                got = torch.cat([loaded[f"{stem}{p}_proj_weight"] for p in "qkv"])
                used.update(f"{stem}{p}_proj_weight" for p in "qkv")
            else:
                got = loaded[key]
                used.add(key)
            assert got.dtype == torch.float32
            torch.testing.assert_close(got, tensor.float(), atol=0, rtol=0)
        assert used == set(loaded)


def test_the_largest_subnetwork_holds_the_files_weights_and_others_leading_slices(
    supernet, files, configs
):
    state = hat_file.read(files["checkpoint"]).state
    largest = supernet.extract(supernet.largest).net.state_dict()
    assert set(largest) == set(state)
    for key, tensor in largest.items():
        torch.testing.assert_close(tensor, state[key], atol=0, rtol=0)
    small = supernet.extract(configs[0]).net.state_dict()  # the Pi's smallest: 512 wide
    assert small["encoder.layers.0.fc1.weight"].shape == (1024, 512)
    torch.testing.assert_close(
        small["decoder.layers.0.encoder_attn.k_proj_weight"],
        state["decoder.layers.0.encoder_attn.k_proj_weight"][:, :512],
    )


def test_parameters_match_hats_published_figures_for_the_17_subtransformers(supernet):
    assert len(WMT14_EN_DE) == 17
    for published in WMT14_EN_DE:
        config = config_from_hat(published.description, space=supernet.space)
        got = supernet.hat_params(config) / 1e6
        assert abs(got - published.params_m) <= 0.01 * published.params_m, published.name


def test_config_from_hat_reads_the_genes_hat_sets(supernet):
    for published in WMT14_EN_DE:
        config = config_from_hat(published.description, space=supernet.space)
        form = hat_form(config)
        d = published.description
        assert (
            form["encoder"]["encoder_ffn_embed_dim"]
            == d["encoder-ffn-embed-dim-all-subtransformer"]
        )
        assert (
            form["decoder"]["decoder_arbitrary_ende_attn"]
            == d["decoder-arbitrary-ende-attn-all-subtransformer"]
        )
        assert (
            form["decoder"]["decoder_ende_attention_heads"]
            == d["decoder-ende-attention-heads-all-subtransformer"]
        )


def test_log_probs_equal_incremental_decoding_for_37_subnetworks(supernet, configs):
    src, prev = _inputs(supernet.vocab_size)
    assert len(configs) == 37
    for config in configs:
        module = supernet.extract(config)
        with torch.no_grad():
            got = module.log_probs(src, prev)
            memory = module.encode(src)
            steps = [
                torch.log_softmax(module.decode(prev[:, : t + 1], memory, last=True)[:, -1], -1)
                for t in range(prev.shape[1])
            ]
        assert got.shape == (2, 7, supernet.vocab_size) and bool(torch.isfinite(got).all())
        torch.testing.assert_close(torch.stack(steps, 1), got, atol=1e-4, rtol=0)


def test_onnx_tokens_and_scores_equal_pytorchs_and_the_teacher_forced_logits(supernet, configs):
    src = _inputs(supernet.vocab_size)[0][:, : supernet.steps].clone()
    src[:, -1] = EOS
    mixed = next(c for c in configs[17:] if c["encoder_embed_dim"] != c["decoder_embed_dim"])
    for config in (configs[0], mixed):  # the Pi's smallest; a random one, 512 and 640 wide
        module = supernet.extract(config)
        data = export_onnx(
            module,
            supernet.example_input(config),
            input_names=supernet.input_names,
            output_names=supernet.output_names,
        )
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        tokens, scores = session.run(None, {"src": src.numpy()})
        with torch.no_grad():
            expected_tokens, expected_scores = module(src)
            prev = torch.cat([torch.full((2, 1), EOS), torch.from_numpy(tokens[:, :-1])], 1)
            logits = module.net(src, prev).gather(-1, torch.from_numpy(tokens)[..., None])[..., 0]
        np.testing.assert_array_equal(tokens, expected_tokens.numpy())
        np.testing.assert_allclose(scores, expected_scores.numpy(), atol=1e-4, rtol=0)
        np.testing.assert_allclose(scores, logits.numpy(), atol=1e-4, rtol=0)


@pytest.mark.skipif(REFERENCE_PYTHON is None, reason=SKIP_REFERENCE)
def test_log_probs_equal_hats_own_code_teacher_forced_and_incremental(
    supernet, files, configs, tmp_path
):
    src, prev = _inputs(supernet.vocab_size)
    reference = reference_outputs(
        files["checkpoint"],
        [hat_form(c) for c in configs],
        src.numpy(),
        prev.numpy(),
        tmp_path / "reference.npz",
    )
    for n, config in enumerate(configs):
        with torch.no_grad():
            got = supernet.extract(config).log_probs(src, prev).numpy()
        np.testing.assert_allclose(got, reference[f"teacher{n}"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(got, reference[f"incremental{n}"], atol=1e-4, rtol=0)
