"""Helpers of the security tests: the committed test models, a raw stub client, certificates."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from linas_sdk import serde
from linas_sdk.artifacts import kind_of, sha256_hex, upload_chunks
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "agent" / "models"
"""mlp.onnx, mlp.tflite, valid.npz, hang.onnx, bloat.onnx (made by make_models.py there)."""

QUICK = {
    "warmup_runs": 1,
    "warmup_seconds": 0.0,
    "min_runs": 3,
    "min_seconds": 0.0,
    "max_seconds": 0.2,
    "max_remeasures": 0,
    "timeout_seconds": 20.0,
}
"""A measurement of a tiny model in a fraction of a second."""

PATH_LIKE = [  # artifact hashes a client might send to reach a path
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "",
    "objects/../x",
    "../" + "0" * 61,
    "0" * 63 + "/",
    "%2e%2e%2f" * 7 + "0",
    "0" * 64 + "\x00",
    "0" * 64 + "/../../x",
    "A" * 64,
    "g" * 64,
    "0" * 65,
    "~root",
]


class Stub:
    """The agent's generated stub with the agent's token attached to every call."""

    def __init__(self, agent, channel: grpc.Channel | None = None) -> None:
        self.channel = channel or grpc.insecure_channel(agent.address)
        self.agent = agent_pb2_grpc.AgentStub(self.channel)
        self.metadata = agent.metadata

    def close(self) -> None:
        self.channel.close()

    def has(self, sha256: str) -> pb.HasArtifactResponse:
        return self.agent.HasArtifact(
            pb.HasArtifactRequest(sha256=sha256), metadata=self.metadata, timeout=10
        )

    def put(self, data: bytes, kind: int | None = None, sha256: str | None = None):
        kind = kind_of(data) if kind is None else kind
        return self.agent.PutArtifact(
            upload_chunks(data, kind, sha256), metadata=self.metadata, timeout=30
        )

    def upload(self, path: Path) -> str:
        data = path.read_bytes()
        self.put(data, kind_of(data, path))
        return sha256_hex(data)

    def measure(self, sha256: str, runtime: str = "onnxruntime", **fields):
        request = pb.MeasureRequest(
            model_sha256=sha256, runtime=runtime, settings=serde.settings_to_proto(QUICK), **fields
        )
        return self.agent.Measure(request, metadata=self.metadata, timeout=60)


def rpc_error(call, *args, **kwargs) -> grpc.RpcError:
    """The RpcError a call raises (fails the test if it succeeds)."""
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value
