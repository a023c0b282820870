"""Fault injection at the level of a whole search, with real processes and real signals: two
agents share the label board=x, and the host process (fault_search.py) runs a real search
(random method, runner, SQLite journal, device pool) whose every evaluation is an upload and a
measurement on one of them. The pool's own fault handling is tested in tests/devices; here the
question is whether the *search* loses or duplicates an evaluation when things go wrong.
"""

from __future__ import annotations

import os
import signal

import pytest
from fault_helpers import (
    Host,
    assert_complete,
    devices_file,
    journal,
)
from linas_host.devices import LocalAgent
from polling import wait_for
from processes import measuring

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def agents():
    """A factory of LocalAgents labelled board=x, each closed after the test."""
    started: list[LocalAgent] = []

    def start(name: str, *extra_args: str) -> LocalAgent:
        started.append(
            LocalAgent(name=name, labels={"board": "x"}, extra_args=list(extra_args)).start()
        )
        return started[-1]

    yield start
    for agent in started:
        agent.close()


def search(tmp_path, boards: list[LocalAgent], budget: int, timeouts: dict | None = None) -> Host:
    """Start the host process: a search of `budget` evaluations, four at a time, on `boards`."""
    devices = devices_file(tmp_path / "devices.yaml", boards, timeouts)
    return Host(devices, tmp_path / "run", budget=budget, population=4)


def test_agent_killed_mid_measurement_search_ends_on_its_peer_then_takes_it_back(
    agents, tmp_path
) -> None:
    budget = 24
    a, b = agents("board-a"), agents("board-b")
    host = search(tmp_path, [a, b], budget)
    try:
        wait_for(lambda: len(host.evaluations) >= 2 and measuring(a), 60, "a measuring")
        a.kill()  # SIGKILL the agent's whole process group, model process included
        killed_at = len(host.evaluations)
        wait_for(lambda: len(host.evaluations) >= killed_at + 2, 60, "b to carry on alone")
        host.proc.send_signal(signal.SIGSTOP)  # hold the search while a reboots, so that
        try:  # work is left for it however slow the restart
            a.restart()  # the same port and cache, as a board that rebooted
        finally:
            host.proc.send_signal(signal.SIGCONT)
        restarted_at = len(host.evaluations)
        assert host.wait(120) == 0, host.stderr()[-3000:]
    finally:
        host.kill()
    rows = assert_complete(tmp_path / "run", budget)
    devices = [record["device"] for _, _, record in rows]
    assert set(devices[killed_at + 1 : restarted_at]) == {"board-b"}, "b measured alone"
    assert "board-a" in devices[restarted_at:], "the pool took the restarted agent back"
    log = host.stderr()
    assert "device board-a was lost while measuring; the job goes back to the queue" in log
    assert f"device board-a ({a.address}) is back" in log
    assert host.events[-1] == {"event": "finish", "done": budget, "resumed": 0, "status": "budget"}


def test_host_killed_mid_measurement_resumes_to_exactly_the_budget(agents, tmp_path) -> None:
    budget = 16
    a, b = agents("board-a"), agents("board-b")
    host = search(tmp_path, [a, b], budget)
    devices = tmp_path / "devices.yaml"
    try:
        wait_for(
            lambda: len(host.evaluations) >= 5 and (measuring(a) or measuring(b)),
            60,
            "a measurement in flight after five evaluations",
        )
        host.proc.send_signal(signal.SIGKILL)
        assert host.wait() == -signal.SIGKILL
    finally:
        host.kill()
    before = journal(tmp_path / "run")
    assert 5 <= len(before) < budget

    resumed = Host(devices, tmp_path / "run", budget=budget, population=4, resume=True)
    assert resumed.wait(120) == 0, resumed.stderr()[-3000:]
    after = assert_complete(tmp_path / "run", budget)
    assert after[: len(before)] == before, "what was journalled before the kill is kept as is"
    assert len(resumed.evaluations) == budget - len(before), "only the missing ones measured"
    assert resumed.events[-1]["resumed"] == len(before)


def test_hung_device_loses_its_job_to_the_peer_and_the_search_moves_on(agents, tmp_path) -> None:
    budget = 12
    hung, peer = agents("hung"), agents("peer")
    timeouts = {"rpc_s": 1.0, "upload_s": 2.0, "measure_s": 3.0}
    host = search(tmp_path, [hung, peer], budget, timeouts)
    try:
        wait_for(lambda: len(host.evaluations) >= 1 and measuring(hung), 60, "hung measuring")
        os.killpg(hung.pid, signal.SIGSTOP)  # the agent stops answering, its socket stays open
        stopped_at = len(host.evaluations)
        try:
            assert host.wait(120) == 0, host.stderr()[-3000:]
        finally:
            os.killpg(hung.pid, signal.SIGCONT)
    finally:
        host.kill()
    rows = assert_complete(tmp_path / "run", budget)
    assert {record["device"] for _, _, record in rows[stopped_at + 1 :]} == {"peer"}
    log = host.stderr()
    assert "no reply within" in log
    assert "device hung was lost while measuring; the job goes back to the queue" in log


def test_last_device_of_the_label_gone_the_run_waits_says_so_and_goes_on(agents, tmp_path) -> None:
    budget = 12
    a, b = agents("board-a"), agents("board-b")
    host = search(tmp_path, [a, b], budget)
    try:
        wait_for(lambda: len(host.evaluations) >= 2, 60, "two evaluations")
        a.kill()
        b.kill()
        # The pool says it again after a retry cycle (retry_max_s) with no live device: the
        # run waited through that cycle, its dead devices probed, and did not fail.
        waiting = "wait for labels board=x"
        wait_for(lambda: host.stderr().count(waiting) >= 2, 30, "the waiting message, twice")
        assert host.proc.poll() is None, "the run waits rather than fails"
        waited_at = len(host.evaluations)
        b.restart()
        assert host.wait(120) == 0, host.stderr()[-3000:]
    finally:
        host.kill()
    rows = assert_complete(tmp_path / "run", budget)
    assert waited_at < budget
    assert {record["device"] for _, _, record in rows[waited_at:]} == {"board-b"}, \
        "what was left when the run waited was measured on b, back"
    log = host.stderr()
    assert "job(s) wait for labels board=x" in log and "no live device" in log
    assert "They run when one answers" in log
    assert "jobs for labels board=x" in log and "proceed on device board-b" in log


def test_a_full_cache_evicts_and_keeps_serving_the_search(agents, tmp_path) -> None:
    budget = 16
    cap = 700_000  # the largest sub-network is about 600 kB: it fits, then others evict it
    small = agents("small-cache", "--cache-max-bytes", str(cap), "--log-level", "INFO")
    host = search(tmp_path, [small], budget)
    try:
        assert host.wait(120) == 0, host.stderr()[-3000:]
    finally:
        host.kill()
    rows = assert_complete(tmp_path / "run", budget)
    assert sum(4 * record["params"] for _, _, record in rows) > cap, "more than fits"
    held = sum(p.stat().st_size for p in (small.cache_dir / "objects").iterdir())
    assert 0 < held <= cap
    assert "to stay under the cache cap" in small.output()
