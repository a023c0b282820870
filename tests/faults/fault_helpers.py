"""Helpers of the fault tests: agents that share a label, a devices file for them, the host
process (fault_search.py) watched line by line, and the agents' process groups."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
QUICK_POOL = {"retry_initial_s": 0.2, "retry_max_s": 1.0, "health_interval_s": 2.0}
"""Dead devices are probed again within a second, so a restarted agent is taken back fast."""
SLOW_ENOUGH = {
    "warmup_runs": 1,
    "warmup_seconds": 0.0,
    "min_runs": 3,
    "min_seconds": 0.3,
    "max_seconds": 0.4,
    "max_remeasures": 0,
}
"""About half a second a measurement: long enough to kill an agent in the middle of one."""


def devices_file(path: Path, agents, timeouts: dict | None = None) -> Path:
    """A devices file naming LocalAgents (all labelled board=x) with quick pool retries."""
    devices = {}
    for agent in agents:
        devices[agent.name] = {"address": agent.address, "labels": {"board": "x"}}
        if timeouts:
            devices[agent.name]["timeouts"] = timeouts
    path.write_text(yaml.safe_dump({"pool": QUICK_POOL, "devices": devices}))
    return path


class Host:
    """The search's host process; its events are collected as they are printed."""

    def __init__(
        self, devices: Path, run: Path, *, budget: int, population: int, resume: bool = False
    ) -> None:
        self.stderr_path = run.parent / f"{run.name}-host-{int(resume)}.log"
        argv = [
            sys.executable,
            str(HERE / "fault_search.py"),
            str(devices),
            str(run),
            "--budget",
            str(budget),
            "--population",
            str(population),
        ]
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                argv + ["--resume"] * resume, stdout=subprocess.PIPE, stderr=stderr, text=True
            )
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    @property
    def evaluations(self) -> list[dict]:
        return [e for e in self.events if e["event"] == "evaluation"]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.wait()


def journal(run: Path) -> list[tuple[int, str, dict]]:
    """(index, architecture key, record) of every journalled evaluation."""
    with sqlite3.connect(run / "journal.sqlite") as db:
        rows = db.execute("SELECT idx, key, record FROM evaluations ORDER BY idx").fetchall()
    return [(idx, key, json.loads(record)) for idx, key, record in rows]


def assert_complete(run: Path, budget: int) -> list[tuple]:
    """The journal holds exactly `budget` evaluations, of distinct architectures, none failed,
    each with a measured latency."""
    rows = journal(run)
    assert [idx for idx, _, _ in rows] == list(range(budget))
    assert len({key for _, key, _ in rows}) == budget, "no architecture measured twice"
    failed = [(idx, record.get("error")) for idx, _, record in rows if "error" in record]
    assert failed == [], "no evaluation lost to a fault"
    assert all(record["latency_ms"] > 0 for _, _, record in rows)
    return rows
