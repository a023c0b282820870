"""The HAT / LINAS machine-translation search space, for any layer counts and choices.

Variables, in HAT's gene order (layers numbered from 1):

- ``encoder_embed_dim``; ``encoder_layer_num`` (one choice in HAT: the encoder depth is fixed);
- per encoder layer i: ``encoder_ffn_dim_i``, ``encoder_self_heads_i``;
- ``decoder_embed_dim``; ``decoder_layer_num``;
- per decoder layer i: ``decoder_ffn_dim_i``, ``decoder_self_heads_i``,
  ``decoder_cross_heads_i`` (encoder-decoder attention heads) and ``decoder_ende_i`` (how many
  of the last encoder layers it attends to: HAT's arbitrary encoder-decoder attention).

That is 2 + 2E + 2 + 4D variables: 40 for HAT's 6 + 6 layers. Decoder layer i's four genes
are conditional on ``decoder_layer_num >= i``, so a shallower decoder has one canonical form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from linas_host.supernets.transformer.layers import Arch
from linas_sdk.errors import InvalidArgument
from linas_sdk.space import SearchSpace, Variable


def transformer_space(
    encoder_layers: int = 6,
    decoder_layers: Sequence[int] = (1, 2, 3, 4, 5, 6),
    embed: Sequence[int] = (512, 640),
    ffn: Sequence[int] = (1024, 2048, 3072),
    heads: Sequence[int] = (4, 8),
    ende: Sequence[int] = (1, 2, 3),
) -> SearchSpace:
    """The space for these choices (by default HAT's WMT'14 En-De space, Wang et al. 2020, which
    the LINAS paper searches); ``ende`` values above the encoder's
    depth are dropped."""
    ende = tuple(e for e in ende if e <= encoder_layers)
    if not ende or min(decoder_layers) < 1:
        raise InvalidArgument(
            f"need decoder layer counts >= 1 and an ende choice <= {encoder_layers}, "
            f"got decoder_layers={list(decoder_layers)}, ende={list(ende)}"
        )
    embed, ffn, heads = tuple(embed), tuple(ffn), tuple(heads)
    variables = [
        Variable("encoder_embed_dim", embed, "int"),
        Variable("encoder_layer_num", (encoder_layers,), "int"),
    ]
    for i in range(1, encoder_layers + 1):
        variables.append(Variable(f"encoder_ffn_dim_{i}", ffn, "int"))
    for i in range(1, encoder_layers + 1):
        variables.append(Variable(f"encoder_self_heads_{i}", heads, "int"))
    counts = tuple(sorted(decoder_layers))
    variables += [
        Variable("decoder_embed_dim", embed, "int"),
        Variable("decoder_layer_num", counts, "int"),
    ]
    for gene, choices in (
        ("decoder_ffn_dim", ffn),
        ("decoder_self_heads", heads),
        ("decoder_cross_heads", heads),
        ("decoder_ende", ende),
    ):
        for i in range(1, max(counts) + 1):
            allowed = [n for n in counts if n >= i]
            active_if = None if len(allowed) == len(counts) else {"decoder_layer_num": allowed}
            variables.append(Variable(f"{gene}_{i}", choices, "int", active_if))
    return SearchSpace(variables)


def arch_of(space: SearchSpace, config: Mapping) -> Arch:
    """The active sizes a (canonicalised) config of `space` stands for."""
    c = space.canonical(config)
    encoder = range(1, c["encoder_layer_num"] + 1)
    decoder = range(1, c["decoder_layer_num"] + 1)
    return Arch(
        encoder_embed=c["encoder_embed_dim"],
        encoder_ffn=tuple(c[f"encoder_ffn_dim_{i}"] for i in encoder),
        encoder_heads=tuple(c[f"encoder_self_heads_{i}"] for i in encoder),
        decoder_embed=c["decoder_embed_dim"],
        decoder_ffn=tuple(c[f"decoder_ffn_dim_{i}"] for i in decoder),
        decoder_self_heads=tuple(c[f"decoder_self_heads_{i}"] for i in decoder),
        decoder_cross_heads=tuple(c[f"decoder_cross_heads_{i}"] for i in decoder),
        decoder_ende=tuple(c[f"decoder_ende_{i}"] for i in decoder),
    )


def network_count(space: SearchSpace) -> int:
    """Distinct sub-networks (canonical forms) of a `transformer_space`: the decoder-layer
    genes of switched-off layers do not multiply the count."""
    per_layer = 1
    for gene in ("decoder_ffn_dim", "decoder_self_heads", "decoder_cross_heads", "decoder_ende"):
        per_layer *= len(space[f"{gene}_1"].choices)
    rest = 1
    for var in space.variables:
        if not var.name.startswith("decoder_") or var.name == "decoder_embed_dim":
            rest *= len(var.choices)
    return rest * sum(per_layer**n for n in space["decoder_layer_num"].choices)
