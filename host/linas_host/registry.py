"""One naming rule for the pieces a user plugs in: search methods, supernets and trainers.

Each kind has one `Registry`, and a name resolves to the first of:

1. a name registered at run time with `Registry.register` (so a user can replace a built-in,
   as a benchmark does to keep each run's diagnostics);
2. a built-in name;
3. an entry point of the kind's group in any installed distribution, e.g.
   ``[project.entry-points."linas.methods"] anneal = "mypkg.anneal:Annealing"``;
4. a ``"module:attr"`` path, imported as is.

Built-ins, registered strings and entry points are ``"module:attr"`` paths imported on first
use, so naming a piece (listing names, validating a config) imports none of its dependencies.
Every kind refuses an unknown name with one message, naming the known ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from linas_sdk.errors import InvalidArgument


class Registry:
    """The names of one kind of piece; ``kind`` is what messages call it ("search method")."""

    def __init__(self, kind: str, builtins: Mapping[str, str], *, group: str) -> None:
        self.kind, self.group = kind, group
        self._builtins = dict(builtins)
        self._registered: dict[str, Callable[..., Any] | str] = {}

    def register(self, name: str, target: Callable[..., Any] | str) -> None:
        """Make `name` resolve to `target`, a callable or a ``"module:attr"`` path, ahead of any
        built-in or entry point of that name."""
        self._registered[name] = target

    def names(self) -> list[str]:
        """Every name that resolves without a path; imports nothing."""
        points = entry_points(group=self.group).names
        return sorted({*self._registered, *self._builtins, *points})

    def check(self, name: str) -> None:
        """Raise what `resolve` would for a name that resolves to nothing, importing only the
        module of a ``"module:attr"`` path (a known name is not loaded)."""
        if name not in self.names():
            self.resolve(name)

    def resolve(self, name: str) -> Callable[..., Any]:
        """The callable `name` stands for; InvalidArgument naming the known names if none."""
        if name in self._registered:
            target = self._registered[name]
        elif name in self._builtins:
            target = self._builtins[name]
        elif points := entry_points(group=self.group).select(name=name):
            point = next(iter(points))
            target = f"{point.module}:{point.attr}"
        elif ":" in name:
            target = name
        else:
            raise InvalidArgument(
                f"unknown {self.kind} {name!r}: expected one of {', '.join(self.names())}, "
                "or a 'module:attr' path"
            )
        return target if callable(target) else self._load(name, target)

    def create(self, name: str, **options: Any) -> Any:
        """What the factory `name` stands for makes of keyword `options`."""
        return self.resolve(name)(**options)

    def _load(self, name: str, path: str) -> Callable[..., Any]:
        module_name, _, attr = path.partition(":")
        unavailable = f"{self.kind} {name!r} is not available"
        try:
            module = importlib.import_module(module_name)
        except (ImportError, ValueError) as error:  # ValueError: an empty module name
            raise InvalidArgument(
                f"{unavailable}: cannot import {module_name!r} ({error})"
            ) from error
        target = getattr(module, attr, None)
        if not callable(target):
            raise InvalidArgument(f"{unavailable}: {module_name!r} has no callable {attr!r}")
        return target
