"""Search methods by name: what `SearchConfig.method` (YAML and `linas_sdk.search(method=...)`)
and `linas bench --methods` accept, resolved by the rule of `linas_host.registry` with the
``linas.methods`` entry-point group.

A factory takes keyword options (a config's ``method_options``) and returns an un-setup `Method`.
"""

from __future__ import annotations

from typing import Any

from linas_host.registry import Registry
from linas_host.search.method import Method

METHODS = Registry(
    "search method",
    {
        "random": "linas_host.search.random_search:RandomSearch",
        "nsga2": "linas_host.search.nsga2:NSGA2",
        "linas": "linas_host.search.linas:LINAS",
    },
    group="linas.methods",
)

register = METHODS.register
available = METHODS.names
check = METHODS.check


def create(name: str, **options: Any) -> Method:
    """A new method instance of the named kind."""
    return METHODS.create(name, **options)
