"""LINAS: a genetic algorithm run on light predictors, measuring only what they point at.

1. The first ask is P distinct architectures drawn uniformly (P = ``population_size``).
2. Every later ask retrains one predictor per objective and per constraint on everything
   measured so far (`predictors.CVSelected`: ridge, ridge on pairwise interactions, RBF-SVR or
   LightGBM, chosen by k-fold CV);
3. runs pymoo's NSGA-II on the predictors only, for ``predictions`` predicted evaluations,
   with the shared operators of `operators.py`, starting from the measured non-dominated set,
   inside a trust region: an architecture more than ``trust_radius`` genes away from every
   measured non-dominated one is infeasible to it (the predictors know little out there; the
   radius grows with the space: one gene per 15 variables);
4. picks ``batch`` architectures (P unless set), never measured, among all those the GA
   predicted, leaving out any whose features a measured one (or another candidate) has: the
   predictors cannot tell those apart (with a cell graph, the same network but for dead
   edges). Picked by `selection.py`, ranked on an optimistic prediction (minus ``optimism``
   times the spread of the CV fold models): first the ``extremes`` best on each objective
   alone (the ends of the predicted front, which hypervolume gains undervalue), then the ones
   adding the most predicted hypervolume to the measured front, then the next predicted
   fronts spread by crowding distance; topped up with unseen random architectures only when
   the GA saw fewer than a batch.

5. notices when it has stopped learning: when the measured front's hypervolume (LINAS's own,
   against the first population's worst point) has grown by at most ``stall_tolerance``
   (relative) over ``stall_iterations`` iterations, the front is *stalled*. Until it grows
   again, every iteration widens the trust radius by a gene (to at most the space's size)
   and gives ``explore`` of the batch to NSGA-II offspring of everything measured, which go
   where the predictors see nothing; a growing front resets both.

A warm start (a `Prior` from another board's run) changes three things: the first ask is the
previous run's measured architectures spread along their own front (`selection.py`, on the
reused and the old board's objectives) instead of random ones; the reused objectives'
predictors train on every architecture the previous run measured; and one predictor per old
board objective, fitted once on the previous run, adds its (standardised) prediction to every
architecture's features: the new board's latency is learned as a correction of the old one's.

Every iteration appends a record to ``diagnostics`` (predictor chosen per objective, its CV
Kendall tau and MAPE, fit / GA / selection seconds, the predicted front, the trust radius,
whether the front is stalled and how many picks explored) for the runner's reporters and the
journal.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from linas_host.search.method import Method
from linas_host.search.operators import GeneticOperators, SpaceProblem, build_nsga2
from linas_host.search.predictors import CVSelected
from linas_host.search.prior import WarmStart
from linas_host.search.selection import select_candidates
from linas_sdk.errors import InvalidArgument

GENES_PER_RADIUS = 15  # chosen on the MobileNetV3 supernet's seeds 10-12, confirmed on 20-22


class LINAS(Method):
    """Parameters (keyword-only):

    - ``predictions``: predicted evaluations the inner GA may spend per iteration (20,000);
    - ``ga_population``: the inner GA's population (200; generations = predictions / this);
    - ``operators``: the inner GA's `GeneticOperators` (crossover, per-mating crossover rate,
      per-variable mutation rate); the same defaults as the NSGA-II baseline;
    - ``predictors``: candidate models per objective (ridge, ridge2, svr, lightgbm); ridge2,
      ridge on pairwise interactions, lets CV pick a model of a non-additive objective;
    - ``cv_folds``: k of the k-fold CV that picks among them (5);
    - ``optimism``: candidates are ranked on prediction - optimism * spread of the CV fold
      models (0: on the prediction alone), which favours where the data is thin;
    - ``pool_fronts_factor``: the hypervolume-greedy pick looks at the first predicted fronts
      holding at least this many times ``batch`` candidates (10);
    - ``trust_radius``: how many genes an architecture the inner GA proposes may differ from
      the nearest measured non-dominated one ("auto": one per `GENES_PER_RADIUS` variables of
      the space, at least one: 1 on NAS-Bench-201's 6, 3 on MobileNetV3's 45, where one gene
      an iteration cannot walk the front far within a budget; None: no trust region);
    - ``extremes``: per objective, how many of a batch's picks go to the candidates predicted
      best on that objective alone (5; 0: hypervolume-greedy only). They walk the front's
      ends outwards, one trust radius per iteration, where a cheap, poor end adds little
      predicted hypervolume but leads to the corner behind it;
    - ``drop_feature_duplicates``: leave out candidates whose features a measured architecture
      or an earlier candidate has, when at least a batch remain (True; False keeps them);
    - ``offspring``: how many of a batch's picks are NSGA-II offspring of everything measured
      (binary tournament on rank and crowding, the shared crossover and mutation), whatever the
      predictors think of them: exploration that does not stop where the predictors see
      nothing (0: none);
    - ``batch``: how many architectures each predicted ask holds (None: P; at most P). A
      smaller batch refits the predictors more often: with P = 50 and a batch of 25 they
      have been fitted on 50 and 75 rows by 100 evaluations, not once on 50;
    - ``stall_iterations``: iterations over which the measured front's hypervolume must grow
      by more than ``stall_tolerance`` (relative) not to be stalled (None: never stalled);
    - ``explore``: the share of a batch that goes to NSGA-II offspring of everything measured
      while the front is stalled (on top of ``offspring``, at most the batch).
    """

    name = "linas"

    def __init__(
        self,
        *,
        predictions: int = 20_000,
        ga_population: int = 200,
        operators: GeneticOperators | None = None,
        predictors: Sequence[str] = ("ridge", "ridge2", "svr", "lightgbm"),
        cv_folds: int = 5,
        optimism: float = 1.0,
        pool_fronts_factor: float = 10.0,
        trust_radius: int | str | None = "auto",
        extremes: int = 5,
        drop_feature_duplicates: bool = True,
        offspring: int = 0,
        batch: int | None = None,
        stall_iterations: int | None = 3,
        stall_tolerance: float = 1e-4,
        explore: float = 0.2,
    ) -> None:
        if predictions < 1 or ga_population < 2:
            raise InvalidArgument(
                f"predictions must be >= 1 and ga_population >= 2, got {predictions}, "
                f"{ga_population}"
            )
        if optimism < 0:
            raise InvalidArgument(f"optimism must be >= 0, got {optimism}")
        if trust_radius != "auto" and not (
            trust_radius is None or (isinstance(trust_radius, int) and trust_radius >= 0)
        ):
            raise InvalidArgument(
                f"trust_radius must be an integer >= 0, 'auto' or None, got {trust_radius!r}"
            )
        if extremes < 0:
            raise InvalidArgument(f"extremes must be >= 0, got {extremes}")
        if offspring < 0:
            raise InvalidArgument(f"offspring must be >= 0, got {offspring}")
        if batch is not None and batch < 1:
            raise InvalidArgument(f"batch must be >= 1 or None, got {batch}")
        if stall_iterations is not None and stall_iterations < 1:
            raise InvalidArgument(f"stall_iterations must be >= 1 or None, got {stall_iterations}")
        if stall_tolerance < 0 or not 0 <= explore <= 1:
            raise InvalidArgument(
                f"stall_tolerance must be >= 0 and explore within [0, 1], got {stall_tolerance}, "
                f"{explore}")
        CVSelected(candidates=tuple(predictors), folds=cv_folds)  # refuse bad names now
        self.predictions = int(predictions)
        self.ga_population = int(ga_population)
        self.operators = operators if operators is not None else GeneticOperators()
        self.predictor_names = tuple(predictors)
        self.cv_folds = int(cv_folds)
        self.optimism = float(optimism)
        self.pool_fronts_factor = float(pool_fronts_factor)
        self.trust_radius = trust_radius
        self.extremes = int(extremes)
        self.drop_feature_duplicates = bool(drop_feature_duplicates)
        self.offspring = int(offspring)
        self.batch = None if batch is None else int(batch)
        self.stall_iterations = None if stall_iterations is None else int(stall_iterations)
        self.stall_tolerance = float(stall_tolerance)
        self.explore = float(explore)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "predictions": self.predictions,
            "ga_population": self.ga_population,
            "operators": self.operators.to_dict(),
            "predictors": list(self.predictor_names),
            "cv_folds": self.cv_folds,
            "optimism": self.optimism,
            "pool_fronts_factor": self.pool_fronts_factor,
            "trust_radius": self.trust_radius,
            "extremes": self.extremes,
            "drop_feature_duplicates": self.drop_feature_duplicates,
            "offspring": self.offspring,
            "batch": self.batch,
            "stall_iterations": self.stall_iterations,
            "stall_tolerance": self.stall_tolerance,
            "explore": self.explore,
        }

    # -- ask / tell ---------------------------------------------------------------------------

    def _setup(self) -> None:
        if self.batch is not None and self.batch > self.population_size:
            raise InvalidArgument(
                f"batch ({self.batch}) must be at most the population size "
                f"({self.population_size}): an ask holds at most P architectures"
            )
        self._batch = self.batch or self.population_size
        self._measured: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.diagnostics: list[dict] = []
        self._iteration = 0
        self._base_radius = (
            max(1, round(len(self.space) / GENES_PER_RADIUS))
            if self.trust_radius == "auto"
            else self.trust_radius
        )
        self._radius = self._base_radius
        self._front_hv: list[float] = []  # the measured front's hypervolume after each tell
        self._reference: np.ndarray | None = None
        self._warm = None if self.prior is None else self._warm_start()

    def _tell(self, configs: list[dict], F: np.ndarray, G: np.ndarray) -> None:
        for config, f, g in zip(configs, F, G, strict=True):
            self._measured[tuple(self.space.encode(config).tolist())] = (f, g)
        self._front_hv.append(self._measured_hypervolume())

    def _ask(self) -> list[dict]:
        self._iteration += 1
        if self._iteration == 1 and self.prior is not None:
            return [self.space.decode(x) for x in self._from_prior()]
        if self._iteration == 1 or len(self._training_rows()[0]) < 2:
            X = self._unseen_random(self.population_size, exclude=set())
            return [self.space.decode(x) for x in X]
        return [self.space.decode(x) for x in self._iterate()]

    # -- noticing a stalled front -------------------------------------------------------------

    def _measured_hypervolume(self) -> float:
        """The measured feasible front's hypervolume against the first population's worst
        point (a tenth of its range further out), fixed at the first tell."""
        from linas_host.search.hypervolume import REFERENCE_MARGIN, hypervolume, worst_point

        _, F, G = self._training_rows()
        F = F[np.all(G <= 0, axis=1)]
        if self._reference is None:
            if not len(F):
                return 0.0
            self._reference = worst_point(F, REFERENCE_MARGIN)
        return hypervolume(F, self._reference) if len(F) else 0.0

    def _stalled(self) -> int:
        """How many iterations running the front has been stalled (0: it is growing): after
        each of them, the hypervolume had grown by at most the tolerance over the preceding
        ``stall_iterations``."""
        n = self.stall_iterations
        if n is None or len(self._front_hv) <= n:
            return 0
        hv = np.asarray(self._front_hv)
        grew = hv[n:] > hv[:-n] * (1 + self.stall_tolerance)
        recent = np.flatnonzero(grew)
        last = recent[-1] if len(recent) else -1
        return len(grew) - 1 - last

    # -- one iteration ------------------------------------------------------------------------

    def _training_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keys = [
            k
            for k, (f, g) in self._measured.items()
            if np.all(np.isfinite(f)) and np.all(np.isfinite(g))
        ]
        X = np.array(keys, dtype=np.int64).reshape(-1, len(self.space))
        F = np.array([self._measured[k][0] for k in keys]).reshape(len(keys), -1)
        G = np.array([self._measured[k][1] for k in keys]).reshape(len(keys), -1)
        return X, F, G

    def _iterate(self) -> np.ndarray:
        t0, c0 = time.perf_counter(), time.process_time()
        X, F, G = self._training_rows()
        features = self._features(X)
        seed = self.seed * 1_000_003 + self._iteration
        models = [
            CVSelected(candidates=self.predictor_names, folds=self.cv_folds, seed=seed).fit(
                *(self._warm.training_rows(X, features, y, j, self._features)
                  if self._warm is not None else (features, y))
            )
            for j, y in enumerate(np.hstack([F, G]).T)
        ]
        k = F.shape[1]
        stalled = self._stalled()
        if self._base_radius is not None:  # a stalled front widens the trust region
            self._radius = min(len(self.space), self._base_radius + stalled)
        n_bred = min(self._batch, self.offspring + (round(self.explore * self._batch)
                                                     if stalled else 0))
        t1 = time.perf_counter()

        predicted: dict[tuple, np.ndarray] = {}
        count = [0]

        start = self._ga_start(X, F, G)
        centre = start[: self._n_front] if self._radius is not None else None
        if centre is not None and not len(centre):
            centre = None

        def function(Xg: np.ndarray):
            count[0] += len(Xg)
            features_g = self._features(Xg)  # once per GA batch, not once per model
            values = np.column_stack([m.predict(features_g) for m in models])
            if centre is not None:
                d = (Xg[:, None, :] != centre[None, :, :]).sum(axis=2).min(axis=1)
                values = np.column_stack([values, d - self._radius])
            for x, v in zip(map(tuple, Xg.tolist()), values, strict=True):
                predicted[x] = v
            return (values[:, :k], values[:, k:]) if values.shape[1] > k else values

        n_constr = G.shape[1] + (centre is not None)
        problem = SpaceProblem(self.space, n_obj=k, n_ieq_constr=n_constr, function=function)
        algorithm = build_nsga2(
            self.space,
            self.operators,
            population_size=self.ga_population,
            sampling=start,
        )
        from pymoo.optimize import minimize

        minimize(problem, algorithm, ("n_eval", self.predictions), seed=seed % 2**31, verbose=False)
        t2 = time.perf_counter()

        bred = self._offspring(X, F, G, features, seed, n_bred)
        unseen = [x for x in predicted if x not in self._measured and x not in bred]
        if len(unseen) < self._batch:  # tiny space or a converged GA: top up
            extra = self._unseen_random(
                self._batch - len(unseen), exclude=set(unseen) | set(predicted)
            )
            if len(extra):
                function(extra)
                unseen += [tuple(x) for x in extra.tolist() if tuple(x) not in bred]
        if not unseen:  # the space is exhausted (but for what was bred)
            return np.array(bred, dtype=np.int64).reshape(-1, len(self.space))
        CX = np.array(unseen, dtype=np.int64).reshape(-1, len(self.space))
        values = np.array([predicted[x] for x in unseen]).reshape(len(unseen), -1)
        candidates = self._features(CX)
        if self.drop_feature_duplicates:
            novel = _novel(candidates, features)
            if len(novel) >= self._batch:
                CX, values, candidates = CX[novel], values[novel], candidates[novel]
        CF, CG = values[:, :k], values[:, k:]
        if self.optimism > 0 and len(CX):
            spread = np.column_stack([m.predict_spread(candidates) for m in models[:k]])
            CF = CF - self.optimism * spread
        picked = select_candidates(
            CF,
            CG,
            F[np.all(G <= 0, axis=1)],
            self._batch - len(bred),
            pool_factor=self.pool_fronts_factor,
            extremes=self.extremes,
        )
        t3 = time.perf_counter()
        self._record(models, F, values, len(unseen), count[0], t1 - t0, t2 - t1, t3 - t2)
        self.diagnostics[-1].update(
            host_cpu_seconds=time.process_time() - c0, front_hypervolume=self._front_hv[-1],
            stalled_iterations=stalled, offspring_picks=len(bred))
        return np.vstack([np.array(bred, dtype=np.int64).reshape(-1, len(self.space)), CX[picked]])

    def _offspring(self, X, F, G, features, seed: int, n: int) -> list[tuple]:
        """Up to ``n`` children NSGA-II breeds from every measured architecture (its survival
        ranks them all, its mating picks parents by binary tournament), never measured, none
        with a measured one's features."""
        if not n:
            return []
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        problem = SpaceProblem(self.space, n_obj=F.shape[1], n_ieq_constr=G.shape[1])
        algorithm = build_nsga2(
            self.space, self.operators, population_size=self.population_size, sampling=X
        )
        algorithm.setup(problem, seed=(seed + 7) % 2**31, verbose=False)
        parents = algorithm.ask()  # the measured architectures, told their measured values
        told = [
            self._measured[tuple(x)] for x in np.rint(parents.get("X")).astype(np.int64).tolist()
        ]
        PF, PG = np.array([f for f, _ in told]), np.array([g for _, g in told])
        known = StaticProblem(problem, F=PF, G=PG) if G.shape[1] else StaticProblem(problem, F=PF)
        Evaluator().eval(known, parents)
        algorithm.tell(infills=parents)
        children = np.rint(algorithm.ask().get("X")).astype(np.int64)
        if self.drop_feature_duplicates:
            children = children[_novel(self._features(children), features)]
        bred = [x for x in map(tuple, children.tolist()) if x not in self._measured]
        return bred[:n]

    def _features(self, X: np.ndarray) -> np.ndarray:
        base = self.space.features_encoded(X)
        return base if self._warm is None else self._warm.features(base)

    # -- a warm start ---------------------------------------------------------------------------

    def _warm_start(self) -> WarmStart:
        prior = self.prior
        if prior.X.shape[1] != len(self.space) or prior.known.shape[1] != len(self.objectives):
            raise InvalidArgument(
                f"the warm start's architectures have {prior.X.shape[1]} variables and "
                f"{prior.known.shape[1]} objectives; this search has {len(self.space)} and "
                f"{len(self.objectives)}")
        return WarmStart(prior, self.space.features_encoded(prior.X), lambda X, y: CVSelected(
            candidates=self.predictor_names, folds=self.cv_folds, seed=self.seed).fit(X, y))

    def _from_prior(self) -> np.ndarray:
        """The first ask of a warm start: P of the previous run's architectures (filled up with
        random ones when it measured fewer)."""
        X = self._warm.first_ask(self.population_size, pool_factor=self.pool_fronts_factor,
                                 extremes=self.extremes)  # fmt: skip
        if len(X) < self.population_size:
            fill = self._unseen_random(self.population_size - len(X),
                                       exclude={tuple(x) for x in X.tolist()})
            X = np.vstack([X, fill]) if len(fill) else X
        return X

    def _ga_start(self, X: np.ndarray, F: np.ndarray, G: np.ndarray) -> np.ndarray:
        """The measured non-dominated set (feasible first), filled up with random networks."""
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

        feasible = np.all(G <= 0, axis=1)
        order = (
            np.flatnonzero(feasible) if feasible.any() else np.argsort(np.maximum(G, 0).sum(axis=1))
        )
        fronts = NonDominatedSorting().do(F[order]) if len(order) else []
        start = [X[order[i]] for front in fronts for i in front][: self.ga_population]
        self._n_front = len(fronts[0]) if len(fronts) else 0
        start = np.array(start, dtype=np.int64).reshape(-1, len(self.space))
        fill = self._unseen_random(
            self.ga_population - len(start),
            exclude={tuple(x) for x in start.tolist()},
            allow_measured=True,
        )
        return np.vstack([start, fill]) if len(fill) else start

    def _unseen_random(
        self, n: int, *, exclude: set, allow_measured: bool = False, max_tries: int = 50
    ) -> np.ndarray:
        """Up to ``n`` distinct canonical encodings, never measured (unless allowed) nor in
        ``exclude``; fewer only when repeated draws find nothing new."""
        out: dict[tuple, None] = {}
        for _ in range(max_tries):
            if len(out) >= n:
                break
            for config in self.space.sample(self.rng, 2 * (n - len(out))):
                x = tuple(self.space.encode(config).tolist())
                if x in exclude or x in out or (not allow_measured and x in self._measured):
                    continue
                out[x] = None
                if len(out) >= n:
                    break
        return np.array(list(out), dtype=np.int64).reshape(-1, len(self.space))

    def _record(self, models, F, values, n_unseen, n_predicted, fit_s, ga_s, select_s) -> None:
        names = [o.name for o in self.objectives] + [str(c) for c in self.constraints]
        quality = {
            name: {
                "model": m.chosen_,
                "tau": m.score_.tau,
                "mape": m.score_.mape,
                "cv": {c: {"tau": s.tau, "mape": s.mape} for c, s in m.scores_.items()},
            }
            for name, m in zip(names, models, strict=True)
        }
        self.diagnostics.append(
            {
                "iteration": self._iteration,
                "measured": len(F),
                "predictors": quality,
                "predictions": n_predicted,
                "trust_radius": self._radius,
                "unseen_candidates": n_unseen,
                "fit_seconds": fit_s,
                "ga_seconds": ga_s,
                "select_seconds": select_s,
                "host_seconds": fit_s + ga_s + select_s,
                "predicted_front": self._predicted_front(values),
            }
        )

    def _predicted_front(self, values: np.ndarray) -> list[dict]:
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

        k = len(self.objectives)
        if not len(values):
            return []
        feasible = np.all(values[:, k:] <= 0, axis=1)
        F = values[feasible, :k] if feasible.any() else values[:, :k]
        F = F[NonDominatedSorting().do(F, only_non_dominated_front=True)]
        return [
            {o.name: float(o.sign * f) for o, f in zip(self.objectives, row, strict=True)}
            for row in F
        ]


def _novel(candidates: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Indices of the candidates whose features no measured architecture and no earlier
    candidate has. The predictors cannot tell the others from those (with a cell graph: the
    same network but for dead edges), so measuring them teaches them nothing."""
    seen = {row.tobytes() for row in measured}
    keep = []
    for i, row in enumerate(candidates):
        key = row.tobytes()
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return np.array(keep, dtype=np.int64)
