"""Helpers of the security tests: the committed test models, a raw wire client, bad hashes."""

from __future__ import annotations

from pathlib import Path

from wire_client import WireClient, rpc_error

__all__ = ["MODELS", "PATH_LIKE", "QUICK", "ROOT", "Stub", "rpc_error"]

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


class Stub(WireClient):
    """A wire client with quick timing; replies stay raw protobuf messages."""

    settings = QUICK
