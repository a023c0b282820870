"""The search-method contract: ask / tell, as in pymoo, so evaluations can happen anywhere.

A method is set up once with the problem, then alternates ``ask()`` (up to P canonical configs
to evaluate next) and ``tell(configs, F, G)`` (their values). ``F`` is an (n, k) array of
*minimised* objective values (max objectives negated); ``G`` an (n, c) array of constraint
violations (<= 0 feasible). A config the runner could not measure (the device failed on it) is
told with ``F = +inf`` and ``G = +inf``; methods must tolerate that (predictors drop such rows).

The runner answers a repeated architecture from its archive: such configs are told like any
other, so a method may ask a known architecture; it just learns nothing new. Resuming a run
replays the same asks and tells from the journal, so a method that is deterministic for a given
seed continues exactly where it was killed.

Subclasses implement ``_setup``, ``_ask`` and ``_tell``; the public methods check the contract.
A ``prior`` (a warm start: `prior.Prior`) is what another board's run measured; a method may
use it (LINAS does) or ignore it (the baselines run cold).

A method may append a JSON-safe dict per iteration to ``diagnostics`` (predictor quality, host
time...); the runner journals each new entry under the iteration of the ask that made it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from linas_host.search.prior import Prior
from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import Constraint, Objective
from linas_sdk.space import SearchSpace


class Method:
    """Base class of every search method (LINAS, NSGA-II, random)."""

    name = "method"

    def setup(
        self,
        space: SearchSpace,
        objectives: Sequence[Objective],
        constraints: Sequence[Constraint] = (),
        *,
        seed: int = 0,
        population_size: int = 50,
        prior: Prior | None = None,
    ) -> Method:
        if population_size < 1:
            raise InvalidArgument(f"population_size must be >= 1, got {population_size}")
        self.space = space
        self.objectives = tuple(objectives)
        self.constraints = tuple(constraints)
        self.seed = int(seed)
        self.population_size = int(population_size)
        self.rng = np.random.default_rng(self.seed)
        self.diagnostics: list[dict] = []
        self.prior = prior
        self._setup()
        return self

    def ask(self) -> list[dict]:
        """Up to ``population_size`` canonical configs to evaluate next (empty: nothing left)."""
        return [self.space.canonical(c) for c in self._ask()]

    def tell(
        self,
        configs: Sequence[Mapping],
        F: np.ndarray,
        G: np.ndarray | None = None,
    ) -> None:
        n, k, c = len(configs), len(self.objectives), len(self.constraints)
        F = np.asarray(F, dtype=float)
        G = np.zeros((n, c)) if G is None else np.asarray(G, dtype=float)
        if F.shape != (n, k) or G.shape != (n, c):
            raise InvalidArgument(
                f"tell expects F of shape ({n}, {k}) and G of shape ({n}, {c}) for {n} configs; "
                f"got {F.shape} and {G.shape}"
            )
        self._tell([self.space.canonical(c) for c in configs], F, G)

    def to_dict(self) -> dict:
        """The method's settings, recorded in the journal (resuming checks they match)."""
        return {"name": self.name}

    def _setup(self) -> None:
        pass

    def _ask(self) -> list[dict]:
        raise NotImplementedError

    def _tell(self, configs: list[dict], F: np.ndarray, G: np.ndarray) -> None:
        pass
