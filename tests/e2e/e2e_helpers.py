"""Helpers of the end-to-end tests: fast timing settings and the files a run reads (the `linas` CLI
itself runs through tests/linas_cli.py, with the tiny test supernet `tiny_supernet:make`)."""

from __future__ import annotations

from pathlib import Path

import yaml

FAST_TIMING = {
    "warmup_runs": 2,
    "warmup_seconds": 0.0,
    "min_runs": 5,
    "min_seconds": 0.02,
    "max_seconds": 1.0,
}
"""Enough samples to rank the tiny networks; keeps each measurement well under a second."""


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
