"""The warm worker: a process that imports the runtimes once, then forks one child per model.

Run as `python -m linas_agent.zygote CMD_FD EVENT_FD` by `linas_agent.worker.Worker`. It reads
one JSON job per line from CMD_FD and writes JSON events to EVENT_FD:

    {"event": "ready", "pid": ..., "runtimes": [...], "missing": {...}}   once, at start
    {"event": "started", "pid": CHILD}                                     per job
    {"event": "done", "outcome": "ok" | "timeout" | "crashed", "detail": "..."}

"runtimes" are `RuntimeInfo.to_dict()`s, with the int8 schemes `linas_agent.int8` found.

The child for a job is forked before the job arrives (a `Spare`, forked at start and again
after each job, while the reply travels), so the fork (~2-5 ms with the runtimes mapped) is not
on a measurement's path; it runs the bundled tiny model once (`warm`), waits on its own pipe,
takes one job, names itself `linas-model`, runs `linas_agent.child.run`, writes one byte to a
pipe once its result is on disk, and exits; "done" goes out at that byte, so the reply does
not wait for the child's memory to be torn down (the zygote reaps it before forking the
next). No process runs two models. The zygote waits for a child no longer than the job's
`timeout_seconds`, then SIGKILLs it. It holds no runtime session when it forks (the
warm-up's are gone) and runs no threads of its own. It exits when CMD_FD closes (its spare
with it), and dies with the agent.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import select
import signal
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import as_file, files

from linas_agent import child, int8
from linas_agent.jobs import Job
from linas_sdk.formats import FORMATS
from linas_sdk.measurement import MeasureRequest, MeasureSettings
from linas_sdk.runtimes import Runtime, load_runtimes, normal_stream, random_inputs

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
MODEL_PROCESS_NAME = "linas-model"
"""The name (`/proc/PID/comm`, `ps`) a model process takes once it has a job."""


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def set_name(name: str) -> None:
    """Name this process for `ps` and /proc (Linux; no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, name.encode()[:15])


FINISHED = -1
"""`wait_child`'s answer when the child reported its result written: it is only exiting."""
EXIT_GRACE = 10.0  # seconds a finished child may take to exit before it is killed


def wait_child(pid: int, timeout: float, finished_fd: int | None = None) -> int | None:
    """The child's wait status; FINISHED as soon as it writes to `finished_fd` (so its reply
    need not wait for the teardown of its memory); None if it outlived `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pidfd = None
    with contextlib.suppress(OSError, AttributeError):
        pidfd = os.pidfd_open(pid)
    watch = [fd for fd in (pidfd, finished_fd) if fd is not None]
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if finished_fd in watch and select.select([finished_fd], [], [], 0)[0]:
                if os.read(finished_fd, 1):
                    return FINISHED
                watch.remove(finished_fd)  # closed without a word: it is dying; wait for it
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if pidfd is not None:
                select.select(watch, [], [], min(left, 60.0))
            else:
                time.sleep(min(left, 0.005))
    finally:
        if pidfd is not None:
            os.close(pidfd)


def outcome_of(status: int | None, timeout: float) -> dict:
    if status is None:
        return {"outcome": "timeout", "detail": f"still running after {timeout:g} s"}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return {"outcome": "crashed", "detail": f"killed by {signal.Signals(sig).name}"}
    code = os.WEXITSTATUS(status)
    if code:
        return {"outcome": "crashed", "detail": f"exited with status {code}"}
    return {"outcome": "ok", "detail": ""}


PREWARM_SETTINGS = MeasureSettings(warmup_runs=1, warmup_seconds=0.0, min_runs=1,
                                   min_seconds=0.0, max_runs=2, timeout_seconds=30.0)
EXAMPLES = {f.runtime: f"tiny_mlp{f.suffix}" for f in FORMATS}


def prewarm(runtimes: Mapping[str, Runtime]) -> None:
    """Measure the bundled tiny model once per runtime, here, so the Python paths every model
    process takes are already loaded (numpy imports modules lazily, e.g. numpy.ma on the
    first median, ~50 ms each time otherwise) and the latency inputs' normal values drawn;
    then freeze the heap so the children's garbage
    collections do not touch the shared pages. One thread, no session kept: forking stays
    safe."""
    normal_stream()  # drawn once here, shared by every model process (random_inputs)
    examples = files("linas_agent.examples")
    for name, runtime in runtimes.items():
        with as_file(examples / EXAMPLES[name]) as model, \
                as_file(examples / "tiny_mlp.npz") as valid:  # fmt: skip
            request = MeasureRequest(runtime=name, threads=1, metric="top1",
                                     settings=PREWARM_SETTINGS)  # fmt: skip
            job = Job(request=request, model_path=str(model), validation_path=str(valid))
            try:
                child.measure(job, {name: runtime})
            except Exception as error:  # a warm-up that fails costs speed, not service
                print(f"linas-agent worker: warm-up of {name} failed: {error!r}", file=sys.stderr)
    gc.collect()
    gc.freeze()


def serve(cmd_fd: int, event_fd: int) -> None:
    runtimes, missing = load_runtimes()
    infos = [int8.runtime_info(r) for r in runtimes.values()]  # its probes' garbage, then...
    prewarm(runtimes)  # ...a collection and the frozen heap
    events = os.fdopen(event_fd, "w", buffering=1)

    def send(**event) -> None:
        events.write(json.dumps(event) + "\n")

    send(event="ready", pid=os.getpid(), missing=missing, runtimes=[i.to_dict() for i in infos])
    inherited = (cmd_fd, event_fd)
    spare = Spare.fork(runtimes, inherited)
    with os.fdopen(cmd_fd) as commands:
        for line in commands:
            job = Job.from_json(line)
            if not spare.hand(line):  # it died waiting (killed from outside): fork another
                spare.reap()
                spare = Spare.fork(runtimes, inherited)
                spare.hand(line)  # should this one fail too, its exit status says how
            pid = spare.pid
            send(event="started", pid=pid)
            status = wait_child(pid, job.request.settings.timeout_seconds, spare.finished_r)
            os.close(spare.finished_r)
            if status == FINISHED:
                send(event="done", outcome="ok", detail="")
                if wait_child(pid, EXIT_GRACE) is None:  # reap it before the next job
                    _kill(pid)
            else:
                if status is None:
                    _kill(pid)
                send(event="done", **outcome_of(status, job.request.settings.timeout_seconds))
            spare = Spare.fork(runtimes, inherited)  # while the reply travels, not on its path
    spare.hand("")
    spare.reap()


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@dataclass(frozen=True)
class Spare:
    """A model process forked before its job arrives, so the fork is off the job's path.

    It waits for one job on its own pipe, runs it, and exits; a fresh one is forked after
    each job, so no process ever runs two models. `hand("")` closes the pipe without a job,
    and the spare exits quietly."""

    pid: int
    job_fd: int
    finished_r: int

    @classmethod
    def fork(cls, runtimes: Mapping[str, Runtime], inherited: tuple[int, ...]) -> Spare:
        sys.stdout.flush()
        sys.stderr.flush()
        job_r, job_w = os.pipe()
        finished_r, finished_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(job_w)
            os.close(finished_r)
            _child(job_r, runtimes, inherited, finished_w)
        os.close(job_r)
        os.close(finished_w)
        return cls(pid, job_w, finished_r)

    def hand(self, line: str) -> bool:
        """Give the spare its job (one JSON line); False if it is gone."""
        try:
            view = memoryview(line.encode())
            while view:
                view = view[os.write(self.job_fd, view) :]
            return True
        except BrokenPipeError:
            return False
        finally:
            os.close(self.job_fd)

    def reap(self) -> None:
        """Collect a spare that got no job (it exits on its own), killing it if it lingers."""
        os.close(self.finished_r)
        if wait_child(self.pid, EXIT_GRACE) is None:
            _kill(self.pid)


def warm(runtimes: Mapping[str, Runtime]) -> None:
    """In a model process still waiting for its job: load and run the bundled tiny model once
    per runtime, one thread, and drop it, so what a runtime's first session costs in a fresh
    process (its first writes to pages shared with the worker; ~2 ms of a 5 MB ONNX model's
    load here) is paid before the job arrives. A failure here is left for the job to meet."""
    examples = files("linas_agent.examples")
    for name, runtime in runtimes.items():
        with contextlib.suppress(Exception), as_file(examples / EXAMPLES[name]) as model:
            default = runtime.info().providers[0]
            session = runtime.load(model, provider=default, options={}, threads=1, inputs=())
            session.set_inputs(random_inputs(session.inputs))
            session.invoke()


def _child(job_fd: int, runtimes, inherited: tuple[int, ...], finished_fd: int) -> None:
    """The forked model process: waits for its job, runs it; never returns into the zygote's
    loop."""
    code = 0
    try:
        for fd in inherited:
            os.close(fd)
        die_with_parent()
        warm(runtimes)
        with os.fdopen(job_fd, "rb") as jobs:
            line = jobs.read()
        if line:
            set_name(MODEL_PROCESS_NAME)
            child.run(Job.from_json(line.decode()), runtimes)
            os.write(finished_fd, b"1")
    except BaseException:
        code = 70
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(argv: list[str]) -> None:
    # onnxruntime starts a thread when imported, so Python 3.12+ warns on every fork. Forking
    # after the import is the point of this process (ARCHITECTURE.md); the tests run forked
    # model processes on every runtime. Say it once here rather than once per candidate.
    warnings.filterwarnings("ignore", r"This process .* is multi-threaded", DeprecationWarning)
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the agent decides when the worker stops
    serve(int(argv[0]), int(argv[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
