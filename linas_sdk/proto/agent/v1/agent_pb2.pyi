from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ArtifactKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ARTIFACT_KIND_UNSPECIFIED: _ClassVar[ArtifactKind]
    ARTIFACT_KIND_ONNX: _ClassVar[ArtifactKind]
    ARTIFACT_KIND_TFLITE: _ClassVar[ArtifactKind]
    ARTIFACT_KIND_NPZ: _ClassVar[ArtifactKind]

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    METRIC_TOP1: _ClassVar[Metric]
    METRIC_OUTPUTS: _ClassVar[Metric]
ARTIFACT_KIND_UNSPECIFIED: ArtifactKind
ARTIFACT_KIND_ONNX: ArtifactKind
ARTIFACT_KIND_TFLITE: ArtifactKind
ARTIFACT_KIND_NPZ: ArtifactKind
METRIC_UNSPECIFIED: Metric
METRIC_TOP1: Metric
METRIC_OUTPUTS: Metric

class GetInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RuntimeInfo(_message.Message):
    __slots__ = ("name", "version", "providers", "module", "int8")
    class Int8Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Int8Schemes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Int8Schemes, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    MODULE_FIELD_NUMBER: _ClassVar[int]
    INT8_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    providers: _containers.RepeatedScalarFieldContainer[str]
    module: str
    int8: _containers.MessageMap[str, Int8Schemes]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., providers: _Optional[_Iterable[str]] = ..., module: _Optional[str] = ..., int8: _Optional[_Mapping[str, Int8Schemes]] = ...) -> None: ...

class Int8Schemes(_message.Message):
    __slots__ = ("schemes",)
    SCHEMES_FIELD_NUMBER: _ClassVar[int]
    schemes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, schemes: _Optional[_Iterable[str]] = ...) -> None: ...

class Int8DotProduct(_message.Message):
    __slots__ = ("flags",)
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    flags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, flags: _Optional[_Iterable[str]] = ...) -> None: ...

class ThermalZone(_message.Message):
    __slots__ = ("name", "celsius")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CELSIUS_FIELD_NUMBER: _ClassVar[int]
    name: str
    celsius: float
    def __init__(self, name: _Optional[str] = ..., celsius: _Optional[float] = ...) -> None: ...

class DeviceInfo(_message.Message):
    __slots__ = ("name", "labels", "hostname", "os", "machine", "cpu_model", "cpu_count", "memory_bytes", "python_version", "agent_version", "protocol_version", "runtimes", "cpu_governor", "thermal_zones", "throttled", "warnings", "cpu_int8_dot")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    MACHINE_FIELD_NUMBER: _ClassVar[int]
    CPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    CPU_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    PYTHON_VERSION_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    CPU_GOVERNOR_FIELD_NUMBER: _ClassVar[int]
    THERMAL_ZONES_FIELD_NUMBER: _ClassVar[int]
    THROTTLED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    CPU_INT8_DOT_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    hostname: str
    os: str
    machine: str
    cpu_model: str
    cpu_count: int
    memory_bytes: int
    python_version: str
    agent_version: str
    protocol_version: int
    runtimes: _containers.RepeatedCompositeFieldContainer[RuntimeInfo]
    cpu_governor: str
    thermal_zones: _containers.RepeatedCompositeFieldContainer[ThermalZone]
    throttled: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    cpu_int8_dot: Int8DotProduct
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., hostname: _Optional[str] = ..., os: _Optional[str] = ..., machine: _Optional[str] = ..., cpu_model: _Optional[str] = ..., cpu_count: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., python_version: _Optional[str] = ..., agent_version: _Optional[str] = ..., protocol_version: _Optional[int] = ..., runtimes: _Optional[_Iterable[_Union[RuntimeInfo, _Mapping]]] = ..., cpu_governor: _Optional[str] = ..., thermal_zones: _Optional[_Iterable[_Union[ThermalZone, _Mapping]]] = ..., throttled: _Optional[bool] = ..., warnings: _Optional[_Iterable[str]] = ..., cpu_int8_dot: _Optional[_Union[Int8DotProduct, _Mapping]] = ...) -> None: ...

class HasArtifactRequest(_message.Message):
    __slots__ = ("sha256",)
    SHA256_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    def __init__(self, sha256: _Optional[str] = ...) -> None: ...

class HasArtifactResponse(_message.Message):
    __slots__ = ("present", "size_bytes")
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    present: bool
    size_bytes: int
    def __init__(self, present: _Optional[bool] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class ArtifactChunk(_message.Message):
    __slots__ = ("sha256", "kind", "total_size", "data")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    kind: ArtifactKind
    total_size: int
    data: bytes
    def __init__(self, sha256: _Optional[str] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., total_size: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class PutArtifactResponse(_message.Message):
    __slots__ = ("sha256", "size_bytes", "already_present")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ALREADY_PRESENT_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    size_bytes: int
    already_present: bool
    def __init__(self, sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., already_present: _Optional[bool] = ...) -> None: ...

class MeasureSettings(_message.Message):
    __slots__ = ("warmup_runs", "warmup_seconds", "min_runs", "min_seconds", "max_runs", "max_seconds", "cooldown_seconds", "min_sample_ms", "max_cv", "max_remeasures", "timeout_seconds", "return_samples")
    WARMUP_RUNS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MIN_RUNS_FIELD_NUMBER: _ClassVar[int]
    MIN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_RUNS_FIELD_NUMBER: _ClassVar[int]
    MAX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MIN_SAMPLE_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_CV_FIELD_NUMBER: _ClassVar[int]
    MAX_REMEASURES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RETURN_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    warmup_runs: int
    warmup_seconds: float
    min_runs: int
    min_seconds: float
    max_runs: int
    max_seconds: float
    cooldown_seconds: float
    min_sample_ms: float
    max_cv: float
    max_remeasures: int
    timeout_seconds: float
    return_samples: bool
    def __init__(self, warmup_runs: _Optional[int] = ..., warmup_seconds: _Optional[float] = ..., min_runs: _Optional[int] = ..., min_seconds: _Optional[float] = ..., max_runs: _Optional[int] = ..., max_seconds: _Optional[float] = ..., cooldown_seconds: _Optional[float] = ..., min_sample_ms: _Optional[float] = ..., max_cv: _Optional[float] = ..., max_remeasures: _Optional[int] = ..., timeout_seconds: _Optional[float] = ..., return_samples: _Optional[bool] = ...) -> None: ...

class TensorSpec(_message.Message):
    __slots__ = ("name", "shape", "dtype")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    dtype: str
    def __init__(self, name: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., dtype: _Optional[str] = ...) -> None: ...

class Tensor(_message.Message):
    __slots__ = ("name", "shape", "dtype", "data")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    dtype: str
    data: bytes
    def __init__(self, name: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., dtype: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class MeasureRequest(_message.Message):
    __slots__ = ("model_sha256", "runtime", "provider", "inputs", "threads", "cpu_affinity", "settings", "validation_sha256", "metric", "provider_options")
    class ProviderOptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_SHA256_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    CPU_AFFINITY_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_SHA256_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    model_sha256: str
    runtime: str
    provider: str
    inputs: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    threads: int
    cpu_affinity: _containers.RepeatedScalarFieldContainer[int]
    settings: MeasureSettings
    validation_sha256: str
    metric: Metric
    provider_options: _containers.ScalarMap[str, str]
    def __init__(self, model_sha256: _Optional[str] = ..., runtime: _Optional[str] = ..., provider: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ..., threads: _Optional[int] = ..., cpu_affinity: _Optional[_Iterable[int]] = ..., settings: _Optional[_Union[MeasureSettings, _Mapping]] = ..., validation_sha256: _Optional[str] = ..., metric: _Optional[_Union[Metric, str]] = ..., provider_options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class LatencyStats(_message.Message):
    __slots__ = ("median_ms", "mean_ms", "std_ms", "min_ms", "max_ms", "p90_ms", "p99_ms", "samples_ms", "samples", "calls_per_sample", "cv", "stable", "remeasures", "warmup_runs", "warmup_ms")
    MEDIAN_MS_FIELD_NUMBER: _ClassVar[int]
    MEAN_MS_FIELD_NUMBER: _ClassVar[int]
    STD_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_MS_FIELD_NUMBER: _ClassVar[int]
    P90_MS_FIELD_NUMBER: _ClassVar[int]
    P99_MS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_MS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    CALLS_PER_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    CV_FIELD_NUMBER: _ClassVar[int]
    STABLE_FIELD_NUMBER: _ClassVar[int]
    REMEASURES_FIELD_NUMBER: _ClassVar[int]
    WARMUP_RUNS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_MS_FIELD_NUMBER: _ClassVar[int]
    median_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    p90_ms: float
    p99_ms: float
    samples_ms: _containers.RepeatedScalarFieldContainer[float]
    samples: int
    calls_per_sample: int
    cv: float
    stable: bool
    remeasures: int
    warmup_runs: int
    warmup_ms: float
    def __init__(self, median_ms: _Optional[float] = ..., mean_ms: _Optional[float] = ..., std_ms: _Optional[float] = ..., min_ms: _Optional[float] = ..., max_ms: _Optional[float] = ..., p90_ms: _Optional[float] = ..., p99_ms: _Optional[float] = ..., samples_ms: _Optional[_Iterable[float]] = ..., samples: _Optional[int] = ..., calls_per_sample: _Optional[int] = ..., cv: _Optional[float] = ..., stable: _Optional[bool] = ..., remeasures: _Optional[int] = ..., warmup_runs: _Optional[int] = ..., warmup_ms: _Optional[float] = ...) -> None: ...

class SystemSnapshot(_message.Message):
    __slots__ = ("thermal_zones", "cpu_freq_mhz", "throttled")
    THERMAL_ZONES_FIELD_NUMBER: _ClassVar[int]
    CPU_FREQ_MHZ_FIELD_NUMBER: _ClassVar[int]
    THROTTLED_FIELD_NUMBER: _ClassVar[int]
    thermal_zones: _containers.RepeatedCompositeFieldContainer[ThermalZone]
    cpu_freq_mhz: _containers.RepeatedScalarFieldContainer[float]
    throttled: bool
    def __init__(self, thermal_zones: _Optional[_Iterable[_Union[ThermalZone, _Mapping]]] = ..., cpu_freq_mhz: _Optional[_Iterable[float]] = ..., throttled: _Optional[bool] = ...) -> None: ...

class MeasureResponse(_message.Message):
    __slots__ = ("latency", "load_ms", "first_inference_ms", "peak_memory_bytes", "before", "after", "runtime", "runtime_version", "provider", "threads", "cpu_affinity", "inputs", "accuracy", "validation_samples", "outputs", "wall_seconds", "warnings")
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    LOAD_MS_FIELD_NUMBER: _ClassVar[int]
    FIRST_INFERENCE_MS_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    CPU_AFFINITY_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    WALL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    latency: LatencyStats
    load_ms: float
    first_inference_ms: float
    peak_memory_bytes: int
    before: SystemSnapshot
    after: SystemSnapshot
    runtime: str
    runtime_version: str
    provider: str
    threads: int
    cpu_affinity: _containers.RepeatedScalarFieldContainer[int]
    inputs: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    accuracy: float
    validation_samples: int
    outputs: _containers.RepeatedCompositeFieldContainer[Tensor]
    wall_seconds: float
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, latency: _Optional[_Union[LatencyStats, _Mapping]] = ..., load_ms: _Optional[float] = ..., first_inference_ms: _Optional[float] = ..., peak_memory_bytes: _Optional[int] = ..., before: _Optional[_Union[SystemSnapshot, _Mapping]] = ..., after: _Optional[_Union[SystemSnapshot, _Mapping]] = ..., runtime: _Optional[str] = ..., runtime_version: _Optional[str] = ..., provider: _Optional[str] = ..., threads: _Optional[int] = ..., cpu_affinity: _Optional[_Iterable[int]] = ..., inputs: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ..., accuracy: _Optional[float] = ..., validation_samples: _Optional[int] = ..., outputs: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ..., wall_seconds: _Optional[float] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...
