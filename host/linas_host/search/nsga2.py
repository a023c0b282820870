"""NSGA-II (pymoo) driven by ask / tell: the baseline LINAS is measured against.

Population P, the shared operators of `operators.py`, duplicate elimination within the
population and its offspring. Each ask is one generation's offspring (the first ask is the
initial population).
"""

from __future__ import annotations

import numpy as np
from pymoo.core.evaluator import Evaluator as PymooEvaluator
from pymoo.problems.static import StaticProblem

from linas_host.search.method import Method
from linas_host.search.operators import GeneticOperators, SpaceProblem, build_nsga2
from linas_sdk.errors import InvalidArgument

# pymoo's sorting needs finite numbers: a failed evaluation is told as this (worse than any).
_FAILED = 1e30


class NSGA2(Method):
    name = "nsga2"

    def __init__(self, *, operators: GeneticOperators | None = None) -> None:
        self.operators = operators if operators is not None else GeneticOperators()

    def _setup(self) -> None:
        self._problem = SpaceProblem(
            self.space, n_obj=len(self.objectives), n_ieq_constr=len(self.constraints)
        )
        self._algorithm = build_nsga2(
            self.space, self.operators, population_size=self.population_size
        )
        self._algorithm.setup(self._problem, seed=self.seed, verbose=False)
        self._pending = None

    def _ask(self) -> list[dict]:
        self._pending = self._algorithm.ask()
        if self._pending is None or len(self._pending) == 0:
            self._pending = None
            return []  # pymoo found no offspring that is not a duplicate: nothing left to try
        return [self.space.decode(x) for x in self._pending.get("X")]

    def _tell(self, configs: list[dict], F: np.ndarray, G: np.ndarray) -> None:
        pop = self._pending
        if pop is None or len(pop) != len(configs):
            raise InvalidArgument("NSGA2.tell expects the values of exactly the configs last asked")
        self._pending = None
        F = np.where(np.isfinite(F), F, _FAILED)
        G = np.where(np.isfinite(G), G, _FAILED)
        static = StaticProblem(self._problem, F=F, G=G) if G.shape[1] else StaticProblem(
            self._problem, F=F
        )
        PymooEvaluator().eval(static, pop)
        self._algorithm.tell(infills=pop)

    def to_dict(self) -> dict:
        return {"name": self.name, "operators": self.operators.to_dict()}
