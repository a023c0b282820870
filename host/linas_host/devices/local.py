"""LocalAgent: a real agent started as a subprocess on loopback, for demos, tests and a host
that measures on itself. The host talks to it over gRPC like to any board; it never imports the
agent's code (`python -m linas_agent serve`, the agent's own entry, runs in its own process).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from linas_host.devices.config import DeviceSpec
from linas_sdk.errors import LinasError

_LISTENING = re.compile(r"linas-agent listening on (?P<host>\S+):(?P<port>\d+)")


def _die_with_parent() -> None:
    """Runs in the child before exec: on Linux the agent gets SIGTERM when the process that
    started it dies, even by SIGKILL, so an embedded agent never outlives its search. (The
    kernel ties this to the starting thread: start local agents from a long-lived thread.)"""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class AgentStartError(LinasError):
    """A local agent process exited, or did not say where it listens, in time."""


class LocalAgent:
    """An agent process on 127.0.0.1; a context manager that stops it (and removes the files
    it made) on exit.

    `port=0` lets the agent pick a free port; `restart()` starts it again on the port it had,
    with the same cache, as a board that rebooted. With `token`, the agent requires it; the
    token is passed in a private temporary file, never on the command line.
    """

    def __init__(
        self,
        *,
        name: str = "local",
        labels: Mapping[str, str] | None = None,
        port: int = 0,
        cache_dir: str | Path | None = None,
        token: str | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 60.0,
        python: str | None = None,
    ) -> None:
        self.name = name
        self.labels = dict(labels or {})
        self.port = port
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.python = python or sys.executable
        self._workdir = Path(tempfile.mkdtemp(prefix="linas-agent-"))  # mode 0700
        self.cache_dir = Path(cache_dir) if cache_dir else self._workdir / "cache"
        self.token_file: Path | None = None
        if token:
            self.token_file = self._workdir / "token"
            self.token_file.touch(mode=0o600)
            self.token_file.write_text(token)
        self.process: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=200)
        self._listening = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def spec(self, **fields: Any) -> DeviceSpec:
        """A device spec that reaches this agent (extra fields such as timeouts or runtime)."""
        return DeviceSpec(
            name=self.name, address=self.address, labels=self.labels,
            token_file=self.token_file, **fields,
        )

    def output(self) -> str:
        """The agent's most recent output lines (stdout and stderr)."""
        return "\n".join(self._output)

    def command(self) -> list[str]:
        args = [self.python, "-m", "linas_agent", "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--name", self.name, "--cache-dir", str(self.cache_dir)]
        for key, value in self.labels.items():
            args += ["--label", f"{key}={value}"]
        if self.token_file:
            args += ["--token-file", str(self.token_file)]
        return args + self.extra_args

    def start(self) -> LocalAgent:
        """Start the process and wait until it prints the port it listens on."""
        if self.process and self.process.poll() is None:
            raise AgentStartError(f"local agent {self.name} is already running ({self.address})")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._output.clear()
        self._listening = False
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=env, start_new_session=True, preexec_fn=_die_with_parent,
        )
        ready = threading.Event()  # set at the port line, or when the output ends
        threading.Thread(
            target=self._read, args=(self.process, ready), daemon=True,
            name=f"linas-local-agent-{self.name}",
        ).start()
        ready.wait(self.startup_timeout)
        if not self._listening:
            ended = ready.is_set()  # the output ended first: the process is exiting
            if ended:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(5.0)
            self.stop()
            what = (f"exited with code {self.process.returncode}" if ended
                    else f"did not report its port within {self.startup_timeout:g} s")
            raise AgentStartError(
                f"local agent {self.name} {what}; expected a line 'linas-agent listening on "
                f"HOST:PORT'. Its output:\n{self.output()}"
            )
        return self

    def _read(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        """Keep the pipe drained (so the agent never blocks on it) and catch the port line."""
        for line in process.stdout:
            self._output.append(line.rstrip("\n"))
            match = _LISTENING.search(line)
            if match and not self._listening:
                self.port = int(match["port"])
                self._listening = True
                ready.set()
        ready.set()

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` seconds; -> the exit code (None if never run)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._kill_group()
        return process.returncode

    def _kill_group(self) -> None:
        """SIGKILL whatever is left of the agent's process group (its model workers)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the agent, as a crash or a power cut would (for fault tests)."""
        if self.process and self.process.poll() is None:
            self._kill_group()
            self.process.wait()

    def restart(self) -> LocalAgent:
        """Stop if running and start again on the same port and cache."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the agent and remove the temporary files this object made."""
        self.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> LocalAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
