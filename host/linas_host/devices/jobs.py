"""Measurement jobs and the queues they wait in, one FIFO queue per device key.

A job asks for a device by name, by labels, or for any device (its `Target`), and for one
runtime; that pair is its *key* (as in TVM's tracker, where a key names a kind of device). A
free device takes the oldest job among the keys it satisfies. A job whose device died goes back
to the head of its queue, keeping its age, so it is the next one a same-key device takes.

Not thread-safe on its own: the pool calls it under its lock.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field

from linas_host.devices.client import Artifact
from linas_host.devices.config import DeviceSpec
from linas_sdk.measurement import MeasureRequest
from linas_sdk.target import Target


@dataclass(frozen=True)
class JobKey:
    """Which devices may run a job: those its target accepts that take its runtime."""

    target: Target
    runtime: str

    def accepts(self, spec: DeviceSpec) -> bool:
        return spec.runtime in (None, self.runtime) and self.target.accepts(spec.name, spec.labels)

    def __str__(self) -> str:
        """As log lines name it: ``labels board=pi5 (runtime onnxruntime)``."""
        kind = "device " if self.target.device else "labels " if self.target.labels else ""
        where = f"{kind}{self.target}" if kind else "any device"
        return f"{where} (runtime {self.runtime})"


_sequence = itertools.count()


@dataclass(eq=False)
class Job:
    """One model to measure, its future, and its progress through the pool."""

    key: JobKey
    model: Artifact
    validation: Artifact | None
    request: MeasureRequest
    """With the choices left to the client made (runtime, metric), as the key needs them."""
    timeout: float | None
    """Bounds the Measure call (None: the device's measure_s)."""
    queue_timeout: float | None
    future: Future = field(default_factory=Future)
    seq: int = field(default_factory=lambda: next(_sequence))
    queued_at: float = field(default_factory=time.monotonic)
    started: bool = False
    devices_lost: list[str] = field(default_factory=list)
    """Devices that died while running this job, in order."""

    @property
    def queue_deadline(self) -> float | None:
        return None if self.queue_timeout is None else self.queued_at + self.queue_timeout


class JobQueue:
    """FIFO queues of jobs, one per key."""

    def __init__(self) -> None:
        self._queues: dict[JobKey, deque[Job]] = {}

    def put(self, job: Job, *, front: bool = False) -> None:
        """Queue a job; `front` puts a job that lost its device back at the head."""
        job.queued_at = time.monotonic()
        queue = self._queues.setdefault(job.key, deque())
        queue.appendleft(job) if front else queue.append(job)

    def take(self, spec: DeviceSpec) -> Job | None:
        """The oldest job this device may run, removed from its queue (cancelled jobs are
        dropped on the way); None when there is none."""
        while True:
            heads = [q for key, q in self._queues.items() if q and key.accepts(spec)]
            if not heads:
                return None
            queue = min(heads, key=lambda q: q[0].seq)
            job = queue.popleft()
            if job.started or job.future.set_running_or_notify_cancel():
                job.started = True
                return job

    def expire(self, now: float) -> list[Job]:
        """Remove and return the jobs that have waited past their queue timeout."""
        expired = []
        for queue in self._queues.values():
            late = [j for j in queue if j.queue_deadline is not None and j.queue_deadline <= now]
            for job in late:
                queue.remove(job)
            expired.extend(late)
        return expired

    def waiting(self) -> Iterator[tuple[JobKey, int]]:
        """Each key with jobs waiting, and how many."""
        return ((key, len(queue)) for key, queue in self._queues.items() if queue)

    def drain(self) -> list[Job]:
        """Remove and return every queued job."""
        jobs = [job for queue in self._queues.values() for job in queue]
        self._queues.clear()
        return jobs

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._queues.values())
