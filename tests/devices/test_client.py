"""AgentClient against a real agent process: uploads only what is missing, validation sets,
errors mapped back from their status, the token named by the device spec."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from device_helpers import FAST, MLP_TFLITE, tiny_onnx
from linas_host.devices import AgentClient, AgentStartError, LocalAgent
from polling import wait_for

from linas_sdk.errors import DeviceUnavailable, InvalidArgument, LinasError, Unauthenticated

pytestmark = pytest.mark.timeout(120)


def test_a_model_the_agent_holds_is_not_uploaded_again(live_device):
    model = tiny_onnx(41.0)
    with AgentClient(live_device) as client:
        first = client.measure(model, FAST)
        after_first = client.uploaded_bytes
        second = client.measure(model, FAST)
        assert after_first == len(model)
        assert client.uploaded_bytes == after_first  # 0 bytes for the second measurement
        client.measure(tiny_onnx(42.0), FAST)
        assert client.uploaded_bytes == after_first + len(tiny_onnx(42.0))
    assert first.model_sha256 == second.model_sha256 and first.device == "live"
    assert first.runtime == "onnxruntime" and first.samples >= 3 and first.median_ms > 0


def test_accuracy_on_a_validation_set(live_device):
    # every output column of tiny_onnx is equal, so its argmax is class 0
    buffer = io.BytesIO()
    np.savez(buffer, x=np.random.default_rng(0).random((8, 16), dtype=np.float32),
             y=np.array([0] * 6 + [3] * 2, dtype=np.int64))
    with AgentClient(live_device) as client:
        measured = client.measure(tiny_onnx(), FAST, validation=buffer.getvalue())
    assert measured.accuracy == pytest.approx(0.75)
    assert measured.validation_samples == 8


def test_a_broken_model_is_the_calls_error_and_the_agent_serves_on(live_device):
    broken = b"\x08\x07" + b"not an onnx graph" * 10
    with AgentClient(live_device) as client:
        with pytest.raises(LinasError) as caught:
            client.measure(broken, FAST)
        assert not isinstance(caught.value, DeviceUnavailable)
        assert "device live" in str(caught.value)
        assert client.get_info().name == "live"


def test_unreachable_device_is_unavailable_after_retries():
    client = AgentClient.connect("127.0.0.1:1", retries=2, backoff_s=0.05)
    with client, pytest.raises(DeviceUnavailable, match=r"device 127\.0\.0\.1:1 .*GetInfo"
                               r" \(3 attempts\)"):  # fmt: skip
        client.get_info()


def test_the_token_named_by_the_spec_is_sent(local_agents, monkeypatch):
    agent = local_agents("guarded", token="tok-" + "x" * 20)
    with AgentClient(agent.spec()) as client:  # spec.token_file names the agent's token file
        assert client.get_info().name == "guarded"
    monkeypatch.delenv("LINAS_AGENT_TOKEN", raising=False)
    with AgentClient.connect(agent.address) as client, pytest.raises(Unauthenticated):
        client.get_info()


def test_local_agent_that_cannot_start_says_why():
    with pytest.raises(AgentStartError, match="exited with code") as caught:
        LocalAgent(name="bad", extra_args=["--no-such-flag"], startup_timeout=30).start()
    assert "--no-such-flag" in str(caught.value)


def test_local_agent_stops_when_its_host_is_killed():
    host = subprocess.Popen(
        [sys.executable, "-c",
         "import time\nfrom linas_host.devices import LocalAgent\n"
         "agent = LocalAgent(name='orphan').start()\nprint(agent.process.pid, flush=True)\n"
         "time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        agent_pid = int(host.stdout.readline())
    finally:
        host.kill()  # SIGKILL: the host gets no chance to stop its agent itself
        host.wait()
    wait_for(lambda: not _alive(agent_pid), timeout=30, what="the orphaned agent to stop")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent (init) has yet to reap it


# The devices file's provider and options are seen through LiteRT: the agent reads the provider
# that ran back from its interpreter, and LiteRT refuses options in the model process.
# (onnxruntime's CPU provider, the only one here, ignores its options, and is the default.)
LITERT = FAST.replace(runtime="litert")


def test_the_devices_file_provider_runs_the_jobs_that_name_none(live_device):
    spec = live_device.model_copy(update={"runtime": "litert", "provider": "CPU"})
    with AgentClient(spec) as client:
        by_the_spec = client.measure(MLP_TFLITE, LITERT)
        named = client.measure(MLP_TFLITE, LITERT.replace(provider="XNNPACK"))
    assert (by_the_spec.provider, named.provider) == ("CPU", "XNNPACK")  # LiteRT's default: XNNPACK


def test_the_devices_file_provider_options_reach_the_runtime(live_device):
    spec = live_device.model_copy(update={
        "runtime": "litert", "provider": "XNNPACK", "provider_options": {"num_threads": "2"}})
    with AgentClient(spec) as client, pytest.raises(InvalidArgument) as refused:
        client.measure(MLP_TFLITE, LITERT)
    assert "LiteRT's XNNPACK takes no provider_options, got ['num_threads']" in str(refused.value)
