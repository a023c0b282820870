"""The agent's limits that the agent tests do not already cover: concurrent uploads and the
largest message. (Artifact and cache caps, the bounded measurement queue, the upload timeout,
model memory and CPU limits: tests/agent/test_artifacts.py and test_faults.py.)"""

from __future__ import annotations

import os
import threading

import grpc
import pytest
from polling import wait_for
from security_helpers import MODELS, Stub, rpc_error

from linas_sdk.artifacts import sha256_hex, upload_chunks
from linas_sdk.grpc_settings import MAX_MESSAGE_BYTES
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

pytestmark = pytest.mark.timeout(60)


def test_uploads_beyond_the_concurrent_limit_are_refused_until_one_ends(agent_process) -> None:
    agent = agent_process(args=["--max-concurrent-uploads", "1"])
    stub = Stub(agent)
    data = (MODELS / "mlp.onnx").read_bytes()
    others = iter(lambda: b"\x08" + os.urandom(64), None)  # new bytes each time
    release = threading.Event()

    def held_open():
        chunks = upload_chunks(data, pb.ARTIFACT_KIND_ONNX, chunk_bytes=1000)
        yield next(chunks)
        release.wait(30)
        yield from chunks

    def hold_the_slot():
        return stub.stub.PutArtifact.future(held_open(), metadata=stub.metadata, timeout=30)

    first = hold_the_slot()
    refused: list[grpc.RpcError] = []

    def another_upload_refused() -> bool:
        nonlocal first
        if first.done():  # it arrived while one of `others` held the slot, and was refused
            first = hold_the_slot()
        try:
            stub.put(next(others), pb.ARTIFACT_KIND_ONNX)
        except grpc.RpcError as error:
            refused.append(error)
        return bool(refused)

    try:  # until the first upload holds the slot; 20 s is a hang guard
        wait_for(another_upload_refused, 20, "a second upload refused")
        assert refused[0].code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "already receiving 1 uploads; retry later" in refused[0].details()
        assert stub.has(sha256_hex(data)).present is False
    finally:
        release.set()
    assert first.result().size_bytes == len(data)
    assert not stub.put(next(others), pb.ARTIFACT_KIND_ONNX).already_present  # free again
    stub.close()


def test_a_message_beyond_the_size_limit_is_refused_and_the_agent_serves_on(agent_process) -> None:
    agent = agent_process()
    channel = grpc.insecure_channel(agent.address)  # no client-side cap: the agent's applies
    stub = Stub(agent, channel)
    huge = b"\x08" + b"\x00" * MAX_MESSAGE_BYTES
    chunk = pb.ArtifactChunk(
        sha256=sha256_hex(huge), kind=pb.ARTIFACT_KIND_ONNX, total_size=len(huge), data=huge
    )
    error = rpc_error(stub.stub.PutArtifact, iter([chunk]), metadata=stub.metadata, timeout=60)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in error.details()
    del huge, chunk
    assert stub.measure(stub.upload(MODELS / "mlp.onnx")).latency.median_ms > 0
    stub.close()
