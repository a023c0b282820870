"""The agent's logic, free of gRPC: describe the device, hold artifacts, measure models.

The servicer converts wire messages to the arguments here and the results back; errors are
linas errors, which the server's interceptor turns into gRPC status codes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from linas_agent import child, system
from linas_agent.jobs import Job
from linas_agent.queue import MeasureQueue
from linas_agent.store import KIND_NAMES, ArtifactStore, PutResult
from linas_agent.worker import Worker
from linas_sdk import scoring
from linas_sdk.artifacts import HEADER_BYTES, looks_like
from linas_sdk.errors import (
    InvalidArgument,
    LinasError,
    ModelError,
    ResourceExhausted,
    WorkerCrashed,
)
from linas_sdk.formats import format_of_runtime
from linas_sdk.measurement import DeviceInfo, Measurement, MeasureRequest, MeasureSettings
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.runtimes import RUNTIMES, choose_provider

ERRORS = {cls.__name__: cls for cls in LinasError.__subclasses__()}


class Agent:
    """One device's agent: a store, a warm worker and a one-at-a-time queue."""

    def __init__(
        self,
        *,
        name: str,
        labels: Mapping[str, str],
        store: ArtifactStore,
        worker: Worker,
        max_waiting: int = 8,
        max_model_memory: int = 0,
        max_model_cpu_seconds: int = 0,
    ) -> None:
        self.name = name
        self.labels = dict(labels)
        self.store = store
        self.worker = worker
        self.queue = MeasureQueue(max_waiting)
        self.max_model_memory = max_model_memory
        self.max_model_cpu_seconds = max_model_cpu_seconds

    def close(self) -> None:
        self.worker.close()

    # -- GetInfo, HasArtifact, PutArtifact ----------------------------------------------------

    def info(self) -> DeviceInfo:
        return system.device_info(
            name=self.name, labels=self.labels, runtimes=self.worker.runtimes
        )

    def has(self, sha256: str) -> int | None:
        return self.store.size_of(sha256)

    def put(self, sha256: str, kind: int, total_size: int, chunks: Iterable[bytes]) -> PutResult:
        return self.store.put(sha256, kind, total_size, chunks)

    # -- Measure ------------------------------------------------------------------------------

    def measure(
        self,
        request: MeasureRequest,
        *,
        model_sha256: str,
        validation_sha256: str = "",
        cancelled: threading.Event | None = None,
    ) -> Measurement:
        """Measure the model the store holds as `model_sha256` (scored on the validation set
        `validation_sha256`, if any); waits its turn behind at most `max_waiting` others."""
        self._check(request, validation_sha256)
        with self.queue.turn():
            if cancelled is not None and cancelled.is_set():
                raise ResourceExhausted("the measurement was cancelled: its client went away")
            start = time.perf_counter()
            with self.store.use(model_sha256) as model:
                _check_kind(model, format_of_runtime(request.runtime).kind, request.runtime)
                if validation_sha256:
                    with self.store.use(validation_sha256) as valid:
                        _check_kind(valid, pb.ARTIFACT_KIND_NPZ, "validation")
                        if request.metric == "top1":
                            scoring.require_labels(valid)
                        result = self._run(request, model, valid, cancelled)
                else:
                    result = self._run(request, model, None, cancelled)
            warnings = self._warnings(result, request)
            return dataclasses.replace(
                result,
                model_sha256=model_sha256,
                device=self.name,
                wall_seconds=time.perf_counter() - start,
                warnings=tuple(warnings),
            )

    def _check(self, request: MeasureRequest, validation_sha256: str) -> None:
        """Validate what this agent must (the request checked its own fields) before queueing."""
        if request.runtime is None:
            raise InvalidArgument(
                f"the request names no runtime; expected one of {sorted(RUNTIMES)}"
            )
        info = {r.name: r for r in self.worker.runtimes}.get(request.runtime)
        if info is None:
            why = self.worker.missing.get(request.runtime, "not installed")
            raise ModelError(f"runtime {request.runtime!r} is not available here: {why}")
        if bool(request.metric) != bool(validation_sha256):
            raise InvalidArgument(
                "a validation set and a metric go together: name both validation_sha256 and "
                "metric, or neither"
            )
        if request.cpu_affinity:
            allowed = os.sched_getaffinity(0)
            outside = sorted(set(request.cpu_affinity) - allowed)
            if outside:
                raise InvalidArgument(
                    f"cpu_affinity names CPUs {outside} this agent may not use; "
                    f"allowed: {sorted(allowed)}"
                )
        choose_provider(info, request.provider or "")  # refused before it queues

    def _run(self, request: MeasureRequest, model: Path, valid: Path | None, cancelled):
        settings = request.settings
        # The cool-down idles the board, its turn held; a client that goes away ends it.
        gone = cancelled or threading.Event()
        if settings.cooldown_seconds and gone.wait(settings.cooldown_seconds):
            raise ResourceExhausted("the measurement was cancelled: its client went away")
        result_dir = tempfile.mkdtemp(prefix="linas-job-")
        try:
            job = Job(
                request=request,
                model_path=str(model),
                validation_path=str(valid) if valid else "",
                result_dir=result_dir,
                memory_limit_bytes=self.max_model_memory,
                cpu_limit_seconds=self.max_model_cpu_seconds,
            )
            self.worker.run(job, cancelled)
            return _read_result(Path(result_dir))
        finally:
            shutil.rmtree(result_dir, ignore_errors=True)

    def _warnings(self, m: Measurement, request: MeasureRequest) -> list[str]:
        info = self.info()
        warnings = measurement_warnings(m, request.settings, board_throttled=info.throttled)
        runtime = next(r for r in info.runtimes if r.name == m.runtime)
        if request.provider and m.provider != choose_provider(runtime, request.provider):
            warnings.append(
                f"{request.provider} could not start, so {m.provider} ran the model: its "
                "figures are not that provider's"
            )
        return [*info.warnings, *warnings]


FREQ_CHANGE = 0.10  # a core's frequency moving more than this during a run is worth a warning
HEAT_UP_C = 10.0  # ...and so is a zone warming by more than this


def measurement_warnings(
    m: Measurement, settings: MeasureSettings, *, board_throttled: bool = False
) -> list[str]:
    """Why one measurement's figures may be unreliable, from its own before/after state."""
    warnings = []
    if not m.stable:
        warnings.append(
            f"timing unstable: coefficient of variation {m.cv:.3f} > max_cv "
            f"{settings.max_cv:g} after {m.remeasures} re-measurement(s)"
        )
    if (m.before.throttled or m.after.throttled) and not board_throttled:
        warnings.append("the board throttled during the measurement")
    before, after = m.before.cpu_freq_mhz, m.after.cpu_freq_mhz
    moved = [
        i for i, (b, a) in enumerate(zip(before, after, strict=False))
        if b > 0 and abs(a - b) / b > FREQ_CHANGE and (not m.cpu_affinity or i in m.cpu_affinity)
    ]  # fmt: skip
    if moved:
        warnings.append(
            f"CPU frequency changed by more than {FREQ_CHANGE:.0%} during the measurement "
            f"(cores {moved}): set the governor to 'performance'"
        )
    hot = {z: c - m.before.thermal_zones[z] for z, c in m.after.thermal_zones.items()
           if z in m.before.thermal_zones and c - m.before.thermal_zones[z] > HEAT_UP_C}
    if hot:
        warnings.append(
            f"the board warmed by more than {HEAT_UP_C:g} C during the measurement ({sorted(hot)}):"
            " consider cooldown_seconds between candidates"
        )
    return warnings


def _check_kind(path: Path, kind: int, what: str) -> None:
    with open(path, "rb") as f:
        header = f.read(HEADER_BYTES)
    if not looks_like(kind, header):
        raise InvalidArgument(
            f"artifact {path.name} is not a {KIND_NAMES[kind]}, as {what} expects"
        )


def _read_result(folder: Path) -> Measurement:
    error = folder / child.ERROR
    if error.exists():
        data = _json(error)
        raise ERRORS.get(data["error"], ModelError)(data["message"])
    result = folder / child.RESULT
    if not result.exists():
        raise WorkerCrashed("the model process exited without a result")
    measurement = Measurement.from_dict(_json(result))
    outputs = folder / child.OUTPUTS
    if outputs.exists():
        with np.load(outputs, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        measurement = dataclasses.replace(measurement, outputs=arrays)
    return measurement


def _json(path: Path) -> dict:
    return json.loads(path.read_text())
