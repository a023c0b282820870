"""The committed stubs are exactly what the pinned grpcio-tools generates from the .proto."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ("agent_pb2.py", "agent_pb2.pyi", "agent_pb2_grpc.py")


def test_stubs_match_proto(tmp_path: Path) -> None:
    protoc = pytest.importorskip("grpc_tools.protoc", reason="grpcio-tools comes with .[dev]")
    # The same command as `make protos`, into a scratch folder.
    args = [
        "protoc",
        f"-Ilinas_sdk/proto={ROOT / 'protos' / 'linas'}",
        f"--python_out={tmp_path}",
        f"--pyi_out={tmp_path}",
        f"--grpc_python_out={tmp_path}",
        "linas_sdk/proto/agent/v1/agent.proto",
    ]
    assert protoc.main(args) == 0
    stale = [
        name
        for name in GENERATED
        if (tmp_path / "linas_sdk/proto/agent/v1" / name).read_bytes()
        != (ROOT / "linas_sdk/proto/agent/v1" / name).read_bytes()
    ]
    assert not stale, f"stubs out of date with agent.proto, run `make protos`: {stale}"
