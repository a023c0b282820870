"""A thin client over the agent's generated stubs, the agent's token on every call: what a host
does, spelt out at the wire level, for the tests that speak to an agent directly (tests/agent,
tests/security). Replies are the raw protobuf messages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import grpc
import pytest

from linas_sdk import serde
from linas_sdk.artifacts import kind_of, sha256_hex, upload_chunks
from linas_sdk.grpc_settings import channel_options
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc


class WireClient:
    """The generated stub (`stub`) of one agent, with the calls a host makes."""

    settings: ClassVar[Mapping[str, Any]] = {}
    """Timing settings every Measure sends; a call's own `settings` go on top."""

    def __init__(self, agent, channel: grpc.Channel | None = None) -> None:
        self.agent = agent
        self.channel = channel or grpc.insecure_channel(agent.address, options=channel_options())
        self.stub = agent_pb2_grpc.AgentStub(self.channel)
        self.metadata = agent.metadata

    def close(self) -> None:
        self.channel.close()

    def has(self, sha256: str) -> pb.HasArtifactResponse:
        return self.stub.HasArtifact(
            pb.HasArtifactRequest(sha256=sha256), metadata=self.metadata, timeout=10
        )

    def put(self, data: bytes, kind: int | None = None, **kwargs: Any) -> pb.PutArtifactResponse:
        """Upload `data` (`kwargs` go to `upload_chunks`: a claimed sha256, the chunk size)."""
        kind = kind_of(data) if kind is None else kind
        return self.stub.PutArtifact(
            upload_chunks(data, kind, **kwargs), metadata=self.metadata, timeout=30
        )

    def upload(self, path: Path) -> str:
        """Upload a file (unless held already); returns its hash."""
        data = path.read_bytes()
        self.put(data, kind_of(data, path))
        return sha256_hex(data)

    def measure(
        self,
        model_sha256: str,
        *,
        runtime: str = "onnxruntime",
        settings: Mapping[str, Any] | None = None,
        timeout: float = 60,
        **fields: Any,
    ) -> Any:
        request = pb.MeasureRequest(
            model_sha256=model_sha256,
            runtime=runtime,
            settings=serde.settings_to_proto({**self.settings, **(settings or {})}),
            **fields,
        )
        return self.stub.Measure(request, metadata=self.metadata, timeout=timeout)


def rpc_error(call, *args, **kwargs) -> grpc.RpcError:
    """The RpcError a call raises (fails the test if it succeeds)."""
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value
