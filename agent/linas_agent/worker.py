"""The agent's side of the warm worker (linas_agent.zygote): start it, hand it jobs, read the
outcome, and restart it if it dies.

Each job runs in its own process forked by the worker, so a model that crashes or hangs costs
one error reply (INTERNAL or DEADLINE_EXCEEDED), never the agent. The worker enforces the hard
timeout; this side keeps a backstop a little longer than that, in case the worker itself
stops answering, and can cancel a job (its client went away) by killing the job's process.
The agent runs one job at a time; `close()` may come from another thread (shutdown): it kills
the running model process, waits for `run()` to return, then stops the worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time

from linas_agent.jobs import Job
from linas_sdk.errors import LinasError, MeasurementTimeout, ResourceExhausted, WorkerCrashed
from linas_sdk.measurement import RuntimeInfo

log = logging.getLogger(__name__)

WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1"}
"""numpy's BLAS needs no thread pool in the worker; one thread less to fork over, and none to
compete with the model being timed."""
READY_TIMEOUT = 120.0  # importing runtimes on a slow board
BACKSTOP = 10.0  # seconds past a job's own timeout before the worker counts as hung


class Worker:
    """A running zygote process."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self.runtimes: tuple[RuntimeInfo, ...] = ()
        self.missing: dict[str, str] = {}
        self.restarts = 0
        self._running = threading.Lock()
        self._child: int | None = None
        self._closed = False
        self.start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        cmd_r, cmd_w = os.pipe()
        evt_r, evt_w = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "linas_agent.zygote", str(cmd_r), str(evt_w)],
                pass_fds=(cmd_r, evt_w),
                stdin=subprocess.DEVNULL,
                stdout=2,  # the agent's stderr: its stdout is for the one "listening" line
                env={**os.environ, **WORKER_ENV},
            )
        finally:
            os.close(cmd_r)
            os.close(evt_w)
        self._cmd = os.fdopen(cmd_w, "w", buffering=1)
        self._events = evt_r
        self._buffer = b""
        self._eof = False
        ready = self._read_event(time.monotonic() + READY_TIMEOUT)
        if ready is None or ready.get("event") != "ready":
            self._stop()
            raise WorkerCrashed("the agent's worker process failed to start; see its log")
        self.runtimes = tuple(RuntimeInfo.from_dict(r) for r in ready["runtimes"])
        self.missing = ready["missing"]

    def close(self) -> None:
        """Stop the worker for good, killing any model process it runs."""
        self._closed = True
        self._kill_child()
        with self._running:
            self._stop()

    def _kill_child(self) -> None:
        child = self._child
        if child is not None:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            self._cmd.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._events)

    def restart(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
        self._stop()
        self.restarts += 1
        log.warning("restarting the agent's worker process (restart %d)", self.restarts)
        self.start()

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def run(self, job: Job, cancelled: threading.Event | None = None) -> None:
        """Run a job to completion; its result is in `job.result_dir`. Raises
        MeasurementTimeout, WorkerCrashed, or ResourceExhausted (cancelled, or shutting down)."""
        with self._running:
            if self._closed:
                raise ResourceExhausted("the agent is shutting down")
            try:
                self._run(job, cancelled)
            finally:
                self._child = None

    def _run(self, job: Job, cancelled: threading.Event | None) -> None:
        timeout = job.request.settings.timeout_seconds
        done = None
        for _attempt in range(2):  # a worker found dead before it took the job: restart, retry
            if not self.alive():
                self.restart()
            deadline = time.monotonic() + timeout + BACKSTOP
            try:
                self._cmd.write(job.to_json() + "\n")
                started = self._read_event(deadline)
            except OSError:  # the pipe is broken: the worker is gone
                started, self._eof = None, True
            if started is None and self._eof:
                self.restart()
                continue
            child = started["pid"] if started and started.get("event") == "started" else None
            self._child = child
            if self._closed:
                self._kill_child()
            done = self._wait_done(child, deadline, cancelled)
            break
        if done is None:  # the worker died or hung with the job: it is replaced, the job lost
            self.restart()
            raise WorkerCrashed(
                "the agent's worker process died or stopped answering during the measurement; "
                "it was restarted"
            )
        outcome, detail = done["outcome"], done.get("detail", "")
        if self._closed and outcome != "ok":
            raise ResourceExhausted("the agent is shutting down; the measurement was stopped")
        if cancelled is not None and cancelled.is_set() and outcome != "ok":
            raise ResourceExhausted("the measurement was cancelled: its client went away")
        if outcome == "timeout":
            raise MeasurementTimeout(
                f"the model process ran past its hard timeout of {timeout:g} s "
                "(settings.timeout_seconds) and was killed"
            )
        if outcome == "crashed" and "SIGXCPU" in detail:
            cpus = job.request.cpu_affinity or os.sched_getaffinity(0)
            raise MeasurementTimeout(
                f"the model process used up its CPU-time limit of {job.cpu_seconds(len(cpus))} s "
                f"({detail}; timeout_seconds x CPUs, at most --max-model-cpu-seconds) and was "
                "stopped"
            )
        if outcome == "crashed":
            hint = (
                f"; it may have hit the memory limit of {job.memory_limit_bytes} bytes"
                if job.memory_limit_bytes else ""
            )  # fmt: skip
            raise WorkerCrashed(f"the model process crashed ({detail}){hint}; the agent is fine")

    def _wait_done(
        self, child: int | None, deadline: float, cancelled: threading.Event | None
    ) -> dict | None:
        """Wait for the job's "done" event, killing its process if the client cancels."""
        killed = False
        while True:
            step = deadline if cancelled is None else min(deadline, time.monotonic() + 0.1)
            event = self._read_event(step)
            if event is not None:
                return event if event.get("event") == "done" else None
            if self._eof or time.monotonic() >= deadline or not self.alive():
                if child is not None:
                    with contextlib.suppress(OSError):
                        os.kill(child, signal.SIGKILL)
                return None
            if cancelled is not None and cancelled.is_set() and not killed and child:
                with contextlib.suppress(OSError):
                    os.kill(child, signal.SIGKILL)
                killed = True

    def _read_event(self, deadline: float) -> dict | None:
        """The next event line, or None at the deadline or when the worker closed its end."""
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._events], [], [], min(left, 60.0))
            if not ready:
                continue
            data = os.read(self._events, 65536)
            if not data:
                self._eof = True
                return None
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError as error:
            raise LinasError(f"the worker sent a malformed event: {line[:200]!r}") from error
