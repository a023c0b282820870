"""One conformance suite for every evaluator (table replay, callable, a supernet's sub-networks
on a real device pool), plus what is particular to each: row numbers, failures that count, the
measurements a board's record keeps."""

from __future__ import annotations

import numpy as np
import pytest
from linas_host.config.schema import ObjectiveSpec
from linas_host.evaluate.evaluators import CallableEvaluator, TableEvaluator
from linas_host.evaluate.plan import MeasurementPlan
from linas_host.evaluate.supernet import SupernetEvaluator
from linas_host.evaluate.table import MeasuredTable
from linas_host.search import registry
from linas_host.search.runner import SearchRun
from onnx import TensorProto, helper, numpy_helper
from search_helpers import toy_metrics

from linas_sdk.errors import InvalidArgument, ModelError
from linas_sdk.measurement import MeasureRequest
from linas_sdk.objectives import Objective
from linas_sdk.space import SearchSpace, Variable

SPACE = SearchSpace([Variable("width", [8, 32, 128], kind="int"), Variable("op", ["mm", "add"])])
FAST = {
    "warmup_runs": 1,
    "warmup_seconds": 0,
    "min_runs": 5,
    "min_seconds": 0.01,
    "max_seconds": 0.3,
}


def onnx_model(config: dict, op: str | None = None) -> bytes:
    """A one-node ONNX model whose size follows the config: something real to measure."""
    width = config["width"]
    weight = np.random.default_rng(width).standard_normal((width, width)).astype(np.float32)
    op = op or ("MatMul" if config["op"] == "mm" else "Add")
    node = helper.make_node(op, ["x", "W"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [width, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [width, width])],
        [numpy_helper.from_array(weight, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def params(config: dict) -> dict:
    return {"params": float(config["width"] ** 2)}


class OneNodeNet:
    """A supernet in the protocol's terms without torch: a sub-network is its config, which
    `export` builds into a one-node ONNX model."""

    name = "one-node"
    space = SPACE

    def extract(self, config: dict) -> dict:
        return config

    def params(self, config: dict) -> float:
        return params(config)["params"]


def on_board(pool, export=onnx_model, **options) -> SupernetEvaluator:
    """Params counted on the host, latency measured on `pool` (any device)."""
    objectives = [ObjectiveSpec.model_validate(m).objective() for m in ("params", "latency")]
    return SupernetEvaluator(
        OneNodeNet(),
        objectives,
        MeasurementPlan(MeasureRequest(runtime="onnxruntime", settings=FAST)),
        export=lambda module, config: export(config),
        pool=pool,
        **options,
    )


@pytest.fixture(scope="module")
def pool():
    from linas_host.devices.local import LocalAgent
    from linas_host.devices.pool import DevicePool

    with LocalAgent(name="loopback") as agent:
        devices = DevicePool([agent.spec()])
        try:
            yield devices
        finally:
            devices.close()


def table_case(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "width,op,params,latency\n"
        + "".join(
            f"{c['width']},{c['op']},{params(c)['params']},{c['width'] / 10}\n"
            for c in (dict(width=w, op=o) for w in (8, 32, 128) for o in ("mm", "add"))
        )
    )
    evaluator = TableEvaluator(path, ["width", "op"])
    return evaluator, ["params:max", "latency:min"]


def callable_case(tmp_path):
    return CallableEvaluator(lambda c: {**params(c), "latency": c["width"] / 10}), [
        "params:max",
        "latency:min",
    ]


def device_case(tmp_path, pool):
    return on_board(pool), [Objective("params", "max"), Objective("latency_ms", "min", "ms")]


@pytest.fixture(params=["table", "callable", "device"])
def case(request, tmp_path):
    if request.param == "device":
        return device_case(tmp_path, request.getfixturevalue("pool"))
    return {"table": table_case, "callable": callable_case}[request.param](tmp_path)


@pytest.mark.timeout(120)
def test_conformance_records_in_order_and_a_run_to_budget(case):
    evaluator, objectives = case
    sources = [o.source if isinstance(o, Objective) else o.split(":")[0] for o in objectives]
    configs = [{"width": 8, "op": "mm"}, {"width": 128, "op": "add"}, {"width": 32, "op": "mm"}]
    positions = sorted(p for p, _ in evaluator.stream(configs))
    assert positions == [0, 1, 2]
    records = evaluator.evaluate(configs)
    assert [r["params"] for r in records] == [64.0, 16384.0, 1024.0]
    assert all(isinstance(r[s], float) and r[s] > 0 for r in records for s in sources)
    result = SearchRun(
        space=SPACE,
        objectives=objectives,
        method=registry.create("random"),
        evaluator=evaluator,
        budget=5,
        population_size=2,
        seed=0,
        reference_point=[0, 1e6],
    ).run()
    assert len({e.key for e in result.evaluations}) == 5
    assert all(e.feasible for e in result.evaluations)
    assert result.hypervolume[-1] > 0


def test_table_records_carry_their_row_number(tmp_path):
    evaluator, _ = table_case(tmp_path)
    assert evaluator.name == "table-replay"
    record = evaluator.evaluate([{"width": 32, "op": "add"}])[0]
    assert record == {"row": 3, "width": 32.0, "op": "add", "params": 1024.0, "latency": 3.2}
    space = MeasuredTable.load(tmp_path / "t.csv", ["width", "op"]).space
    assert space.to_dict() == {
        "variables": [  # choices sorted: numbers as numbers
            {"name": "width", "kind": "int", "choices": [8, 32, 128]},
            {"name": "op", "kind": "categorical", "choices": ["add", "mm"]},
        ]
    }


def test_callable_failures_count_and_other_errors_stop_the_run():
    def measure(config):
        if config["op"] == "add":
            raise ModelError("Add is not supported here")
        return {"params": 1.0, "latency": 1.0}

    records = CallableEvaluator(measure).evaluate([{"width": 8, "op": "add"}])
    assert records[0]["error_type"] == "ModelError"
    with pytest.raises(ZeroDivisionError):
        CallableEvaluator(lambda c: 1 / 0).evaluate([{"width": 8, "op": "mm"}])
    with pytest.raises(InvalidArgument, match="expected a dict of measured values"):
        CallableEvaluator(lambda c: 3.0).evaluate([{"width": 8, "op": "mm"}])


@pytest.mark.timeout(120)
def test_device_measures_for_real_and_a_broken_model_is_a_counted_failure(pool):
    def exporter(config):  # an operator no runtime has: the device fails to load the model
        return onnx_model(config, "NoSuchOperator" if config["width"] == 128 else None)

    objectives = [Objective("params", "max"), Objective("latency_ms", "min")]
    result = SearchRun(
        space=SPACE,
        objectives=objectives,
        method=registry.create("random"),
        evaluator=on_board(pool, exporter),
        budget=6,
        population_size=3,
        seed=1,
    ).run()
    failed = [e for e in result.evaluations if e.failed]
    assert {e.config["width"] for e in failed} == {128}
    assert all(e.record["error_type"] == "ModelError" for e in failed)
    assert len(result.evaluations) == 6
    ok = [e for e in result.evaluations if not e.failed]
    measured = [e.record["measurements"]["any"] for e in ok]
    assert all(e.device == "loopback" for e in ok)
    assert all(m["median_ms"] > 0 and m["samples_ms"] and "outputs" not in m for m in measured)
    assert [e.values["latency_ms"] for e in ok] == [m["median_ms"] for m in measured]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("serial", [True, False], ids=["serial", "concurrent"])
def test_a_request_the_pool_refuses_stops_the_run(pool, serial):
    evaluator = on_board(pool, lambda c: b"no model at all", serial=serial)
    with pytest.raises(InvalidArgument, match="cannot tell what kind of artifact"):
        evaluator.evaluate([{"width": 8, "op": "mm"}])


def test_table_evaluator_refuses_a_space_that_is_not_the_tables(tmp_path):
    evaluator, _ = table_case(tmp_path)
    other = SearchSpace([Variable("width", [8, 64], kind="int"), Variable("op", ["mm"])])
    with pytest.raises(InvalidArgument, match=r"choices \['64'\] that the table never holds"):
        evaluator.check(other, [Objective("params", "max"), Objective("latency", "min")])
    renamed = SearchSpace([Variable("w", [8], kind="int"), Variable("op", ["mm"])])
    with pytest.raises(InvalidArgument, match="not the table's variable columns"):
        evaluator.check(renamed, [Objective("params", "max"), Objective("latency", "min")])


def test_board_objectives_need_a_pool():
    with pytest.raises(InvalidArgument, match="need a device pool"):
        on_board(None)


def test_callable_evaluator_over_the_toy_space_returns_its_dict():
    record = CallableEvaluator(toy_metrics).evaluate(
        [{"depth": 1, "width": 8, "op1": "conv", "op2": "conv", "op3": "conv"}]
    )[0]
    assert record == toy_metrics(
        {"depth": 1, "width": 8, "op1": "conv", "op2": "conv", "op3": "conv"}
    )
