"""Supernets by name: the built-in ones, a user's own by ``"module:factory"``, or entry points.

`linas search --supernet NAME` and the Python API resolve NAME here:

1. a built-in name (``mobilenetv3``, ``transformer``);
2. a name registered at run time with `register`;
3. an entry point in the ``linas.supernets`` group of any installed distribution
   (``[project.entry-points."linas.supernets"] mynet = "mypkg.nets:make_supernet"``);
4. a ``"module:factory"`` path, imported as is (``"mypkg.nets:make_supernet"``).

A factory takes keyword options only and returns an object following
`linas_host.supernets.protocol.Supernet`. Factories are kept as import paths, so naming a
supernet imports nothing until it is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from linas_host.supernets.protocol import Supernet
from linas_sdk.errors import InvalidArgument

ENTRY_POINT_GROUP = "linas.supernets"

_BUILTIN = {
    "mobilenetv3": "linas_host.supernets.mobilenetv3.supernet:load",
    "transformer": "linas_host.supernets.transformer.supernet:load",
}
_registered: dict[str, str | Callable[..., Any]] = {}


def register(name: str, factory: str | Callable[..., Any]) -> None:
    """Make `name` resolve to `factory` (a callable or a ``"module:factory"`` path)."""
    _registered[name] = factory


def names() -> list[str]:
    """Every name `create` resolves without a ``module:factory`` path."""
    found = set(_BUILTIN) | set(_registered)
    found |= {point.name for point in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(found)


def resolve(name: str) -> Callable[..., Any]:
    """The factory `name` stands for; raises InvalidArgument naming the known ones."""
    if name in _registered:
        target = _registered[name]
    elif name in _BUILTIN:
        target = _BUILTIN[name]
    else:
        points = [p for p in entry_points(group=ENTRY_POINT_GROUP) if p.name == name]
        if points:
            return points[0].load()
        if ":" not in name:
            raise InvalidArgument(
                f"unknown supernet {name!r}: expected one of {', '.join(names())} "
                "or a 'module:factory' path"
            )
        target = name
    return target if callable(target) else _import_path(target)


def create(name: str, **options: Any) -> Supernet:
    """Build the supernet `name` with the factory's keyword `options`."""
    supernet = resolve(name)(**options)
    if not isinstance(supernet, Supernet):
        raise InvalidArgument(
            f"the factory for {name!r} returned {type(supernet).__name__}, which lacks members "
            "of the Supernet protocol (name, space, input_names, output_names, extract, "
            "example_input, evaluate, macs, params)"
        )
    return supernet


def _import_path(path: str) -> Callable[..., Any]:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidArgument(
            f"cannot import {module_name!r} for supernet {path!r}: {error}"
        ) from error
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise InvalidArgument(f"{module_name!r} has no callable {attribute!r} (from {path!r})")
    return factory
