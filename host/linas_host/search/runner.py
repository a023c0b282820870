"""The search loop and its evaluation accounting.

Per iteration: ask the method -> answer every architecture already in the archive for free ->
evaluate the new ones (each counts once; the run stops at the budget exactly, even in the
middle of a batch) -> journal each as it arrives, with the hypervolume after it -> tell the
method the whole batch. The same accounting holds for every method, so their evaluation counts
compare.

Everything that can be checked is checked before the first measurement: objectives and
constraints, the budget against the population, the evaluator against the problem (unknown
columns), the reference point, and a resumed journal against this search.

Resuming loads the journal into the archive (it counts towards the budget) and replays the
method from its seed: its asks are answered from the archive until it reaches the point where
the run was killed, so nothing is measured twice and a deterministic method continues exactly
as if it had not been interrupted.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from linas_host.evaluate.evaluators import Evaluator
from linas_host.search.evaluation import Evaluation
from linas_host.search.hypervolume import RunHypervolume, non_dominated, reference_in_minimised_form
from linas_host.search.journal import Journal, open_journal
from linas_host.search.method import Method
from linas_host.search.prior import Prior
from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import (
    Constraint,
    Objective,
    parse_constraints,
    parse_objectives,
    to_minimise,
    violations,
)
from linas_sdk.space import SearchSpace


@dataclass(frozen=True)
class Progress:
    """What a callback sees after every counted evaluation."""

    evaluations: int
    budget: int
    iteration: int
    hypervolume: float | None
    evaluation: Evaluation
    reference_point: dict[str, float] | None = None
    """In natural units; None until an automatic reference is fixed."""

    @property
    def fraction(self) -> float:
        return self.evaluations / self.budget


@dataclass
class SearchResult:
    """The measured archive in evaluation order; ``status`` says why the run ended:
    ``budget`` (spent), ``exhausted`` (the method had nothing more to ask) or ``stalled``
    (it only repeated architectures it had been told, ``max_stalled_asks`` times running)."""

    space: SearchSpace
    objectives: tuple[Objective, ...]
    evaluations: list[Evaluation]
    status: str
    reference_point: dict[str, float] | None = None
    resumed: int = 0
    wall_seconds: float = 0.0
    hypervolume: list[float | None] = field(default_factory=list)

    def front(self) -> list[Evaluation]:
        """The feasible non-dominated evaluations: the Pareto front a user picks from."""
        feasible = [e for e in self.evaluations if e.feasible]
        if not feasible:
            return []
        mask = non_dominated(np.array([e.F for e in feasible]))
        return [e for e, keep in zip(feasible, mask, strict=False) if keep]


def check_budget(budget: int, population_size: int) -> None:
    """A run's budget and population, or InvalidArgument: the budget counts evaluations and
    must cover at least the initial population."""
    if isinstance(budget, bool) or not isinstance(budget, numbers.Integral) or budget < 1:
        raise InvalidArgument(f"the budget must be a positive number of evaluations: {budget}")
    if population_size < 1:
        raise InvalidArgument(f"the population size must be >= 1, got {population_size}")
    if budget < population_size:
        raise InvalidArgument(
            f"the budget ({budget} evaluations) is smaller than the population "
            f"({population_size}); it must cover at least the initial population"
        )


class SearchRun:
    """One search: a method, an evaluator, a budget and (optionally) a journal. Without a
    `reference_point`, one is fixed from the first population (`RunHypervolume`). A `prior`
    (a warm start from another board's run) is handed to the method; the evaluator is the
    one that reuses its values (`linas_host.run.warm.ReusingEvaluator`)."""

    def __init__(
        self,
        *,
        space: SearchSpace,
        objectives: Sequence[Objective | str],
        method: Method,
        evaluator: Evaluator,
        budget: int,
        constraints: Sequence[Constraint | str] = (),
        population_size: int = 50,
        seed: int = 0,
        reference_point: Sequence[float] | Mapping[str, float] | None = None,
        journal: str | Path | Journal | None = None,
        resume: bool = False,
        callbacks: Sequence[Callable[[Progress], None]] = (),
        max_stalled_asks: int = 50,
        prior: Prior | None = None,
    ) -> None:
        self.space = space
        self.objectives = parse_objectives(objectives)
        self.constraints = parse_constraints(constraints)
        check_budget(budget, population_size)
        if not isinstance(method, Method):
            raise InvalidArgument(f"method must be a linas Method, got {method!r}")
        evaluator.check(space, self.objectives, self.constraints)
        if reference_point is not None:  # refused now, before anything is measured
            reference_in_minimised_form(self.objectives, reference_point)
        self.reference_point = reference_point
        self.method, self.evaluator = method, evaluator
        self.budget, self.population_size, self.seed = int(budget), population_size, int(seed)
        self.callbacks = tuple(callbacks)
        self.max_stalled_asks = max_stalled_asks
        self.prior = prior
        self.journal = open_journal(journal)
        self._owns_journal = not isinstance(journal, Journal)
        self._previous = self.journal.start(self._meta(), resume=resume)

    def _meta(self) -> dict:
        return {
            "space_fingerprint": self.space.fingerprint(),
            "space": self.space.to_dict(),
            "objectives": [o.to_dict() for o in self.objectives],
            "constraints": [str(c) for c in self.constraints],
            "method": self.method.to_dict(),
            "seed": self.seed,
            "population_size": self.population_size,
            "budget": self.budget,
            "evaluator": self.evaluator.name,
            "warm_start": None if self.prior is None else self.prior.describe(),
        }

    def run(self) -> SearchResult:
        """Ask, measure and tell until the budget is spent or the method ends; a journal the
        run opened itself (from a path) is closed when it returns."""
        try:
            return self._run()
        finally:
            if self._owns_journal:
                self.journal.close()

    def _run(self) -> SearchResult:
        start = time.monotonic()
        archive: dict[str, Evaluation] = {}
        order: list[Evaluation] = []
        hv = RunHypervolume(self.objectives, self.reference_point,
                            population=self.population_size)
        for e in self._previous:
            archive[e.key] = e
            order.append(e)
            self._settle(hv.add(e.index, e.F, e.feasible), order, archive)
        self.method.setup(
            self.space, self.objectives, self.constraints,
            seed=self.seed, population_size=self.population_size, prior=self.prior,
        )
        told: set[str] = set()
        status, stalled, iteration, noted = "budget", 0, 0, 0
        while len(order) < self.budget:
            configs = self.method.ask()
            if not configs:
                status = "exhausted"
                break
            iteration += 1
            for record in self.method.diagnostics[noted:]:
                self.journal.note(iteration, record)
            noted = len(self.method.diagnostics)
            keys = [self.space.key(c) for c in configs]
            new = [p for p, k in enumerate(keys) if k not in archive and k not in keys[:p]]
            take = new[: self.budget - len(order)]
            for position, record in self.evaluator.stream([configs[p] for p in take]):
                p = take[position]
                e = self._evaluation(len(order), keys[p], configs[p], record, iteration)
                known = hv.add(e.index, e.F, e.feasible)
                e = replace(e, hypervolume=known.pop(e.index, None))
                archive[e.key] = e
                order.append(e)
                self.journal.append(e)
                self._settle(known, order, archive)
                progress = Progress(len(order), self.budget, iteration, e.hypervolume, e,
                                    hv.reference)
                for callback in self.callbacks:
                    callback(progress)
            if len(take) < len(new):
                break  # the budget ended inside this batch
            F = np.array([archive[k].F for k in keys], dtype=float)
            G = np.array([archive[k].G for k in keys], dtype=float).reshape(len(keys), -1)
            self.method.tell(configs, F, G)
            stalled = 0 if set(keys) - told else stalled + 1
            told.update(keys)
            if stalled >= self.max_stalled_asks:
                status = "stalled"
                break
        return SearchResult(
            space=self.space, objectives=self.objectives, evaluations=order, status=status,
            reference_point=hv.reference, resumed=len(self._previous),
            wall_seconds=time.monotonic() - start,
            hypervolume=[e.hypervolume for e in order],
        )

    def _settle(self, known: dict[int, float], order: list[Evaluation],
                archive: dict[str, Evaluation]) -> None:
        """Give earlier evaluations the hypervolumes that just became known (when an automatic
        reference point is fixed), in the archive and the journal."""
        for index, value in known.items():
            order[index] = archive[order[index].key] = replace(order[index], hypervolume=value)
        if known:
            self.journal.set_hypervolumes(known)

    def _evaluation(self, index, key, config, record, iteration) -> Evaluation:
        if "error" in record:
            F = (float("inf"),) * len(self.objectives)
            G = (float("inf"),) * len(self.constraints)
            values = {}
        else:
            F = tuple(float(v) for v in to_minimise(self.objectives, record))
            G = tuple(float(v) for v in violations(self.constraints, record))
            values = {o.name: o.sign * f for o, f in zip(self.objectives, F, strict=False)}
        return Evaluation(
            index=index, key=key, config=dict(config), values=values, F=F, G=G,
            record=dict(record), device=str(record.get("device", "")),
            host=str(record.get("host", "")), iteration=iteration, time=time.time(),
        )
