"""A real gRPC server on loopback that implements the generated Agent servicer with scripted
behaviour, for the three things a real agent cannot be made to do: speak another protocol
version, count the Measure calls that reach it at once, and end every Measure with one fixed
status (while it answers GetInfo). Everything else (routing, timeouts, close, health, TLS) is
tested against real agents. It is not a mock of gRPC: the client under test talks to it over a
real channel, through the real stubs.
"""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent import futures

import grpc

from linas_sdk.grpc_settings import PROTOCOL_VERSION, server_options
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

MEASURE_SECONDS = 0.05
"""How long a Measure call lasts: long enough for concurrent calls to overlap."""


class ScriptedAgent(agent_pb2_grpc.AgentServicer):
    """Reports `protocol_version`; holds artifacts in memory; counts Measure calls (`measured`,
    `max_in_flight`), each of which returns fixed figures or ends with the status `fail_with`."""

    def __init__(
        self, *, protocol_version: int = PROTOCOL_VERSION, fail_with: grpc.StatusCode | None = None
    ):
        self.protocol_version = protocol_version
        self.fail_with = fail_with
        self.artifacts: dict[str, bytes] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.measured = 0
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self.port = 0

    def start(self) -> ScriptedAgent:
        """Serve on a free loopback port."""
        self._server = grpc.server(futures.ThreadPoolExecutor(8), options=server_options())
        agent_pb2_grpc.add_AgentServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def GetInfo(self, request, context):
        return pb.DeviceInfo(name="scripted", protocol_version=self.protocol_version)

    def HasArtifact(self, request, context):
        data = self.artifacts.get(request.sha256)
        return pb.HasArtifactResponse(present=data is not None, size_bytes=len(data or b""))

    def PutArtifact(self, request_iterator, context):
        chunks = list(request_iterator)
        data = b"".join(chunk.data for chunk in chunks)
        digest = hashlib.sha256(data).hexdigest()
        if digest != chunks[0].sha256:
            context.abort(grpc.StatusCode.DATA_LOSS, "hash mismatch")
        self.artifacts[digest] = data
        return pb.PutArtifactResponse(sha256=digest, size_bytes=len(data))

    def Measure(self, request, context):
        if request.model_sha256 not in self.artifacts:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such artifact")
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(MEASURE_SECONDS)
        finally:
            with self._lock:
                self.in_flight -= 1
                self.measured += 1
        if self.fail_with is not None:
            context.abort(self.fail_with, f"scripted {self.fail_with.name}")
        latency = pb.LatencyStats(median_ms=1.0, mean_ms=1.0, min_ms=1.0, max_ms=1.0, p90_ms=1.0,
                                  p99_ms=1.0, samples=1, calls_per_sample=1, stable=True)
        return pb.MeasureResponse(latency=latency, runtime=request.runtime)
