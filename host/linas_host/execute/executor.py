"""Where a candidate's host work runs: the one small interface every executor follows.

An executor maps one function over many items and yields ``(position, outcome, node)`` as each
ends, in whatever order they end: ``outcome`` is the function's result, or the `LinasError` it
raised (a counted failure of that item), or, on a cluster, a `TaskLost` for an item whose
worker died on every try. Any other error stops the run, as it would in this process. ``node``
names the machine that did the work (its hostname).

`LocalExecutor` runs the items one after another in this process (today's search, with nothing
shipped anywhere); `linas_host.execute.ray_cluster.RayExecutor` runs each item as a Ray task.
A function given to `map` again is not shipped again: what it holds (the supernet and its
weights) goes to where it runs once.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from linas_sdk.errors import LinasError

Outcome = tuple[int, Any, str]
"""(position of the item, the function's result or a LinasError, the node that ran it)."""


class TaskLost(LinasError):
    """An item's work was lost for good: the worker running it died on every try (it may be
    what kills them: out of memory, a crash in native code)."""


class ClusterLost(LinasError):
    """The cluster that ran the host work is gone; the run stops (its journal resumes it)."""


class Executor:
    """Base class: `map` calls the `_map` hook; `describe` is what run.json keeps."""

    kind = "executor"

    def map(self, function: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        """`function` over `items`, yielded as each ends (see the module docstring)."""
        return self._map(function, list(items))

    def describe(self) -> dict[str, Any]:
        """Which executor ran, and on which nodes."""
        return {"kind": self.kind}

    def close(self) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _map(self, function: Callable[[Any], Any], items: list[Any]) -> Iterator[Outcome]:
        raise NotImplementedError


class LocalExecutor(Executor):
    """Each item in turn, in this process: nothing is copied or shipped."""

    kind = "local"

    def __init__(self) -> None:
        self.node = socket.gethostname()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "nodes": [{"hostname": self.node}]}

    def _map(self, function, items):
        for position, item in enumerate(items):
            try:
                outcome = function(item)
            except LinasError as error:
                outcome = error
            yield position, outcome, self.node
