"""Evaluates sub-networks of a supernet: host figures, then board figures.

Each candidate goes through two stages:

1. host work (`HostWork`, run by the evaluator's executor: this process, or a Ray task on a
   cluster): extract the sub-network, export it (ONNX or TFLite) and hash the file, score that
   file on the host with its runtime (accuracy or BLEU, when measured on the host), count MACs
   and parameters;
2. measurement: every exported model on every target the objectives name (a device, a set of
   labels, or any device), answered from the shared `MeasurementCache` first.

How the two stages meet depends on the boards. When every device is on loopback (`serial`, the
embedded default: a local agent), they share this machine's CPU with the host work, so the
whole batch's host work is done first and then one model is timed at a time, the host idle.
Remote boards take each model as soon as its host work ends, while the rest of the batch is
still being prepared; each board still measures one model at a time.

A model that the device cannot load or run is a counted failure, and so is host work that
raised a linas error or whose worker died on every try (`TaskLost`); a request the pool refuses
before sending it (`submit` raises: no device for the runtime, bytes that are no model) would
fail every candidate alike, so it stops the run.

What it measures is said by the core objectives (each names its metric, target and statistic:
`linas_sdk.objectives.Objective`) and one `MeasurementPlan` (the request every board runs, where
quality is scored, how many validation samples). On the device, accuracy is scored on the
sub-network's `ValidationSets` artifact.

It serves any object in the supernet protocol's terms (`linas_host.supernets.protocol`):
``space``, ``extract(config)`` (a module, or the config itself where `export` builds the model
directly) and, for the objectives that name them, ``evaluate``, ``macs``, ``params``, and the
optional ``validation_arrays`` and ``score_outputs``.

A record holds every objective by name, ``host`` (the node that did the host work), ``device``
(the boards that measured it), ``model_sha256``, ``model_bytes``, ``precision`` (what the file
is: fp32, int8, or mixed, some stages in int8) with, for a quantized one,
``calibration_sha256``, ``cached`` (measurements answered from the cache) and
``measurements`` (target -> the `Measurement` as a dict, raw samples included, outputs
not). Accuracy on the device is top-1 computed by the agent; BLEU on the device is scored
here from the output tokens the agent returns (``score_outputs``).
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linas_host.evaluate.cache import MeasurementCache, cache_key
from linas_host.evaluate.evaluators import Evaluator, failure_record
from linas_host.evaluate.plan import MeasurementPlan
from linas_host.evaluate.scored import FileScorer
from linas_host.evaluate.validation import ValidationSets
from linas_host.execute import Executor, LocalExecutor
from linas_host.export.subnet import Exporter
from linas_host.supernets.protocol import ScoredOnDevice, ScoresOutputs
from linas_sdk.artifacts import sha256_hex
from linas_sdk.errors import InvalidArgument, LinasError
from linas_sdk.formats import format_of_runtime
from linas_sdk.measurement import Measurement
from linas_sdk.metrics import DEVICE_METRICS, SCORES
from linas_sdk.objectives import Objective
from linas_sdk.target import Target

if TYPE_CHECKING:
    from linas_host.devices import Artifact, DevicePool


def _named(objectives: Sequence[Objective], metric: str, value: float) -> tuple[str, float]:
    name = next(o.name for o in objectives if o.metric == metric)
    return name, float(value)


@dataclass(frozen=True)
class HostWork:
    """One candidate's host work, as a function of its config -> (record, model bytes or None
    when no board measures it). An executor ships it, supernet and weights included, to where
    it runs, so it holds nothing of this process (no pool, no cache): it pickles.

    A quality score taken on the host is the exported file's, scored by `runtime` on `threads`
    (the process's torch threads when None): the file is exported whenever it is scored or
    measured, and the record carries its sha256. `scorer` is None only for a supernet that
    gives no validation arrays, which PyTorch then scores."""

    supernet: Any
    objectives: tuple[Objective, ...]
    export: Callable[[Any, dict], bytes]
    runtime: str
    measured: bool
    score_on_host: bool
    accuracy_limit: int | None = None
    threads: int | None = None
    scorer: FileScorer | None = None

    def __call__(self, config: dict) -> tuple[dict, bytes | None]:
        metrics = {o.metric for o in self.objectives}
        record: dict[str, Any] = {}
        module = self.supernet.extract(config)
        scored = self.score_on_host and bool(metrics & set(SCORES))
        model = None
        if self.measured or (scored and self.scorer is not None):
            model = self.export(module, config)
            record.update(model_sha256=sha256_hex(model), model_bytes=len(model))
            if isinstance(self.export, Exporter):
                precision = self.export.precision(config)
                record.update(precision=precision)
                if precision != "fp32":
                    record.update(calibration_sha256=self.export.calibration_sha256(config))
        if scored:
            if model is not None and self.scorer is not None:
                scores = self.scorer(model, self.runtime, config, self._threads())
            else:
                scores = self.supernet.evaluate(module, limit=self.accuracy_limit)
            record.update(_named(self.objectives, m, scores[m]) for m in SCORES if m in metrics)
        if "macs" in metrics:
            record.update([_named(self.objectives, "macs", self.supernet.macs(config))])
        if "params" in metrics:
            record.update([_named(self.objectives, "params", self.supernet.params(config))])
        return record, model if self.measured else None

    def _threads(self) -> int:
        if self.threads is not None:
            return self.threads
        import torch  # the host work's own thread budget: what extraction and export use

        return torch.get_num_threads()


@dataclass
class _Prepared:
    position: int
    record: dict
    model: bytes | None = None
    validation: Artifact | None = None


class _Tally:
    """Per candidate, the targets still to measure: a record is whole when every target has
    answered, or failed at its first failure (later answers for it are dropped)."""

    def __init__(self, targets: int) -> None:
        self.targets = targets
        self.pending: dict[int, int] = {}
        self.failed: set[int] = set()

    def expect(self, item: _Prepared) -> None:
        self.pending[item.position] = self.targets

    def open(self) -> int:
        return sum(self.pending.values())


class SupernetEvaluator(Evaluator):
    """Host and board figures of a supernet's sub-networks (see the module docstring)."""

    name = "supernet"

    def __init__(
        self,
        supernet: Any,
        objectives: Sequence[Objective],
        plan: MeasurementPlan | None = None,
        *,
        pool: DevicePool | None = None,
        cache: MeasurementCache | None = None,
        executor: Executor | None = None,
        export: Callable[[Any, dict], bytes] | None = None,
        serial: bool | None = None,
        host_threads: int | None = None,
    ) -> None:
        """`objectives` say what each candidate's record holds; `plan` how boards measure it
        (onnxruntime, the host scoring quality, by default). `pool` is where the boards'
        objectives are measured, `cache` answers measurements made before, `executor` runs
        the host work (this process by default) and `export` turns an extracted module into
        the file a board runs (the plan's runtime's format by default). `serial` measures
        one model at a time after the batch's host work (by default when every board is on
        loopback, sharing this CPU). `host_threads` is what the host's scoring runs on (torch's
        threads by default)."""
        self.supernet, self.objectives = supernet, list(objectives)
        self.plan = plan = plan or MeasurementPlan()
        self.pool, self.cache = pool, cache
        self.serial = pool.serial if serial is None and pool is not None else bool(serial)
        self.executor = executor or LocalExecutor()
        self.targets = plan.targets(self.objectives)
        scored_on_device = plan.scored_on_device(self.objectives)
        self.score_target = self.targets[0] if scored_on_device else None
        # Top-1 accuracy is computed on the board; BLEU from the outputs it returns, scored
        # here by the supernet (`score_outputs`), since the references stay on the host.
        self.metric = "outputs" if any(o.metric == "bleu" for o in self.objectives) else "top1"
        self.request = plan.request
        self.scored_request = plan.request.replace(metric=self.metric)
        if self.targets and pool is None:
            raise InvalidArgument("objectives measured on a board need a device pool")
        self.validation: ValidationSets | None = None
        if scored_on_device:
            needed = ScoresOutputs if self.metric == "outputs" else ScoredOnDevice
            if not isinstance(supernet, needed):
                raise InvalidArgument(
                    f"supernet {supernet.name!r} cannot be scored on a board (it has no "
                    f"{'score_outputs' if needed is ScoresOutputs else 'validation_arrays'}); "
                    "expected accuracy_on 'host'"
                )
            self.validation = ValidationSets(supernet, plan.accuracy_limit)
        if export is None:
            export = Exporter(supernet, format_of_runtime(plan.runtime).name)
        self.host_work = HostWork(
            supernet, tuple(self.objectives), export, plan.runtime, measured=bool(self.targets),
            score_on_host=plan.accuracy_on == "host", accuracy_limit=plan.accuracy_limit,
            threads=host_threads,
            scorer=FileScorer(supernet, plan.accuracy_limit)
            if isinstance(supernet, ScoredOnDevice) else None,
        )

    def _check(self, space, objectives, constraints) -> None:
        if space != self.supernet.space:
            raise InvalidArgument(f"the search space {space} is not the supernet's space")

    def _stream(self, configs: list[Mapping]) -> Iterator[tuple[int, Mapping]]:
        configs = [dict(c) for c in configs]
        prepared = self._prepared(self.executor.map(self.host_work, configs), configs)
        if not self.targets:
            for item in prepared:
                yield item.position, item.record
        elif self.serial:
            yield from self._measure_serially(list(prepared))
        else:
            yield from self._measure_as_ready(prepared)

    def _prepared(
        self, outcomes: Iterable[tuple[int, Any, str]], configs: list[dict]
    ) -> Iterator[_Prepared]:
        """The executor's outcomes as items, each record saying which node did its host work;
        failed host work is an item without a model. A model scored on the board gets its
        validation set here, on the coordinator, which holds the boards' artifacts."""
        for position, outcome, node in outcomes:
            if isinstance(outcome, LinasError):
                yield _Prepared(position, failure_record(outcome, host=node))
                continue
            record, model = outcome
            item = _Prepared(position, {**record, "host": node}, model)
            if model is not None and self.score_target is not None:
                item.validation = self.validation(configs[position])
            yield item

    def _measure_serially(self, prepared: list[_Prepared]) -> Iterator[tuple[int, Mapping]]:
        """The whole batch's host work is done: cache hits first, then one model at a time,
        skipping models that already failed on another target."""
        tally, jobs = _Tally(len(self.targets)), []
        for item in prepared:
            if item.model is None:
                yield item.position, item.record
                continue
            tally.expect(item)
        for target in self.targets:
            for item in prepared:
                if item.model is None:
                    continue
                key = self._key(item, target)
                found = self.cache.get(key) if self.cache is not None else None
                if found is not None:
                    yield from self._collect(tally, item, target, (found, True))
                else:
                    jobs.append((item, target, key))
        for item, target, key in jobs:
            if item.position not in tally.failed:
                future = self._submit(item, target)
                yield from self._collect(tally, item, target, self._settle(key, future.result))

    def _measure_as_ready(self, prepared: Iterator[_Prepared]) -> Iterator[tuple[int, Mapping]]:
        """Each model goes to the pool as soon as its host work ends (a thread feeds the pool
        from the executor); results are collected here as they come back."""
        events: queue.Queue = queue.Queue()
        fed = object()

        def feed() -> None:
            try:
                for item in prepared:
                    events.put((item, None, None))
                    if item.model is None:
                        continue
                    for target in self.targets:
                        key = self._key(item, target)
                        found = self.cache.get(key) if self.cache is not None else None
                        if found is not None:
                            events.put((item, target, (found, True)))
                        else:
                            future = self._submit(item, target)
                            future.add_done_callback(
                                lambda f, i=item, t=target, k=key: events.put((i, t, (k, f))))
            except BaseException as error:  # raised in the caller's thread, below
                events.put(error)
            finally:
                events.put(fed)

        threading.Thread(target=feed, name="linas-feed-boards", daemon=True).start()
        tally, feeding = _Tally(len(self.targets)), True
        while feeding or tally.open():
            event = events.get()
            if event is fed:
                feeding = False
                continue
            if isinstance(event, BaseException):
                raise event
            item, target, outcome = event
            if target is None:
                if item.model is None:
                    yield item.position, item.record
                else:
                    tally.expect(item)
                continue
            if isinstance(outcome[1], concurrent.futures.Future):
                outcome = self._settle(outcome[0], outcome[1].result)
            yield from self._collect(tally, item, target, outcome)

    def _collect(self, tally: _Tally, item: _Prepared, target: Target,
                 outcome: Any) -> Iterator[tuple[int, Mapping]]:
        """Add one target's answer for `item`; yields its record when it is whole or failed."""
        if item.position in tally.failed:
            return
        try:
            if isinstance(outcome, LinasError):
                raise outcome
            self._add(item.record, target, *outcome)
        except LinasError as error:
            tally.failed.add(item.position)
            tally.pending.pop(item.position, None)
            yield item.position, failure_record(
                error, target=str(target), model_sha256=item.record["model_sha256"],
                host=item.record["host"])
            return
        tally.pending[item.position] -= 1
        if tally.pending[item.position] == 0:
            del tally.pending[item.position]
            devices = sorted({m["device"] for m in item.record["measurements"].values()})
            item.record["device"] = ",".join(devices)
            yield item.position, item.record

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
            device=self.pool.identity(target, self.plan.runtime),
            validation=item.validation.sha256 if scored else "",
            metric=self.metric if scored else "",
            precision=item.record.get("precision", "fp32"),
            calibration=item.record.get("calibration_sha256", ""),
            **self.plan.identity(),
        )

    def _score(self, measurement: Measurement) -> tuple[str, float]:
        """Accuracy from the board, or BLEU of the outputs it returned, scored here."""
        if self.metric == "outputs":
            if not measurement.outputs:
                raise InvalidArgument(f"the device {measurement.device} returned no outputs")
            tokens = next(iter(measurement.outputs.values()))
            bleu = self.supernet.score_outputs(tokens, limit=self.plan.accuracy_limit)["bleu"]
            return _named(self.objectives, "bleu", bleu)
        if measurement.accuracy is None:
            raise InvalidArgument(f"the device {measurement.device} returned no accuracy")
        return _named(self.objectives, "accuracy", measurement.accuracy)

    def _add(self, record: dict, target: Target, measurement: Measurement, cached: bool) -> None:
        for objective in self.objectives:
            if objective.metric in DEVICE_METRICS and objective.target == target:
                if objective.metric == "latency":
                    value = getattr(measurement, f"{objective.statistic}_ms")
                else:
                    value = measurement.peak_memory_bytes / 2**20
                record[objective.name] = float(value)
        if target == self.score_target:
            record.update([self._score(measurement)])
        saved = measurement.to_dict()
        saved.pop("outputs", None)
        record.setdefault("measurements", {})[str(target)] = saved
        record["cached"] = record.get("cached", 0) + int(cached)
