"""Evaluates sub-networks of a supernet: host figures, then board figures, never both at once.

A batch goes in two phases, so that host work never disturbs a timing on a board that shares
this machine's CPU (the embedded default, a local agent on loopback):

1. host phase, for every config of the batch: extract the sub-network, score it on the host
   (accuracy or BLEU, when measured on the host), count MACs and parameters, export it
   (ONNX or TFLite) and hash the file;
2. device phase: measure every exported model on every target the objectives name (a device,
   a set of labels, or any device), answering from the shared `MeasurementCache` first. When
   every device is on loopback, one measurement runs at a time and the host waits idle for it;
   remote boards measure concurrently (each still one model at a time).

A model that the device cannot load or run is a counted failure; a request the pool refuses
before sending it (`submit` raises: no device for the runtime, bytes that are no model) would
fail every candidate alike, so it stops the run.

On the device, accuracy is scored on the validation set `validation(config)` returns for the
sub-network (its bytes are hashed, so the pool uploads each distinct set once): one set for
most supernets, one per input resolution for a supernet whose resolution is searched.

It serves any object in the supernet protocol's terms: ``space``, ``extract(config)`` (a module,
or the config itself where `export` builds the model directly) and, for the objectives that
name them, ``evaluate``, ``macs``, ``params`` and ``score_outputs``.

A record holds every objective by name, ``device`` (the boards that measured it),
``model_sha256``, ``model_bytes``, ``cached`` (measurements answered from the cache) and
``measurements`` (target -> the `Measurement` as a dict, raw samples included, outputs not).
Accuracy on the device is top-1 computed by the agent; BLEU on the device is scored here from
the output tokens the agent returns (the supernet's ``score_outputs``).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from linas_host.evaluate.cache import MeasurementCache, cache_key
from linas_host.evaluate.evaluators import Evaluator, failure_record
from linas_host.run.config import ObjectiveSpec
from linas_sdk.artifacts import sha256_hex
from linas_sdk.errors import InvalidArgument, LinasError
from linas_sdk.measurement import Measurement, MeasureRequest
from linas_sdk.target import Target

DEVICE_METRICS = ("latency", "memory")
HOST_SCORES = ("accuracy", "bleu")


@dataclass
class _Prepared:
    position: int
    record: dict
    model: bytes | None = None
    validation: bytes | None = None
    validation_sha: str = ""


class SupernetEvaluator(Evaluator):
    """Host and board figures of a supernet's sub-networks (see the module docstring)."""

    name = "supernet"

    def __init__(
        self,
        supernet: Any,
        objectives: Sequence[ObjectiveSpec],
        *,
        export: Callable[[Any, dict], bytes],
        pool: Any = None,
        runtime: str = "onnxruntime",
        provider: str = "",
        threads: int = 0,
        settings: Mapping[str, Any] | None = None,
        accuracy_on: str = "host",
        accuracy_limit: int | None = None,
        validation: Callable[[dict], bytes] | None = None,
        cache: MeasurementCache | None = None,
        serial: bool = True,
        device_identity: Callable[[Target], Any] = str,
    ) -> None:
        self.supernet, self.objectives = supernet, list(objectives)
        self.export_model, self.pool = export, pool
        self.runtime, self.provider, self.threads = runtime, provider, threads
        self.settings = dict(settings or {})
        self.request = MeasureRequest(
            runtime=runtime, provider=provider or None, threads=threads, settings=self.settings
        )
        self.accuracy_on, self.accuracy_limit = accuracy_on, accuracy_limit
        self.validation = validation
        self.cache, self.serial, self.device_identity = cache, serial, device_identity
        self.targets = list(
            dict.fromkeys(o.target for o in self.objectives if o.metric in DEVICE_METRICS)
        )
        scored_on_device = accuracy_on == "device" and any(
            o.metric in HOST_SCORES for o in self.objectives
        )
        if scored_on_device and not self.targets:
            self.targets = [Target()]
        self.score_target = self.targets[0] if scored_on_device else None
        # Top-1 accuracy is computed on the board; BLEU from the outputs it returns, scored
        # here by the supernet (`score_outputs`), since the references stay on the host.
        self.metric = "outputs" if any(o.metric == "bleu" for o in self.objectives) else "top1"
        self.scored_request = self.request.replace(metric=self.metric)
        if self.targets and pool is None:
            raise InvalidArgument("objectives measured on a board need a device pool")
        if scored_on_device and validation is None:
            raise InvalidArgument(
                "accuracy on the device needs a validation set (config -> .npz bytes)"
            )
        if scored_on_device and self.metric == "outputs" and not hasattr(supernet, "score_outputs"):
            raise InvalidArgument(
                f"supernet {supernet.name!r} cannot score a board's outputs (no score_outputs); "
                "expected accuracy_on 'host' for BLEU"
            )

    def _check(self, space, objectives, constraints) -> None:
        if space != self.supernet.space:
            raise InvalidArgument(f"the search space {space} is not the supernet's space")

    def _stream(self, configs: list[Mapping]) -> Iterator[tuple[int, Mapping]]:
        prepared = []
        for position, config in enumerate(configs):
            try:
                prepared.append(self._host_phase(position, dict(config)))
            except LinasError as error:
                yield position, failure_record(error)
        yield from self._device_phase(prepared)

    def _host_phase(self, position: int, config: dict) -> _Prepared:
        metrics = {o.metric for o in self.objectives}
        record: dict[str, Any] = {}
        module = self.supernet.extract(config)
        if self.accuracy_on == "host" and metrics & set(HOST_SCORES):
            scores = self.supernet.evaluate(module, limit=self.accuracy_limit)
            record.update(self._named(m, scores[m]) for m in HOST_SCORES if m in metrics)
        if "macs" in metrics:
            record.update([self._named("macs", self.supernet.macs(config))])
        if "params" in metrics:
            record.update([self._named("params", self.supernet.params(config))])
        item = _Prepared(position, record)
        if self.targets:
            item.model = self.export_model(module, config)
            record.update(model_sha256=sha256_hex(item.model), model_bytes=len(item.model))
        if self.score_target is not None:
            item.validation = self.validation(config)
            item.validation_sha = sha256_hex(item.validation)
        return item

    def _named(self, metric: str, value: float) -> tuple[str, float]:
        name = next(o.resolved_name for o in self.objectives if o.metric == metric)
        return name, float(value)

    def _device_phase(self, prepared: list[_Prepared]) -> Iterator[tuple[int, Mapping]]:
        if not self.targets:
            for item in prepared:
                yield item.position, item.record
            return
        pending: dict[int, int] = {item.position: len(self.targets) for item in prepared}
        failed: set[int] = set()
        for item, target, outcome in self._measure_all(prepared, failed):
            if item.position in failed:
                continue
            try:
                if isinstance(outcome, LinasError):
                    raise outcome
                self._add(item.record, target, *outcome)
            except LinasError as error:
                failed.add(item.position)
                yield (
                    item.position,
                    failure_record(
                        error, target=str(target), model_sha256=item.record["model_sha256"]
                    ),
                )
                continue
            pending[item.position] -= 1
            if pending[item.position] == 0:
                devices = sorted({m["device"] for m in item.record["measurements"].values()})
                item.record["device"] = ",".join(devices)
                yield item.position, item.record

    def _measure_all(self, prepared: list[_Prepared], failed: set[int]):
        """(item, target, (Measurement, cached) or the error), cache hits first; one at a time
        when `serial` (skipping models that already failed on another target). A job the pool
        refuses at `submit` raises here and stops the run."""
        jobs = []
        for target in self.targets:
            for item in prepared:
                key = self._key(item, target)
                found = self.cache.get(key) if self.cache is not None else None
                if found is not None:
                    yield item, target, (found, True)
                else:
                    jobs.append((item, target, key))
        if self.serial:
            for item, target, key in jobs:
                if item.position in failed:
                    continue
                future = self._submit(item, target)
                yield item, target, self._settle(key, future.result)
            return
        futures = {
            self._submit(item, target): (item, target, key)
            for item, target, key in jobs
        }
        for future in concurrent.futures.as_completed(futures):
            item, target, key = futures[future]
            yield item, target, self._settle(key, future.result)

    def _settle(self, key: str, call: Callable[[], Measurement]):
        try:
            measurement = call()
        except LinasError as error:
            return error
        if self.cache is not None:
            self.cache.put(key, measurement)
        return measurement, False

    def _submit(self, item: _Prepared, target: Target) -> concurrent.futures.Future:
        """The pool's job for one model on one target; the scored target also gets the
        validation set."""
        if target == self.score_target:
            return self.pool.submit(
                item.model, self.scored_request, target=target, validation=item.validation
            )
        return self.pool.submit(item.model, self.request, target=target)

    def _key(self, item: _Prepared, target: Target) -> str:
        scored = target == self.score_target
        return cache_key(
            model_sha256=item.record["model_sha256"],
            device=self.device_identity(target),
            runtime=self.runtime,
            provider=self.provider,
            threads=self.threads,
            settings=self.settings,
            validation=item.validation_sha if scored else "",
            metric=self.metric if scored else "",
        )

    def _score(self, measurement: Measurement) -> tuple[str, float]:
        """Accuracy from the board, or BLEU of the outputs it returned, scored here."""
        if self.metric == "outputs":
            if not measurement.outputs:
                raise InvalidArgument(f"the device {measurement.device} returned no outputs")
            tokens = next(iter(measurement.outputs.values()))
            bleu = self.supernet.score_outputs(tokens, limit=self.accuracy_limit)["bleu"]
            return self._named("bleu", bleu)
        if measurement.accuracy is None:
            raise InvalidArgument(f"the device {measurement.device} returned no accuracy")
        return self._named("accuracy", measurement.accuracy)

    def _add(self, record: dict, target: Target, measurement: Measurement, cached: bool) -> None:
        for objective in self.objectives:
            if objective.metric in DEVICE_METRICS and objective.target == target:
                if objective.metric == "latency":
                    value = getattr(measurement, f"{objective.statistic}_ms")
                else:
                    value = measurement.peak_memory_bytes / 2**20
                record[objective.resolved_name] = float(value)
        if target == self.score_target:
            record.update([self._score(measurement)])
        saved = measurement.to_dict()
        saved.pop("outputs", None)
        record.setdefault("measurements", {})[str(target)] = saved
        record["cached"] = record.get("cached", 0) + int(cached)
