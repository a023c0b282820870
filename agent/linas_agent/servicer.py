"""The gRPC servicer: converts wire messages, delegates to `linas_agent.agent.Agent`, converts
the result back. No logic and no error handling here (see interceptors.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from linas_agent.agent import Agent
from linas_sdk import serde
from linas_sdk.errors import InvalidArgument
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc


def _chunk_data(first: pb.ArtifactChunk, rest: Iterator[pb.ArtifactChunk]) -> Iterator[bytes]:
    yield first.data
    for chunk in rest:
        if chunk.sha256 or chunk.kind or chunk.total_size:
            raise InvalidArgument("only the first chunk of an upload may carry the header")
        yield chunk.data


class AgentServicer(agent_pb2_grpc.AgentServicer):
    """`upload_timeout` bounds one PutArtifact, so a client that stalls mid-upload cannot hold
    an upload slot (and a thread) for ever: the call is cancelled when it runs out."""

    def __init__(self, agent: Agent, upload_timeout: float = 600.0) -> None:
        self.agent = agent
        self.upload_timeout = upload_timeout

    def GetInfo(self, request, context):
        return serde.device_info_to_proto(self.agent.info())

    def HasArtifact(self, request, context):
        size = self.agent.has(request.sha256)
        return pb.HasArtifactResponse(present=size is not None, size_bytes=size or 0)

    def PutArtifact(self, request_iterator, context):
        first = next(request_iterator, None)
        if first is None:
            raise InvalidArgument(
                "PutArtifact received no chunks; the first must carry sha256, kind, total_size"
            )
        timer = threading.Timer(self.upload_timeout, context.cancel)
        timer.daemon = True
        timer.start()
        try:
            result = self.agent.put(
                first.sha256, first.kind, first.total_size, _chunk_data(first, request_iterator)
            )
        finally:
            timer.cancel()
        return pb.PutArtifactResponse(
            sha256=result.sha256,
            size_bytes=result.size_bytes,
            already_present=result.already_present,
        )

    def Measure(self, request, context):
        cancelled = threading.Event()
        context.add_callback(cancelled.set)
        measurement = self.agent.measure(
            serde.request_from_proto(request), model_sha256=request.model_sha256,
            validation_sha256=request.validation_sha256, cancelled=cancelled,
        )
        return serde.measurement_to_proto(measurement)


