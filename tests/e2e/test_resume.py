"""A search killed with SIGKILL mid-run resumes from its journal and re-measures nothing."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from e2e_helpers import FAST_TIMING, devices_file
from linas_cli import LINAS, cli_env, linas, read_until_done, tiny_search_config

BUDGET, POPULATION, KILL_AFTER = 12, 4, 5


def journal(run: Path) -> list[tuple]:
    with sqlite3.connect(run / "journal.sqlite") as db:
        query = "SELECT idx, key, objective_values FROM evaluations ORDER BY idx"
        return db.execute(query).fetchall()


@pytest.mark.timeout(600)
def test_killed_search_resumes_where_it_stopped(agent_process, tmp_path) -> None:
    agent = agent_process(name="board", labels={"board": "x"})
    devices = devices_file(tmp_path / "devices.yaml", {"board": (agent, {"board": "x"})})
    config = tiny_search_config(
        tmp_path / "search.yaml",
        objectives=["accuracy", "latency", "params"],
        devices=devices,
        method="nsga2",
        budget=BUDGET,
        population=POPULATION,
        measure=FAST_TIMING,
        cache=False,
        out=tmp_path / "run",
    )
    search = subprocess.Popen(
        [*LINAS, "search", str(config), "--progress", "jsonl"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        read_until_done(search, KILL_AFTER)
        search.send_signal(signal.SIGKILL)
    finally:
        search.kill()
        search.wait()
    assert search.returncode == -signal.SIGKILL
    before = journal(tmp_path / "run")
    assert KILL_AFTER <= len(before) < BUDGET

    refused = linas("search", config, "--progress", "quiet", cwd=tmp_path)
    assert refused.returncode == 2 and "--resume" in refused.stderr

    resumed = linas("search", config, "--resume", "--progress", "jsonl", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    events = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert next(e for e in events if e["event"] == "start")["done"] == len(before)
    assert any(e["event"] == "note" and f"resumed {len(before)}" in e["text"] for e in events)
    after = journal(tmp_path / "run")
    assert len(after) == BUDGET
    assert after[: len(before)] == before, "evaluations made before the kill are kept as they were"
    assert len({key for _, key, _ in after}) == BUDGET, "no architecture measured twice"
    assert (tmp_path / "run" / "report.html").is_file()
