"""The boards a run measures on, and the evaluator that uses them.

A devices file gives a `DevicePool` of remote (or local) agents. Without one, a `LocalAgent` is
started on loopback and measures on this machine: the embedded default. Either way the pool is
only opened when an objective needs a board (latency, memory, or accuracy on the device); a
table replays recorded figures and host-only objectives (accuracy, MACs, params) need none.

When every device is on loopback, measurements run one at a time with the host idle (it shares
the CPU with them); remote boards measure concurrently.
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from linas_host.config.layout import RunDirectory
from linas_host.config.schema import SearchConfig
from linas_host.evaluate.cache import MeasurementCache
from linas_host.evaluate.evaluators import Evaluator, TableEvaluator
from linas_host.evaluate.supernet import DEVICE_METRICS, SupernetEvaluator
from linas_host.execute import Executor
from linas_host.export.subnet import subnetwork_bytes
from linas_host.paths import cache_dir
from linas_host.run.problem import Problem
from linas_host.run.progress import Reporter
from linas_host.search.evaluation import Evaluation
from linas_sdk.target import Target

if TYPE_CHECKING:
    from linas_host.devices import Artifact

READY_TIMEOUT_S = 60.0


class Boards:
    """A context manager: opens the pool (or local agent) a run needs, closes it after."""

    def __init__(self, config: SearchConfig, problem: Problem, reporter: Reporter) -> None:
        self.config, self.problem, self.reporter = config, problem, reporter
        self.pool: Any = None
        self.agent: Any = None
        self.cache: MeasurementCache | None = None
        self.status: list[Any] = []
        self.specs: dict[str, Any] = {}
        self.serial = True
        self._validation: dict[tuple, Artifact] = {}  # one per input shape
        on_device = any(o.metric in DEVICE_METRICS for o in config.objectives) or (
            config.accuracy_on == "device"
            and any(o.metric in ("accuracy", "bleu") for o in config.objectives)
        )
        self.needed = problem.supernet is not None and on_device

    def __enter__(self) -> Boards:
        if not self.needed:
            return self
        cache_root = cache_dir(self.config.cache_dir)
        if self.config.cache:
            self.cache = MeasurementCache(cache_root)
            self.reporter.note(f"measurement cache: {self.cache.path}")
        from linas_host.devices import DevicePool, LocalAgent, load_devices

        if self.config.devices is None:
            self.agent = LocalAgent(name="local", cache_dir=cache_root / "agent-artifacts")
            self.agent.start()
            specs, settings = [self.agent.spec()], None
            self.reporter.note(
                f"no devices file: measuring on this machine with a local agent "
                f"at {self.agent.address}"
            )
        else:
            devices = load_devices(self.config.devices)
            specs, settings = list(devices.devices.values()), devices.pool
        self.serial = all(spec.loopback for spec in specs)
        self.specs = {spec.name: spec for spec in specs}
        self.pool = DevicePool(specs, settings=settings)
        self.status = self.pool.wait_ready(READY_TIMEOUT_S)
        for device in self.status:
            if device.state != "alive":
                self.reporter.note(
                    f"device {device.name} ({device.address}) is {device.state}: "
                    f"{device.reason}; its jobs wait for it or a peer"
                )
            for warning in device.info.warnings if device.info else ():
                self.reporter.note(f"device {device.name}: {warning}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.close()
        if self.agent is not None:
            self.agent.close()
        if self.cache is not None:
            self.cache.close()

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.status]

    def evaluator(self, executor: Executor | None = None) -> Evaluator:
        """The run's evaluator; a supernet's host work runs on `executor` (this process by
        default)."""
        if self.problem.table is not None:
            return TableEvaluator(self.problem.table)
        validation = None
        if self.config.accuracy_on == "device" and self.needed:
            validation = self.validation
        return SupernetEvaluator(
            self.problem.supernet,
            self.config.objectives,
            export=exporter(self.problem.supernet, self.config.runtime),
            pool=self.pool,
            runtime=self.config.agent_runtime,
            provider=self.config.provider,
            threads=self.config.threads,
            settings=self.config.measure,
            accuracy_on=self.config.accuracy_on,
            accuracy_limit=self.config.accuracy_limit,
            validation=validation,
            cache=self.cache,
            serial=self.serial,
            device_identity=self.identity,
            executor=executor,
        )

    def validation(self, config: dict) -> Artifact:
        """The validation .npz `Artifact` for the sub-network `config`: one per input shape (a
        supernet whose resolution is searched has one per resolution), made and hashed once."""
        from linas_host.devices import Artifact

        supernet = self.problem.supernet
        shape = tuple(tuple(t.shape[1:]) for t in supernet.example_input(config))
        if shape not in self._validation:
            arrays = supernet.validation_arrays
            options = {"config": config} if "config" in inspect.signature(arrays).parameters else {}
            self._validation[shape] = Artifact.of(
                _npz_bytes(arrays(self.config.accuracy_limit, **options), supernet.input_names)
            )
        return self._validation[shape]

    def identity(self, target: Target) -> list[dict[str, Any]]:
        """What a cached measurement for `target` must match: the hardware and runtime of every
        device that may take the target's jobs, and the provider its devices-file entry names."""
        out = []
        for device in self.status:
            if not target.accepts(device.name, device.labels):
                continue
            info, spec = device.info, self.specs[device.name]
            runtime = info.runtime(self.config.agent_runtime) if info else None
            out.append(
                {
                    "name": device.name,
                    "hostname": info.hostname if info else device.address,
                    "machine": info.machine if info else "",
                    "cpu": info.cpu_model if info else "",
                    "cores": info.cpu_count if info else 0,
                    "runtime": f"{runtime.name} {runtime.version}" if runtime else "",
                    "provider": [spec.provider, spec.provider_options],
                }
            )
        return sorted(out, key=lambda d: d["name"])

    def manifests(self) -> list[dict[str, Any]]:
        """What devices.json keeps: each device's address, labels, state and manifest (no
        token)."""
        return [
            {
                "name": d.name,
                "address": d.address,
                "labels": dict(d.labels),
                "state": d.state,
                "manifest": d.info.to_dict() if d.info else None,
            }
            for d in self.status
        ]

    def export_front(self, front: list[Evaluation], run_dir: RunDirectory) -> dict[str, str]:
        """Export each front sub-network into the run's models folder; -> key -> its path
        relative to the run."""
        if self.problem.supernet is None or not front:
            return {}
        run_dir.models.mkdir(parents=True, exist_ok=True)
        files = {}
        for evaluation in front:
            data = subnetwork_bytes(self.problem.supernet, evaluation.config, self.config.runtime)
            path = run_dir.model(evaluation.index, self.config.runtime)
            path.write_bytes(data)
            files[evaluation.key] = str(path.relative_to(run_dir.root))
        return files

    def summary(self) -> dict[str, Any]:
        if not self.needed:
            return {
                "measured on": "host only"
                if self.problem.table is None
                else f"replayed from table {self.config.space.table}"
            }
        out = {
            "runtime": f"{self.config.agent_runtime} {self.config.provider}".strip(),
            "scheduling": "one measurement at a time, host idle while a board times a model"
            if self.serial
            else "boards measure concurrently, one model at a time each",
            "devices": ", ".join(self.names),
        }
        if self.cache is not None:
            out["measurement cache"] = (
                f"{self.cache.path} ({self.cache.hits} hits, {self.cache.misses} measured)"
            )
        return out


def exporter(supernet: Any, fmt: str) -> Callable[[Any, dict], bytes]:
    """The host work's export: (extracted module, config) -> the sub-network as an ONNX or
    TFLite file's bytes. It pickles (the host work is shipped to Ray workers)."""
    return partial(_export, supernet, fmt)


def _export(supernet: Any, fmt: str, module: Any, config: dict) -> bytes:
    return subnetwork_bytes(supernet, config, fmt, module)


def _npz_bytes(arrays: dict[str, np.ndarray], input_names: tuple[str, ...]) -> bytes:
    """A validation .npz for the agent. A single input is stored as "x", which the agent feeds
    to a model's only input whatever its name (a TFLite file does not keep PyTorch's names).
    A set scored on the host from returned outputs (BLEU) has no labels: the agent needs none
    for METRIC_OUTPUTS."""
    if len(input_names) == 1:
        arrays = {"x" if k == input_names[0] else k: v for k, v in arrays.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
