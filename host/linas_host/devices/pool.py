"""DevicePool: many agents behind one thread-safe `measure` / `submit`.

How it schedules (a scheduler per device key, after TVM's RPC tracker):

- Each device has one worker thread, so at most one measurement is in flight per device. A free
  live device takes the oldest queued job whose key it satisfies (its target, its runtime).
- Two timeouts, kept apart: `queue_timeout` bounds the wait for a device (QueueTimeout), the
  device's `timeouts.measure_s` (or the job's `timeout`) bounds the Measure call itself.
- A device that cannot be reached (UNAVAILABLE, connection lost mid-call) is *down*: its job goes
  back to the head of the queue for another device of the same key, and the device is probed
  again after a back-off that doubles from `retry_initial_s` to `retry_max_s`; when it answers it
  takes jobs again. A job that lost `max_device_losses` devices fails (the model may be what
  kills them).
- A device with another protocol version or that rejects the token is *refused* (its job, if
  any, goes back to the queue) and probed again only every `retry_max_s` (it may be upgraded or
  its token fixed meanwhile).
- When no device of a key is live, its jobs wait; the pool logs which key, which devices are down
  and why, and when each is tried next (again every `retry_max_s` while it lasts).
- A model's own failure (FAILED_PRECONDITION, DEADLINE_EXCEEDED, INVALID_ARGUMENT, ...) is the
  job's result, raised from its future; the device stays live. When a Measure call gets no reply
  within its timeout, the device is probed at once: if it answers, the model was too slow (the
  job's result is NoReply, a MeasurementTimeout); if not, the device hangs and the job moves on
  as from a dead device.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linas_host.devices.client import AgentClient, Artifact, NoReply, prepare
from linas_host.devices.config import DeviceSpec, PoolSettings, load_devices
from linas_host.devices.jobs import Job, JobKey, JobQueue
from linas_sdk.errors import (
    DeviceUnavailable,
    InvalidArgument,
    LinasError,
    ProtocolMismatch,
    Unauthenticated,
)
from linas_sdk.measurement import DeviceInfo, Measurement, MeasureRequest
from linas_sdk.target import Target

log = logging.getLogger(__name__)

UNKNOWN, ALIVE, DOWN, REFUSED = "unknown", "alive", "down", "refused"


class QueueTimeout(LinasError, TimeoutError):
    """A job waited longer than its queue timeout for a device to take it."""

    status = "DEADLINE_EXCEEDED"


class PoolClosed(LinasError):
    """The pool was closed before the job ran."""


@dataclass(frozen=True)
class DeviceStatus:
    """A snapshot of one device as the pool sees it."""

    name: str
    address: str
    labels: Mapping[str, str]
    state: str
    reason: str = ""
    """Why the device is down or refused."""
    next_try_s: float | None = None
    """Seconds until a down or refused device is probed again."""
    busy: bool = False
    jobs_done: int = 0
    info: DeviceInfo | None = None


@dataclass(eq=False)
class _Device:
    spec: DeviceSpec
    client: AgentClient
    backoff: float
    state: str = UNKNOWN
    reason: str = ""
    info: DeviceInfo | None = None
    next_probe: float = 0.0
    job: Job | None = None
    jobs_done: int = 0
    thread: threading.Thread | None = field(default=None, repr=False)


class DevicePool:
    """Measure models on a set of agents; see the module docstring for the semantics."""

    def __init__(
        self, devices: Iterable[DeviceSpec], *, settings: PoolSettings | None = None
    ) -> None:
        specs = list(devices)
        if not specs:
            raise InvalidArgument("a device pool needs at least one device")
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise InvalidArgument(f"device names must be unique, got {names}")
        self.settings = settings = settings or PoolSettings()
        self._cond = threading.Condition()
        self._queue = JobQueue()
        self._closed = False
        self._said_waiting: dict[JobKey, float] = {}
        # Few, short client retries: a device that stays unreachable is the pool's to handle.
        self._devices = [
            _Device(spec, AgentClient(spec, retries=2, backoff_s=0.1), settings.retry_initial_s)
            for spec in specs
        ]
        for device in self._devices:
            device.thread = threading.Thread(
                target=self._serve, args=(device,), name=f"linas-device-{device.spec.name}",
                daemon=True,
            )
            device.thread.start()
        self._watcher = threading.Thread(target=self._watch, name="linas-pool-watch", daemon=True)
        self._watcher.start()

    @classmethod
    def from_yaml(cls, path: str | Path) -> DevicePool:
        """A pool of the devices (and pool settings) in a devices file."""
        devices = load_devices(path)
        return cls(devices.devices.values(), settings=devices.pool)

    # -- the public face -----------------------------------------------------------------------

    def submit(
        self,
        model: bytes | Path | str | Artifact,
        request: MeasureRequest | None = None,
        *,
        target: Target | None = None,
        validation: bytes | Path | str | Artifact | None = None,
        queue_timeout: float | None = None,
        timeout: float | None = None,
    ) -> Future[Measurement]:
        """Queue a measurement; its future holds the Measurement or the error it met.

        The job runs as `request` says (default: `MeasureRequest()`) on a device `target`
        accepts (default: any). `queue_timeout` (default: the pool's) bounds each wait for a
        device; `timeout` (default: the device's measure_s) bounds the measurement call.
        """
        artifact, checks, request = prepare(model, request, validation)
        key = JobKey(target or Target(), request.runtime)
        if not any(key.accepts(d.spec) for d in self._devices):
            listed = ", ".join(
                f"{d.spec.name} {dict(d.spec.labels)} runtime={d.spec.runtime or 'any'}"
                for d in self._devices
            )
            raise InvalidArgument(f"no device in the pool can take a job for {key}: {listed}")
        wait = self.settings.queue_timeout_s if queue_timeout is None else queue_timeout
        job = Job(key, artifact, checks, request, timeout, wait)
        with self._cond:
            if self._closed:
                raise PoolClosed("the device pool is closed; expected an open pool")
            self._queue.put(job)
            self._cond.notify_all()
        return job.future

    def measure(
        self,
        model: bytes | Path | str | Artifact,
        request: MeasureRequest | None = None,
        *,
        target: Target | None = None,
        validation: bytes | Path | str | Artifact | None = None,
        queue_timeout: float | None = None,
        timeout: float | None = None,
    ) -> Measurement:
        """Measure a model and wait for it (see `submit`)."""
        return self.submit(
            model, request, target=target, validation=validation, queue_timeout=queue_timeout,
            timeout=timeout,
        ).result()

    def status(self) -> list[DeviceStatus]:
        """Every device's state now."""
        now = time.monotonic()
        with self._cond:
            return [
                DeviceStatus(
                    name=d.spec.name, address=d.spec.address, labels=dict(d.spec.labels),
                    state=d.state, reason=d.reason,
                    next_try_s=max(d.next_probe - now, 0.0) if d.state in (DOWN, REFUSED) else None,
                    busy=d.job is not None, jobs_done=d.jobs_done, info=d.info,
                )
                for d in self._devices
            ]

    @property
    def serial(self) -> bool:
        """Whether every device is on loopback, sharing this machine's CPU with the host: then
        a measurement runs with the host idle, one at a time."""
        return all(d.spec.loopback for d in self._devices)

    def identity(self, target: Target, runtime: str) -> list[dict[str, Any]]:
        """What a cached measurement for `target` must match: the hardware and `runtime`
        version of every device that may take the target's jobs, and the provider (with its
        options) its devices-file entry names."""
        out = []
        with self._cond:
            for d in self._devices:
                if not target.accepts(d.spec.name, d.spec.labels):
                    continue
                info = d.info
                version = info.runtime(runtime) if info else None
                out.append({
                    "name": d.spec.name,
                    "hostname": info.hostname if info else d.spec.address,
                    "machine": info.machine if info else "",
                    "cpu": info.cpu_model if info else "",
                    "cores": info.cpu_count if info else 0,
                    "runtime": f"{version.name} {version.version}" if version else "",
                    "provider": [d.spec.provider, d.spec.provider_options],
                })
        return sorted(out, key=lambda d: d["name"])

    def wait_ready(self, timeout: float | None = None) -> list[DeviceStatus]:
        """Wait until every device has been probed once (alive or not); -> status()."""
        with self._cond:
            self._cond.wait_for(lambda: all(d.state != UNKNOWN for d in self._devices), timeout)
        return self.status()

    def takers(self, target: Target, runtime: str) -> list[DeviceStatus]:
        """The devices that may take jobs for `target` on `runtime`, as they are now."""
        key = JobKey(target, runtime)
        return [s for s, d in zip(self.status(), self._devices, strict=True) if key.accepts(d.spec)]

    def wait_alive(self, target: Target, runtime: str, timeout: float) -> bool:
        """Wait up to `timeout` s until a device that takes `target`'s jobs is alive."""
        key = JobKey(target, runtime)
        with self._cond:
            return self._cond.wait_for(
                lambda: any(d.state == ALIVE and key.accepts(d.spec) for d in self._devices),
                timeout,
            )

    def close(self) -> None:
        """Fail the jobs still queued (PoolClosed), let running ones finish, close channels."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            queued = self._queue.drain()
            self._cond.notify_all()
        for job in queued:
            _settle(job, error=PoolClosed("the device pool was closed before the job ran"))
        for device in self._devices:
            device.thread.join()
        self._watcher.join()
        for device in self._devices:
            device.client.close()

    def __enter__(self) -> DevicePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one worker per device -----------------------------------------------------------------

    def _serve(self, device: _Device) -> None:
        while True:
            with self._cond:
                job = self._next_job(device)
                if self._closed and job is None:
                    return
            if job is None:
                self._probe(device)
            else:
                self._run(device, job)

    def _next_job(self, device: _Device) -> Job | None:
        """Under the lock: the job this device runs next, or None when a probe is due."""
        while not self._closed:
            now = time.monotonic()
            if now >= device.next_probe:
                return None
            if device.state == ALIVE:
                job = self._queue.take(device.spec)
                if job is not None:
                    device.job = job
                    if self._said_waiting.pop(job.key, None) is not None:
                        log.warning("jobs for %s proceed on device %s", job.key, device.spec.name)
                    return job
            self._cond.wait(device.next_probe - now)
        return None

    def _probe(self, device: _Device) -> None:
        if device.state in (DOWN, REFUSED):
            device.client.reconnect()
        try:
            info = device.client.get_info()
        except (ProtocolMismatch, Unauthenticated) as error:
            self._mark_down(device, str(error), refused=True)
            return
        except LinasError as error:
            self._mark_down(device, str(error))
            return
        with self._cond:
            if device.state in (DOWN, REFUSED):
                log.warning("%s is back", device.spec.where)
            device.state, device.reason, device.info = ALIVE, "", info
            device.backoff = self.settings.retry_initial_s
            device.next_probe = time.monotonic() + self.settings.health_interval_s
            self._cond.notify_all()

    def _mark_down(self, device: _Device, reason: str, *, refused: bool = False) -> None:
        reason = reason.removeprefix(f"{device.spec.where}: ")
        with self._cond:
            wait = self.settings.retry_max_s if refused else device.backoff
            device.backoff = min(device.backoff * 2, self.settings.retry_max_s)
            changed = device.state not in (DOWN, REFUSED) or device.reason != reason
            device.state, device.reason = (REFUSED if refused else DOWN), reason
            device.next_probe = time.monotonic() + wait
            self._cond.notify_all()
        level = logging.ERROR if refused else logging.WARNING if changed else logging.INFO
        log.log(level, "device %s is %s: %s; next try in %.1f s",
                device.spec.name, device.state, reason, wait)

    def _run(self, device: _Device, job: Job) -> None:
        try:
            result = device.client.measure(
                job.model, job.request, validation=job.validation, timeout=job.timeout
            )
        except (DeviceUnavailable, Unauthenticated) as error:  # the device's fault, not the job's
            self._mark_down(device, str(error), refused=isinstance(error, Unauthenticated))
            self._lost(device, job, error)
            return
        except NoReply as error:  # a slow model, or a hung device: a probe tells which
            self._probe(device)
            if device.state != ALIVE:
                self._lost(device, job, error)
                return
            self._finish(device)
            _settle(job, error=error)
            return
        except Exception as error:  # the job's own outcome: the future carries it
            self._finish(device)
            _settle(job, error=error)
            return
        self._finish(device)
        _settle(job, result=result)

    def _finish(self, device: _Device) -> None:
        with self._cond:
            device.job = None
            device.jobs_done += 1
            device.next_probe = time.monotonic() + self.settings.health_interval_s
            self._cond.notify_all()

    def _lost(self, device: _Device, job: Job, error: LinasError) -> None:
        """A job whose device died under it: back to the head of its queue, or failed."""
        job.devices_lost.append(device.spec.name)
        with self._cond:
            device.job = None
            give_up = len(job.devices_lost) >= self.settings.max_device_losses or self._closed
            if not give_up:
                self._queue.put(job, front=True)
                self._cond.notify_all()
        if give_up and self._closed:
            _settle(job, error=PoolClosed(f"the device pool was closed after {error}"))
        elif give_up:
            _settle(job, error=DeviceUnavailable(
                f"the job for {job.key} lost its device {len(job.devices_lost)} times "
                f"({', '.join(job.devices_lost)}); last: {error}"
            ))
        else:
            log.warning("device %s was lost while measuring; the job goes back to the queue for %s",
                        device.spec.name, job.key)

    # -- the watcher: queue timeouts and "nothing can run this" messages -----------------------

    def _watch(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                expired = self._queue.expire(now)
                self._say_waiting(now)
                if expired:
                    self._cond.release()
                    try:
                        for job in expired:
                            _settle(job, error=QueueTimeout(
                                f"the job for {job.key} waited {job.queue_timeout:g} s and no "
                                "device took it; expected a live device of that key sooner"
                            ))
                    finally:
                        self._cond.acquire()
                self._cond.wait(0.25)

    def _say_waiting(self, now: float) -> None:
        """Under the lock: log each key whose jobs wait with no live device to take them."""
        waiting = dict(self._queue.waiting())
        for key in list(self._said_waiting):
            if key not in waiting:
                del self._said_waiting[key]
        for key, count in waiting.items():
            devices = [d for d in self._devices if key.accepts(d.spec)]
            if any(d.state in (ALIVE, UNKNOWN) for d in devices):
                continue
            last = self._said_waiting.get(key)
            if last is not None and now - last < self.settings.retry_max_s:
                continue
            self._said_waiting[key] = now
            down = "; ".join(
                f"{d.spec.name} ({d.spec.address}) {d.state}: {d.reason}; "
                f"next try in {max(d.next_probe - now, 0.0):.1f} s"
                for d in devices
            )
            log.warning("%d job(s) wait for %s: no live device. %s. They run when one answers.",
                        count, key, down)


def _settle(job: Job, *, result: Measurement | None = None, error: BaseException | None = None):
    """Resolve a job's future once (a caller may have cancelled it meanwhile)."""
    if job.future.done():
        return
    if error is None:
        job.future.set_result(result)
    else:
        job.future.set_exception(error)
