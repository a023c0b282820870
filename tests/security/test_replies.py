"""The host does not trust the wire either: whatever a broken or hostile agent sends back,
turning it into a Measurement or a DeviceInfo gives a value or a linas error (InvalidArgument),
never a stray exception, a huge allocation or an object unpickled. In process, no network."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linas_sdk import serde
from linas_sdk.errors import LinasError
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

FUZZ = settings(max_examples=400, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
int64 = st.integers(-(2**63), 2**63 - 1)
floats = st.floats(allow_nan=True, allow_infinity=True)
dtypes = st.one_of(st.sampled_from(["float32", "float64", "int64", "uint8", "bool", "object",
                                    "O", "V8", "S4", "U4", "complex64", "<f4", ">f8", ""]),
                   st.text(max_size=10))

tensors = st.builds(
    pb.Tensor, name=st.text(max_size=10), dtype=dtypes,
    shape=st.one_of(st.lists(st.integers(0, 6), max_size=3), st.lists(int64, max_size=4),
                    st.just([2**62, 4]), st.just([2**31, 2**31, 4]), st.just([-1, 4])),
    data=st.one_of(st.binary(max_size=64), st.just(b"")),
)
replies = st.builds(
    pb.MeasureResponse,
    latency=st.builds(pb.LatencyStats, median_ms=floats, mean_ms=floats, std_ms=floats,
                      samples_ms=st.lists(floats, max_size=20), cv=floats,
                      samples=st.integers(0, 2**32 - 1)),
    load_ms=floats, peak_memory_bytes=st.integers(0, 2**64 - 1),
    inputs=st.lists(st.builds(pb.TensorSpec, name=st.text(max_size=8),
                              shape=st.lists(int64, max_size=4), dtype=dtypes), max_size=2),
    outputs=st.lists(tensors, max_size=3),
    runtime=st.text(max_size=20), warnings=st.lists(st.text(max_size=30), max_size=3),
    cpu_affinity=st.lists(st.integers(0, 2**32 - 1), max_size=4),
)


@FUZZ
@given(reply=replies)
def test_any_measure_reply_becomes_a_measurement_or_a_linas_error(reply) -> None:
    try:
        measurement = serde.measurement_from_proto(reply, device="d", model_sha256="0" * 64)
    except LinasError:
        return
    for array in measurement.outputs.values():
        assert array.dtype != object and array.nbytes <= 64
    saved = measurement.to_dict()
    json.dumps(saved)  # what the journal and the cache store


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_parse_to_a_device_info_or_fail_in_protobuf(raw) -> None:
    try:
        message = pb.DeviceInfo.FromString(raw)
    except Exception as error:  # protobuf's DecodeError: gRPC turns it into a failed call
        assert type(error).__name__ == "DecodeError"
        return
    info = serde.device_info_from_proto(message)
    json.dumps(info.to_dict())


def test_a_shape_whose_size_overflows_is_refused_not_wrapped() -> None:
    for shape in ([2**62, 4], [2**31, 2**31, 4], [2**63 - 1, 2]):
        message = pb.Tensor(name="y", shape=shape, dtype="float32", data=b"")
        try:
            serde.tensor_from_proto(message)
        except LinasError as error:
            assert "bytes" in str(error)
        else:
            raise AssertionError(f"shape {shape} with no data was accepted")
    np.testing.assert_array_equal(
        serde.tensor_from_proto(serde.tensor_to_proto("y", np.arange(3.0)))[1], np.arange(3.0))
