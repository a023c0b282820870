"""How soon the agent answers when a model or a client misbehaves, and how soon it stops.

    .venv/bin/python benchmarks/agent_faults.py [--repeats 3]

Starts real agent processes on loopback (`python -m linas_agent serve`) and times, from the
client's side, the medians and maxima over `--repeats`:
- hard timeout: Measure of a model that never ends (tests/agent/models/hang.onnx, an ONNX Loop
  that spins one CPU) with `timeout_seconds` 1.5, to its DEADLINE_EXCEEDED reply;
- CPU-time limit: the same model with `timeout_seconds` 60 on an agent started with
  `--max-model-cpu-seconds 1`, to its DEADLINE_EXCEEDED reply (the model process got SIGXCPU);
- client gone: a client that gives up after 1 s on that model (`timeout_seconds` 60); from then
  to the answer of the next Measure (the bundled tiny MLP, short settings);
- stalled upload: an upload that sends one chunk and stalls, on an agent with
  `--upload-timeout 1.5`, to its CANCELLED status;
- SIGTERM: SIGTERM to an agent while it measures the never-ending model, to the agent's exit,
  then to the moment its worker and model processes are gone too (running calls get a 5 s
  grace first).
Each figure is printed with the limit it follows, and "past" it: what the agent adds. The tests
in tests/agent check what happens (the statuses, the processes gone), never how soon; these
are the figures. No assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from linas_sdk import serde
from linas_sdk.artifacts import sha256_hex, upload_chunks
from linas_sdk.grpc_settings import channel_options
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
HANG = ROOT / "tests" / "agent" / "models" / "hang.onnx"
MLP = ROOT / "agent" / "linas_agent" / "examples" / "tiny_mlp.onnx"
SHORT = {"warmup_runs": 1, "warmup_seconds": 0.0, "min_runs": 3, "min_seconds": 0.0,
         "max_seconds": 0.05, "max_remeasures": 0}  # fmt: skip
LISTENING = "linas-agent listening on "
GRACE = 5.0  # linas_agent.server.AgentServer.stop: running calls get this long to finish


class Agent:
    """One agent process and a stub on it."""

    def __init__(self, workdir: Path, *args: str) -> None:
        workdir.mkdir(parents=True)
        with open(workdir / "agent.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "linas_agent", "serve", "--port", "0",
                 "--cache-dir", str(workdir / "cache"), "--log-level", "WARNING", *args],
                stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip
        line = self.proc.stdout.readline()
        if not line.startswith(LISTENING):
            self.proc.kill()
            raise SystemExit(f"the agent did not start: {line!r}; see {workdir / 'agent.log'}")
        self.channel = grpc.insecure_channel(line.split()[-1], options=channel_options())
        self.stub = agent_pb2_grpc.AgentStub(self.channel)
        self.hang, self.mlp = self.upload(HANG), self.upload(MLP)

    def upload(self, path: Path) -> str:
        data = path.read_bytes()
        self.stub.PutArtifact(upload_chunks(data, pb.ARTIFACT_KIND_ONNX), timeout=30)
        return sha256_hex(data)

    def measure(self, sha256: str, timeout_seconds: float, deadline: float = 300) -> str:
        """Measure; the reply's status code name."""
        settings = serde.settings_to_proto({**SHORT, "timeout_seconds": timeout_seconds})
        request = pb.MeasureRequest(model_sha256=sha256, runtime="onnxruntime", settings=settings)
        try:
            self.stub.Measure(request, timeout=deadline)
        except grpc.RpcError as error:
            return error.code().name
        return "OK"

    def stop(self) -> int:
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def hard_timeout(agent: Agent) -> tuple[float, str]:
    return timed(lambda: agent.measure(agent.hang, 1.5))


def cpu_limit(agent: Agent) -> tuple[float, str]:
    return timed(lambda: agent.measure(agent.hang, 60.0))


def client_gone(agent: Agent) -> tuple[float, str]:
    gave_up = agent.measure(agent.hang, 60.0, deadline=1.0)
    assert gave_up == "DEADLINE_EXCEEDED", gave_up  # the client's own deadline
    return timed(lambda: agent.measure(agent.mlp, 30.0))


def stalled_upload(agent: Agent) -> tuple[float, str]:
    release = threading.Event()
    data = os.urandom(4096)  # never held, so the agent waits for the rest

    def stalling():
        yield next(upload_chunks(data, pb.ARTIFACT_KIND_ONNX, chunk_bytes=100))
        release.wait(60)  # the rest never comes

    def call() -> str:
        try:
            agent.stub.PutArtifact(stalling(), timeout=60)
        except grpc.RpcError as error:
            return error.code().name
        return "OK"

    try:
        return timed(call)
    finally:
        release.set()


def sigterm(workdir: Path) -> tuple[float, float, str]:
    """(seconds to the agent's exit, seconds until its worker and model are gone, exit code)."""
    agent = Agent(workdir)
    thread = threading.Thread(target=agent.measure, args=(agent.hang, 60.0), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the model process runs
        workers = children(agent.proc.pid)
        if workers and children(workers[0]):
            break
        time.sleep(0.05)
    time.sleep(0.5)  # well into the model
    tree = [*workers, *children(workers[0])]
    start = time.perf_counter()
    agent.proc.send_signal(signal.SIGTERM)
    code = agent.proc.wait(60)
    exited = time.perf_counter() - start
    while any(running(pid) for pid in tree) and time.perf_counter() - start < 60:
        time.sleep(0.01)
    gone = time.perf_counter() - start
    agent.stop()
    return (
        exited,
        gone,
        f"exit {code}, " + ("all gone" if not any(map(running, tree)) else "processes left"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="linas-faults-") as tmp:
        root = Path(tmp)
        plain = Agent(root / "plain")
        capped = Agent(root / "capped", "--max-model-cpu-seconds", "1")
        uploads = Agent(root / "uploads", "--upload-timeout", "1.5")
        try:
            for i in range(args.repeats):
                for name, limit, run in (
                    ("hard timeout (DEADLINE_EXCEEDED)", 1.5, lambda: hard_timeout(plain)),
                    ("CPU-time limit (DEADLINE_EXCEEDED)", 1.0, lambda: cpu_limit(capped)),
                    ("next Measure after a client gave up", 0.0, lambda: client_gone(plain)),
                    ("stalled upload (CANCELLED)", 1.5, lambda: stalled_upload(uploads)),
                ):
                    seconds, status = run()
                    rows.setdefault(name, []).append((limit, seconds, status))
                exited, gone, status = sigterm(root / f"sigterm-{i}")
                rows.setdefault("SIGTERM mid-measurement: agent exited", []).append(
                    (GRACE, exited, status)
                )
                rows.setdefault("SIGTERM mid-measurement: worker, model gone", []).append(
                    (GRACE, gone, status)
                )
        finally:
            for agent in (plain, capped, uploads):
                agent.stop()
    print(f"{'event':<45}{'limit s':>8}{'median s':>10}{'max s':>8}{'past s':>8}  status")
    for name, results in rows.items():
        limit = results[0][0]
        seconds = [s for _, s, _ in results]
        statuses = sorted({status for _, _, status in results})
        median = statistics.median(seconds)
        print(
            f"{name:<45}{limit:>8.1f}{median:>10.2f}{max(seconds):>8.2f}"
            f"{median - limit:>8.2f}  {' / '.join(statuses)}"
        )
    print(
        f"\nmachine: {os.uname().machine}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end, {args.repeats} repeats"
    )


if __name__ == "__main__":
    main()
