"""Running the `linas` CLI as a user would, in a subprocess, with the tiny test supernet
(`tiny_supernet:make`, in tests/e2e) importable and no stray agent token from the caller's
environment; and the search configurations over that supernet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

E2E = Path(__file__).resolve().parent / "e2e"
LINAS = [sys.executable, "-m", "linas_sdk.cli"]
"""The argv that starts `linas`, for a subprocess the test watches while it runs."""


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for `linas` subprocesses, with `extra` variables on top."""
    env = {k: v for k, v in os.environ.items() if k != "LINAS_AGENT_TOKEN"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(E2E), env.get("PYTHONPATH")]))
    return {**env, **(extra or {})}


def linas(
    *args: object,
    cwd: Path | None = None,
    timeout: float = 240,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run `linas ARGS...` to completion; `env` adds variables to `cli_env()`'s."""
    return subprocess.run(
        [*LINAS, *map(str, args)],
        cwd=cwd,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_until_done(search: subprocess.Popen, done: int) -> None:
    """Read the events of `linas search --progress jsonl` until `done` evaluations are in."""
    for line in search.stdout:
        event = json.loads(line)
        if event["event"] == "update" and event["done"] >= done:
            return
    raise AssertionError(f"the search ended before {done} evaluations")


def tiny_search_config(path: Path, **options: Any) -> Path:
    """A `linas search` config file at `path` over the tiny test supernet, measuring accuracy
    and latency; `options` add or override fields."""
    config = {"space": "tiny_supernet:make", "objectives": ["accuracy", "latency"], **options}
    plain = {k: str(v) if isinstance(v, Path) else v for k, v in config.items()}
    path.write_text(yaml.safe_dump(plain, sort_keys=False))
    return path
