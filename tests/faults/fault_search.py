"""The host process of the fault tests: a real search (runner, journal, device pool, the
search's own SupernetEvaluator) over an elastic MLP whose sub-networks are built as ONNX files
directly with `onnx.helper`, so each evaluation is a real upload and a real measurement on a
real agent, without torch (fast).

    python fault_search.py DEVICES_YAML RUN_DIR --budget N --population P [--resume]

One JSON object per line on stdout: {"event": "evaluation", "done", "key", "device",
"error"} after every counted evaluation, {"event": "finish", "done", "resumed", "status"} at
the end. The pool's messages (a device lost, a label waiting, a device back) go to stderr.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from pathlib import Path

import numpy as np
from fault_helpers import SLOW_ENOUGH
from linas_host.devices import DevicePool
from linas_host.evaluate.plan import MeasurementPlan
from linas_host.evaluate.supernet import SupernetEvaluator
from linas_host.search import registry
from linas_host.search.runner import SearchRun
from onnx import TensorProto, helper, numpy_helper

from linas_sdk.measurement import MeasureRequest
from linas_sdk.objectives import Objective
from linas_sdk.space import SearchSpace, Variable
from linas_sdk.target import Target

WIDTHS = (16, 64, 256)
DEPTHS = (1, 2, 3)
SPACE = SearchSpace(
    [
        Variable("depth", DEPTHS, kind="int"),
        *[
            Variable(
                f"width{i}",
                WIDTHS,
                kind="int",
                active_if=None if i == 0 else {"depth": [d for d in DEPTHS if d > i]},
            )
            for i in range(max(DEPTHS))
        ],
    ]
)
SETTINGS = {**SLOW_ENOUGH, "timeout_seconds": 30.0}
"""Measurements slow enough to be killed in the middle, each bounded by a hard timeout."""


def widths(config: dict) -> list[int]:
    config = SPACE.canonical(config)
    return [64, *(config[f"width{i}"] for i in range(config["depth"])), 10]


def mlp_onnx(config: dict) -> bytes:
    """The sub-network as an ONNX file: MatMul+Relu layers of the config's widths."""
    sizes = widths(config)
    rng = np.random.default_rng(sum(sizes))
    nodes, weights, previous = [], [], "input"
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        weights.append(
            numpy_helper.from_array(
                rng.standard_normal((n_in, n_out)).astype(np.float32) * 0.1, f"w{i}"
            )
        )
        nodes.append(helper.make_node("MatMul", [previous, f"w{i}"], [f"h{i}"]))
        previous = f"h{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [previous], [f"r{i}"]))
            previous = f"r{i}"
    nodes.append(helper.make_node("Identity", [previous], ["logits"]))
    graph = helper.make_graph(
        nodes,
        "elastic-mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


class ElasticMlp:
    """The MLP in the supernet protocol's terms: a sub-network is its config (`mlp_onnx`
    builds the model), its parameters are counted from the widths."""

    name = "elastic-mlp"
    space = SPACE

    def extract(self, config: dict) -> dict:
        return config

    def params(self, config: dict) -> float:
        return float(sum(a * b for a, b in itertools.pairwise(widths(config))))


def say(**event) -> None:
    print(json.dumps(event), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("devices", type=Path)
    parser.add_argument("run", type=Path)
    parser.add_argument("--budget", type=int, required=True)
    parser.add_argument("--population", type=int, required=True)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    args.run.mkdir(parents=True, exist_ok=True)
    with DevicePool.from_yaml(args.devices) as pool:
        objectives = [
            Objective("latency_ms", "min", "ms", metric="latency",
                      target=Target.of(labels={"board": "x"})),
            Objective("params", "min", metric="params"),
        ]
        # boards measure concurrently, as remote ones do: four jobs spread over both agents
        evaluator = SupernetEvaluator(
            ElasticMlp(),
            objectives,
            MeasurementPlan(MeasureRequest(runtime="onnxruntime", settings=SETTINGS)),
            export=lambda module, config: mlp_onnx(config),
            pool=pool,
            serial=False,
        )

        def progress(p) -> None:
            record = p.evaluation.record
            say(
                event="evaluation",
                done=p.evaluations,
                key=p.evaluation.key,
                device=record.get("device", ""),
                error=record.get("error", ""),
            )

        run = SearchRun(
            space=SPACE,
            objectives=objectives,
            method=registry.create("random"),
            evaluator=evaluator,
            budget=args.budget,
            population_size=args.population,
            seed=7,
            journal=args.run / "journal.sqlite",
            resume=args.resume,
            callbacks=[progress],
        )
        result = run.run()
        run.journal.close()
    say(event="finish", done=len(result.evaluations), resumed=result.resumed, status=result.status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
