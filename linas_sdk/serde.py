"""Conversions between the wire messages and linas's own types, as paired x_to_proto /
x_from_proto functions, so neither the agent's logic nor the host's touches protobuf directly.

Everything read from the wire is checked here: tensors must have a plain numeric dtype and
exactly the bytes their shape calls for, settings must be in range, and a request's fields
are checked as every MeasureRequest's are.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

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

TENSOR_DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64"}
)
"""Element types a tensor may have on the wire (never object or string arrays)."""


# -- settings ---------------------------------------------------------------------------------


def settings_to_proto(settings: MeasureSettings | Mapping[str, Any] | None) -> pb.MeasureSettings:
    """A MeasureSettings message. A mapping sets only the fields it names (the agent fills
    the rest with its defaults); a MeasureSettings object sets every field."""
    if settings is None:
        return pb.MeasureSettings()
    if isinstance(settings, MeasureSettings):
        return pb.MeasureSettings(**settings.to_dict())
    MeasureSettings.of(settings)  # validates the names and values before they travel
    return pb.MeasureSettings(**settings)


def settings_from_proto(
    message: pb.MeasureSettings, defaults: MeasureSettings | None = None
) -> MeasureSettings:
    """The settings a message asks for, unset fields taken from `defaults` (validated)."""
    base = defaults or MeasureSettings()
    given = {f.name: getattr(message, f.name) for f in dataclasses.fields(MeasureSettings)
             if message.HasField(f.name)}
    return base.replace(**given)


# -- tensors ----------------------------------------------------------------------------------


def _checked_dtype(dtype: str) -> np.dtype:
    if dtype not in TENSOR_DTYPES:
        raise InvalidArgument(f"tensor dtype {dtype!r} is not supported; expected one of "
                              f"{sorted(TENSOR_DTYPES)}")
    return np.dtype(dtype).newbyteorder("<")


def tensor_spec_to_proto(spec: TensorSpec) -> pb.TensorSpec:
    return pb.TensorSpec(name=spec.name, shape=list(spec.shape), dtype=spec.dtype)


def tensor_spec_from_proto(message: pb.TensorSpec) -> TensorSpec:
    """A tensor spec; the dtype must be one of TENSOR_DTYPES. Negative dims stay as given
    (-1 marks a dimension the model leaves dynamic)."""
    _checked_dtype(message.dtype)
    return TensorSpec(message.name, tuple(int(d) for d in message.shape), message.dtype)


def tensor_to_proto(name: str, array: np.ndarray) -> pb.Tensor:
    """A dense little-endian C-order tensor."""
    array = np.asarray(array)
    dtype = _checked_dtype(array.dtype.name)
    data = np.ascontiguousarray(array, dtype=dtype).tobytes()
    return pb.Tensor(name=name, shape=list(array.shape), dtype=array.dtype.name, data=data)


def tensor_from_proto(message: pb.Tensor) -> tuple[str, np.ndarray]:
    """The tensor's name and array; its bytes must match its shape and dtype exactly."""
    dtype = _checked_dtype(message.dtype)
    shape = tuple(int(d) for d in message.shape)
    if any(d < 0 for d in shape):
        raise InvalidArgument(f"tensor {message.name!r} has a negative dimension: {shape}")
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a huge shape cannot wrap
    if len(message.data) != expected:
        raise InvalidArgument(
            f"tensor {message.name!r} of shape {shape} and dtype {message.dtype} needs "
            f"{expected} bytes, got {len(message.data)}"
        )
    array = np.frombuffer(message.data, dtype=dtype).reshape(shape)
    return message.name, array.astype(dtype.newbyteorder("="), copy=False)


# -- the measurement request ------------------------------------------------------------------

_METRIC_CODES = {None: pb.METRIC_UNSPECIFIED, "top1": pb.METRIC_TOP1, "outputs": pb.METRIC_OUTPUTS}
_METRIC_NAMES = {code: name for name, code in _METRIC_CODES.items()}


def request_to_proto(
    request: MeasureRequest, *, model_sha256: str, validation_sha256: str = ""
) -> pb.MeasureRequest:
    """The Measure call's message: the request, and the artifacts it applies to by hash (they
    travel beside it; see MeasureRequest). A choice left as None travels empty."""
    return pb.MeasureRequest(
        model_sha256=model_sha256,
        runtime=request.runtime or "",
        provider=request.provider or "",
        inputs=[tensor_spec_to_proto(spec) for spec in request.inputs],
        threads=request.threads,
        cpu_affinity=list(request.cpu_affinity),
        settings=settings_to_proto(request.settings),
        validation_sha256=validation_sha256,
        metric=_METRIC_CODES[request.metric],
        provider_options=request.provider_options,
    )


def request_from_proto(message: pb.MeasureRequest) -> MeasureRequest:
    """The request a Measure message makes (checked, as every MeasureRequest is); its artifact
    hashes are the message's `model_sha256` and `validation_sha256`."""
    if message.metric not in _METRIC_NAMES:
        raise InvalidArgument(f"unknown metric {message.metric}; expected 0, 1 or 2")
    return MeasureRequest(
        runtime=message.runtime or None,
        provider=message.provider or None,
        inputs=tuple(tensor_spec_from_proto(spec) for spec in message.inputs),
        threads=message.threads,
        cpu_affinity=tuple(message.cpu_affinity),
        settings=settings_from_proto(message.settings),
        metric=_METRIC_NAMES[message.metric],
        provider_options=dict(message.provider_options),
    )


# -- board state ------------------------------------------------------------------------------


def _zones_to_proto(zones: Mapping[str, float]) -> list[pb.ThermalZone]:
    return [pb.ThermalZone(name=name, celsius=float(c)) for name, c in zones.items()]


def _zones_from_proto(zones: Iterable[pb.ThermalZone]) -> dict[str, float]:
    return {z.name: z.celsius for z in zones}


def snapshot_to_proto(snapshot: SystemSnapshot) -> pb.SystemSnapshot:
    return pb.SystemSnapshot(
        thermal_zones=_zones_to_proto(snapshot.thermal_zones),
        cpu_freq_mhz=list(snapshot.cpu_freq_mhz),
        throttled=snapshot.throttled,
    )


def snapshot_from_proto(message: pb.SystemSnapshot) -> SystemSnapshot:
    return SystemSnapshot(
        thermal_zones=_zones_from_proto(message.thermal_zones),
        cpu_freq_mhz=tuple(message.cpu_freq_mhz),
        throttled=message.throttled,
    )


# -- measurement ------------------------------------------------------------------------------

_LATENCY_FIELDS = (
    "median_ms", "mean_ms", "std_ms", "min_ms", "max_ms", "p90_ms", "p99_ms",
    "samples", "calls_per_sample", "cv", "stable", "remeasures", "warmup_runs", "warmup_ms",
)


def measurement_to_proto(measurement: Measurement) -> pb.MeasureResponse:
    """The Measure reply for a measurement (its `device` and `model_sha256` do not travel:
    the host knows them)."""
    m = measurement
    latency = pb.LatencyStats(
        samples_ms=list(m.samples_ms), **{k: getattr(m, k) for k in _LATENCY_FIELDS}
    )
    return pb.MeasureResponse(
        latency=latency,
        load_ms=m.load_ms,
        first_inference_ms=m.first_inference_ms,
        peak_memory_bytes=m.peak_memory_bytes,
        before=snapshot_to_proto(m.before),
        after=snapshot_to_proto(m.after),
        runtime=m.runtime,
        runtime_version=m.runtime_version,
        provider=m.provider,
        threads=m.threads,
        cpu_affinity=list(m.cpu_affinity),
        inputs=[tensor_spec_to_proto(s) for s in m.inputs],
        accuracy=m.accuracy,
        validation_samples=m.validation_samples,
        outputs=[tensor_to_proto(name, a) for name, a in m.outputs.items()],
        wall_seconds=m.wall_seconds,
        warnings=list(m.warnings),
    )


def measurement_from_proto(
    message: pb.MeasureResponse, *, device: str = "", model_sha256: str = ""
) -> Measurement:
    """A Measurement from a Measure reply, tagged with the device and model it belongs to."""
    lat = message.latency
    return Measurement(
        device=device,
        model_sha256=model_sha256,
        runtime=message.runtime,
        runtime_version=message.runtime_version,
        provider=message.provider,
        threads=message.threads,
        cpu_affinity=tuple(message.cpu_affinity),
        inputs=tuple(tensor_spec_from_proto(s) for s in message.inputs),
        samples_ms=tuple(lat.samples_ms),
        **{k: getattr(lat, k) for k in _LATENCY_FIELDS},
        load_ms=message.load_ms,
        first_inference_ms=message.first_inference_ms,
        peak_memory_bytes=message.peak_memory_bytes,
        accuracy=message.accuracy if message.HasField("accuracy") else None,
        validation_samples=message.validation_samples,
        outputs=dict(tensor_from_proto(t) for t in message.outputs),
        before=snapshot_from_proto(message.before),
        after=snapshot_from_proto(message.after),
        wall_seconds=message.wall_seconds,
        warnings=tuple(message.warnings),
    )


# -- device manifest --------------------------------------------------------------------------


def runtime_info_to_proto(info: RuntimeInfo) -> pb.RuntimeInfo:
    return pb.RuntimeInfo(
        name=info.name,
        version=info.version,
        providers=list(info.providers),
        module=info.module,
        int8={p: pb.Int8Schemes(schemes=list(s)) for p, s in info.int8.items()},
    )


def runtime_info_from_proto(message: pb.RuntimeInfo) -> RuntimeInfo:
    order = [*message.providers, *sorted(message.int8)]  # the providers' order: a map has none
    int8 = {p: tuple(message.int8[p].schemes) for p in order if p in message.int8}
    return RuntimeInfo(
        message.name, message.version, tuple(message.providers), message.module, int8
    )


def device_info_to_proto(info: DeviceInfo) -> pb.DeviceInfo:
    dot = info.cpu_int8_dot
    return pb.DeviceInfo(
        name=info.name,
        labels=dict(info.labels),
        hostname=info.hostname,
        os=info.os,
        machine=info.machine,
        cpu_model=info.cpu_model,
        cpu_count=info.cpu_count,
        memory_bytes=info.memory_bytes,
        python_version=info.python_version,
        agent_version=info.agent_version,
        protocol_version=info.protocol_version,
        runtimes=[runtime_info_to_proto(r) for r in info.runtimes],
        cpu_governor=info.cpu_governor,
        thermal_zones=_zones_to_proto(info.thermal_zones),
        throttled=info.throttled,
        warnings=list(info.warnings),
        cpu_int8_dot=None if dot is None else pb.Int8DotProduct(flags=list(dot)),
    )


def device_info_from_proto(message: pb.DeviceInfo) -> DeviceInfo:
    # unset: not known (an agent older than the field reads so too), not "none"
    known = message.HasField("cpu_int8_dot")
    return DeviceInfo(
        name=message.name,
        labels=dict(message.labels),
        hostname=message.hostname,
        os=message.os,
        machine=message.machine,
        cpu_model=message.cpu_model,
        cpu_count=message.cpu_count,
        memory_bytes=message.memory_bytes,
        python_version=message.python_version,
        agent_version=message.agent_version,
        protocol_version=message.protocol_version,
        runtimes=tuple(runtime_info_from_proto(r) for r in message.runtimes),
        cpu_governor=message.cpu_governor,
        thermal_zones=_zones_from_proto(message.thermal_zones),
        throttled=message.throttled,
        warnings=tuple(message.warnings),
        cpu_int8_dot=tuple(message.cpu_int8_dot.flags) if known else None,
    )
