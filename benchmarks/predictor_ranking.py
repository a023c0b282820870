"""How well LINAS's light predictors rank the Pi 5 table, with and without its cell graph.

    .venv/bin/python benchmarks/predictor_ranking.py [--rows 200] [--draws 5]

Fits each candidate predictor (`linas_host.search.predictors.PREDICTORS`) on ``--rows`` rows
drawn at random from the bundled NAS-Bench-201 table, predicts all 15,625, and prints the
Kendall tau against the measured values per objective (accuracy on CIFAR-100, ONNX Runtime
latency on the Pi 5), averaged over ``--draws`` draws: once on the space's one-hot features and
once with `SHARED_CELL`, where an edge off every input-to-output path looks like ``none``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from linas_host.bench import SHARED_CELL, SHARED_TABLE
from linas_host.evaluate.table import MeasuredTable
from linas_host.search.predictors import PREDICTORS, kendall_tau

VARIABLES = [f"e{i}" for i in range(6)]
OBJECTIVES = ["acc_cifar100", "lat_pi5_onnx_ms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--draws", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # LightGBM and scikit-learn chatter on small fits
    tables = {
        "one-hot": MeasuredTable.load(SHARED_TABLE, VARIABLES),
        "cell": MeasuredTable.load(SHARED_TABLE, VARIABLES, cell=SHARED_CELL),
    }
    plain = tables["one-hot"]
    configs = [{v: plain.record(n)[v] for v in VARIABLES} for n in range(len(plain))]
    X = np.array([plain.space.encode(c) for c in configs])
    print(f"Kendall tau over all {len(X)} rows, fitted on {args.rows} random rows "
          f"(mean of {args.draws} draws)")
    print(f"{'predictor':<10}{'features':<9}" + "".join(f"{o:>17}" for o in OBJECTIVES))
    for name, make in PREDICTORS.items():
        for label, table in tables.items():
            features = table.space.features_encoded(X)
            taus = []
            for objective in OBJECTIVES:
                y = table.column(objective)
                scores = []
                for draw in range(args.draws):
                    rows = np.random.default_rng(draw).choice(len(X), args.rows, replace=False)
                    model = make().fit(features[rows], y[rows])
                    scores.append(kendall_tau(y, model.predict(features)))
                taus.append(np.mean(scores))
            print(f"{name:<10}{label:<9}" + "".join(f"{t:>17.3f}" for t in taus))


if __name__ == "__main__":
    main()
