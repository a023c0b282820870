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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from linas_host.search.selection import select_candidates
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


class WarmStart:
    """What a model-based method makes of a `Prior`: the old board's objectives as features
    (one predictor each, fitted once on the previous run's rows, its standardised prediction
    a column beside the space's features), the previous run's rows of each reused objective
    as training rows, and the previous run's front as the first ask."""

    def __init__(self, prior: Prior, base: np.ndarray, fit: Callable) -> None:
        """`base`: the space's features of ``prior.X``; `fit(features, y)`: a fitted model."""
        self.prior = prior
        self.models = []
        for y in prior.board.T:
            ok = np.isfinite(y)
            model = fit(base[ok], y[ok])
            fitted = model.predict(base[ok])
            self.models.append((model, fitted.mean(), fitted.std() or 1.0))

    def features(self, base: np.ndarray) -> np.ndarray:
        """`base` (the space's features of some architectures) with the old board's columns."""
        board = [(m.predict(base) - mean) / std for m, mean, std in self.models]
        return np.column_stack([base, *board])

    def training_rows(self, X: np.ndarray, features: np.ndarray, y: np.ndarray, j: int,
                      featurize: Callable) -> tuple[np.ndarray, np.ndarray]:
        """The rows of target `j` (`y` of the measured `X`, whose `features` are given: an
        objective, then the constraints) and, for an objective the prior reuses, the previous
        run's rows nobody measured here; `featurize` makes features of encoded architectures."""
        if j >= self.prior.known.shape[1]:  # a constraint: the prior knows none
            return features, y
        known = self.prior.known[:, j]
        measured = {tuple(x) for x in X.tolist()}
        extra = [i for i, x in enumerate(self.prior.X.tolist())
                 if np.isfinite(known[i]) and tuple(x) not in measured]
        if not extra:
            return features, y
        return (np.vstack([features, featurize(self.prior.X[extra])]),
                np.concatenate([y, known[extra]]))

    def first_ask(self, n: int, *, pool_factor: float, extremes: int) -> np.ndarray:
        """Up to `n` of the previous run's architectures: its ends, then spread along its
        front on its own (reused and old board) objectives (`select_candidates`)."""
        prior = self.prior
        values = np.column_stack([prior.known[:, prior.reused], prior.board])
        ok = np.flatnonzero(np.all(np.isfinite(values), axis=1))
        picked = select_candidates(values[ok], np.zeros((len(ok), 0)),
                                   np.empty((0, values.shape[1])), n,
                                   pool_factor=pool_factor, extremes=extremes)  # fmt: skip
        return prior.X[ok[picked]]
