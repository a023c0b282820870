"""Light objective predictors, scikit-learn style, and their choice by cross-validation.

LINAS retrains one predictor per objective (and per constraint) on everything measured so far,
every iteration. Each candidate model speaks ``fit(X, y)`` / ``predict(X)`` and knows nothing
of the search; ``X`` is a feature matrix (the space's one-hot / integer features).

- ``ridge``: linear, closed form; the best extrapolator when data is scarce;
- ``ridge2``: ridge on the features plus their pairwise products (one-hot features: "edge i
  is op a and edge j is op b"), more strongly regularised; it can model an objective that is
  not additive over the variables (on the Pi 5 table, latency drops sharply once several edges
  are skip connections);
- ``svr``: RBF support-vector regression on standardised features (and a standardised target,
  so one ``C`` suits objectives of any scale);
- ``lightgbm``: a small, fast gradient-boosted tree ensemble (single-threaded: a search runs
  beside other work and the fits are tiny).

`CVSelected` fits every candidate in k-fold cross-validation, keeps the one whose out-of-fold
predictions rank the data best (Kendall tau; MAPE breaks ties and is reported), and refits it
on all the data. The fold models stay available: their spread is a cheap uncertainty estimate.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from linas_sdk.errors import InvalidArgument


def make_ridge(alpha: float = 1.0):
    from sklearn.linear_model import Ridge

    return Ridge(alpha=alpha)


class PairwiseRidge:
    """Ridge on the features and their pairwise products (scikit-learn's `PolynomialFeatures`
    then `Ridge`), predicting from its own coefficients as ``b + v·x + xᵀWx`` (``W`` strictly
    upper triangular) instead of building the d(d-1)/2 products for every row: 45 one-hot
    variables give about 8,500 of them, which dominated a LINAS iteration. Alpha 10 (not 1)
    because the products outnumber the rows early on (30 one-hot features give 465)."""

    def __init__(self, alpha: float = 10.0) -> None:
        self.alpha = alpha

    def fit(self, X: np.ndarray, y: np.ndarray) -> PairwiseRidge:
        from sklearn.preprocessing import PolynomialFeatures

        pairs = PolynomialFeatures(degree=2, interaction_only=True, include_bias=False)
        ridge = make_ridge(self.alpha).fit(pairs.fit_transform(X), y)
        d = X.shape[1]
        self.intercept_ = float(ridge.intercept_)
        self.linear_ = ridge.coef_[:d]
        i, j = np.nonzero(pairs.powers_[d:])[1].reshape(-1, 2).T  # each product's two features
        self.pairs_ = np.zeros((d, d))
        self.pairs_[i, j] = ridge.coef_[d:]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return self.intercept_ + X @ self.linear_ + np.einsum("ni,ni->n", X @ self.pairs_, X)


def make_svr(C: float = 3.0, gamma: str | float = "scale", epsilon: float = 0.05):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    return TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), SVR(C=C, gamma=gamma, epsilon=epsilon)),
        transformer=StandardScaler(),
    )


def make_lightgbm(n_estimators: int = 120, learning_rate: float = 0.08, num_leaves: int = 15):
    from lightgbm import LGBMRegressor

    return LGBMRegressor(
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        num_leaves=num_leaves,
        min_child_samples=5,
        subsample=0.9,
        subsample_freq=1,
        colsample_bytree=0.9,
        n_jobs=1,
        verbose=-1,
        random_state=0,
    )


PREDICTORS: dict[str, Callable[[], object]] = {
    "ridge": make_ridge,
    "ridge2": PairwiseRidge,
    "svr": make_svr,
    "lightgbm": make_lightgbm,
}


def kendall_tau(y: np.ndarray, p: np.ndarray) -> float:
    """Rank agreement of predictions with truth (tau-b); 0 when either side is constant."""
    from scipy.stats import kendalltau

    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if len(y) < 2 or np.ptp(y) == 0 or np.ptp(p) == 0:
        return 0.0
    tau = kendalltau(y, p).statistic
    return float(tau) if np.isfinite(tau) else 0.0


def mape(y: np.ndarray, p: np.ndarray) -> float:
    """Mean absolute percentage error, as a fraction (0.05 = 5 %); |y| floored at 1e-9."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    return float(np.mean(np.abs(p - y) / np.maximum(np.abs(y), 1e-9)))


@dataclass
class CVScore:
    tau: float
    mape: float


@dataclass
class CVSelected:
    """Chooses among ``candidates`` (names in `PREDICTORS`) by k-fold CV, then refits the winner.

    After ``fit``: ``chosen_`` (name), ``scores_`` (name -> CVScore), ``fold_models_`` (the
    winner's k fold fits). With fewer rows than ``min_rows_for_cv`` (or than folds) there is
    no CV: ridge is used, and its scores are in-sample."""

    candidates: Sequence[str] = ("ridge", "ridge2", "svr", "lightgbm")
    folds: int = 5
    seed: int = 0
    min_rows_for_cv: int = 10
    chosen_: str = field(default="", init=False)
    scores_: dict = field(default_factory=dict, init=False)
    fold_models_: list = field(default_factory=list, init=False)
    model_: object = field(default=None, init=False)

    def __post_init__(self) -> None:
        unknown = [c for c in self.candidates if c not in PREDICTORS]
        if unknown or not self.candidates:
            raise InvalidArgument(
                f"unknown predictors {unknown or list(self.candidates)}; "
                f"expected some of {sorted(PREDICTORS)}"
            )
        if self.folds < 2:
            raise InvalidArgument(f"cross-validation needs at least 2 folds, got {self.folds}")

    def fit(self, X: np.ndarray, y: np.ndarray) -> CVSelected:
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if len(X) != len(y) or len(y) == 0:
            raise InvalidArgument(f"fit needs matching non-empty X and y, got {len(X)}, {len(y)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tiny data: LightGBM/sklearn chatter
            if len(y) < max(self.min_rows_for_cv, self.folds):
                self.chosen_ = "ridge" if "ridge" in self.candidates else self.candidates[0]
                self.model_ = PREDICTORS[self.chosen_]().fit(X, y)
                p = self.model_.predict(X)
                self.scores_ = {self.chosen_: CVScore(kendall_tau(y, p), mape(y, p))}
                self.fold_models_ = [self.model_]
                return self
            splits = _folds(len(y), self.folds, self.seed)
            best, best_key, best_models = "", None, []
            self.scores_ = {}
            for name in self.candidates:
                oof = np.empty_like(y)
                models = []
                for test in splits:
                    train = np.setdiff1d(np.arange(len(y)), test)
                    model = PREDICTORS[name]().fit(X[train], y[train])
                    oof[test] = model.predict(X[test])
                    models.append(model)
                score = CVScore(kendall_tau(y, oof), mape(y, oof))
                self.scores_[name] = score
                key = (score.tau, -score.mape)
                if best_key is None or key > best_key:
                    best, best_key, best_models = name, key, models
            self.chosen_ = best
            self.fold_models_ = best_models
            self.model_ = PREDICTORS[best]().fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(np.asarray(X, dtype=float)), dtype=float)

    def predict_spread(self, X: np.ndarray) -> np.ndarray:
        """The standard deviation of the fold models' predictions: where the data is thin
        they disagree."""
        X = np.asarray(X, dtype=float)
        if len(self.fold_models_) < 2:
            return np.zeros(len(X))
        return np.std([m.predict(X) for m in self.fold_models_], axis=0)

    @property
    def score_(self) -> CVScore:
        return self.scores_[self.chosen_]


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, k)]
