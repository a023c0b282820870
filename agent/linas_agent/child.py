"""What one model process does, after the warm worker forked it: pin, load, time, score.

It writes its result into the job's result folder, `result.json` (a Measurement's dict without
outputs) plus `outputs.npz` (METRIC_OUTPUTS), or `error.json` (a linas error's class and
message), and exits. Anything worse (a crash, a hang) is the worker's to report.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from linas_agent import memory, system, timing
from linas_agent.jobs import Job
from linas_sdk import errors, scoring
from linas_sdk.grpc_settings import MAX_MESSAGE_BYTES
from linas_sdk.measurement import Measurement
from linas_sdk.runtimes import Runtime, choose_provider, random_inputs

RESULT = "result.json"
OUTPUTS = "outputs.npz"
ERROR = "error.json"


def run(job: Job, runtimes: Mapping[str, Runtime]) -> None:
    """In a forked model process: apply the limits, measure the job's model and write the
    outcome; never raises."""
    out = Path(job.result_dir)
    try:
        cpus = job.request.cpu_affinity or os.sched_getaffinity(0)
        memory.limit(job.memory_limit_bytes, job.cpu_seconds(len(cpus)))
        measurement, outputs = measure(job, runtimes)
        (out / RESULT).write_text(json.dumps(measurement.to_dict()))
        if outputs:
            np.savez(out / OUTPUTS, **outputs)
    except errors.LinasError as error:
        _write_error(out, type(error).__name__, str(error))
    except Exception as error:  # a runtime failing mid-run: the model's fault, not the agent's
        traceback.print_exc()
        if job.memory_limit_bytes and _out_of_memory(error):
            _write_error(out, "ResourceExhausted", memory_message(job, error))
        else:
            _write_error(out, "ModelError", f"the model failed while running: {error!r}")


def _out_of_memory(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, MemoryError) or "alloc" in text or "memory" in text


def memory_message(job: Job, detail: object) -> str:
    return (
        f"the model needs more memory than this agent allows one model "
        f"({job.memory_limit_bytes} bytes, --max-model-memory): {detail}"
    )


def _write_error(out: Path, kind: str, message: str) -> None:
    (out / ERROR).write_text(json.dumps({"error": kind, "message": message}))


def measure(job: Job, runtimes: Mapping[str, Runtime]) -> tuple[Measurement, dict]:
    request = job.request
    if request.cpu_affinity:
        os.sched_setaffinity(0, request.cpu_affinity)
    affinity = tuple(sorted(os.sched_getaffinity(0)))
    runtime = runtimes[request.runtime]
    info = runtime.info()
    baseline = memory.reset_peak()
    before = system.snapshot()

    t0 = time.perf_counter()
    session = runtime.load(
        Path(job.model_path),
        provider=choose_provider(info, request.provider or ""),
        options=request.provider_options,
        threads=request.threads,
        inputs=request.inputs,
    )
    load_ms = (time.perf_counter() - t0) * 1000.0
    session.set_inputs(random_inputs(session.inputs))
    t0 = time.perf_counter()
    session.invoke()
    first_ms = (time.perf_counter() - t0) * 1000.0
    latency = timing.measure(session.invoke, request.settings)
    peak = max(0, memory.peak_bytes() - baseline)
    after = system.snapshot()

    accuracy, n_valid, outputs = None, 0, {}
    if request.metric:
        arrays = scoring.read_set(Path(job.validation_path))
        accuracy, result = scoring.run_validation(session, arrays, request.metric)
        n_valid = len(result)
        if request.metric == "outputs":
            if result.nbytes > MAX_MESSAGE_BYTES // 2:
                raise errors.ResourceExhausted(
                    f"the outputs over the validation set take {result.nbytes} bytes, more "
                    f"than a reply may carry ({MAX_MESSAGE_BYTES // 2}); use a smaller set or "
                    "METRIC_TOP1"
                )
            outputs = {session.output_names[0]: result}

    measurement = Measurement(
        runtime=request.runtime,
        runtime_version=info.version,
        provider=session.provider,
        threads=request.threads,
        cpu_affinity=affinity,
        inputs=tuple(session.inputs),
        **latency.summary(),
        samples_ms=latency.samples_ms if request.settings.return_samples else (),
        samples=len(latency.samples_ms),
        load_ms=load_ms,
        first_inference_ms=first_ms,
        peak_memory_bytes=peak,
        accuracy=accuracy,
        validation_samples=n_valid,
        before=before,
        after=after,
    )  # fmt: skip
    return measurement, outputs

