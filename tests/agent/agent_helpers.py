"""The agent tests' helpers: the committed models and a thin client over the real stubs."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from linas_sdk import serde
from linas_sdk.artifacts import kind_of, sha256_hex, upload_chunks
from linas_sdk.grpc_settings import channel_options
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

MODELS = Path(__file__).resolve().parent / "models"

FAST = {"warmup_runs": 3, "warmup_seconds": 0.02, "min_runs": 10, "min_seconds": 0.1,
        "max_seconds": 1.0, "timeout_seconds": 30.0}  # fmt: skip
"""Short timing settings, so the suite stays quick."""


class Client:
    """What a host does, spelled out over the generated stubs."""

    def __init__(self, agent) -> None:
        self.agent = agent
        self.channel = grpc.insecure_channel(agent.address, options=channel_options())
        self.stub = agent_pb2_grpc.AgentStub(self.channel)
        self.metadata = agent.metadata

    def close(self) -> None:
        self.channel.close()

    def info(self):
        return serde.device_info_from_proto(
            self.stub.GetInfo(pb.GetInfoRequest(), metadata=self.metadata, timeout=10)
        )

    def has(self, sha256: str) -> pb.HasArtifactResponse:
        return self.stub.HasArtifact(
            pb.HasArtifactRequest(sha256=sha256), metadata=self.metadata, timeout=10
        )

    def put(self, data: bytes, kind: int | None = None, **kwargs) -> pb.PutArtifactResponse:
        kind = kind_of(data) if kind is None else kind
        return self.stub.PutArtifact(
            upload_chunks(data, kind, **kwargs), metadata=self.metadata, timeout=30
        )

    def upload(self, path: Path) -> str:
        """Upload a file (unless held already); returns its hash."""
        data = path.read_bytes()
        self.put(data, kind_of(data, path))
        return sha256_hex(data)

    def measure(self, model_sha256: str, *, settings=None, timeout: float = 60, **fields):
        request = pb.MeasureRequest(
            model_sha256=model_sha256,
            runtime=fields.pop("runtime", "onnxruntime"),
            settings=serde.settings_to_proto({**FAST, **(settings or {})}),
            **fields,
        )
        reply = self.stub.Measure(request, metadata=self.metadata, timeout=timeout)
        return serde.measurement_from_proto(reply, model_sha256=model_sha256)


def rpc_error(call, *args, **kwargs) -> grpc.RpcError:
    """The RpcError a call raises (fails the test if it succeeds)."""
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value
