"""A real Ray cluster on loopback for the executor tests: `ray start --head --block` with 2 CPUs
on 127.0.0.1 (conftest.py: one shared by all the tests, and one of a test that stops it).

Ray refuses loopback as a cluster's node address unless told the cluster is one machine
(`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`), so the cluster and every driver the tests start get
that variable. Ray turns token authentication on for a cluster started where a token file
(~/.ray/auth_token) exists, and a driver given an explicit address only sends a token when told
to, so the tests set it explicitly: token mode with a token of this session's own, for the
cluster and every driver alike. Its workers import the tiny test supernet from tests/e2e.
The cluster's processes are ended by their ids (the `ray start` process, then any worker left),
never with `ray stop`, which would end every Ray process on the machine.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from linas_cli import E2E

RAY = Path(sys.executable).with_name("ray")
START_TIMEOUT_S = 120.0
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # a one-machine cluster may live on 127.0.0.1
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "token",
    "RAY_AUTH_TOKEN": secrets.token_hex(32),
}


def _free_ports(count: int) -> list[int]:
    """`count` distinct free ports (each socket is held until all are chosen)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


@dataclass
class RayCluster:
    """One running head node: its GCS `address` and its Ray Client `client_address`."""

    proc: subprocess.Popen
    address: str
    client_address: str
    log_path: Path

    def children(self) -> dict[int, str]:
        """The cluster's worker processes now: pid -> title (``ray::IDLE``, ``ray::_run``)."""
        raylets = [
            pid
            for pid, parent, name in _processes()
            if parent == self.proc.pid and name == "raylet"
        ]
        return {pid: _title(pid) for pid, parent, _ in _processes() if parent in raylets}

    def running(self, function: str) -> list[int]:
        """The workers executing a task of `function` right now."""
        return [pid for pid, title in self.children().items() if title == f"ray::{function}"]

    def stop(self) -> None:
        """SIGKILL the head's process group and its workers, as a machine that loses power
        (`ray start --block` takes more than 5 s to end on SIGTERM)."""
        workers = list(self.children())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _processes() -> Iterator[tuple[int, int, str]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                name = stat[stat.index("(") + 1 : stat.rindex(")")]
                yield int(entry.name), int(stat[stat.rindex(")") + 2 :].split()[1]), name


def _title(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode().strip()
    return ""


def start_cluster(workdir: Path, *, num_cpus: int = 2) -> RayCluster:
    """`ray start --head --block` on 127.0.0.1 with free ports; waits until it is up."""
    workdir.mkdir(parents=True, exist_ok=True)
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit
    port, client, dashboard, agent = _free_ports(4)
    argv = [
        str(RAY),
        "start",
        "--head",
        "--block",
        f"--num-cpus={num_cpus}",
        f"--port={port}",
        f"--ray-client-server-port={client}",
        f"--dashboard-port={dashboard}",
        f"--dashboard-agent-listen-port={agent}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp}",
        "--object-store-memory=200000000",
    ]
    env = {
        **os.environ,
        **RAY_ENV,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(E2E), os.environ.get("PYTHONPATH")])),
    }
    log_path = workdir / "ray-head.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    cluster = RayCluster(proc, f"127.0.0.1:{port}", f"ray://127.0.0.1:{client}", log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while "Ray runtime started" not in log_path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            cluster.stop()
            raise RuntimeError(f"ray start failed:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.2)
    return cluster
