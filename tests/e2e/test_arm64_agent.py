"""The x86 host against an agent running in the arm64 Debian root under qemu-user emulation
(`make test-arm64` starts it and names it in $LINAS_ARM64_AGENT): the manifest, `linas
measure` of both bundled models, an upload deduplicated, and a short search with that agent as
the only device. Under emulation latency means nothing; this proves install, protocol and
isolation on the board's architecture. Skipped when no such agent runs: `make test-arm64` fails
on a skip, so it never counts as passed."""

from __future__ import annotations

import json
import os
import time
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
import pytest
from e2e_helpers import FAST_TIMING, write_yaml
from linas_cli import linas, tiny_search_config
from linas_host.devices import AgentClient, load_devices
from onnx import TensorProto, helper, numpy_helper

from linas_sdk.measurement import MeasureRequest

ENV = "LINAS_ARM64_AGENT"
ADDRESS = os.environ.get(ENV, "")

pytestmark = [
    pytest.mark.skipif(
        not ADDRESS, reason=f"no arm64 agent: `make test-arm64` serves one and names it in ${ENV}"
    ),
    pytest.mark.timeout(900),
]


@pytest.fixture(scope="module")
def devices(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("arm64") / "devices.yaml"
    device = {"address": ADDRESS, "labels": {"board": "arm64"}}
    return write_yaml(path, {"devices": {"arm64": device}})


def test_the_manifest_says_aarch64(devices) -> None:
    listed = linas("devices", "list", "-d", devices, "--json")
    assert listed.returncode == 0, listed.stderr
    (device,) = json.loads(listed.stdout)
    assert device["info"]["machine"] == "aarch64", device
    runtimes = {r["name"]: r for r in device["info"]["runtimes"]}
    assert set(runtimes) == {"onnxruntime", "litert"}
    assert runtimes["litert"]["module"] == "ai_edge_litert.interpreter"


@pytest.mark.parametrize(("model", "runtime"), [("tiny_mlp.onnx", "onnxruntime"),
                                                  ("tiny_mlp.tflite", "litert")])  # fmt: skip
def test_linas_measure_runs_each_bundled_model_there(devices, model, runtime) -> None:
    with as_file(files("linas_agent.examples") / model) as path:
        measured = linas("measure", path, "--device", "arm64", "-d", devices, "--json",
                         "--min-runs", "5", "--min-seconds", "0.05")  # fmt: skip
    assert measured.returncode == 0, measured.stderr
    result = json.loads(measured.stdout)
    assert result["runtime"] == runtime and result["device"] == "arm64"
    assert result["samples"] >= 5 and result["median_ms"] > 0


def fresh_onnx() -> bytes:
    """An ONNX model no agent holds yet: y = x + a constant of this moment."""
    bias = numpy_helper.from_array(np.full((1, 4), time.time_ns() % 10**6, np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "b"], ["y"])], "fresh",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [bias],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_an_upload_is_deduplicated_the_second_time(devices) -> None:
    model = fresh_onnx()
    spec = load_devices(devices).devices["arm64"]
    settings = {"min_runs": 3, "min_seconds": 0.0, "warmup_runs": 1, "warmup_seconds": 0.0}
    with AgentClient(spec) as client:
        client.measure(model, MeasureRequest(settings=settings))
        assert client.uploaded_bytes == len(model)
        m = client.measure(model, MeasureRequest(settings=settings))
        assert client.uploaded_bytes == len(model)  # the agent held it: nothing sent again
    assert m.runtime == "onnxruntime" and m.samples >= 3


def test_a_short_search_on_that_agent_alone(devices, tmp_path) -> None:
    config = tiny_search_config(
        tmp_path / "search.yaml", devices=devices, budget=4, population=2, seed=1,
        measure=FAST_TIMING, cache=False, out=tmp_path / "run",
    )  # fmt: skip
    run = linas("search", config, "--progress", "quiet", cwd=tmp_path, timeout=800)
    assert run.returncode == 0, run.stderr
    rows = (tmp_path / "run" / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 4 and "arm64" in rows[1]
