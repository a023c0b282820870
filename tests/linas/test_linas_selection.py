"""Candidate selection: exact hypervolume gains, spread along the front, feasibility first."""

from __future__ import annotations

import numpy as np
from linas_host.search.hypervolume import hypervolume
from linas_host.search.selection import _contributions_2d, select_candidates


def test_two_dimensional_gains_match_the_hypervolume_indicator():
    rng = np.random.default_rng(0)
    reference = np.array([1.1, 1.2])
    for _ in range(50):
        front = rng.random((int(rng.integers(0, 8)), 2))
        points = rng.random((6, 2))
        base = hypervolume(front, reference) if len(front) else 0.0
        exact = [hypervolume(np.vstack([front, p]), reference) - base for p in points]
        assert np.allclose(_contributions_2d(points, front, reference), exact)


def test_picks_are_distinct_spread_and_skip_what_the_measured_front_covers():
    t = np.linspace(0, 1, 200)
    front = np.column_stack([t, 1 - t])  # a predicted front of 200 points
    behind = front + 0.3  # dominated candidates
    CF = np.vstack([front, behind])
    measured = np.array([[0.5, 0.45]])  # already measured, dominates the middle of the front
    picked = select_candidates(CF, np.zeros((400, 0)), measured, 20)
    assert len(picked) == len(set(picked)) == 20
    assert all(i < 200 for i in picked)  # all from the predicted front
    chosen = CF[picked]
    assert chosen[:, 0].min() < 0.05 and chosen[:, 0].max() > 0.95  # both ends
    # spread: no big hole along the front, and nothing the measured point dominates
    assert np.max(np.diff(np.sort(chosen[:, 0]))) < 0.2
    assert not np.any(np.all(chosen >= measured[0], axis=1))


def test_next_fronts_top_up_and_predicted_feasible_come_first():
    CF = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.6, 0.6], [0.7, 0.7], [0.1, 0.1]])
    CG = np.array([[0], [0], [0], [0], [0], [2.0]])  # the best point is predicted infeasible
    assert set(select_candidates(CF, CG, np.empty((0, 2)), 4)) == {0, 1, 2, 3}  # by fronts
    assert sorted(select_candidates(CF, CG, np.empty((0, 2)), 5)) == [0, 1, 2, 3, 4]
    picked = select_candidates(CF, CG, np.empty((0, 2)), 6)
    assert picked[-1] == 5 and sorted(picked) == list(range(6))


def test_three_objectives_use_the_exact_indicator():
    rng = np.random.default_rng(1)
    CF = rng.random((60, 3))
    picked = select_candidates(CF, np.zeros((60, 0)), rng.random((5, 3)) + 0.5, 10)
    assert len(set(picked)) == 10


def test_extremes_take_the_best_predicted_on_each_objective_first():
    t = np.linspace(0.2, 0.8, 50)
    middle = np.column_stack([t, 1 - t])  # a predicted front with a lot of hypervolume
    ends = np.array([[0.0, 5.0], [0.01, 5.0], [5.0, 0.0], [5.0, 0.02]])  # cheap, poor ends
    CF = np.vstack([middle, ends])
    none = np.zeros((len(CF), 0))
    plain = select_candidates(CF, none, np.empty((0, 2)), 6)
    assert not set(plain) & {51, 53}  # hypervolume-greedy alone: one point at each end
    picked = select_candidates(CF, none, np.empty((0, 2)), 6, extremes=2)
    assert sorted(picked[:4]) == [50, 51, 52, 53] and len(set(picked)) == 6
