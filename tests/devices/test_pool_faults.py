"""The pool when real agent processes die (SIGKILL) and come back on the same port."""

from __future__ import annotations

import logging
import os
import signal

import pytest
from device_helpers import FAST, SLOW, tiny_onnx
from linas_host.devices import DevicePool, PoolSettings
from polling import wait_for
from processes import measuring

from linas_sdk.target import Target

pytestmark = pytest.mark.timeout(180)

QUICK = PoolSettings(retry_initial_s=0.2, retry_max_s=1.0, health_interval_s=5.0)


def said(caplog, text: str) -> list[str]:
    """The log messages that contain `text`."""
    return [m for r in caplog.records if text in (m := r.getMessage())]


def test_job_moves_to_a_same_label_device_when_its_agent_is_killed(local_agents, caplog):
    a = local_agents("a", labels={"board": "x"})
    b = local_agents("b", labels={"board": "x"})
    caplog.set_level(logging.WARNING, logger="linas_host.devices")
    with DevicePool([a.spec(), b.spec()], settings=QUICK) as pool:
        pool.wait_ready(30)
        futures = [pool.submit(tiny_onnx(i), SLOW, target=Target.of(labels={"board": "x"}))
                   for i in range(4)]
        wait_for(lambda: measuring(a), 30, "a's model process to run its first job")
        a.kill()
        results = [future.result(timeout=60) for future in futures]
        status = {s.name: s for s in pool.status()}
    # none lost, each answered once, all by the survivor (a died in its first job)
    assert len({r.model_sha256 for r in results}) == 4
    assert [r.device for r in results] == ["b"] * 4
    assert status["a"].state == "down" and status["a"].jobs_done == 0
    assert status["b"].state == "alive" and status["b"].jobs_done == 4
    assert said(caplog, "device a was lost while measuring; the job goes back to the queue")


def test_jobs_wait_for_a_dead_label_and_run_when_its_agent_returns(local_agents, caplog):
    agent = local_agents("solo", labels={"board": "y"})
    port = agent.port
    caplog.set_level(logging.WARNING, logger="linas_host.devices")
    with DevicePool([agent.spec()], settings=QUICK) as pool:
        board_y = Target.of(labels={"board": "y"})
        assert pool.measure(tiny_onnx(1), FAST, target=board_y).device == "solo"
        agent.kill()
        waiting = pool.submit(tiny_onnx(2), FAST, target=board_y)
        wait_for(lambda: said(caplog, "wait for labels board=y"), 20, "the waiting message")
        message = said(caplog, "wait for labels board=y")[0]
        assert "1 job(s) wait for labels board=y (runtime onnxruntime): no live device" in message
        assert f"solo (127.0.0.1:{port}) down:" in message and "next try in" in message
        assert not waiting.done()  # waiting, not failed
        agent.restart()
        assert agent.port == port
        measured = waiting.result(timeout=60)
        status = pool.status()[0]
    assert measured.device == "solo" and status.state == "alive"
    assert said(caplog, f"device solo (127.0.0.1:{port}) is back")
    assert said(caplog, "jobs for labels board=y (runtime onnxruntime) proceed on device solo")


def test_a_hung_agent_loses_its_job_to_a_peer_and_returns_when_it_resumes(local_agents, caplog):
    hung = local_agents("hung", labels={"board": "z"})
    peer = local_agents("peer", labels={"board": "z"})
    fields = {"timeouts": {"rpc_s": 1.0, "upload_s": 2.0}}
    caplog.set_level(logging.WARNING, logger="linas_host.devices")
    with DevicePool([hung.spec(**fields), peer.spec(**fields)], settings=QUICK) as pool:
        pool.wait_ready(30)
        board_z = Target.of(labels={"board": "z"})
        futures = [pool.submit(tiny_onnx(i), SLOW, target=board_z, timeout=3.0)
                   for i in range(3)]
        wait_for(lambda: measuring(hung), 30, "hung's model process to run a job")
        os.killpg(hung.pid, signal.SIGSTOP)  # the agent and its model process stop answering
        try:
            results = [future.result(timeout=60) for future in futures]
            assert {s.name: s.state for s in pool.status()}["hung"] == "down"
        finally:
            os.killpg(hung.pid, signal.SIGCONT)
        wait_for(lambda: pool.status()[0].state == "alive", 30, "hung to be taken back")
    assert [r.device for r in results] == ["peer"] * 3
    assert said(caplog, "device hung was lost while measuring; the job goes back to the queue")
    assert said(caplog, "no reply within")
