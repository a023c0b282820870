"""A warm start: what a finished run on another board tells a search over the same space and
data.

Two things carry over. The objectives that do not depend on the board (accuracy, BLEU, MACs,
parameters) of every architecture the previous run measured are known: a method may train on
them and propose those architectures first, and the runner's evaluator reuses them instead of
scoring again (only the new board's objectives are measured). The previous board's own
objectives (its latency, its energy) are not this board's, but strongly correlated with them:
a method may learn them as a feature of the new board's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linas_sdk.errors import InvalidArgument


@dataclass(frozen=True)
class Prior:
    """``X`` (n, d): the previous run's measured architectures, encoded (`SearchSpace.encode`).
    ``known`` (n, k): this search's objectives in minimised form, NaN where the previous run
    did not measure one (the new board's). ``board`` (n, b): the previous board's objectives
    in minimised form. The names name the columns of ``known`` and ``board``; ``keys`` are the
    architectures' keys (`SearchSpace.key`), ``source`` where they were measured."""

    X: np.ndarray
    known: np.ndarray
    board: np.ndarray
    known_names: tuple[str, ...]
    board_names: tuple[str, ...]
    keys: tuple[str, ...]
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.X)
        if not self.known.shape[0] == self.board.shape[0] == len(self.keys) == n:
            raise InvalidArgument(
                f"a prior needs one row of known values, board values and a key per "
                f"architecture ({n}), got {self.known.shape[0]}, {self.board.shape[0]} and "
                f"{len(self.keys)}")
        if n == 0:
            raise InvalidArgument(f"{self.source or 'the previous run'} measured nothing to reuse")

    @property
    def reused(self) -> list[int]:
        """The columns of ``known`` the previous run measured (the board-independent ones)."""
        return [j for j in range(self.known.shape[1]) if np.isfinite(self.known[:, j]).any()]

    def describe(self) -> dict:
        """For the journal: where it came from and what it reuses (resuming checks it)."""
        return {
            "source": self.source,
            "architectures": len(self.X),
            "reused": [self.known_names[j] for j in self.reused],
            "board": list(self.board_names),
        }
