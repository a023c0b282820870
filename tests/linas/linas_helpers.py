"""A synthetic measured space for the LINAS tests: learnable, with a real trade-off."""

from __future__ import annotations

import numpy as np

from linas_sdk.space import SearchSpace, Variable

OPS = ["a", "b", "c", "d", "e"]


def synthetic_space(n_vars: int = 6) -> SearchSpace:
    return SearchSpace([Variable(f"e{i}", OPS) for i in range(n_vars)])


def synthetic_metrics(seed: int = 7, n_vars: int = 6):
    """``config -> {"acc", "lat_ms"}``: each op on each edge costs latency and buys accuracy
    (correlated, so the two conflict), plus a pairwise interaction so it is not additive."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0.1, 2.0, size=(n_vars, len(OPS)))
    gain = 3 * cost + rng.normal(0, 1.0, size=cost.shape)
    pair = rng.normal(0, 1.5, size=(len(OPS), len(OPS)))

    def metrics(config: dict) -> dict:
        x = [OPS.index(config[f"e{i}"]) for i in range(n_vars)]
        lat = 1.0 + sum(cost[i, v] for i, v in enumerate(x))
        acc = 40 + sum(gain[i, v] for i, v in enumerate(x)) + pair[x[0], x[1]]
        acc -= 0.3 * lat**1.5
        return {"acc": float(acc), "lat_ms": float(lat)}

    return metrics
