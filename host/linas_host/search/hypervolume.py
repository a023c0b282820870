"""Hypervolume: the one place a run's reference point is derived and its hypervolume tracked.

Points are minimised objective vectors (max objectives negated). Only feasible points count,
and only the part of a point's box that lies below the reference point. `worst_point` derives
a reference from points (a table's rows, or a run's first population); `RunHypervolume` owns
a run's reference and the hypervolume after each evaluation (recomputed with pymoo's HV only
when the front moves).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import Objective


def hypervolume(F: np.ndarray, reference_point: Sequence[float]) -> float:
    """The hypervolume of minimised points ``F`` (n, k) w.r.t. ``reference_point``."""
    from pymoo.indicators.hv import HV

    ref = np.asarray(reference_point, dtype=float)
    F = np.asarray(F, dtype=float).reshape(-1, len(ref))
    F = F[np.all(ref > F, axis=1)]
    if len(F) == 0:
        return 0.0
    return float(HV(ref_point=ref)(F))


def non_dominated(F: np.ndarray) -> np.ndarray:
    """A mask of the rows of ``F`` no other row dominates (duplicates all kept)."""
    F = np.asarray(F, dtype=float)
    keep = np.ones(len(F), dtype=bool)
    for i in range(len(F)):
        dominated = np.all(F[i] >= F, axis=1) & np.any(F[i] > F, axis=1)
        keep[i] = not dominated.any()
    return keep


def reference_in_minimised_form(
    objectives: Sequence[Objective], reference: Sequence[float] | dict
) -> np.ndarray:
    """A reference point given in natural units (a list in objective order, or a dict by
    objective name) as a minimised vector."""
    if isinstance(reference, dict):
        missing = [o.name for o in objectives if o.name not in reference]
        if missing:
            raise InvalidArgument(f"the reference point has no value for {missing}")
        reference = [reference[o.name] for o in objectives]
    values = np.asarray(reference, dtype=float)
    if values.shape != (len(objectives),) or not np.all(np.isfinite(values)):
        raise InvalidArgument(
            f"the reference point needs one finite value per objective ({len(objectives)}), "
            f"got {list(reference)}"
        )
    return values * np.array([o.sign for o in objectives])


REFERENCE_MARGIN = 0.1
"""An automatic reference point lies this fraction of the range beyond the worst value seen."""


def worst_point(F: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Each objective's worst minimised value over the finite rows of ``F`` (n, k), moved
    `margin` of its range further out (a table's reference uses 0: its worst row)."""
    F = np.asarray(F, dtype=float)
    F = F[np.all(np.isfinite(F), axis=1)]
    if len(F) == 0:
        raise InvalidArgument("a reference point needs at least one measured point")
    return F.max(axis=0) + margin * (np.ptp(F, axis=0) + 1e-12)


def natural_reference(objectives: Sequence[Objective], minimised: Sequence[float]) -> dict:
    """A minimised reference vector in natural units, by objective name."""
    return {o.name: float(o.sign * r) for o, r in zip(objectives, minimised, strict=True)}


class HypervolumeTracker:
    """Keeps the feasible non-dominated set and its hypervolume as points arrive."""

    def __init__(self, reference_point: Sequence[float]) -> None:
        self.reference_point = np.asarray(reference_point, dtype=float)
        self.front = np.empty((0, len(self.reference_point)))
        self.value = 0.0

    def add(self, f: Sequence[float], feasible: bool = True) -> float:
        f = np.asarray(f, dtype=float)
        if feasible and np.all(np.isfinite(f)) and np.all(f < self.reference_point):
            front = self.front
            if not np.any(np.all(front <= f, axis=1)):  # neither dominated nor already there
                front = front[~np.all(f <= front, axis=1)]
                self.front = np.vstack([front, f])
                self.value = hypervolume(self.front, self.reference_point)
        return self.value


class RunHypervolume:
    """A run's reference point and its hypervolume after each evaluation.

    With a reference given (natural units, by name or in objective order), every evaluation
    gets its hypervolume at once. Without one, the reference is fixed when the first
    `population` evaluations are in (the feasible ones' `worst_point`, widened by
    REFERENCE_MARGIN): a pure function of those evaluations, so a resumed run fixes the same
    one. `add` then returns the hypervolume of every evaluation so far, so none stays blank.
    """

    def __init__(
        self, objectives: Sequence[Objective], reference: Sequence[float] | dict | None = None,
        *, population: int,
    ) -> None:
        self.objectives, self.population = tuple(objectives), population
        self._pending: list[tuple[int, np.ndarray, bool]] = []
        self.tracker: HypervolumeTracker | None = None
        if reference is not None:
            self.tracker = HypervolumeTracker(reference_in_minimised_form(objectives, reference))

    @property
    def reference(self) -> dict[str, float] | None:
        """The reference point in natural units, None until it is fixed."""
        if self.tracker is None:
            return None
        return natural_reference(self.objectives, self.tracker.reference_point)

    @property
    def value(self) -> float | None:
        return None if self.tracker is None else self.tracker.value

    def add(self, index: int, F: Sequence[float], feasible: bool) -> dict[int, float]:
        """Add evaluation `index`; -> the hypervolumes that became known, by evaluation index."""
        if self.tracker is not None:
            return {index: self.tracker.add(F, feasible)}
        self._pending.append((index, np.asarray(F, dtype=float), feasible))
        points = [f for _, f, ok in self._pending if ok and np.all(np.isfinite(f))]
        if len(self._pending) < self.population or not points:
            return {}
        self.tracker = HypervolumeTracker(worst_point(np.array(points), REFERENCE_MARGIN))
        known = {i: self.tracker.add(f, ok) for i, f, ok in self._pending}
        self._pending = []
        return known
