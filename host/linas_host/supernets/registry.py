"""Supernets by name: what `space: {supernet: NAME}` and `linas_host.supernets.create` accept,
resolved by the rule of `linas_host.registry` (registered, built-in ``mobilenetv3`` and
``transformer``, the ``linas.supernets`` entry-point group, then a ``"module:factory"`` path).

A factory takes keyword options only and returns an object following
`linas_host.supernets.protocol.Supernet`.
"""

from __future__ import annotations

from typing import Any

from linas_host.registry import Registry
from linas_host.supernets.protocol import Supernet
from linas_sdk.errors import InvalidArgument

SUPERNETS = Registry(
    "supernet",
    {
        "mobilenetv3": "linas_host.supernets.mobilenetv3.supernet:load",
        "transformer": "linas_host.supernets.transformer.supernet:load",
    },
    group="linas.supernets",
)

register = SUPERNETS.register
names = SUPERNETS.names
resolve = SUPERNETS.resolve


def create(name: str, **options: Any) -> Supernet:
    """Build the supernet `name` with the factory's keyword `options`."""
    supernet = SUPERNETS.create(name, **options)
    if not isinstance(supernet, Supernet):
        raise InvalidArgument(
            f"the factory for {name!r} returned {type(supernet).__name__}, which lacks members "
            "of the Supernet protocol (name, space, input_names, output_names, extract, "
            "example_input, evaluate, macs, params)"
        )
    return supernet
