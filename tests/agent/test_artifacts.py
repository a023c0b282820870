"""Uploads: content addressing, dedupe, verification, size caps, and eviction of the least
recently used artifact under a cache cap."""

from __future__ import annotations

import time

import grpc
import pytest
from agent_helpers import MODELS, Client, rpc_error

from linas_sdk.artifacts import sha256_hex, upload_chunks
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

pytestmark = pytest.mark.timeout(120)


def test_upload_then_has_then_dedupe(client) -> None:
    data = (MODELS / "mlp.onnx").read_bytes()
    digest = sha256_hex(data)
    first = client.put(data, pb.ARTIFACT_KIND_ONNX, chunk_bytes=1000)  # several chunks
    has = client.has(digest)
    assert has.present and has.size_bytes == len(data)
    assert first.sha256 == digest and first.size_bytes == len(data)
    second = client.put(data, pb.ARTIFACT_KIND_ONNX)
    assert second.already_present and second.size_bytes == len(data)
    stored = list((client.agent.cache_dir / "objects").iterdir())
    assert [p.name for p in stored if p.name == digest] == [digest]  # named by hash only


def test_unknown_hash_is_absent_then_not_found(client) -> None:
    missing = "ab" * 32
    assert not client.has(missing).present
    error = rpc_error(client.measure, missing)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert missing in error.details() and "PutArtifact" in error.details()


def test_malformed_hash_is_invalid(client) -> None:
    error = rpc_error(client.has, "../../etc/passwd")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sha256" in error.details()


def test_wrong_hash_is_data_loss_and_nothing_is_kept(client) -> None:
    data = (MODELS / "hang.onnx").read_bytes()
    wrong = sha256_hex(b"something else")
    error = rpc_error(client.put, data, pb.ARTIFACT_KIND_ONNX, sha256=wrong)
    assert error.code() == grpc.StatusCode.DATA_LOSS
    assert wrong in error.details() and sha256_hex(data) in error.details()
    assert not client.has(wrong).present
    assert not list((client.agent.cache_dir / "incoming").iterdir())


def test_upload_that_lies_about_its_size_is_refused(client) -> None:
    data = (MODELS / "mlp.onnx").read_bytes() + b"never held before"
    chunks = list(upload_chunks(data, pb.ARTIFACT_KIND_ONNX))
    chunks[0].total_size = len(data) + 10
    error = rpc_error(client.stub.PutArtifact, iter(chunks), metadata=client.metadata)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ended after" in error.details()


def test_bytes_of_the_wrong_kind_are_refused(client) -> None:
    data = (MODELS / "valid.npz").read_bytes()
    error = rpc_error(client.put, data, pb.ARTIFACT_KIND_TFLITE)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not look like a TFLite model" in error.details()


def test_oversized_upload_is_refused_before_it_is_sent(agent_process) -> None:
    agent = agent_process(args=["--max-artifact-bytes", "2000"])
    client = Client(agent)
    try:
        data = (MODELS / "mlp.onnx").read_bytes()  # 2903 bytes
        error = rpc_error(client.put, data, pb.ARTIFACT_KIND_ONNX)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "2903" in error.details() and "2000" in error.details()
        small = (MODELS / "hang.onnx").read_bytes()
        assert not client.put(small, pb.ARTIFACT_KIND_ONNX).already_present
    finally:
        client.close()


def test_least_recently_used_is_evicted_under_the_cache_cap(agent_process) -> None:
    agent = agent_process(args=["--cache-max-bytes", "20000"])
    client = Client(agent)
    try:
        # Three distinct ~6 kB artifacts; the cap holds three, a fourth evicts one.
        blobs = [_npz_bytes(seed) for seed in range(4)]
        sizes = [len(b) for b in blobs]
        assert 3 * max(sizes) <= 20000 < sum(sizes)
        digests = [sha256_hex(b) for b in blobs]
        for blob in blobs[:3]:
            client.put(blob, pb.ARTIFACT_KIND_NPZ)
        assert client.put(blobs[0], pb.ARTIFACT_KIND_NPZ).already_present  # 0 is now newest
        client.put(blobs[3], pb.ARTIFACT_KIND_NPZ)
        present = [client.has(d).present for d in digests]
        assert present == [True, False, True, True]  # 1 was least recently used
        held = sum(p.stat().st_size for p in (agent.cache_dir / "objects").iterdir())
        assert held <= 20000
    finally:
        client.close()


def _npz_bytes(seed: int) -> bytes:
    import io

    import numpy as np

    buffer = io.BytesIO()
    rng = np.random.default_rng(seed)
    np.savez(buffer, x=rng.standard_normal(400), y=np.zeros(300))
    return buffer.getvalue()


def test_stalled_upload_is_cancelled_and_frees_its_slot(agent_process) -> None:
    """The agent cancels the upload (CANCELLED), not the client's 20 s deadline (a hang guard,
    DEADLINE_EXCEEDED). How soon past the 1.5 s: benchmarks/agent_faults.py."""
    agent = agent_process(args=["--upload-timeout", "1.5"])
    client = Client(agent)
    try:
        data = (MODELS / "mlp.onnx").read_bytes()

        def stalling():
            yield next(upload_chunks(data, pb.ARTIFACT_KIND_ONNX, chunk_bytes=100))
            time.sleep(30)  # never sends the rest

        error = rpc_error(client.stub.PutArtifact, stalling(), metadata=client.metadata,
                          timeout=20)  # fmt: skip
        assert error.code() == grpc.StatusCode.CANCELLED
        assert not client.has(sha256_hex(data)).present
        assert not client.put(data, pb.ARTIFACT_KIND_ONNX).already_present
        assert "Traceback" not in agent.log()
    finally:
        client.close()
