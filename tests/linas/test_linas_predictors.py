"""Predictors: fit / predict on a learnable function, model choice by CV, sane metrics."""

from __future__ import annotations

import numpy as np
import pytest
from linas_helpers import synthetic_metrics, synthetic_space
from linas_host.search.predictors import PREDICTORS, CVSelected, kendall_tau, mape

from linas_sdk.errors import InvalidArgument


def _data(n: int, seed: int = 0):
    space = synthetic_space()
    metrics = synthetic_metrics()
    configs = space.sample(seed, n)
    X = space.features(configs)
    y = np.array([metrics(c)["lat_ms"] for c in configs])
    return X, y


def test_metrics_on_known_cases():
    y = np.arange(1.0, 11.0)
    assert kendall_tau(y, y) == pytest.approx(1.0)
    assert kendall_tau(y, -y) == pytest.approx(-1.0)
    assert kendall_tau(y, np.ones_like(y)) == 0.0
    assert mape(y, y) == 0.0
    assert mape(np.array([2.0, 4.0]), np.array([3.0, 3.0])) == pytest.approx(0.375)


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_every_predictor_learns_a_learnable_function(name):
    X, y = _data(300)
    Xt, yt = _data(300, seed=1)
    model = PREDICTORS[name]().fit(X, y)
    p = model.predict(Xt)
    assert p.shape == yt.shape
    assert kendall_tau(yt, p) > 0.8
    assert mape(yt, p) < 0.15


def test_ridge2_predicts_what_ridge_on_the_pairwise_products_predicts():
    """Its quadratic form is the fitted ridge itself, not an approximation of it; and it sees
    an interaction that plain ridge cannot."""
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import PolynomialFeatures

    rng = np.random.default_rng(0)
    X, Xt = (rng.random((2, 400, 12)) < 0.4).astype(float)
    y = X[:, 0] * X[:, 1] - 2 * X[:, 2] * X[:, 5] + X[:, 3] + 0.01 * rng.normal(size=len(X))
    pairs = PolynomialFeatures(degree=2, interaction_only=True, include_bias=False)
    reference = Ridge(alpha=10.0).fit(pairs.fit_transform(X), y)
    model = PREDICTORS["ridge2"]().fit(X, y)
    np.testing.assert_allclose(
        model.predict(Xt), reference.predict(pairs.transform(Xt)), rtol=0, atol=1e-12
    )
    yt = Xt[:, 0] * Xt[:, 1] - 2 * Xt[:, 2] * Xt[:, 5] + Xt[:, 3]
    linear = PREDICTORS["ridge"]().fit(X, y).predict(Xt)
    assert np.abs(model.predict(Xt) - yt).mean() < 0.5 * np.abs(linear - yt).mean()


def test_cv_selection_scores_every_candidate_and_refits_the_best():
    X, y = _data(200)
    model = CVSelected(folds=5, seed=3).fit(X, y)
    assert set(model.scores_) == set(PREDICTORS)
    best = max(model.scores_.values(), key=lambda s: (s.tau, -s.mape))
    assert model.score_ == best
    assert model.chosen_ in PREDICTORS
    assert model.score_.tau > 0.8 and 0 <= model.score_.mape < 0.15
    assert len(model.fold_models_) == 5
    Xt, yt = _data(300, seed=2)
    assert kendall_tau(yt, model.predict(Xt)) > 0.8
    spread = model.predict_spread(Xt)
    assert spread.shape == (300,) and np.all(spread >= 0) and spread.max() > 0


def test_cv_on_pure_noise_says_so():
    X, _ = _data(120)
    y = np.random.default_rng(0).normal(size=120)
    model = CVSelected(candidates=("ridge", "svr"), seed=0).fit(X, y)
    assert abs(model.score_.tau) < 0.3


def test_too_few_rows_fall_back_to_ridge_without_cv():
    X, y = _data(6)
    model = CVSelected().fit(X, y)
    assert model.chosen_ == "ridge" and list(model.scores_) == ["ridge"]
    assert model.predict(X).shape == (6,)


def test_bad_settings_are_refused():
    with pytest.raises(InvalidArgument, match="unknown predictors"):
        CVSelected(candidates=("ridge", "xgboost"))
    with pytest.raises(InvalidArgument, match="at least 2 folds"):
        CVSelected(folds=1)
    with pytest.raises(InvalidArgument, match="matching"):
        CVSelected().fit(np.zeros((3, 2)), np.zeros(4))
