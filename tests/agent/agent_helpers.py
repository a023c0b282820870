"""The agent tests' helpers: the committed models and a wire client that reads replies."""

from __future__ import annotations

from pathlib import Path

from wire_client import WireClient, rpc_error

from linas_sdk import serde
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

__all__ = ["FAST", "MODELS", "Client", "rpc_error"]

MODELS = Path(__file__).resolve().parent / "models"

FAST = {"warmup_runs": 3, "warmup_seconds": 0.02, "min_runs": 10, "min_seconds": 0.1,
        "max_seconds": 1.0, "timeout_seconds": 30.0}  # fmt: skip
"""Short timing settings, so the suite stays quick."""


class Client(WireClient):
    """A wire client whose `measure` reads the reply into a `Measurement`, with short timing."""

    settings = FAST

    def info(self):
        return serde.device_info_from_proto(
            self.stub.GetInfo(pb.GetInfoRequest(), metadata=self.metadata, timeout=10)
        )

    def measure(self, model_sha256: str, **kwargs):
        reply = super().measure(model_sha256, **kwargs)
        return serde.measurement_from_proto(reply, model_sha256=model_sha256)
