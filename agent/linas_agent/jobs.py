"""The job the agent hands its worker for one measurement: plain data, sent as JSON.

A job is the client's request (`linas_sdk.measurement.MeasureRequest`) plus what the agent
resolved for it: the files the artifact store holds for its hashes (named by content hash,
never by anything a client sent), where the result goes, and the agent's own limits. JSON, not
pickle, crosses the pipe.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from linas_sdk.measurement import MeasureRequest


@dataclass(frozen=True, kw_only=True)
class Job:
    """A request as the worker runs it, with the files its hashes resolved to."""

    request: MeasureRequest
    model_path: str
    validation_path: str = ""
    result_dir: str = ""
    memory_limit_bytes: int = 0  # address space the model may add; 0 = no limit
    cpu_limit_seconds: int = 0  # CPU seconds the model process may use; 0 = see cpu_seconds

    def to_json(self) -> str:
        return json.dumps({
            "request": self.request.to_dict(),
            **{k: getattr(self, k) for k in (
                "model_path", "validation_path", "result_dir", "memory_limit_bytes",
                "cpu_limit_seconds")},
        })  # fmt: skip

    def cpu_seconds(self, cpus: int) -> int:
        """The model process's CPU-time limit on `cpus` CPUs, in the whole seconds RLIMIT_CPU
        counts: what its wall-clock timeout lets them use (timeout_seconds x cpus, rounded up),
        capped by the agent's own `cpu_limit_seconds`."""
        allowed = max(1, math.ceil(self.request.settings.timeout_seconds * cpus))
        return min(allowed, self.cpu_limit_seconds) if self.cpu_limit_seconds else allowed

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(**{**data, "request": MeasureRequest.from_dict(data["request"])})
