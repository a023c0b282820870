"""Helpers for the search tests: a small conditional space and a counting evaluator."""

from __future__ import annotations

from linas_host.evaluate.evaluators import CallableEvaluator

from linas_sdk.space import SearchSpace, Variable


def small_space() -> SearchSpace:
    """5 genes, 2 of them conditional: 3*4*3*3*3 = 324 encodings, fewer networks."""
    return SearchSpace([
        Variable("depth", [1, 2, 3], kind="int"),
        Variable("width", [8, 16, 32, 64], kind="int"),
        Variable("op1", ["conv", "pool", "skip"]),
        Variable("op2", ["conv", "pool", "skip"], active_if={"depth": [2, 3]}),
        Variable("op3", ["conv", "pool", "skip"], active_if={"depth": [3]}),
    ])


def toy_metrics(config: dict) -> dict:
    """Accuracy grows with depth, width and convs; latency with the same: a real trade-off."""
    ops = [config["op1"]] + [config[f"op{i}"] for i in (2, 3) if config["depth"] >= i]
    convs = sum(op == "conv" for op in ops)
    acc = 40 + 5 * config["depth"] + config["width"] / 8 + 4 * convs - 2 * ops.count("skip")
    lat = 0.5 + 0.4 * config["depth"] + config["width"] / 32 + 0.7 * convs
    return {"acc": acc, "lat_ms": lat}


class CountingEvaluator(CallableEvaluator):
    """A callable evaluator that remembers every config it was asked to measure."""

    def __init__(self, function=toy_metrics, **options):
        self.calls: list[dict] = []

        def measure(config):
            self.calls.append(config)
            return function(config)

        super().__init__(measure, **options)
