"""The HAT / LINAS translation space: 40 variables, conditional decoder genes, canonical form."""

from __future__ import annotations

import math

import pytest
from linas_host.supernets.transformer.space import (
    arch_of,
    network_count,
    transformer_space,
)


def test_hat_space_has_the_papers_40_variables_in_hats_gene_order():
    space = transformer_space()
    assert len(space) == 40
    layers = range(1, 7)
    expected = [
        "encoder_embed_dim", "encoder_layer_num",
        *(f"encoder_ffn_dim_{i}" for i in layers), *(f"encoder_self_heads_{i}" for i in layers),
        "decoder_embed_dim", "decoder_layer_num",
        *(f"decoder_ffn_dim_{i}" for i in layers), *(f"decoder_self_heads_{i}" for i in layers),
        *(f"decoder_cross_heads_{i}" for i in layers), *(f"decoder_ende_{i}" for i in layers),
    ]  # fmt: skip
    assert list(space.names) == expected
    assert space["encoder_layer_num"].choices == (6,)
    assert space["decoder_ende_1"].choices == (1, 2, 3)


def test_hat_space_holds_about_10_to_the_15_networks():
    space = transformer_space()
    distinct = network_count(space)
    assert 14 < math.log10(distinct) < 16
    assert distinct < space.size()  # switched-off decoder layers fold encodings together


def test_switched_off_decoder_genes_are_inactive_and_canonical():
    space = transformer_space()
    config = space.canonical(space.sample(0, 1)[0] | {"decoder_layer_num": 2})
    other = dict(config, decoder_ffn_dim_3=3072, decoder_ende_6=3, decoder_cross_heads_5=8)
    assert space.key(config) == space.key(other)
    assert not space.is_active("decoder_ffn_dim_3", config)
    assert space.is_active("decoder_ffn_dim_2", config)
    assert space.key(config) != space.key(dict(config, decoder_ffn_dim_2=3072
                                               if config["decoder_ffn_dim_2"] != 3072 else 1024))


def test_arch_follows_the_config():
    space = transformer_space(encoder_layers=3, decoder_layers=(1, 2, 3), embed=(8, 16),
                              ffn=(4, 8), heads=(1, 2), ende=(1, 2, 3, 4))  # fmt: skip
    assert len(space) == 2 + 2 * 3 + 2 + 4 * 3
    assert space["decoder_ende_1"].choices == (1, 2, 3)  # never more than the encoder depth
    config = space.canonical({v.name: v.choices[-1] for v in space.variables}
                             | {"decoder_layer_num": 2, "encoder_ffn_dim_2": 4})
    arch = arch_of(space, config)
    assert arch.encoder_ffn == (8, 4, 8)
    assert arch.decoder_ffn == (8, 8) and arch.decoder_ende == (3, 3)


def test_a_space_without_a_valid_ende_choice_is_refused():
    from linas_sdk.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="ende"):
        transformer_space(encoder_layers=1, ende=(2, 3))
