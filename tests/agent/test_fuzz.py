"""Generated requests, malformed on purpose, against a live agent: each gets a well-formed
answer (a result or a status with a message, never an "unexpected" failure), and the agent
stays up. Measurement times are capped so the run stays short."""

from __future__ import annotations

import grpc
import pytest
from agent_helpers import MODELS
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linas_sdk.artifacts import sha256_hex
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

pytestmark = pytest.mark.timeout(240)

EXPECTED = {
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.FAILED_PRECONDITION,
}  # fmt: skip
MLP = sha256_hex((MODELS / "mlp.onnx").read_bytes())

hashes = st.one_of(st.just(MLP), st.text(max_size=70), st.text("0123456789abcdef", min_size=64,
                                                               max_size=64))  # fmt: skip
dims = st.lists(st.integers(-3, 64), max_size=4)
dtypes = st.sampled_from(["float32", "int64", "bool", "object", "", "float128", "U5"])
specs = st.builds(pb.TensorSpec, name=st.sampled_from(["x", "", "y", "é"]), shape=dims,
                  dtype=dtypes)  # fmt: skip
settings_messages = st.builds(
    pb.MeasureSettings,
    warmup_runs=st.integers(0, 3), warmup_seconds=st.floats(-1, 0.01),
    min_runs=st.integers(0, 5), min_seconds=st.one_of(st.floats(-1, 0.05), st.just(float("nan"))),
    max_runs=st.integers(0, 50), max_seconds=st.floats(0, 0.1),
    min_sample_ms=st.one_of(st.floats(0, 2), st.just(float("inf"))), max_cv=st.floats(-1, 1),
    max_remeasures=st.integers(0, 2), timeout_seconds=st.floats(-1, 3),
)  # fmt: skip
requests = st.builds(
    pb.MeasureRequest, model_sha256=hashes,
    runtime=st.sampled_from(["onnxruntime", "litert", "", "ONNXRUNTIME", "tvm"]),
    provider=st.sampled_from(["", "CPUExecutionProvider", "XNNPACK", "CUDAExecutionProvider"]),
    inputs=st.lists(specs, max_size=2), threads=st.integers(0, 2000),
    cpu_affinity=st.lists(st.integers(0, 5000), max_size=3), settings=settings_messages,
    validation_sha256=st.one_of(st.just(""), hashes),
    metric=st.sampled_from([0, 1, 2, 7]),
)  # fmt: skip
chunks = st.lists(
    st.builds(pb.ArtifactChunk, sha256=hashes, kind=st.sampled_from([0, 1, 2, 3, 9]),
              total_size=st.integers(0, 10**12), data=st.binary(max_size=64)),
    max_size=4,
)  # fmt: skip


def answered(call) -> None:
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() in EXPECTED, (error.code(), error.details())
        assert error.details() and "unexpectedly" not in error.details()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests)
def test_malformed_measure_requests(client, request) -> None:
    if request.model_sha256 == MLP:
        client.upload(MODELS / "mlp.onnx")
    answered(lambda: client.stub.Measure(request, metadata=client.metadata, timeout=20))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(stream=chunks, sha=hashes)
def test_malformed_uploads_and_queries(client, stream, sha) -> None:
    answered(lambda: client.stub.PutArtifact(iter(stream), metadata=client.metadata, timeout=20))
    answered(lambda: client.stub.HasArtifact(pb.HasArtifactRequest(sha256=sha),
                                             metadata=client.metadata, timeout=20))  # fmt: skip


def test_agent_is_still_up_after_the_fuzzing(agent) -> None:
    with grpc.insecure_channel(agent.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert agent.alive() and "Traceback" not in agent.log()
