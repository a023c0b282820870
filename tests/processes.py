"""The processes of a test's agents, read from /proc: what a test waits on instead of a time."""

from __future__ import annotations

import os
from pathlib import Path

from linas_agent.zygote import MODEL_PROCESS_NAME


def measuring(agent) -> bool:
    """Whether an agent started in its own process group (LocalAgent) is timing a model: a
    process of its group has taken a job (a model process waiting for one, forked ahead,
    keeps the worker's name)."""
    if agent.pid is None:
        return False
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            name, rest = stat.split("(", 1)[1].rsplit(")", 1)
            if int(rest.split()[2]) == agent.pid and name == MODEL_PROCESS_NAME:
                return True
    return False
