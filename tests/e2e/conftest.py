"""Helpers for end-to-end tests: run the `linas` CLI as a user would, with the tiny test supernet
(`tiny_supernet:make`, importable through PYTHONPATH) and fast timing settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

FAST_TIMING = {"warmup_runs": 2, "warmup_seconds": 0.0, "min_runs": 5, "min_seconds": 0.02,
               "max_seconds": 1.0}
"""Enough samples to rank the tiny networks; keeps each measurement well under a second."""


def cli_env() -> dict[str, str]:
    """The environment for `linas` subprocesses: the tiny supernet importable, no stray token."""
    env = {k: v for k, v in os.environ.items() if k != "LINAS_AGENT_TOKEN"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    return env


def linas(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run `linas ARGS...` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "linas_sdk.cli", *map(str, args)], cwd=cwd, env=cli_env(),
        capture_output=True, text=True, timeout=timeout,
    )


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def devices_file(path: Path, agents: dict) -> Path:
    """A devices file for agents started by the `agent_process` fixtures (name -> (agent,
    labels)); an agent's token goes into a file beside it, named by token_file."""
    devices = {}
    for name, (agent, labels) in agents.items():
        devices[name] = {"address": agent.address, "labels": labels}
        if agent.token:
            token_file = path.parent / f"{name}.token"
            token_file.write_text(agent.token)
            devices[name]["token_file"] = token_file.name
    return write_yaml(path, {"devices": devices})
