"""A cell graph: which variables are the operations on a DAG's edges.

Cell-based spaces (NAS-Bench-201, DARTS) choose an operation per edge of a small DAG whose
first node is the cell's input and whose last is its output; one choice, the *zero* op
(``none``), cuts the edge. An edge then matters only when it lies on an input-to-output path
of uncut edges: anything else computes a value nobody uses, so the cell's output is the same
whatever op the edge holds. Predictors see such a *dead* edge as if it carried the zero op
(`SearchSpace.features_encoded`), so they need not learn that again for every pair of edges.

The architecture itself is untouched: its key, canonical form and evaluation are those of its
own choices (isomorphic cells keep their own rows in a table, and a dead op may still cost
time on a board).

In a space file::

    cell:
      zero: none
      edges: {e0: [0, 1], e1: [0, 2], e2: [1, 2], e3: [0, 3], e4: [1, 3], e5: [2, 3]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from linas_sdk.errors import InvalidArgument


@dataclass(frozen=True)
class Cell:
    """``edges`` maps a variable name to its edge ``(from, to)`` between integer nodes, with
    ``from < to``; node 0 is the input, the largest node the output. ``zero`` is the choice
    that cuts an edge."""

    edges: Mapping[str, tuple[int, int]]
    zero: Any

    def __post_init__(self) -> None:
        if not isinstance(self.edges, Mapping) or not self.edges:
            raise InvalidArgument(
                f"a cell needs 'edges', a mapping of variable names to [from, to] node pairs, "
                f"got {self.edges!r}"
            )
        edges = {}
        for name, pair in self.edges.items():
            ok = isinstance(pair, (list, tuple)) and len(pair) == 2
            ok = ok and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
            if not ok or not 0 <= pair[0] < pair[1]:
                raise InvalidArgument(
                    f"cell edge {name!r}: expected [from, to] with integer nodes "
                    f"0 <= from < to, got {pair!r}"
                )
            edges[str(name)] = (int(pair[0]), int(pair[1]))
        object.__setattr__(self, "edges", edges)
        if self.zero is None:
            raise InvalidArgument("a cell needs 'zero', the choice that cuts an edge (e.g. none)")

    @property
    def output(self) -> int:
        return max(to for _, to in self.edges.values())

    @classmethod
    def from_dict(cls, data: Mapping) -> Cell:
        if not isinstance(data, Mapping) or set(data) != {"edges", "zero"}:
            raise InvalidArgument(
                "a cell is a mapping with 'edges' (variable -> [from, to]) and 'zero' (the "
                f"choice that cuts an edge), got {data!r}"
            )
        return cls(edges=data["edges"], zero=data["zero"])

    def to_dict(self) -> dict:
        return {"edges": {k: list(v) for k, v in self.edges.items()}, "zero": self.zero}

    def live(self, cut: np.ndarray) -> np.ndarray:
        """For a bool matrix ``cut`` (one row per architecture, one column per edge in
        ``edges`` order; True where the edge holds the zero op): which edges lie on an
        input-to-output path of uncut edges."""
        pairs = list(self.edges.values())
        on = ~np.asarray(cut, dtype=bool).reshape(-1, len(pairs))
        # edges by source node, so a node's inflow is complete before its outflow is used
        reached = np.zeros((len(on), self.output + 1), dtype=bool)  # from the input
        reached[:, 0] = True
        for k in sorted(range(len(pairs)), key=lambda e: pairs[e][0]):
            a, b = pairs[k]
            reached[:, b] |= reached[:, a] & on[:, k]
        reaches = np.zeros_like(reached)  # the output, edges by target node from the end
        reaches[:, self.output] = True
        for k in sorted(range(len(pairs)), key=lambda e: -pairs[e][1]):
            a, b = pairs[k]
            reaches[:, a] |= reaches[:, b] & on[:, k]
        return np.column_stack(
            [on[:, k] & reached[:, a] & reaches[:, b] for k, (a, b) in enumerate(pairs)]
        )
