"""The genetic operators every GA in linas uses, built in one place with explicit rates.

NSGA-II (the baseline) and LINAS's inner GA on the predictors share these, so a comparison
between them differs in the evaluations only. Genes are choice indices (integers in
``[0, n_choices)``), one per search-space variable:

- crossover: ``uniform`` (each gene from either parent with probability 1/2; the natural
  choice for categorical genes) or ``sbx`` (simulated binary crossover on the indices, rounded;
  meaningful for ordered int variables), applied to a mating with probability
  ``crossover_rate``;
- mutation: *random reset*: each gene, independently, with probability ``mutation_rate``
  (a per-variable rate; default ``1 / n_variables``) is replaced by a different choice drawn
  uniformly;
- a repair that writes every offspring in the space's canonical form (inactive conditional
  genes fixed), so duplicate elimination sees two encodings of one network as one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymoo.core.mutation import Mutation
from pymoo.core.problem import Problem
from pymoo.core.repair import Repair
from pymoo.core.sampling import Sampling

from linas_sdk.errors import InvalidArgument
from linas_sdk.space import SearchSpace

CROSSOVERS = ("uniform", "sbx")


@dataclass(frozen=True)
class GeneticOperators:
    """Operator choice and rates. ``mutation_rate`` is per variable (None: 1 / n_variables);
    ``crossover_rate`` is per mating; ``sbx_eta`` only matters for ``crossover="sbx"``."""

    crossover: str = "uniform"
    crossover_rate: float = 0.9
    mutation_rate: float | None = None
    sbx_eta: float = 15.0
    eliminate_duplicates: bool = True

    def __post_init__(self) -> None:
        if self.crossover not in CROSSOVERS:
            raise InvalidArgument(
                f"crossover must be one of {CROSSOVERS}, got {self.crossover!r}"
            )
        if not 0.0 <= self.crossover_rate <= 1.0:
            raise InvalidArgument(f"crossover_rate must be in [0, 1], got {self.crossover_rate}")
        if self.mutation_rate is not None and not 0.0 <= self.mutation_rate <= 1.0:
            raise InvalidArgument(
                f"mutation_rate (per variable) must be in [0, 1], got {self.mutation_rate}"
            )

    def per_variable_mutation_rate(self, space: SearchSpace) -> float:
        return self.mutation_rate if self.mutation_rate is not None else 1.0 / len(space)

    def to_dict(self) -> dict:
        return {
            "crossover": self.crossover,
            "crossover_rate": self.crossover_rate,
            "mutation_rate_per_variable": self.mutation_rate,
            "sbx_eta": self.sbx_eta,
            "eliminate_duplicates": self.eliminate_duplicates,
        }


class RandomResetMutation(Mutation):
    """Each gene, with probability ``rate``, becomes a different choice drawn uniformly."""

    def __init__(self, rate: float) -> None:
        super().__init__(prob=1.0)
        self.rate = rate

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        X = np.rint(X).astype(np.int64)
        sizes = (problem.xu + 1).astype(np.int64)
        hit = random_state.random(X.shape) < self.rate
        hit &= sizes[None, :] > 1
        # shift by 1..size-1 (mod size): a uniformly drawn *different* choice
        shift = np.floor(random_state.random(X.shape) * (sizes - 1)[None, :]).astype(np.int64) + 1
        X[hit] = ((X + shift) % sizes[None, :])[hit]
        return X


class CanonicalRepair(Repair):
    """Rounds genes to indices and writes them in canonical form (inactive genes fixed)."""

    def __init__(self, space: SearchSpace) -> None:
        super().__init__()
        self.space = space

    def _do(self, problem, X, **kwargs):
        X = np.clip(np.rint(X), problem.xl, problem.xu).astype(np.int64)
        return self.space.canonical_encoded(X)


class DistinctSampling(Sampling):
    """``n`` distinct networks drawn uniformly over encodings, in canonical form (fewer only if
    the space has fewer): pymoo's integer sampling would lose the duplicates that canonical
    repair creates, and start with a smaller population."""

    def __init__(self, space: SearchSpace, max_tries: int = 100) -> None:
        super().__init__()
        self.space = space
        self.max_tries = max_tries

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        rng = random_state if random_state is not None else np.random.default_rng()
        seen: dict[str, np.ndarray] = {}
        for _ in range(self.max_tries):
            for config in self.space.sample(rng, n_samples - len(seen)):
                seen.setdefault(self.space.key(config), self.space.encode(config))
            if len(seen) >= n_samples:
                break
        return np.array(list(seen.values()), dtype=np.int64).reshape(-1, len(self.space))


class SpaceProblem(Problem):
    """A pymoo problem over a space's choice indices. Without ``function`` it only describes
    bounds and sizes (for ask/tell, where values are told from outside); with ``function``
    (a map from an (n, d) index matrix to ``F`` or ``(F, G)``) it evaluates, e.g. predictors."""

    def __init__(self, space: SearchSpace, n_obj: int, n_ieq_constr: int = 0, function=None):
        super().__init__(
            n_var=len(space), n_obj=n_obj, n_ieq_constr=n_ieq_constr,
            xl=np.zeros(len(space)), xu=(space.sizes - 1).astype(float), vtype=int,
        )
        self.space = space
        self.function = function

    def _evaluate(self, X, out, *args, **kwargs):
        if self.function is None:
            raise InvalidArgument("this SpaceProblem has no function; tell values instead")
        result = self.function(np.rint(X).astype(np.int64))
        if isinstance(result, tuple):
            out["F"], out["G"] = result
        else:
            out["F"] = result


def build_nsga2(
    space: SearchSpace,
    operators: GeneticOperators,
    *,
    population_size: int,
    sampling=None,
):
    """A pymoo NSGA-II over ``space`` with ``operators``. ``sampling``: an (n, d) index matrix
    or a pymoo Sampling to start from (default: `DistinctSampling`, P distinct networks)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.crossover.ux import UniformCrossover

    if operators.crossover == "uniform":
        crossover = UniformCrossover(prob=operators.crossover_rate)
    else:
        crossover = SBX(prob=operators.crossover_rate, eta=operators.sbx_eta, vtype=float)
    if sampling is None:
        sampling = DistinctSampling(space)
    elif isinstance(sampling, np.ndarray):
        sampling = np.asarray(sampling, dtype=np.int64)
    return NSGA2(
        pop_size=population_size,
        sampling=sampling,
        crossover=crossover,
        mutation=RandomResetMutation(operators.per_variable_mutation_rate(space)),
        repair=CanonicalRepair(space),
        eliminate_duplicates=operators.eliminate_duplicates,
    )
