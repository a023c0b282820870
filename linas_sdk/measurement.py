"""What a host asks a device to measure, and what the device reports: the request, the
measurement of one model and the manifest of the device itself.

Both ends share these types. Each end sends them with `linas_sdk.serde.*_to_proto` and reads
what it receives with `*_from_proto`. They are frozen, and `to_dict()` gives a JSON-safe form
(for journals, `--json` output and the agent's worker pipe) that `from_dict()` reads back.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from linas_sdk.errors import InvalidArgument
from linas_sdk.formats import RUNTIMES


@dataclass(frozen=True)
class TensorSpec:
    """A tensor's name, shape and numpy dtype name (e.g. "float32")."""

    name: str
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class SystemSnapshot:
    """The board's state at one moment: temperatures, core frequencies, throttling."""

    thermal_zones: Mapping[str, float] = field(default_factory=dict)
    cpu_freq_mhz: tuple[float, ...] = ()
    throttled: bool = False


INT8_SCHEMES = ("static", "dynamic")
"""Quantized schemes a provider may run with int8 kernels: "static" (int8 weights and
activations: ONNX QDQ or QOperator, TFLite full integer) and "dynamic" (int8 weights,
activations quantized as the model runs)."""


@dataclass(frozen=True)
class RuntimeInfo:
    """One inference runtime a device offers, with its execution providers or delegates.

    `int8` maps a provider to the INT8_SCHEMES it runs with integer kernels, as far as the
    agent could tell; a provider missing is not known (a scheme missing may run in float)."""

    name: str
    version: str
    providers: tuple[str, ...] = ()
    module: str = ""
    int8: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "name": self.name,
            "version": self.version,
            "providers": list(self.providers),
            "module": self.module,
            "int8": {provider: list(schemes) for provider, schemes in self.int8.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuntimeInfo:
        """Read back what `to_dict()` wrote (an older one, without `int8`, too)."""
        int8 = {p: tuple(s) for p, s in data.get("int8", {}).items()}
        return cls(data["name"], data["version"], tuple(data.get("providers", ())),
                   data.get("module", ""), int8)  # fmt: skip


_HOUR = 3600.0
_SETTING_CEILINGS = {
    "warmup_runs": 1_000_000, "warmup_seconds": _HOUR, "min_runs": 10_000_000,
    "min_seconds": _HOUR, "max_runs": 10_000_000, "max_seconds": _HOUR,
    "cooldown_seconds": _HOUR, "min_sample_ms": 10_000.0, "max_cv": 100.0,
    "max_remeasures": 100, "timeout_seconds": 24 * _HOUR,
}  # fmt: skip
"""Upper bounds that keep one request from holding a board for days."""


@dataclass(frozen=True, kw_only=True)
class MeasureSettings:
    """How a model is timed (see ARCHITECTURE.md, "The agent's measurement protocol").

    Timed runs go on until both `min_runs` and `min_seconds` are reached and stop at
    `max_runs` or `max_seconds`, whichever comes first. Calls faster than `min_sample_ms`
    are timed in batches so that each sample lasts at least that long.
    """

    warmup_runs: int = 10
    warmup_seconds: float = 0.2
    min_runs: int = 20
    min_seconds: float = 1.0
    max_runs: int = 10_000
    max_seconds: float = 10.0
    cooldown_seconds: float = 0.0
    min_sample_ms: float = 1.0
    max_cv: float = 0.05
    max_remeasures: int = 1
    timeout_seconds: float = 120.0
    return_samples: bool = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            ceiling = _SETTING_CEILINGS.get(f.name)
            value = getattr(self, f.name)
            if f.type == "bool":
                if not isinstance(value, bool):
                    raise InvalidArgument(f"setting {f.name} must be true or false, got {value!r}")
                continue
            kind = numbers.Integral if f.type == "int" else numbers.Real
            if not isinstance(value, kind) or isinstance(value, bool):
                raise InvalidArgument(f"setting {f.name} must be {f.type}, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise InvalidArgument(
                    f"setting {f.name} must be a finite number >= 0, got {value!r}"
                )
            if ceiling is not None and value > ceiling:
                raise InvalidArgument(f"setting {f.name} must be at most {ceiling}, got {value!r}")
        if self.min_runs < 1 or self.max_runs < 1:
            raise InvalidArgument(
                f"min_runs and max_runs must be >= 1, got {self.min_runs} and {self.max_runs}"
            )
        if self.min_runs > self.max_runs:
            raise InvalidArgument(
                f"min_runs ({self.min_runs}) must not exceed max_runs ({self.max_runs})"
            )
        if self.min_seconds > self.max_seconds:
            raise InvalidArgument(
                f"min_seconds ({self.min_seconds}) must not exceed max_seconds "
                f"({self.max_seconds})"
            )
        if self.timeout_seconds <= 0:
            raise InvalidArgument(f"timeout_seconds must be > 0, got {self.timeout_seconds}")

    @classmethod
    def of(cls, settings: MeasureSettings | Mapping[str, Any] | None) -> MeasureSettings:
        """Settings from an object, or from a mapping naming some of them (the rest keep their
        defaults); an unknown name is refused, with the names there are."""
        if isinstance(settings, MeasureSettings):
            return settings
        if settings is not None and not isinstance(settings, Mapping):
            raise InvalidArgument(
                f"measurement settings must be MeasureSettings or a mapping, got {settings!r}"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(settings or {}) - known)
        if unknown:
            raise InvalidArgument(
                f"unknown measurement settings {unknown}; expected some of {sorted(known)}"
            )
        return cls(**(settings or {}))

    def replace(self, **changes: Any) -> MeasureSettings:
        """A copy with some settings changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


"""The runtimes a request may name."""
METRICS = ("top1", "outputs")
"""What a validation pass computes: top-1 accuracy against labels "y", or the first output."""
MAX_THREADS = 1024
"""More intra-op threads than any board has: a request asking for more is refused."""


@dataclass(frozen=True, kw_only=True)
class MeasureRequest:
    """How to measure a model: runtime, provider or delegate, input shapes (empty: the model's),
    intra-op threads (0: the runtime's default), CPU affinity (empty: inherited), the timing
    settings, and what a validation pass computes.

    It names no model and no validation set: those are artifacts, shipped and hashed apart and
    named beside the request on the wire (`serde.request_to_proto(request, model_sha256=...)`).
    So one request serves every candidate of a search, and the host's request and the one the
    agent reads back (`serde.request_from_proto`) are the same value.

    None leaves a choice to the host's client, which makes it before the request travels:
    `runtime` the one that reads the model's format, `provider` the device's (its devices-file
    `provider`, else the runtime's default), `metric` "top1" when a validation set goes with the
    request. An unmade choice travels as an empty field and is read back as None, which the
    agent takes as: no runtime, refused; no provider, the runtime's default; no metric, no
    validation pass. `settings` may be given as a mapping naming some settings, `inputs` and
    `cpu_affinity` as any sequence. `provider_options` are the provider's own (ONNX Runtime's
    `device_id`, `trt_fp16_enable`...), strings as ONNX Runtime takes them, and need a
    provider. Every field is checked here, so on either end.
    """

    runtime: str | None = None
    provider: str | None = None
    inputs: tuple[TensorSpec, ...] = ()
    threads: int = 0
    cpu_affinity: tuple[int, ...] = ()
    settings: MeasureSettings = field(default_factory=MeasureSettings)
    metric: str | None = None
    provider_options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.runtime is not None and self.runtime not in RUNTIMES:
            raise InvalidArgument(
                f"unknown runtime {self.runtime!r}; expected one of {sorted(RUNTIMES)}, or None "
                "for the one that reads the model's format"
            )
        if self.provider is not None and not isinstance(self.provider, str):
            raise InvalidArgument(f"provider must be a string or None, got {self.provider!r}")
        options = self.provider_options
        if not isinstance(options, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in options.items()
        ):
            raise InvalidArgument(
                f"provider_options must map option names to string values, got {options!r}"
            )
        if options and not self.provider:
            raise InvalidArgument(
                f"provider_options {sorted(options)} need a provider: name the one they are for"
            )
        object.__setattr__(self, "provider_options", dict(options))
        if self.metric is not None and self.metric not in METRICS:
            raise InvalidArgument(f"metric {self.metric!r} is unknown; expected one of "
                                  f"{list(METRICS)}, or None")
        if not _is_int(self.threads) or self.threads < 0:
            raise InvalidArgument(f"threads must be an integer >= 0, got {self.threads!r}")
        if self.threads > MAX_THREADS:
            raise InvalidArgument(f"threads must be at most {MAX_THREADS}, got {self.threads}")
        inputs = _tuple_of(self.inputs, "inputs")
        if not all(isinstance(spec, TensorSpec) for spec in inputs):
            raise InvalidArgument(f"inputs must be TensorSpec values, got {inputs!r}")
        cpus = _tuple_of(self.cpu_affinity, "cpu_affinity")
        if not all(_is_int(cpu) and cpu >= 0 for cpu in cpus):
            raise InvalidArgument(f"cpu_affinity must be CPU ids (integers >= 0), got {cpus!r}")
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "cpu_affinity", tuple(int(cpu) for cpu in cpus))
        object.__setattr__(self, "settings", MeasureSettings.of(self.settings))

    def replace(self, **changes: Any) -> MeasureRequest:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["inputs"] = [
            {"name": s.name, "shape": list(s.shape), "dtype": s.dtype} for s in self.inputs
        ]
        out["cpu_affinity"] = list(self.cpu_affinity)
        out["settings"] = self.settings.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasureRequest:
        """Read back what `to_dict()` wrote."""
        values = dict(data)
        values["inputs"] = tuple(
            TensorSpec(s["name"], tuple(s["shape"]), s["dtype"]) for s in values.get("inputs", ())
        )
        return cls(**values)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _tuple_of(values: Any, name: str) -> tuple:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise InvalidArgument(f"{name} must be a sequence, got {values!r}")
    return tuple(values)


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """One model measured on one device: latency statistics, load, memory, and accuracy.

    Latencies are milliseconds per inference. `samples_ms` holds the raw timed samples
    (empty when the request asked not to return them); `outputs` holds the model's first
    output over a validation set when the METRIC_OUTPUTS metric was asked for.
    """

    device: str = ""
    model_sha256: str = ""
    runtime: str
    runtime_version: str = ""
    provider: str = ""
    threads: int = 0
    cpu_affinity: tuple[int, ...] = ()
    inputs: tuple[TensorSpec, ...] = ()
    median_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    p90_ms: float
    p99_ms: float
    samples_ms: tuple[float, ...] = ()
    samples: int
    calls_per_sample: int = 1
    cv: float
    stable: bool
    remeasures: int = 0
    warmup_runs: int = 0
    warmup_ms: float = 0.0
    load_ms: float
    first_inference_ms: float
    peak_memory_bytes: int = 0
    accuracy: float | None = None
    validation_samples: int = 0
    outputs: Mapping[str, np.ndarray] = field(default_factory=dict)
    before: SystemSnapshot = field(default_factory=SystemSnapshot)
    after: SystemSnapshot = field(default_factory=SystemSnapshot)
    wall_seconds: float = 0.0
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; arrays in `outputs` become {"shape", "dtype", "data"} records."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["cpu_affinity"] = list(self.cpu_affinity)
        out["inputs"] = [
            {"name": s.name, "shape": list(s.shape), "dtype": s.dtype} for s in self.inputs
        ]
        out["samples_ms"] = list(self.samples_ms)
        out["outputs"] = {
            name: {"shape": list(a.shape), "dtype": a.dtype.name, "data": a.tolist()}
            for name, a in self.outputs.items()
        }
        out["before"] = _snapshot_to_dict(self.before)
        out["after"] = _snapshot_to_dict(self.after)
        out["warnings"] = list(self.warnings)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measurement:
        """Read back what `to_dict()` wrote."""
        values = dict(data)
        values["cpu_affinity"] = tuple(values.get("cpu_affinity", ()))
        values["inputs"] = tuple(
            TensorSpec(s["name"], tuple(s["shape"]), s["dtype"]) for s in values.get("inputs", ())
        )
        values["samples_ms"] = tuple(values.get("samples_ms", ()))
        values["outputs"] = {
            name: np.asarray(o["data"], dtype=o["dtype"]).reshape(o["shape"])
            for name, o in values.get("outputs", {}).items()
        }
        for key in ("before", "after"):
            snap = values.get(key, {})
            values[key] = SystemSnapshot(
                thermal_zones=dict(snap.get("thermal_zones", {})),
                cpu_freq_mhz=tuple(snap.get("cpu_freq_mhz", ())),
                throttled=bool(snap.get("throttled", False)),
            )
        values["warnings"] = tuple(values.get("warnings", ()))
        return cls(**values)


@dataclass(frozen=True, kw_only=True)
class DeviceInfo:
    """The device manifest an agent reports (GetInfo)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    hostname: str = ""
    os: str = ""
    machine: str = ""
    cpu_model: str = ""
    cpu_count: int = 0
    memory_bytes: int = 0
    python_version: str = ""
    agent_version: str = ""
    protocol_version: int = 0
    runtimes: tuple[RuntimeInfo, ...] = ()
    cpu_governor: str = ""
    thermal_zones: Mapping[str, float] = field(default_factory=dict)
    throttled: bool = False
    warnings: tuple[str, ...] = ()
    cpu_int8_dot: tuple[str, ...] | None = None
    """The CPU's int8 dot-product instructions as /proc/cpuinfo names them ("avx512_vnni",
    "amx_int8", "asimddp", "i8mm"...); () when it has none, so int8 runs emulated; None when
    not known (not read on this machine, or an agent older than this field)."""

    def runtime(self, name: str) -> RuntimeInfo | None:
        """The runtime called `name`, or None when the device does not offer it."""
        return next((r for r in self.runtimes if r.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["labels"] = dict(self.labels)
        out["runtimes"] = [r.to_dict() for r in self.runtimes]
        out["thermal_zones"] = dict(self.thermal_zones)
        out["warnings"] = list(self.warnings)
        if self.cpu_int8_dot is not None:
            out["cpu_int8_dot"] = list(self.cpu_int8_dot)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceInfo:
        """Read back what `to_dict()` wrote."""
        values = dict(data)
        values["labels"] = dict(values.get("labels", {}))
        values["runtimes"] = tuple(RuntimeInfo.from_dict(r) for r in values.get("runtimes", ()))
        values["thermal_zones"] = dict(values.get("thermal_zones", {}))
        values["warnings"] = tuple(values.get("warnings", ()))
        if values.get("cpu_int8_dot") is not None:
            values["cpu_int8_dot"] = tuple(values["cpu_int8_dot"])
        return cls(**values)


def _snapshot_to_dict(snapshot: SystemSnapshot) -> dict[str, Any]:
    return {
        "thermal_zones": dict(snapshot.thermal_zones),
        "cpu_freq_mhz": list(snapshot.cpu_freq_mhz),
        "throttled": snapshot.throttled,
    }
