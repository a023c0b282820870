"""The product's own path under a fault: `linas search` on the tiny test supernet (torch, real
ONNX export, the two-phase SupernetEvaluator) against two agents sharing a label, one of which
is SIGKILLed in the middle of a measurement and restarted later."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest
from fault_helpers import SLOW_ENOUGH, assert_complete, devices_file
from linas_cli import LINAS, cli_env, tiny_search_config
from linas_host.devices import LocalAgent
from polling import wait_for
from processes import measuring


@pytest.mark.slow  # torch start-up and supernet training: ~40 s on a busy 2-core machine
@pytest.mark.timeout(300)
def test_linas_search_loses_nothing_when_an_agent_is_killed_mid_measurement(tmp_path) -> None:
    budget = 12
    with (
        LocalAgent(name="board-a", labels={"board": "x"}) as a,
        LocalAgent(name="board-b", labels={"board": "x"}) as b,
    ):
        devices = devices_file(tmp_path / "devices.yaml", [a, b])
        config = tiny_search_config(
            tmp_path / "search.yaml",
            devices=devices,
            method="nsga2",
            budget=budget,
            population=4,
            measure=SLOW_ENOUGH,
            cache=False,
            out=tmp_path / "run",
        )
        with open(tmp_path / "search.log", "wb") as stderr:
            search = subprocess.Popen(
                [*LINAS, "search", str(config), "--progress", "jsonl"],
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=cli_env(),
                text=True,
                cwd=tmp_path,
            )
        events: list[dict] = []
        reader = threading.Thread(
            target=lambda: events.extend(json.loads(line) for line in search.stdout), daemon=True
        )
        reader.start()
        try:
            # Whichever board the pool hands the first jobs to is the one killed: with one
            # measurement at a time, nothing obliges the pool to use both.
            wait_for(lambda: measuring(a) or measuring(b), 180, "a board to measure")
            victim, peer = (a, b) if measuring(a) else (b, a)
            victim.kill()
            wait_for(lambda: measuring(peer), 60, f"{peer.name} to take over")
            victim.restart()
            assert search.wait(240) == 0, (tmp_path / "search.log").read_text()[-3000:]
        finally:
            if search.poll() is None:
                search.kill()
                search.wait()
        reader.join(10)
    rows = assert_complete(tmp_path / "run", budget)
    assert all(0 < record["accuracy"] <= 1 for _, _, record in rows)
    assert [e["done"] for e in events if e["event"] == "update"] == list(range(1, budget + 1))
    log = (tmp_path / "search.log").read_text()
    assert f"device {victim.name} was lost while measuring; the job goes back to the queue" in log
