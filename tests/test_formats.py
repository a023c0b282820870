"""One table of formats and one metric catalogue: every side reads them, none restates them."""

from __future__ import annotations

import pytest
from linas_agent.store import KIND_NAMES
from linas_host.config.layout import RunDirectory
from linas_host.config.schema import SearchConfig, validate

from linas_sdk.artifacts import kind_of
from linas_sdk.errors import InvalidArgument
from linas_sdk.formats import FORMATS, RUNTIMES, format_named, format_of_runtime
from linas_sdk.measurement import MeasureRequest
from linas_sdk.metrics import METRICS
from linas_sdk.runtimes import RUNTIMES as AGENT_RUNTIMES


def test_the_agent_runs_every_format_and_names_every_kind() -> None:
    assert tuple(AGENT_RUNTIMES) == RUNTIMES == ("onnxruntime", "litert")
    for fmt in FORMATS:
        assert KIND_NAMES[fmt.kind] == fmt.description
        assert kind_of(b"", f"model{fmt.suffix}") == fmt.kind
        assert format_of_runtime(fmt.runtime) is fmt is format_named(fmt.name)


def test_every_side_refuses_an_unknown_runtime_naming_the_known_ones() -> None:
    with pytest.raises(InvalidArgument, match=r"expected one of \['onnxruntime', 'litert'\]"):
        format_of_runtime("tvm")
    with pytest.raises(InvalidArgument, match="onnxruntime"):
        MeasureRequest(runtime="tvm")
    config = {"space": "mobilenetv3", "objectives": ["accuracy", "latency"], "budget": 50}
    with pytest.raises(InvalidArgument, match="'onnxruntime' or 'litert'"):
        validate({**config, "runtime": "tvm"})


def test_a_run_names_its_models_by_the_format_its_runtime_runs(tmp_path) -> None:
    config = {"space": "mobilenetv3", "objectives": ["accuracy", "latency"], "budget": 50}
    run = RunDirectory(tmp_path)
    for runtime, suffix in (("onnxruntime", ".onnx"), ("litert", ".tflite")):
        fmt = validate({**config, "runtime": runtime}).format
        assert run.model(7, fmt.name).name == f"00007{suffix}"


def test_the_config_takes_its_metrics_from_the_catalogue() -> None:
    field = SearchConfig.model_fields["objectives"]
    objective = field.annotation.__args__[0]
    assert objective.model_fields["metric"].annotation.__args__ == (*METRICS, "column")
    for name, metric in METRICS.items():
        spec = objective.model_validate(name)
        core = spec.objective()
        assert (core.name, core.direction, core.unit, core.metric) == (
            metric.column, metric.direction, metric.unit, name)
