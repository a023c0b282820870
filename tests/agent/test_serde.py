"""The shared types and their wire conversions: round trips, and refusal of malformed data."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from linas_agent.jobs import Job

from linas_sdk import serde
from linas_sdk.errors import InvalidArgument
from linas_sdk.measurement import (
    DeviceInfo,
    Measurement,
    MeasureRequest,
    MeasureSettings,
    RuntimeInfo,
    SystemSnapshot,
    TensorSpec,
)
from linas_sdk.proto.agent.v1 import agent_pb2 as pb


def measurement(**changes) -> Measurement:
    values = dict(
        runtime="litert", runtime_version="2.3.0", provider="XNNPACK", threads=2,
        cpu_affinity=(0, 1), inputs=(TensorSpec("x", (1, 16), "float32"),),
        median_ms=1.5, mean_ms=1.6, std_ms=0.1, min_ms=1.4, max_ms=2.0, p90_ms=1.8,
        p99_ms=1.95, samples_ms=(1.4, 1.5, 2.0), samples=3, calls_per_sample=2, cv=0.06,
        stable=False, remeasures=1, warmup_runs=7, warmup_ms=12.5, load_ms=3.0,
        first_inference_ms=4.0,
        peak_memory_bytes=123456, accuracy=0.0, validation_samples=10,
        outputs={"y": np.arange(12, dtype=np.int64).reshape(3, 4)},
        before=SystemSnapshot({"cpu": 50.0}, (1500.0,), False),
        after=SystemSnapshot({"cpu": 55.5}, (1400.0,), True),
        wall_seconds=0.5, warnings=("unstable",),
    )  # fmt: skip
    values.update(changes)
    return Measurement(**values)


def test_measurement_round_trips_through_the_wire_and_json() -> None:
    m = measurement()
    wire = pb.MeasureResponse.FromString(serde.measurement_to_proto(m).SerializeToString())
    back = serde.measurement_from_proto(wire, device="pi", model_sha256="ab" * 32)
    assert back.device == "pi" and back.model_sha256 == "ab" * 32
    assert back.accuracy == 0.0  # a real zero, not "absent"
    again = Measurement.from_dict(json.loads(json.dumps(back.to_dict())))
    for one in (back, again):
        for name in ("median_ms", "samples_ms", "cpu_affinity", "inputs", "before", "after",
                     "warnings", "stable", "peak_memory_bytes", "warmup_runs",
                     "warmup_ms"):  # fmt: skip
            assert getattr(one, name) == getattr(m, name), name
        np.testing.assert_array_equal(one.outputs["y"], m.outputs["y"])
        assert one.outputs["y"].dtype == np.int64
    assert serde.measurement_from_proto(serde.measurement_to_proto(
        measurement(accuracy=None))).accuracy is None  # fmt: skip


def test_device_info_round_trips() -> None:
    litert = RuntimeInfo("litert", "2.3", ("XNNPACK", "CPU"), "m",
                         {"XNNPACK": (), "CPU": ("static", "dynamic")})  # fmt: skip
    info = DeviceInfo(name="pi", labels={"board": "pi5"}, cpu_count=4, memory_bytes=2**33,
                      runtimes=(litert,), thermal_zones={"cpu": 40.0}, throttled=True,
                      warnings=("hot",), cpu_int8_dot=("asimddp",))  # fmt: skip
    for dot in (("asimddp",), (), None):  # a CPU without any is not one not known
        info = dataclasses.replace(info, cpu_int8_dot=dot)
        wire = pb.DeviceInfo.FromString(serde.device_info_to_proto(info).SerializeToString())
        for back in (serde.device_info_from_proto(wire),
                     DeviceInfo.from_dict(json.loads(json.dumps(info.to_dict())))):  # fmt: skip
            assert back == info and back.cpu_int8_dot == dot
            assert list(back.runtimes[0].int8) == ["XNNPACK", "CPU"]  # the providers' order


def test_an_older_agents_manifest_reads_int8_as_not_known() -> None:
    """Without the int8 fields (an agent, or a journal, from before them): not known, not none."""
    old = pb.DeviceInfo(name="pi", runtimes=[pb.RuntimeInfo(name="litert", providers=["CPU"])])
    info = serde.device_info_from_proto(pb.DeviceInfo.FromString(old.SerializeToString()))
    assert info.cpu_int8_dot is None and info.runtimes[0].int8 == {}
    journal = {"name": "pi", "runtimes": [{"name": "litert", "version": "2.3"}]}
    info = DeviceInfo.from_dict(journal)
    assert info.cpu_int8_dot is None and info.runtimes[0].int8 == {}


def test_settings_only_send_what_is_given() -> None:
    message = serde.settings_to_proto({"min_runs": 5})
    assert message.HasField("min_runs") and not message.HasField("max_runs")
    assert serde.settings_from_proto(message) == MeasureSettings(min_runs=5)
    full = serde.settings_to_proto(MeasureSettings())
    assert full.HasField("return_samples") and serde.settings_from_proto(full) == MeasureSettings()
    with pytest.raises(InvalidArgument, match="unknown measurement settings"):
        serde.settings_to_proto({"min_run": 5})
    for bad in ({"min_runs": 50, "max_runs": 10}, {"min_seconds": -1.0},
                {"timeout_seconds": 0.0}, {"max_cv": float("nan")}, {"min_runs": 2.5},
                {"cooldown_seconds": 1e9}, {"timeout_seconds": 1e12}):
        with pytest.raises(InvalidArgument):
            serde.settings_to_proto(bad)


def test_tensors_round_trip_and_are_checked() -> None:
    for array in (np.arange(6, dtype=np.float16).reshape(2, 3), np.array([True, False]),
                  np.zeros((0, 3), np.uint8), np.array(3.5)):  # fmt: skip
        name, back = serde.tensor_from_proto(serde.tensor_to_proto("t", array))
        assert name == "t" and back.dtype == array.dtype
        np.testing.assert_array_equal(back, array)
    big_endian = np.arange(3, dtype=">i4")
    np.testing.assert_array_equal(
        serde.tensor_from_proto(serde.tensor_to_proto("b", big_endian))[1], [0, 1, 2])
    with pytest.raises(InvalidArgument, match="needs 24 bytes, got 8"):
        serde.tensor_from_proto(pb.Tensor(name="t", shape=[2, 3], dtype="float32", data=b"x" * 8))
    with pytest.raises(InvalidArgument, match="not supported"):
        serde.tensor_from_proto(pb.Tensor(name="t", shape=[1], dtype="object", data=b"x" * 8))
    with pytest.raises(InvalidArgument, match="negative"):
        serde.tensor_from_proto(pb.Tensor(name="t", shape=[-1], dtype="uint8"))


def test_artifact_kinds_and_chunks() -> None:
    from agent_helpers import MODELS

    from linas_sdk.artifacts import check_sha256, kind_of, sha256_hex, upload_chunks

    for name, kind in (("mlp.onnx", pb.ARTIFACT_KIND_ONNX), ("mlp.tflite", pb.ARTIFACT_KIND_TFLITE),
                       ("valid.npz", pb.ARTIFACT_KIND_NPZ)):  # fmt: skip
        data = (MODELS / name).read_bytes()
        assert kind_of(data) == kind == kind_of(b"", name)  # by header, and by suffix
    with pytest.raises(InvalidArgument, match="cannot tell"):
        kind_of(b"\x00garbage")
    with pytest.raises(InvalidArgument, match="64 lower-case hex"):
        check_sha256("ABC")
    data = bytes(range(256)) * 10
    chunks = list(upload_chunks(data, pb.ARTIFACT_KIND_NPZ, chunk_bytes=1000))
    assert [len(c.data) for c in chunks] == [1000, 1000, 560]
    assert chunks[0].sha256 == sha256_hex(data) and chunks[0].total_size == len(data)
    assert not any(c.sha256 or c.total_size for c in chunks[1:])
    assert b"".join(c.data for c in chunks) == data


def request(**changes) -> MeasureRequest:
    values = dict(
        runtime="litert", provider="CPU", threads=2, cpu_affinity=(1,),
        inputs=(TensorSpec("x", (4, 16), "float32"),), metric="outputs",
        settings=MeasureSettings(min_runs=3, max_cv=0.2),
    )  # fmt: skip
    return MeasureRequest(**{**values, **changes})


def test_a_request_round_trips_with_its_artifacts_beside_it() -> None:
    message = serde.request_to_proto(request(), model_sha256="ab" * 32, validation_sha256="cd" * 32)
    assert (message.model_sha256, message.validation_sha256) == ("ab" * 32, "cd" * 32)
    assert message.metric == pb.METRIC_OUTPUTS and message.settings.min_runs == 3
    assert serde.request_from_proto(message) == request()
    # choices left to the client travel empty and come back as None
    empty = serde.request_to_proto(MeasureRequest(), model_sha256="ab" * 32)
    assert (empty.runtime, empty.provider, empty.metric) == ("", "", pb.METRIC_UNSPECIFIED)
    assert serde.request_from_proto(empty) == MeasureRequest()
    assert MeasureRequest.from_dict(json.loads(json.dumps(request().to_dict()))) == request()
    with pytest.raises(InvalidArgument, match="unknown metric 7; expected 0, 1 or 2"):
        serde.request_from_proto(pb.MeasureRequest(runtime="litert", metric=7))


def test_a_request_is_checked_and_normalised_when_made() -> None:
    made = MeasureRequest(cpu_affinity=[0, 1], inputs=[TensorSpec("x", (1,), "int8")],
                          settings={"min_runs": 5})  # fmt: skip
    assert made.cpu_affinity == (0, 1) and isinstance(made.inputs, tuple)
    assert made.settings == MeasureSettings(min_runs=5)
    for changes, words in (
        ({"runtime": "tensorrt"}, "unknown runtime 'tensorrt'; expected one of"),
        ({"metric": "top5"}, "metric 'top5' is unknown; expected one of"),
        ({"threads": 1025}, "threads must be at most 1024, got 1025"),
        ({"threads": -1}, "threads must be an integer >= 0, got -1"),
        ({"threads": True}, "threads must be an integer >= 0, got True"),
        ({"cpu_affinity": (0, -2)}, r"cpu_affinity must be CPU ids \(integers >= 0\)"),
        ({"cpu_affinity": "01"}, "cpu_affinity must be a sequence, got '01'"),
        ({"inputs": [("x", (1,), "int8")]}, "inputs must be TensorSpec values"),
        ({"provider": 3}, "provider must be a string or None, got 3"),
        ({"settings": {"min_run": 5}}, "unknown measurement settings"),
        ({"settings": {"min_runs": 0}}, "min_runs and max_runs must be >= 1"),
        ({"settings": 5}, "must be MeasureSettings or a mapping, got 5"),
    ):
        with pytest.raises(InvalidArgument, match=words):
            request(**changes)


def test_a_job_crosses_the_worker_pipe_whole() -> None:
    """The agent sends its worker the request it validated plus the resolved files, as JSON."""
    job = Job(request=request(), model_path="/s/ab", validation_path="/s/cd", result_dir="/r",
              memory_limit_bytes=2**20, cpu_limit_seconds=7)  # fmt: skip
    assert Job.from_json(job.to_json()) == job
