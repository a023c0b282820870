"""Which predicted architectures LINAS measures next: spread along the predicted front.

Candidates are architectures the inner GA predicted and nobody measured. Predicted-feasible
ones come first (least predicted violation next). Among them:

0. optionally (``extremes`` > 0), the ``extremes`` best on each objective alone: the ends of
   the predicted front. A hypervolume gain values an end by its area, so a cheap end with a
   poor other objective rarely wins, even when it is the way to a better corner;
1. hypervolume-greedy: from the first predicted fronts (at least ``pool_factor`` x n
   candidates), repeatedly take the one whose predicted point adds the most hypervolume to the
   measured front plus those already taken. This spreads the picks along the front (a point
   next to one already taken adds little) and skips what the measured front already covers;
2. when no candidate adds anything, the rest come front by front (non-dominated rank), the
   last front cut by crowding distance, as in NSGA-II's survival.

The reference point for the greedy step is the worst of measured and predicted values plus a
tenth of their range, so the ends of the front count too.
"""

from __future__ import annotations

import numpy as np


def select_candidates(
    CF: np.ndarray,
    CG: np.ndarray,
    measured_front: np.ndarray,
    n: int,
    *,
    pool_factor: float = 3.0,
    extremes: int = 0,
) -> list[int]:
    """Indices of up to ``n`` rows of the predicted objectives ``CF`` (minimised, (m, k)) with
    predicted violations ``CG`` ((m, c), <= 0 feasible); ``extremes`` per objective (at most
    n / k) come first."""
    CF = np.asarray(CF, dtype=float)
    m = len(CF)
    if m <= n:
        return list(range(m))
    violation = np.maximum(np.asarray(CG, dtype=float).reshape(m, -1), 0).sum(axis=1)
    feasible = np.flatnonzero(violation <= 0)
    ends = _extremes(CF, feasible, min(extremes, n // max(CF.shape[1], 1)))
    rest = np.setdiff1d(feasible, ends)
    picked = ends + _pick_feasible(
        CF,
        rest,
        np.vstack([np.asarray(measured_front, dtype=float).reshape(-1, CF.shape[1]), CF[ends]]),
        n - len(ends),
        pool_factor,
    )
    if len(picked) < n:
        rest = np.setdiff1d(np.flatnonzero(violation > 0), picked)
        picked += rest[np.argsort(violation[rest], kind="stable")][: n - len(picked)].tolist()
    return picked


def _extremes(CF: np.ndarray, idx: np.ndarray, per_objective: int) -> list[int]:
    """The ``per_objective`` candidates best on each objective alone (ties: better on the
    others), distinct."""
    picked: list[int] = []
    if per_objective <= 0 or not len(idx):
        return picked
    for j in range(CF.shape[1]):
        order = idx[np.lexsort((CF[idx].sum(axis=1), CF[idx, j]))]
        picked += [i for i in order.tolist() if i not in picked][:per_objective]
    return picked


def _pick_feasible(CF, idx, measured, n, pool_factor) -> list[int]:
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    if len(idx) <= n:
        return idx.tolist()
    fronts = [idx[f] for f in NonDominatedSorting().do(CF[idx])]
    pool: list[int] = []
    for front in fronts:
        pool.extend(front.tolist())
        if len(pool) >= pool_factor * n:
            break
    everything = np.vstack([CF[idx], measured]) if len(measured) else CF[idx]
    low, high = everything.min(axis=0), everything.max(axis=0)
    reference = high + 0.1 * np.maximum(high - low, 1e-12)
    picked = _greedy_hypervolume(CF, pool, measured, reference, n)
    if len(picked) < n:
        taken = set(picked)
        for front in fronts:
            front = np.array([i for i in front if i not in taken], dtype=np.int64)
            if not len(front):
                continue
            need = n - len(picked)
            if len(front) > need:
                front = front[np.argsort(-_crowding(CF[front]), kind="stable")[:need]]
            picked.extend(front.tolist())
            if len(picked) >= n:
                break
    return picked


def _greedy_hypervolume(CF, pool, measured, reference, n) -> list[int]:
    front = measured[np.all(measured < reference, axis=1)] if len(measured) else measured
    front = front.reshape(-1, CF.shape[1])
    remaining = list(pool)
    picked: list[int] = []
    while remaining and len(picked) < n:
        gains = _contributions(CF[remaining], front, reference)
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        i = remaining.pop(best)
        picked.append(i)
        front = np.vstack([front, CF[i]])
    return picked


def _contributions(points: np.ndarray, front: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The hypervolume each point would add to ``front`` on its own (exact)."""
    if points.shape[1] == 2:
        return _contributions_2d(points, front, reference)
    from linas_host.search.hypervolume import hypervolume

    base = hypervolume(front, reference)
    return np.array([hypervolume(np.vstack([front, p]), reference) - base for p in points])


def _contributions_2d(points: np.ndarray, front: np.ndarray, reference: np.ndarray):
    """Vectorised in 2-D: the front's dominated region is a staircase; a point adds the part
    of its box [a, r0] x [b, r1] above the staircase."""
    r0, r1 = reference
    if len(front):
        front = front[np.argsort(front[:, 0], kind="stable")]
        level = np.minimum.accumulate(front[:, 1])  # staircase height from each x on
        starts = np.concatenate([[-np.inf], front[:, 0]])
        ends = np.concatenate([front[:, 0], [r0]])
        levels = np.concatenate([[r1], np.minimum(level, r1)])
    else:
        starts, ends, levels = np.array([-np.inf]), np.array([r0]), np.array([r1])
    a, b = points[:, :1], points[:, 1:2]
    width = np.clip(np.minimum(ends[None, :], r0) - np.maximum(starts[None, :], a), 0, None)
    height = np.clip(levels[None, :] - b, 0, None)
    return (width * height).sum(axis=1)


def _crowding(F: np.ndarray) -> np.ndarray:
    from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance

    return calc_crowding_distance(F) if len(F) > 2 else np.full(len(F), np.inf)
