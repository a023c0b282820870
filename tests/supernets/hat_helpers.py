"""Files in HAT's exact layouts, made here with random weights (HAT's published files cannot be
downloaded in tests): a SuperTransformer checkpoint as fairseq's trainer writes it, a joint BPE
codes file (subword-nmt), fairseq's dictionary and a plain-text test pair.

The checkpoint's keys and shapes follow HAT's ``fairseq/models/transformer_super.py`` and
``fairseq/modules/*_super.py`` (listed in `linas_host.supernets.transformer.hat_file`); its
biases and layer norms are random too, since HAT's initialisation (zeros and ones) would hide a
wrong slice. `reference_outputs` runs HAT's own code on such a file when it is available
(``LINAS_HAT_PYTHON``: an interpreter that imports HAT's vendored fairseq), in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import torch

SPACE0 = {  # HAT's configs/wmt14.en-de/supertransformer/space0.yml
    "encoder_embed_dim": 640,
    "decoder_embed_dim": 640,
    "encoder_ffn_embed_dim": 3072,
    "decoder_ffn_embed_dim": 3072,
    "encoder_layers": 6,
    "decoder_layers": 6,
    "encoder_attention_heads": 8,
    "decoder_attention_heads": 8,
    "qkv_dim": 512,
    "encoder_embed_choice": [640, 512],
    "decoder_embed_choice": [640, 512],
    "encoder_ffn_embed_dim_choice": [3072, 2048, 1024],
    "decoder_ffn_embed_dim_choice": [3072, 2048, 1024],
    "encoder_layer_num_choice": [6],
    "decoder_layer_num_choice": [6, 5, 4, 3, 2, 1],
    "encoder_self_attention_heads_choice": [8, 4],
    "decoder_self_attention_heads_choice": [8, 4],
    "decoder_ende_attention_heads_choice": [8, 4],
    "decoder_arbitrary_ende_attn_choice": [-1, 1, 2],
}
SMALL = {  # space0 scaled down 20 times in width: 16-wide heads at most
    **SPACE0,
    "encoder_embed_dim": 32,
    "decoder_embed_dim": 32,
    "encoder_ffn_embed_dim": 96,
    "decoder_ffn_embed_dim": 96,
    "qkv_dim": 32,
    "encoder_embed_choice": [32, 24],
    "decoder_embed_choice": [32, 24],
    "encoder_ffn_embed_dim_choice": [96, 64, 32],
    "decoder_ffn_embed_dim_choice": [96, 64, 32],
}


def hat_args(sizes: dict | None = None, **changes) -> argparse.Namespace:
    """fairseq's args of a HAT SuperTransformer (space0's sizes by default)."""
    fixed = dict(
        arch="transformersuper_wmt_en_de", share_all_embeddings=True,
        share_decoder_input_output_embed=True, encoder_normalize_before=False,
        decoder_normalize_before=False, encoder_learned_pos=False, decoder_learned_pos=False,
        no_token_positional_embeddings=False, activation_fn="relu",
        vocab_original_scaling=False, adaptive_softmax_cutoff=None, dropout=0.3,
        attention_dropout=0.1, max_source_positions=1024, max_target_positions=1024,
        source_lang="en", target_lang="de", data="data/binary/wmt16_en_de",
        adam_betas="(0.9, 0.98)", lr=[1e-7], get_attn=False,
    )  # fmt: skip
    return argparse.Namespace(**{**fixed, **(sizes or SPACE0), **changes})


def hat_state(args: argparse.Namespace, vocab: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random state dict with HAT's keys and shapes for `args`, in half precision."""
    g = torch.Generator().manual_seed(seed)
    e, d, q = args.encoder_embed_dim, args.decoder_embed_dim, args.qkv_dim
    shapes: dict[str, tuple[int, ...]] = {
        "encoder.version": (1,),
        "encoder.embed_tokens.weight": (vocab, e),
        "encoder.embed_positions._float_tensor": (1,),
    }

    def layer(prefix: str, dim: int, hidden: int, cross: bool) -> None:
        attentions = ["self_attn", "encoder_attn"] if cross else ["self_attn"]
        for name in attentions:
            if name == "encoder_attn" and e != d:
                shapes.update(
                    {
                        f"{prefix}{name}.q_proj_weight": (q, d),
                        f"{prefix}{name}.k_proj_weight": (q, e),
                        f"{prefix}{name}.v_proj_weight": (q, e),
                    }
                )
            else:
                shapes[f"{prefix}{name}.in_proj_weight"] = (3 * q, dim)
            shapes.update(
                {
                    f"{prefix}{name}.in_proj_bias": (3 * q,),
                    f"{prefix}{name}.out_proj.weight": (dim, q),
                    f"{prefix}{name}.out_proj.bias": (dim,),
                }
            )
            shapes.update({f"{prefix}{name}_layer_norm.{p}": (dim,) for p in ("weight", "bias")})
        shapes.update(
            {
                f"{prefix}fc1.weight": (hidden, dim),
                f"{prefix}fc1.bias": (hidden,),
                f"{prefix}fc2.weight": (dim, hidden),
                f"{prefix}fc2.bias": (dim,),
                f"{prefix}final_layer_norm.weight": (dim,),
                f"{prefix}final_layer_norm.bias": (dim,),
            }
        )

    for i in range(args.encoder_layers):
        layer(f"encoder.layers.{i}.", e, args.encoder_ffn_embed_dim, False)
    shapes.update(
        {
            "decoder.version": (1,),
            "decoder.embed_tokens.weight": (vocab, d),
            "decoder.embed_positions._float_tensor": (1,),
        }
    )
    for i in range(args.decoder_layers):
        layer(f"decoder.layers.{i}.", d, args.decoder_ffn_embed_dim, True)
    state = {}
    for key, shape in shapes.items():
        if key.endswith("version"):
            state[key] = torch.tensor([3.0])
        elif key.endswith("_float_tensor"):
            state[key] = torch.zeros(1)
        elif "layer_norm.weight" in key:
            state[key] = 0.5 + torch.rand(shape, generator=g)
        elif key.endswith("embed_tokens.weight"):
            state[key] = torch.randn(shape, generator=g) * shape[1] ** -0.5
        else:
            fan_in = shape[-1] if len(shape) == 2 else 64
            state[key] = torch.randn(shape, generator=g) * fan_in**-0.5
    state["decoder.embed_tokens.weight"] = state["encoder.embed_tokens.weight"]
    return {k: v.half() for k, v in state.items()}


def _fairseq_meters() -> type:
    """A class pickled as fairseq.meters.AverageMeter (registered only while saving)."""
    meters = types.ModuleType("fairseq.meters")
    average = type("AverageMeter", (), {"__module__": "fairseq.meters"})
    meters.AverageMeter = average
    return meters


def write_checkpoint(
    path: Path, args: argparse.Namespace, state: dict, *, legacy: bool = False
) -> Path:
    """`state` saved as fairseq's trainer saves a checkpoint: args, model, optimizer history,
    extra state with its training meters, the last optimizer state."""
    meters = _fairseq_meters()
    sys.modules["fairseq"], sys.modules["fairseq.meters"] = types.ModuleType("fairseq"), meters
    try:
        meter = meters.AverageMeter()
        meter.__dict__.update(val=2.5, avg=3.1, sum=31.0, count=10)
        torch.save(
            {
                "args": args,
                "model": state,
                "optimizer_history": [
                    {
                        "criterion_name": "LabelSmoothedCrossEntropyCriterion",
                        "optimizer_name": "FP16Optimizer",
                        "lr_scheduler_state": {"best": 3.9},
                        "num_updates": 40000,
                    }
                ],
                "extra_state": {
                    "train_iterator": {"epoch": 136, "iterations_in_epoch": 0},
                    "val_loss": 3.9,
                    "best": 3.9,
                    "train_meters": {"train_loss": meter},
                },
                "last_optimizer_state": {
                    "state": {0: {"step": 4, "exp_avg": torch.zeros(3)}},
                    "param_groups": [{"lr": 1e-7, "params": [0]}],
                },
            },
            path,
            _use_new_zipfile_serialization=not legacy,
        )
    finally:
        del sys.modules["fairseq"], sys.modules["fairseq.meters"]
    return path


ENGLISH = [
    "the",
    "a",
    "house",
    "small",
    "big",
    "red",
    "green",
    "old",
    "new",
    "car",
    "tree",
    "dog",
    "cat",
    "sees",
    "has",
    "likes",
]
GERMAN = [
    "das",
    "ein",
    "Haus",
    "klein",
    "groß",
    "rot",
    "grün",
    "alt",
    "neu",
    "Auto",
    "Baum",
    "Hund",
    "Katze",
    "sieht",
    "hat",
    "mag",
]


def _sentences(words: list[str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        picked = rng.choice(words, size=int(rng.integers(2, 6)))
        out.append(" ".join(picked).capitalize() + rng.choice([".", "!", " - ok.", "'s."]))
    return out


def text_files(folder: Path, pairs: int = 40, merges: int = 60) -> dict[str, Path]:
    """A test pair (``test.en``, ``test.de``), joint BPE codes learned on it (subword-nmt, on
    Moses-tokenised text) and fairseq's ``dict.en.txt`` of its pieces, padded to a multiple of 8
    with ``madeupword`` entries as fairseq's preprocessing does."""
    import io
    from collections import Counter

    from sacremoses import MosesTokenizer
    from subword_nmt.apply_bpe import BPE
    from subword_nmt.learn_bpe import learn_bpe

    folder.mkdir(parents=True, exist_ok=True)
    source, target = _sentences(ENGLISH, pairs, 0), _sentences(GERMAN, pairs, 1)
    (folder / "test.en").write_text("\n".join(source) + "\n", encoding="utf-8")
    (folder / "test.de").write_text("\n".join(target) + "\n", encoding="utf-8")
    tokenized = [
        MosesTokenizer(lang="en").tokenize(s, escape=True, return_str=True) for s in source
    ] + [MosesTokenizer(lang="de").tokenize(s, escape=True, return_str=True) for s in target]
    codes = io.StringIO()
    learn_bpe(io.StringIO("\n".join(tokenized) + "\n"), codes, merges)
    (folder / "bpe.codes").write_text(codes.getvalue(), encoding="utf-8")
    bpe = BPE(io.StringIO(codes.getvalue()))
    counts = Counter(p for line in tokenized for p in bpe.process_line(line).split())
    symbols = [s for s, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    symbols += [f"madeupword{i:04d}" for i in range(-(len(symbols) + 4) % 8)]
    lines = [f"{s} {counts.get(s, 0)}" for s in symbols]
    (folder / "dict.en.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "dictionary": folder / "dict.en.txt",
        "bpe_codes": folder / "bpe.codes",
        "source": folder / "test.en",
        "target": folder / "test.de",
        "vocab": len(symbols) + 4,
    }


def hat_form(config: dict) -> dict:
    """HAT's ``set_sample_config`` dict for a linas config."""
    enc, dec = range(1, config["encoder_layer_num"] + 1), range(1, config["decoder_layer_num"] + 1)
    return {
        "encoder": {
            "encoder_embed_dim": config["encoder_embed_dim"],
            "encoder_layer_num": config["encoder_layer_num"],
            "encoder_ffn_embed_dim": [config[f"encoder_ffn_dim_{i}"] for i in enc],
            "encoder_self_attention_heads": [config[f"encoder_self_heads_{i}"] for i in enc],
        },
        "decoder": {
            "decoder_embed_dim": config["decoder_embed_dim"],
            "decoder_layer_num": config["decoder_layer_num"],
            "decoder_ffn_embed_dim": [config[f"decoder_ffn_dim_{i}"] for i in dec],
            "decoder_self_attention_heads": [config[f"decoder_self_heads_{i}"] for i in dec],
            "decoder_ende_attention_heads": [config[f"decoder_cross_heads_{i}"] for i in dec],
            "decoder_arbitrary_ende_attn": [
                -1 if config[f"decoder_ende_{i}"] == 1 else config[f"decoder_ende_{i}"] - 1
                for i in dec
            ],
        },
    }


REFERENCE_PYTHON = os.environ.get("LINAS_HAT_PYTHON")
SKIP_REFERENCE = (
    "HAT's own code is not set up: set LINAS_HAT_PYTHON to an interpreter that imports HAT's "
    "vendored fairseq (hardware-aware-transformers on its path, Cython installed)"
)


def reference_outputs(
    checkpoint: Path, configs: list[dict], src: np.ndarray, prev: np.ndarray, out: Path
) -> dict[str, np.ndarray]:
    """HAT's teacher-forced and incremental log-probabilities for each config (HAT's form), by
    HAT's code in a subprocess (`hat_reference.py`)."""
    inputs = out.with_suffix(".in.npz")
    np.savez(inputs, src=src, prev=prev, configs=json.dumps(configs))
    script = Path(__file__).with_name("hat_reference.py")
    subprocess.run(
        [REFERENCE_PYTHON, str(script), str(checkpoint), str(inputs), str(out)],
        check=True,
        timeout=600,
    )
    with np.load(out) as data:
        return {k: data[k] for k in data.files}
