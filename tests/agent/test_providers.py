"""Execution providers and delegates by name, against a real agent: the manifest lists what
this machine's runtimes offer, what it offers runs and is recorded, and every provider it lacks
is refused with the ones it has. (A provider listed that cannot start: `make
agent-onnxruntime-gpu`, onnxruntime-gpu without CUDA's libraries.)"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import grpc
import onnxruntime as ort
import pytest
from agent_helpers import MODELS, hang_in_background, rpc_error, running_model
from polling import wait_for

pytestmark = pytest.mark.timeout(120)

ORT_NAMED = ("CPU", "XNNPACK", "CUDA", "TensorRT", "OpenVINO", "CoreML", "QNN")
"""Providers a request may name the short way; which of them this machine has varies."""


@pytest.fixture(scope="module")
def mlp(client) -> str:
    return client.upload(MODELS / "mlp.onnx")


@pytest.fixture(scope="module")
def tflite(client) -> str:
    return client.upload(MODELS / "mlp.tflite")


def onnx_providers(client) -> list[str]:
    return next(r.providers for r in client.info().runtimes if r.name == "onnxruntime")


def test_the_manifest_lists_what_onnxruntime_has_here(client) -> None:
    here = set(ort.get_available_providers()) - {"AzureExecutionProvider"}
    listed = onnx_providers(client)
    assert listed[0] == "CPUExecutionProvider" and set(listed) == here


@pytest.mark.parametrize("name", ORT_NAMED)
def test_an_onnxruntime_provider_runs_if_the_board_has_it_else_is_refused(
    client, mlp, name
) -> None:
    full = f"{name}ExecutionProvider"
    listed = onnx_providers(client)
    for asked in (name, full):
        if full in listed:
            m = client.measure(mlp, provider=asked, threads=1)
            assert m.provider == full and not any("could not start" in w for w in m.warnings)
        else:
            error = rpc_error(client.measure, mlp, provider=asked)
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert f"no provider or delegate {asked!r}; available: {list(listed)}" in (
                error.details()
            )


def test_onnxruntime_cpu_measures_with_options_it_ignores(client, mlp) -> None:
    """onnxruntime's CPU provider takes options and drops them (`get_provider_options()` says
    {}), so nothing here shows they arrived; the options' path to the runtime is seen through
    LiteRT (test_litert_refuses_a_delegate_it_lacks_and_provider_options, and
    tests/devices/test_client.py). This shows they do not spoil a measurement."""
    m = client.measure(
        mlp, provider="CPU", provider_options={"arena_extend_strategy": "kSameAsRequested"}
    )
    assert m.provider == "CPUExecutionProvider" and m.samples >= 10
    assert not any("could not start" in w for w in m.warnings)


@pytest.mark.parametrize("threads", [2, 3])
def test_onnxruntime_runs_on_the_intra_op_threads_asked(client, threads) -> None:
    """The request's threads reach onnxruntime's session: the model process (forked with one
    thread) runs `threads - 1` intra-op pool threads beside its own, counted in /proc while it
    runs hang.onnx. Two counts, so that no fixed number (onnxruntime's default is one per
    core) passes both."""
    call, errors = hang_in_background(client, 30, threads=threads)
    model = running_model(client.agent.pid)
    tasks = Path(f"/proc/{model}/task")
    wait_for(lambda: len(list(tasks.iterdir())) >= threads, 30, f"{threads} threads running")
    running = len(list(tasks.iterdir()))
    os.kill(model, signal.SIGKILL)  # the quickest end of a hang
    call.join(60)
    assert running == threads
    assert len(errors) == 1 and errors[0].code() == grpc.StatusCode.INTERNAL


def test_provider_options_without_a_provider_are_refused(client, mlp) -> None:
    error = rpc_error(client.measure, mlp, provider_options={"device_id": "0"})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "provider_options ['device_id'] need a provider" in error.details()


@pytest.mark.parametrize(("provider", "threads"), [("XNNPACK", 1), ("XNNPACK", 2), ("CPU", 1)])
def test_litert_runs_the_provider_asked(client, tflite, provider, threads) -> None:
    """The reply's provider is read from the interpreter that ran (XNNPACK only if its
    delegate took nodes), so "CPU", not the default, shows the request's provider got there."""
    m = client.measure(tflite, runtime="litert", provider=provider, threads=threads)
    assert (m.provider, m.threads) == (provider, threads)
    assert not any("could not start" in w for w in m.warnings)


def test_litert_refuses_a_delegate_it_lacks_and_provider_options(client, tflite) -> None:
    error = rpc_error(client.measure, tflite, runtime="litert", provider="GPU")
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    expected = "litert on this device has no provider or delegate 'GPU'; available: ['XNNPACK'"
    assert expected in error.details()
    error = rpc_error(
        client.measure, tflite, runtime="litert", provider="XNNPACK",
        provider_options={"num_threads": "2"},
    )  # fmt: skip
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "LiteRT's XNNPACK takes no provider_options, got ['num_threads']" in error.details()
