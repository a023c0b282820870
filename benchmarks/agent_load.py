"""Load on one agent: many concurrent clients for a while, and what the agent does with them.

    .venv/bin/python benchmarks/agent_load.py [--clients 100] [--seconds 30] [--json]

Starts a real agent process on loopback (`linas agent serve`, a token, a 16 MB cache so that
uploads evict, the default bound of 8 measurements waiting), then runs `--clients` threads, each
with its own channel, each calling in a loop until the time is up: GetInfo, the standard health
check, HasArtifact, PutArtifact of a new ~16 kB artifact, and Measure of the bundled tiny ONNX
model with short timing settings. Meanwhile it samples the agent's memory from /proc every
0.1 s: the resident set of the agent process, and the proportional set size (PSS: shared pages
counted once) of the agent with its warm worker and model processes.

Prints the calls answered (OK) and refused (a documented status with a message, e.g.
RESOURCE_EXHAUSTED from the bounded measurement queue), the calls neither answered nor refused
clearly (none expected), the p50 and p99 latency of GetInfo, and the peak memory. No
assertions; tests/security/test_load.py runs it briefly and checks the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from linas_sdk import serde
from linas_sdk.artifacts import sha256_hex, upload_chunks
from linas_sdk.measurement import MeasureRequest
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "agent" / "linas_agent" / "examples" / "tiny_mlp.onnx"
TOKEN = "load-benchmark-token"
REQUEST = MeasureRequest(runtime="onnxruntime", settings={
    "warmup_runs": 1, "warmup_seconds": 0.0, "min_runs": 3, "min_seconds": 0.0,
    "max_seconds": 0.05, "max_remeasures": 0, "timeout_seconds": 10.0})
WEIGHTS = {"GetInfo": 35, "Health": 25, "HasArtifact": 10, "PutArtifact": 15, "Measure": 15}
CLEAR_REFUSALS = {"RESOURCE_EXHAUSTED", "INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION",
                  "UNAUTHENTICATED", "DATA_LOSS"}
LISTENING = re.compile(r"linas-agent listening on \S+:(\d+)")


def start_agent(workdir: Path) -> tuple[subprocess.Popen, int]:
    token_file = workdir / "token"
    token_file.write_text(TOKEN)
    with open(workdir / "agent.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "linas_sdk.cli", "agent", "serve", "--port", "0",
             "--name", "load", "--cache-dir", str(workdir / "cache"), "--cache-max-bytes",
             "16M", "--token-file", str(token_file), "--log-level", "WARNING"],
            stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
        )
    line = proc.stdout.readline()
    match = LISTENING.search(line)
    if not match:
        proc.kill()
        raise SystemExit(f"the agent did not start: {line!r}; see {workdir / 'agent.log'}")
    return proc, int(match.group(1))


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS of `pid`, PSS of `pid` and every process below it), in kB."""
    def field(path: str, key: str) -> int:
        try:
            text = Path(path).read_text()
        except OSError:
            return 0
        found = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
        return int(found.group(1)) if found else 0

    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    rss = field(f"/proc/{pid}/status", "VmRSS")
    return rss, sum(field(f"/proc/{p}/smaps_rollup", "Pss") for p in tree)


class Load:
    """The clients, their tallies, and the memory samples."""

    def __init__(self, port: int, clients: int, seconds: float, pid: int) -> None:
        self.address, self.clients, self.seconds, self.pid = f"127.0.0.1:{port}", clients, \
            seconds, pid
        self.model = MODEL.read_bytes()
        self.model_sha = sha256_hex(self.model)
        self.lock = threading.Lock()
        self.codes: dict[str, Counter] = {op: Counter() for op in WEIGHTS}
        self.unclear: list[str] = []
        self.info_ms: list[float] = []
        self.memory: list[tuple[float, int, int]] = []

    def run(self) -> dict:
        auth = (("authorization", f"Bearer {TOKEN}"),)
        with grpc.insecure_channel(self.address) as channel:
            agent_pb2_grpc.AgentStub(channel).PutArtifact(
                upload_chunks(self.model, pb.ARTIFACT_KIND_ONNX), metadata=auth, timeout=30)
        stop = time.monotonic() + self.seconds
        sampler = threading.Thread(target=self._sample, args=(stop,), daemon=True)
        sampler.start()
        threads = [threading.Thread(target=self._client, args=(i, stop), daemon=True)
                   for i in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sampler.join()
        return self.figures()

    def _sample(self, stop: float) -> None:
        start = time.monotonic()
        while time.monotonic() < stop + 1.0:
            rss, pss = memory_kb(self.pid)
            self.memory.append((time.monotonic() - start, rss, pss))
            time.sleep(0.1)

    def _client(self, seed: int, stop: float) -> None:
        rng = random.Random(seed)
        auth = (("authorization", f"Bearer {TOKEN}"),)
        ops, weights = list(WEIGHTS), list(WEIGHTS.values())
        with grpc.insecure_channel(self.address) as channel:
            agent = agent_pb2_grpc.AgentStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < stop:
                op = rng.choices(ops, weights)[0]
                start = time.perf_counter()
                try:
                    if op == "GetInfo":
                        agent.GetInfo(pb.GetInfoRequest(), metadata=auth, timeout=30)
                    elif op == "Health":
                        health.Check(health_pb2.HealthCheckRequest(), timeout=30)
                    elif op == "HasArtifact":
                        agent.HasArtifact(pb.HasArtifactRequest(sha256=self.model_sha),
                                          metadata=auth, timeout=30)
                    elif op == "PutArtifact":
                        blob = b"\x08" + rng.randbytes(16_000)
                        agent.PutArtifact(upload_chunks(blob, pb.ARTIFACT_KIND_ONNX),
                                          metadata=auth, timeout=30)
                    else:
                        agent.Measure(
                            serde.request_to_proto(REQUEST, model_sha256=self.model_sha),
                            metadata=auth, timeout=60)
                    code, details = "OK", ""
                except grpc.RpcError as error:
                    code, details = error.code().name, error.details() or ""
                elapsed_ms = (time.perf_counter() - start) * 1000.0
                with self.lock:
                    self.codes[op][code] += 1
                    if op == "GetInfo" and code == "OK":
                        self.info_ms.append(elapsed_ms)
                    if code != "OK" and (code not in CLEAR_REFUSALS or not details):
                        self.unclear.append(f"{op}: {code} {details}")

    def figures(self) -> dict:
        answered = sum(c["OK"] for c in self.codes.values())
        total = sum(sum(c.values()) for c in self.codes.values())
        times = np.array(self.info_ms) if self.info_ms else np.array([np.nan])
        rss = [r for _, r, _ in self.memory]
        pss = [p for _, _, p in self.memory]
        third = max(len(rss) // 3, 1)
        return {
            "clients": self.clients, "seconds": self.seconds, "calls": total,
            "answered": answered, "refused": total - answered - len(self.unclear),
            "unclear": len(self.unclear), "unclear_examples": self.unclear[:5],
            "by_call": {op: dict(c) for op, c in self.codes.items()},
            "getinfo_p50_ms": float(np.percentile(times, 50)),
            "getinfo_p99_ms": float(np.percentile(times, 99)),
            "peak_agent_rss_mb": max(rss) / 1024, "peak_tree_pss_mb": max(pss) / 1024,
            "agent_rss_first_third_mb": float(np.mean(rss[:third])) / 1024,
            "agent_rss_last_third_mb": float(np.mean(rss[-third:])) / 1024,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="linas-load-") as folder:
        proc, port = start_agent(Path(folder))
        try:
            figures = Load(port, args.clients, args.seconds, proc.pid).run()
            figures["agent_alive"] = proc.poll() is None
            log = (Path(folder) / "agent.log").read_text(errors="replace")
            figures["agent_errors_logged"] = log.count(" ERROR ")
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{figures['clients']} clients for {figures['seconds']:g} s against one agent")
    print(f"  calls {figures['calls']}: answered {figures['answered']}, refused "
          f"{figures['refused']}, neither {figures['unclear']}")
    for op, codes in figures["by_call"].items():
        print(f"    {op:<12} " + ", ".join(f"{k} {v}" for k, v in sorted(codes.items())))
    print(f"  GetInfo latency: p50 {figures['getinfo_p50_ms']:.1f} ms, "
          f"p99 {figures['getinfo_p99_ms']:.1f} ms")
    print(f"  peak RSS of the agent process {figures['peak_agent_rss_mb']:.0f} MB "
          f"(mean {figures['agent_rss_first_third_mb']:.0f} MB in the first third, "
          f"{figures['agent_rss_last_third_mb']:.0f} MB in the last); peak PSS with its worker "
          f"and model processes {figures['peak_tree_pss_mb']:.0f} MB")
    print(f"  agent alive after the run: {figures['agent_alive']}; errors it logged: "
          f"{figures['agent_errors_logged']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
