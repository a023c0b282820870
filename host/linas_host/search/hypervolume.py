"""Hypervolume of a growing archive, recomputed (with pymoo's HV) only when the front moves.

Points are minimised objective vectors (max objectives negated). Only feasible points count,
and only the part of a point's box that lies below the reference point.
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
