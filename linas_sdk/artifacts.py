"""Artifacts on the wire: models and validation sets, addressed by their sha256.

Shared by both ends: the host hashes and chunks what it uploads, the agent checks that the
bytes it received look like the kind they were announced as before any runtime reads them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from linas_sdk.errors import InvalidArgument
from linas_sdk.formats import FORMATS
from linas_sdk.grpc_settings import CHUNK_BYTES
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

KIND_BY_SUFFIX = {**{f.suffix: f.kind for f in FORMATS}, ".npz": pb.ARTIFACT_KIND_NPZ}

HEADER_BYTES = 8
"""How many leading bytes `looks_like` needs."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_sha256(digest: str) -> str:
    """The digest, if it is 64 lower-case hex characters; InvalidArgument otherwise."""
    if not SHA256_RE.match(digest or ""):
        raise InvalidArgument(
            f"artifact hash {digest!r} is not a sha256 digest (64 lower-case hex characters)"
        )
    return digest


def kind_of(data: bytes, name: str | Path | None = None) -> int:
    """The ArtifactKind of some bytes, by their file suffix when given, else by their header."""
    if name is not None:
        suffix = Path(name).suffix.lower()
        if suffix in KIND_BY_SUFFIX:
            return KIND_BY_SUFFIX[suffix]
    for kind in (pb.ARTIFACT_KIND_TFLITE, pb.ARTIFACT_KIND_NPZ, pb.ARTIFACT_KIND_ONNX):
        if looks_like(kind, data[:HEADER_BYTES]):
            return kind
    raise InvalidArgument(
        "cannot tell what kind of artifact this is; expected an ONNX model, a TFLite model "
        "or an .npz validation set"
    )


def looks_like(kind: int, header: bytes) -> bool:
    """Whether the first bytes of an artifact fit its kind: a TFLite flatbuffer carries
    "TFL3" at offset 4, an .npz is a zip archive, an ONNX ModelProto opens with its
    ir_version field (protobuf tag 0x08)."""
    if kind == pb.ARTIFACT_KIND_TFLITE:
        return header[4:8] == b"TFL3"
    if kind == pb.ARTIFACT_KIND_NPZ:
        return header[:4] in (b"PK\x03\x04", b"PK\x05\x06")
    if kind == pb.ARTIFACT_KIND_ONNX:
        return header[:1] == b"\x08"
    return False


def upload_chunks(
    data: bytes, kind: int, sha256: str | None = None, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[pb.ArtifactChunk]:
    """The PutArtifact request stream for `data`: a header on the first chunk, then data."""
    digest = sha256 or sha256_hex(data)
    view = memoryview(data)
    yield pb.ArtifactChunk(
        sha256=digest, kind=kind, total_size=len(data), data=bytes(view[:chunk_bytes])
    )
    for start in range(chunk_bytes, len(data), chunk_bytes):
        yield pb.ArtifactChunk(data=bytes(view[start : start + chunk_bytes]))
