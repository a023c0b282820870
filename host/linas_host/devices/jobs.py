"""Measurement jobs and the queues they wait in, one FIFO queue per device key.

A job asks for a device by name, by labels, or for any device, and for one runtime; that
request is its *key* (as in TVM's tracker, where a key names a kind of device). A free device
takes the oldest job among the keys it satisfies. A job whose device died goes back to the
head of its queue, keeping its age, so it is the next one a same-key device takes.

Not thread-safe on its own: the pool calls it under its lock.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from linas_host.devices.client import Artifact
from linas_host.devices.config import DeviceSpec


@dataclass(frozen=True)
class JobKey:
    """Which devices may run a job: by name, by labels (all must match) and by runtime."""

    runtime: str
    device: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, runtime: str, device: str | None, labels: Mapping[str, str] | None) -> JobKey:
        pairs = sorted((str(k), str(v)) for k, v in (labels or {}).items())
        return cls(runtime, device, tuple(pairs))

    def accepts(self, spec: DeviceSpec) -> bool:
        if spec.runtime not in (None, self.runtime):
            return False
        return spec.matches(name=self.device, labels=dict(self.labels))

    def __str__(self) -> str:
        parts = [f"device {self.device}"] if self.device else []
        if self.labels:
            parts.append("labels " + ",".join(f"{k}={v}" for k, v in self.labels))
        return " and ".join(parts or ["any device"]) + f" (runtime {self.runtime})"


_sequence = itertools.count()


@dataclass(eq=False)
class Job:
    """One model to measure, its future, and its progress through the pool."""

    key: JobKey
    model: Artifact
    validation: Artifact | None
    options: dict[str, Any]
    """Keyword arguments for AgentClient.measure (runtime, provider, settings, timeout...)."""
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
