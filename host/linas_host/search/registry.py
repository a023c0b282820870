"""Search methods by name (what `linas bench --methods` and the public API accept).

A factory takes keyword options and returns an un-setup `Method`. Entries may be
``"module:Class"`` strings, imported on first use so a method's heavy dependencies load only
when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from linas_host.search.method import Method
from linas_sdk.errors import InvalidArgument

_METHODS: dict[str, Callable[..., Method] | str] = {
    "random": "linas_host.search.random_search:RandomSearch",
    "nsga2": "linas_host.search.nsga2:NSGA2",
    "linas": "linas_host.search.linas:LINAS",
}


def register(name: str, factory: Callable[..., Method] | str) -> None:
    """Add (or replace) a method under ``name``."""
    _METHODS[name] = factory


def available() -> list[str]:
    return sorted(_METHODS)


def create(name: str, **options) -> Method:
    """A new method instance of the named kind."""
    if name not in _METHODS:
        raise InvalidArgument(f"unknown search method {name!r}; expected one of {available()}")
    factory = _METHODS[name]
    if isinstance(factory, str):
        module_name, _, attr = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as error:
            raise InvalidArgument(
                f"search method {name!r} is not available: cannot load {module_name}:{attr} "
                f"({error})"
            ) from None
    return factory(**options)
