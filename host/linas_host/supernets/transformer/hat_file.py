"""HAT's published SuperTransformer files, read as they are and refused when they hold another
network.

A file (``HAT_wmt14ende_super_space0.pt`` and its kin) is fairseq's checkpoint: a pickled dict of
``args`` (an `argparse.Namespace`: the supernet's sizes and its search space's choices), ``model``
(the state dict, half precision), ``optimizer_history``, ``extra_state`` (fairseq's training
meters among them) and sometimes ``last_optimizer_state``. It is read with
``torch.load(weights_only=True)``, which runs no code: beside tensors and containers it may
build only an `argparse.Namespace` and inert stand-ins for fairseq's meters (the data of their
``__dict__``, nothing of fairseq is imported or called).

Key layout (HAT's ``fairseq/models/transformer_super.py`` and ``fairseq/modules/*_super.py``),
E and D the supernet's encoder and decoder widths, Q ``qkv_dim``, F the FFN width, V the
vocabulary: ``encoder.embed_tokens.weight`` and ``decoder.embed_tokens.weight`` (V, E), the same
table; per encoder layer i, ``encoder.layers.i.`` + ``self_attn.in_proj_weight`` (3Q, E),
``self_attn.in_proj_bias`` (3Q), ``self_attn.out_proj.{weight (E, Q), bias (E)}``,
``self_attn_layer_norm.{weight, bias}`` (E), ``fc1.{weight (F, E), bias (F)}``,
``fc2.{weight (E, F), bias (E)}``, ``final_layer_norm.{weight, bias}``; per decoder layer the
same under ``decoder.layers.i.`` plus ``encoder_attn.in_proj_weight`` (3Q, D) (or, when E != D,
``encoder_attn.{q_proj_weight (Q, D), k_proj_weight (Q, E), v_proj_weight (Q, E)}``),
``encoder_attn.in_proj_bias``, ``encoder_attn.out_proj.*`` and ``encoder_attn_layer_norm.*``;
and the buffers ``encoder.version``, ``decoder.version``, ``encoder.embed_positions._float_tensor``
and ``decoder.embed_positions._float_tensor``, which hold no weights.
"""

from __future__ import annotations

import argparse
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from linas_host.supernets.transformer.hat_layers import HatNet
from linas_host.supernets.transformer.layers import Arch
from linas_sdk.errors import ArtifactCorrupt, InvalidArgument

PUBLISHED = (
    "HAT_wmt14ende_super_space0.pt",
    "HAT_wmt14enfr_super_space0.pt",
    "HAT_wmt19ende_super_space0.pt",
)
BUFFERS = (
    "encoder.version",
    "decoder.version",
    "encoder.embed_positions._float_tensor",
    "decoder.embed_positions._float_tensor",
)


class _Inert:
    """Stands in for a fairseq meter in ``extra_state``: unpickling fills its ``__dict__``."""


_METERS = ("AverageMeter", "TimeMeter", "StopwatchMeter")
SAFE_GLOBALS = [argparse.Namespace, *((_Inert, f"fairseq.meters.{m}") for m in _METERS)]

# What HAT's network is, by the args that would make it another: (name, HAT's value, why).
_NETWORK = (
    ("share_all_embeddings", True, "one embedding shared by encoder, decoder and output"),
    ("encoder_normalize_before", False, "post-norm encoder layers"),
    ("decoder_normalize_before", False, "post-norm decoder layers"),
    ("encoder_learned_pos", False, "sinusoidal encoder positions"),
    ("decoder_learned_pos", False, "sinusoidal decoder positions"),
    ("no_token_positional_embeddings", False, "positional embeddings"),
    ("activation_fn", "relu", "ReLU in the FFN"),
    ("vocab_original_scaling", False, "embeddings scaled by the sub-network's width"),
    ("adaptive_softmax_cutoff", None, "a plain output projection"),
)


@dataclass(frozen=True)
class HatFile:
    """A SuperTransformer file's supernet (`largest`: its sizes), its space's choices, and its
    weights in `HatNet`'s layout (float32)."""

    path: Path
    largest: Arch
    qkv_dim: int
    decoder_layers: tuple[int, ...]
    embed: tuple[int, ...]
    ffn: tuple[int, ...]
    heads: tuple[int, ...]
    ende: tuple[int, ...]
    vocab_size: int
    state: dict[str, torch.Tensor]
    source_lang: str | None
    target_lang: str | None


def read(path: str | Path) -> HatFile:
    """The SuperTransformer in HAT's file at `path`; InvalidArgument or ArtifactCorrupt naming the
    file and what differs from HAT's network when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument(
            f"checkpoint {path} does not exist; expected one of HAT's SuperTransformer files "
            f"({', '.join(PUBLISHED)}; linas fetches nothing: docs/transformer.md says where)"
        )
    saved = _load(path)
    args, model = saved.get("args"), saved.get("model")
    if not isinstance(args, argparse.Namespace) or not isinstance(model, Mapping):
        raise InvalidArgument(
            f"checkpoint {path} holds {sorted(saved)}: expected fairseq's 'args' (a Namespace) "
            "and 'model' (a state dict), as HAT's SuperTransformer files do"
        )
    hat = _describe(path, vars(args))
    state = _weights(path, model, hat["largest"], hat["qkv_dim"])
    return HatFile(**hat, vocab_size=state["encoder.embed_tokens.weight"].shape[0], state=state)


def _load(path: Path) -> dict[str, Any]:
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        first = str(error).splitlines()[0] if str(error) else ""
        raise ArtifactCorrupt(
            f"checkpoint {path} holds objects linas does not unpickle, since they could run code "
            f"({first}); expected HAT's file: args, model, optimizer_history, extra_state"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else ""
        raise ArtifactCorrupt(
            f"checkpoint {path} could not be read ({type(error).__name__}: {first}): it is "
            "truncated or not a torch file; expected one of HAT's SuperTransformer files"
        ) from None
    if not isinstance(saved, dict):
        raise InvalidArgument(
            f"checkpoint {path} holds a {type(saved).__name__}: expected fairseq's checkpoint dict"
        )
    return saved


def _describe(path: Path, args: dict[str, Any]) -> dict[str, Any]:
    """The sizes and choices of `args`, after checking they describe HAT's network."""
    missing = [
        k for k in (
            "encoder_embed_dim", "decoder_embed_dim", "encoder_ffn_embed_dim",
            "decoder_ffn_embed_dim", "encoder_layers", "decoder_layers", "qkv_dim",
            "encoder_embed_choice", "decoder_embed_choice", "encoder_ffn_embed_dim_choice",
            "decoder_ffn_embed_dim_choice", "encoder_layer_num_choice",
            "decoder_layer_num_choice", "encoder_self_attention_heads_choice",
            "decoder_self_attention_heads_choice", "decoder_ende_attention_heads_choice",
            "decoder_arbitrary_ende_attn_choice",
        ) if args.get(k) is None
    ]  # fmt: skip
    if missing or not str(args.get("arch", "")).startswith("transformersuper"):
        raise InvalidArgument(
            f"checkpoint {path} is not a HAT SuperTransformer: its args have arch "
            f"{args.get('arch')!r} (expected transformersuper*) and lack {', '.join(missing)}"
        )
    for name, expected, meaning in _NETWORK:
        if args.get(name, expected) != expected:
            raise InvalidArgument(
                f"checkpoint {path} is another network: args.{name} is {args[name]!r}, but HAT's "
                f"SuperTransformer has {name}={expected!r} ({meaning})"
            )
    pairs = (
        ("encoder_embed_choice", "decoder_embed_choice"),
        ("encoder_ffn_embed_dim_choice", "decoder_ffn_embed_dim_choice"),
        ("encoder_self_attention_heads_choice", "decoder_self_attention_heads_choice"),
        ("encoder_self_attention_heads_choice", "decoder_ende_attention_heads_choice"),
    )
    for a, b in pairs:
        if sorted(args[a]) != sorted(args[b]):
            raise InvalidArgument(
                f"checkpoint {path}: args.{a} {list(args[a])} differs from args.{b} "
                f"{list(args[b])}; linas's space takes one set of choices for both"
            )
    layers, qkv = int(args["encoder_layers"]), int(args["qkv_dim"])
    if list(args["encoder_layer_num_choice"]) != [layers]:
        raise InvalidArgument(
            f"checkpoint {path}: args.encoder_layer_num_choice is "
            f"{list(args['encoder_layer_num_choice'])}; HAT's spaces fix the encoder at its "
            f"{layers} layers, and linas expects [{layers}]"
        )
    heads = tuple(sorted(int(h) for h in args["encoder_self_attention_heads_choice"]))
    if any(qkv % h for h in heads):
        raise InvalidArgument(
            f"checkpoint {path}: qkv_dim {qkv} does not split into {list(heads)} heads"
        )
    if int(args["encoder_embed_dim"]) != int(args["decoder_embed_dim"]):
        raise InvalidArgument(
            f"checkpoint {path}: encoder_embed_dim {args['encoder_embed_dim']} != "
            f"decoder_embed_dim {args['decoder_embed_dim']}; a shared embedding needs one width"
        )
    embed = tuple(sorted(int(e) for e in args["encoder_embed_choice"]))
    ffn = tuple(sorted(int(f) for f in args["encoder_ffn_embed_dim_choice"]))
    decoder_layers = tuple(sorted(int(n) for n in args["decoder_layer_num_choice"]))
    ende = tuple(sorted(1 if int(k) == -1 else int(k) + 1
                        for k in args["decoder_arbitrary_ende_attn_choice"]))  # fmt: skip
    width, hidden = int(args["encoder_embed_dim"]), int(args["encoder_ffn_embed_dim"])
    bounds = {
        "embedding": (max(embed), width),
        "FFN": (max(ffn), min(hidden, int(args["decoder_ffn_embed_dim"]))),
        "decoder layer": (max(decoder_layers), int(args["decoder_layers"])),
        "encoder-decoder attention": (max(ende), layers),
    }
    for what, (choice, size) in bounds.items():
        if choice > size:
            raise InvalidArgument(
                f"checkpoint {path}: a {what} choice of {choice} exceeds the supernet's {size}"
            )
    n = int(args["decoder_layers"])
    largest = Arch(
        encoder_embed=width, encoder_ffn=(hidden,) * layers, encoder_heads=(max(heads),) * layers,
        decoder_embed=int(args["decoder_embed_dim"]),
        decoder_ffn=(int(args["decoder_ffn_embed_dim"]),) * n, decoder_self_heads=(max(heads),) * n,
        decoder_cross_heads=(max(heads),) * n, decoder_ende=(1,) * n,
    )  # fmt: skip
    return {
        "path": path, "largest": largest, "qkv_dim": qkv, "decoder_layers": decoder_layers,
        "embed": embed, "ffn": ffn, "heads": heads, "ende": ende,
        "source_lang": args.get("source_lang"), "target_lang": args.get("target_lang"),
    }  # fmt: skip


def expected_shapes(largest: Arch, qkv_dim: int, vocab_size: int) -> dict[str, tuple[int, ...]]:
    """`HatNet`'s parameter names and shapes at `largest` (encoder-decoder attention split)."""
    with torch.device("meta"):
        net = HatNet(vocab_size, largest, qkv_dim=qkv_dim, position_dim=largest.encoder_embed)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _weights(
    path: Path, model: Mapping[str, Any], largest: Arch, qkv_dim: int
) -> dict[str, torch.Tensor]:
    """`model` in `HatNet`'s layout, float32: buffers dropped, each decoder layer's stacked
    ``encoder_attn.in_proj_weight`` split in three; every tensor accounted for."""
    table = model.get("encoder.embed_tokens.weight")
    if not isinstance(table, torch.Tensor) or table.dim() != 2:
        raise InvalidArgument(
            f"checkpoint {path} has no 'encoder.embed_tokens.weight' matrix: not HAT's layout"
        )
    shared = model.get("decoder.embed_tokens.weight")
    if shared is not None and not torch.equal(shared, table):
        raise InvalidArgument(
            f"checkpoint {path}: decoder.embed_tokens.weight differs from the encoder's; HAT's "
            "SuperTransformer shares one embedding"
        )
    state: dict[str, torch.Tensor] = {}
    for key, value in model.items():
        if key in BUFFERS or key == "decoder.embed_tokens.weight":
            continue
        if not isinstance(value, torch.Tensor):
            raise InvalidArgument(f"checkpoint {path}: model[{key!r}] is not a tensor")
        if key.startswith("decoder.layers.") and key.endswith("encoder_attn.in_proj_weight"):
            stem = key[: -len("in_proj_weight")]
            for part, chunk in zip("qkv", value.chunk(3, dim=0), strict=True):
                state[f"{stem}{part}_proj_weight"] = chunk.float()
        else:
            state[key] = value.float()
    state["decoder.embed_tokens.weight"] = state["encoder.embed_tokens.weight"]
    expected = expected_shapes(largest, qkv_dim, table.shape[0])
    for key, shape in expected.items():
        if key not in state:
            raise InvalidArgument(
                f"checkpoint {path} lacks {key} {shape}: its tensors do not fit its own args "
                "(HAT's layout at those sizes)"
            )
        if tuple(state[key].shape) != shape:
            raise InvalidArgument(
                f"checkpoint {path}: {key} has shape {tuple(state[key].shape)}, but its args "
                f"make it {shape}"
            )
    extra = sorted(set(state) - set(expected))
    if extra:
        raise InvalidArgument(
            f"checkpoint {path} has tensors HAT's network at its args lacks: {', '.join(extra[:3])}"
        )
    return state
