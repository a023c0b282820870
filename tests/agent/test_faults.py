"""Bad input and misbehaving models: each gets a clear status and message, and the agent goes
on serving the next request."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
from pathlib import Path

import grpc
import pytest
from agent_helpers import (
    MODELS,
    Client,
    children_of,
    hang_in_background,
    rpc_error,
    running_model,
    zygote_of,
)
from linas_agent.zygote import MODEL_PROCESS_NAME
from polling import wait_for

from linas_sdk.proto.agent.v1 import agent_pb2 as pb

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def mlp(client) -> str:
    return client.upload(MODELS / "mlp.onnx")


def still_serves(client, mlp: str) -> None:
    m = client.measure(mlp)
    assert m.min_ms <= m.median_ms <= m.max_ms


def test_corrupt_model_bytes_fail_to_load(client, mlp) -> None:
    data = (MODELS / "mlp.onnx").read_bytes()
    corrupt = client.put(data[: len(data) // 2] + b"\xff" * 50, pb.ARTIFACT_KIND_ONNX).sha256
    error = rpc_error(client.measure, corrupt)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "onnxruntime could not load the model" in error.details()
    still_serves(client, mlp)


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"runtime": "tensorrt"}, "INVALID_ARGUMENT", "unknown runtime 'tensorrt'"),
        ({"runtime": "litert"}, "INVALID_ARGUMENT", "is not a TFLite model"),
        ({"provider": "CUDAExecutionProvider"}, "FAILED_PRECONDITION",
         "no provider or delegate 'CUDAExecutionProvider'"),
        ({"inputs": [pb.TensorSpec(name="img", shape=[1, 16], dtype="float32")]},
         "INVALID_ARGUMENT", "has no inputs ['img']"),
        ({"inputs": [pb.TensorSpec(name="x", shape=[1, 17], dtype="float32")]},
         "INVALID_ARGUMENT", "cannot take shape [1, 17]"),
        ({"inputs": [pb.TensorSpec(name="x", shape=[1, 16], dtype="object")]},
         "INVALID_ARGUMENT", "dtype 'object' is not supported"),
        ({"inputs": [pb.TensorSpec(name="x", shape=[2**40, 16], dtype="float32")]},
         "INVALID_ARGUMENT", "the agent makes up inputs of at most"),
        ({"settings": {"min_runs": 0}}, "INVALID_ARGUMENT", "min_runs and max_runs must be >= 1"),
        ({"settings": {"timeout_seconds": 1e12}}, "INVALID_ARGUMENT",
         "timeout_seconds must be at most 86400"),
        ({"metric": pb.METRIC_TOP1}, "INVALID_ARGUMENT", "a validation set and a metric"),
        ({"cpu_affinity": [4096]}, "INVALID_ARGUMENT", "cpu_affinity names CPUs [4096]"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_clearly(client, mlp, fields, code, words) -> None:
    settings = fields.pop("settings", None)
    if settings is not None:  # bypass the client-side check: send the raw message
        request = pb.MeasureRequest(model_sha256=mlp, runtime="onnxruntime",
                                    settings=pb.MeasureSettings(**settings))  # fmt: skip
        error = rpc_error(client.stub.Measure, request, metadata=client.metadata, timeout=30)
    else:
        error = rpc_error(client.measure, mlp, **fields)
    assert error.code() == grpc.StatusCode[code]
    assert words in error.details()
    still_serves(client, mlp)


def test_hanging_model_is_killed_at_its_timeout(client, mlp) -> None:
    """The agent's own timeout answers, not the client's (60 s, a hang guard). How soon past
    the 1.5 s: benchmarks/agent_faults.py."""
    hang = client.upload(MODELS / "hang.onnx")
    error = rpc_error(client.measure, hang, settings={"timeout_seconds": 1.5})
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "hard timeout of 1.5 s" in error.details()
    still_serves(client, mlp)


@pytest.mark.parametrize("sig", [signal.SIGABRT, signal.SIGSEGV, signal.SIGKILL],
                         ids=lambda sig: sig.name)
def test_crashing_model_process_costs_one_internal_reply(client, mlp, sig) -> None:
    """A model process that dies mid-run (a runtime's abort, a segfault, the OOM killer) is
    crashed for real: signalled while it runs hang.onnx. One INTERNAL reply naming the signal;
    the agent and its worker carry on."""
    worker = zygote_of(client.agent.pid)
    call, errors = hang_in_background(client, 30)
    model_process = running_model(client.agent.pid)
    resource.prlimit(model_process, resource.RLIMIT_CORE, (0, 0))  # a crash, not a core file
    os.kill(model_process, sig)
    call.join(60)  # a hang guard: the reply comes as soon as the worker reaps the process
    assert not call.is_alive(), "the Measure call did not end after its model process died"
    assert len(errors) == 1 and errors[0].code() == grpc.StatusCode.INTERNAL
    assert f"the model process crashed (killed by {sig.name}); the agent is fine" in (
        errors[0].details()
    )
    still_serves(client, mlp)
    assert client.agent.alive() and zygote_of(client.agent.pid) == worker


def test_model_spinning_past_its_cpu_time_limit_is_stopped(agent_process) -> None:
    """hang.onnx spins one CPU; on an agent that allows a model 1 CPU second, its model process
    gets SIGXCPU: DEADLINE_EXCEEDED naming the CPU-time limit (docs/security.md), long before
    its 600 s wall-clock timeout and the client's 60 s (a hang guard), and the agent serves on."""
    agent = agent_process(args=["--max-model-cpu-seconds", "1"])
    client = Client(agent)
    try:
        hang = client.upload(MODELS / "hang.onnx")
        error = rpc_error(client.measure, hang, settings={"timeout_seconds": 600})
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert "used up its CPU-time limit of 1 s (killed by SIGXCPU" in error.details()
        still_serves(client, client.upload(MODELS / "mlp.onnx"))
    finally:
        client.close()


def test_limits_bind_model_processes_not_the_worker(client, mlp) -> None:
    still_serves(client, mlp)
    limits = Path(f"/proc/{zygote_of(client.agent.pid)}/limits").read_text()
    assert "Max cpu time              unlimited" in limits


def test_dead_worker_is_restarted(client, mlp) -> None:
    worker = zygote_of(client.agent.pid)
    os.kill(worker, signal.SIGKILL)  # while idle: the next job finds it dead and restarts it
    still_serves(client, mlp)
    assert zygote_of(client.agent.pid) != worker





def test_worker_killed_mid_measurement_costs_one_reply(client, mlp) -> None:
    call, errors = hang_in_background(client, 30)
    os.kill(zygote_of(client.agent.pid), signal.SIGKILL)
    call.join(60)  # generous: a loaded machine restarts the worker slowly; no timing is asserted
    assert not call.is_alive(), "the Measure call did not end after its worker was killed"
    assert errors[0].code() == grpc.StatusCode.INTERNAL
    assert "worker process died" in errors[0].details()
    still_serves(client, mlp)


def test_model_process_is_forked_before_its_job_and_runs_only_that_one(client, mlp) -> None:
    """The worker keeps one model process forked and waiting (the fork is off the
    measurement's path); it takes the next job, and a fresh one replaces it."""
    still_serves(client, mlp)
    worker = zygote_of(client.agent.pid)
    wait_for(lambda: len(waiting_children(worker)) == 1, 10, "a model process waiting")
    (waiting,) = waiting_children(worker)
    still_serves(client, mlp)
    wait_for(lambda: waiting_children(worker) not in ([], [waiting]), 10,
             "the used model process replaced")  # fmt: skip
    with pytest.raises(FileNotFoundError):  # it ran that job, and no other
        Path(f"/proc/{waiting}/comm").read_text()


def test_waiting_model_process_killed_costs_nothing(client, mlp) -> None:
    """A model process that dies while it waits (say, the OOM killer took it) is replaced
    when the job comes. (One killed in the instant the job is handed to it is a crashed
    model process, like any other.)"""
    still_serves(client, mlp)
    worker = zygote_of(client.agent.pid)
    wait_for(lambda: len(waiting_children(worker)) == 1, 10, "a model process waiting")
    (waiting,) = waiting_children(worker)
    os.kill(waiting, signal.SIGKILL)
    wait_for(lambda: gone(waiting), 10, "the killed model process to exit")
    still_serves(client, mlp)
    assert zygote_of(client.agent.pid) == worker  # the worker itself carried on


def waiting_children(worker: int) -> list[int]:
    """The worker's children that have not taken a job (those that have are renamed)."""
    names = {}
    for pid in children_of(worker):
        with contextlib.suppress(FileNotFoundError):
            names[pid] = Path(f"/proc/{pid}/comm").read_text().strip()
    return [pid for pid, name in names.items() if name != MODEL_PROCESS_NAME]


def test_client_that_gives_up_frees_the_agent(client, mlp) -> None:
    """The abandoned model process is killed: the next measurement is answered (within the
    client's 60 s, a hang guard) long before the hang's own 600 s timeout. How soon:
    benchmarks/agent_faults.py."""
    hang = client.upload(MODELS / "hang.onnx")
    error = rpc_error(client.measure, hang, settings={"timeout_seconds": 600}, timeout=1.0)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED  # the client's own deadline
    still_serves(client, mlp)  # not stuck behind a 600 s hang


def test_full_queue_answers_resource_exhausted(agent_process) -> None:
    agent = agent_process(args=["--max-waiting", "0"])
    client = Client(agent)
    try:
        mlp = client.upload(MODELS / "mlp.onnx")
        busy, errors = hang_in_background(client, 3)
        error = rpc_error(client.measure, mlp)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "busy" in error.details()
        busy.join()
        assert errors[0].code() == grpc.StatusCode.DEADLINE_EXCEEDED
        still_serves(client, mlp)
    finally:
        client.close()


def test_model_over_the_memory_limit_is_refused(agent_process) -> None:
    """bloat.onnx asks onnxruntime's arena for 512 MiB at once, past the 200 MiB limit: the
    runtime reports the failed allocation, RESOURCE_EXHAUSTED. A model process killed under
    that limit (SIGKILL, as the OOM killer does) is INTERNAL, with the limit named."""
    agent = agent_process(args=["--max-model-memory", "200M"])
    client = Client(agent)
    limit = f"the memory limit of {200 * 2**20} bytes"
    try:
        bloat = client.upload(MODELS / "bloat.onnx")
        error = rpc_error(client.measure, bloat)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error.details().startswith(
            f"the model needs more memory than this agent allows one model ({200 * 2**20} "
            "bytes, --max-model-memory): [ONNXRuntimeError]"
        )
        call, errors = hang_in_background(client, 30)
        os.kill(running_model(agent.pid), signal.SIGKILL)
        call.join(60)
        assert len(errors) == 1 and errors[0].code() == grpc.StatusCode.INTERNAL
        assert f"crashed (killed by SIGKILL); it may have hit {limit}" in errors[0].details()
        m = client.measure(client.upload(MODELS / "mlp.onnx"))
        assert m.peak_memory_bytes < 200 * 2**20
    finally:
        client.close()


def test_sigterm_during_a_measurement_stops_cleanly_and_leaves_nothing(agent_process) -> None:
    """SIGTERM stops the measurement after the running calls' grace (5 s) rather than waiting
    for it: the agent exits 0 within 30 s (a hang guard; the model's own timeout is 600 s), its
    worker and model process go with it. How soon: benchmarks/agent_faults.py."""
    agent = agent_process()
    client = Client(agent)
    try:
        call, errors = hang_in_background(client, 600)
        worker = zygote_of(agent.pid)
        model_process = running_model(agent.pid)
        assert agent.stop(timeout=30) == 0, agent.log()  # stop() SIGKILLs after 30 s
        call.join(30)
        # the server cancels the call after its grace: UNAVAILABLE, to a host the device gone
        assert len(errors) == 1 and errors[0].code() == grpc.StatusCode.UNAVAILABLE
    finally:
        client.close()
    wait_for(lambda: gone(worker) and gone(model_process), 30,
             "the worker and the model process to exit")  # fmt: skip


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"
