"""HAT's SubTransformer descriptions (``configs/*/subtransformer/*.yml`` in HAT's repository) as
linas configs, so a search can start from HAT's published SubTransformers or compare against
them.

A description names the sub-network with ``*-subtransformer`` keys: the two embedding widths,
the layer counts, per-layer lists (``encoder-ffn-embed-dim-all-subtransformer``, ...) and
``decoder-arbitrary-ende-attn-all-subtransformer`` (-1: the last encoder layer, 1: the last two,
2: the last three; linas's ``decoder_ende_i`` counts them: 1, 2, 3). Per-layer lists hold one
entry per active layer; linas's genes of inactive decoder layers take their first choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from linas_host.supernets.transformer.space import transformer_space
from linas_sdk.errors import InvalidArgument
from linas_sdk.space import SearchSpace

_SCALARS = {
    "encoder_embed_dim": "encoder-embed-dim-subtransformer",
    "decoder_embed_dim": "decoder-embed-dim-subtransformer",
    "encoder_layer_num": "encoder-layer-num-subtransformer",
    "decoder_layer_num": "decoder-layer-num-subtransformer",
}
_LISTS = {
    "encoder_ffn_dim": "encoder-ffn-embed-dim-all-subtransformer",
    "encoder_self_heads": "encoder-self-attention-heads-all-subtransformer",
    "decoder_ffn_dim": "decoder-ffn-embed-dim-all-subtransformer",
    "decoder_self_heads": "decoder-self-attention-heads-all-subtransformer",
    "decoder_cross_heads": "decoder-ende-attention-heads-all-subtransformer",
    "decoder_ende": "decoder-arbitrary-ende-attn-all-subtransformer",
}


def config_from_hat(
    source: str | Path | Mapping[str, Any], *, space: SearchSpace | None = None
) -> dict[str, Any]:
    """The linas config (canonical in `space`, by default HAT's WMT'14 En-De space) of a HAT
    SubTransformer description: a ``.yml`` path or its mapping (dashes or underscores)."""
    where = str(source) if isinstance(source, (str, Path)) else "the mapping"
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise InvalidArgument(f"no SubTransformer description {path}")
        source = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(source, Mapping):
        raise InvalidArgument(f"{where} holds no mapping of HAT's *-subtransformer keys")
    given = {str(k).replace("_", "-"): v for k, v in source.items()}
    missing = [key for key in (*_SCALARS.values(), *_LISTS.values()) if key not in given]
    if missing:
        raise InvalidArgument(f"{where} lacks {', '.join(missing)}: not a HAT SubTransformer")
    config: dict[str, Any] = {gene: int(given[key]) for gene, key in _SCALARS.items()}
    space = space or transformer_space()
    counts = {"encoder": config["encoder_layer_num"], "decoder": config["decoder_layer_num"]}
    depth = {side: sum(v.startswith(f"{side}_ffn_dim_") for v in space.names) for side in counts}
    for gene, key in _LISTS.items():
        side = gene.split("_")[0]
        values = [int(v) for v in given[key]]
        if len(values) < counts[side]:
            raise InvalidArgument(
                f"{where}: {key} has {len(values)} entries for {counts[side]} {side} layers"
            )
        if gene == "decoder_ende":
            values = [1 if v == -1 else v + 1 for v in values]
        values = values[: counts[side]]
        for i in range(1, depth[side] + 1):
            config[f"{gene}_{i}"] = values[min(i, len(values)) - 1]
    try:
        return space.canonical(config)
    except InvalidArgument as error:
        raise InvalidArgument(f"{where} is outside the space: {error}") from None
