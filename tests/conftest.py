"""Fixtures shared by every test area.

`agent_process` starts real agents (`python -m linas_sdk.cli agent serve --port 0`) as
subprocesses on loopback and stops them after the test:

    def test_something(agent_process):
        agent = agent_process(name="a", labels={"board": "x"}, token="secret")
        channel = grpc.insecure_channel(agent.address)
        stub.GetInfo(..., metadata=agent.metadata)
        agent.kill()          # SIGKILL, e.g. to test re-queueing
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# As `linas` and `linas_sdk.search` ask, before any test module imports torch (linas_host.threads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
LISTENING = "linas-agent listening on "
START_TIMEOUT = 60.0
TINY_SUPERNET_CACHE = "LINAS_TEST_TINY_SUPERNET_CACHE"  # tiny_supernet.CACHE_ENV, without torch


@dataclass
class AgentProcess:
    """One running agent process."""

    proc: subprocess.Popen
    host: str
    port: int
    token: str | None
    cache_dir: Path
    log_path: Path
    argv: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        """Call metadata carrying this agent's token (empty without one)."""
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        """What the agent wrote to stderr so far."""
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait for a clean exit (SIGKILL after `timeout`); returns the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL the agent (its worker process dies with it)."""
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self) -> None:
        if self.proc.stdout:
            with contextlib.suppress(OSError):
                self.proc.stdout.close()


def start_agent(
    workdir: Path,
    *,
    name: str = "",
    labels: Mapping[str, str] | None = None,
    token: str | None = None,
    host: str = "127.0.0.1",
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> AgentProcess:
    """Start `linas agent serve --port 0` and wait for the port it prints."""
    workdir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir or workdir / "cache"
    argv = [sys.executable, "-m", "linas_sdk.cli", "agent", "serve", "--host", host,
            "--port", "0", "--cache-dir", str(cache)]  # fmt: skip
    if name:
        argv += ["--name", name]
    for key, value in (labels or {}).items():
        argv += ["--label", f"{key}={value}"]
    argv += list(args)
    environment = {k: v for k, v in os.environ.items() if k != "LINAS_AGENT_TOKEN"}
    environment.update(env or {})
    if token:
        environment["LINAS_AGENT_TOKEN"] = token
    log_path = workdir / f"agent-{len(list(workdir.glob('agent-*.log')))}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv, cwd=workdir, env=environment, stdout=subprocess.PIPE, stderr=log
        )
    line = _first_line(proc, START_TIMEOUT)
    if not line.startswith(LISTENING):
        proc.kill()
        proc.wait()
        raise RuntimeError(
            f"agent did not start (exit {proc.returncode}); stdout {line!r}; stderr:\n"
            + log_path.read_text(errors="replace")
        )
    address = line[len(LISTENING) :].strip()
    host_part, _, port = address.rpartition(":")
    return AgentProcess(proc, host_part, int(port), token, cache, log_path, argv)


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    fd = proc.stdout.fileno()
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return data.decode(errors="replace")
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace")


@contextlib.contextmanager
def _agent_factory(tmp_path_factory) -> Iterator:
    started: list[AgentProcess] = []

    def start(**kwargs) -> AgentProcess:
        agent = start_agent(tmp_path_factory.mktemp("agent"), **kwargs)
        started.append(agent)
        return agent

    try:
        yield start
    finally:
        for agent in started:
            agent.stop()


@pytest.fixture(autouse=True, scope="session")
def _tiny_supernet_trained_once(tmp_path_factory) -> Iterator[None]:
    """The tiny test supernet (tests/e2e/tiny_supernet.py) keeps its trained weights in a folder
    of this session, so the `linas` processes the tests start (they inherit the environment)
    load them rather than train the same weights again."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TINY_SUPERNET_CACHE, str(tmp_path_factory.mktemp("tiny-supernet")))
        yield


@pytest.fixture
def agent_process(tmp_path_factory) -> Iterator:
    """A factory starting real agent processes; every one is stopped after the test.

    Call it as `agent_process(name=..., labels={...}, token=..., host=..., args=[...],
    env={...}, cache_dir=...)`; it returns an `AgentProcess` (address, port, token,
    metadata, pid, cache_dir, log(), alive(), stop(), kill()).
    """
    with _agent_factory(tmp_path_factory) as start:
        yield start


@pytest.fixture(scope="module")
def module_agent_process(tmp_path_factory) -> Iterator:
    """`agent_process`, for agents shared by the tests of one module (stopped at its end)."""
    with _agent_factory(tmp_path_factory) as start:
        yield start
