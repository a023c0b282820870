"""What a client asks to have measured, and the job the agent hands its worker for it: plain
data, sent to the worker as JSON.

A job is the request plus what the agent resolved for it: the files the artifact store holds
for its hashes (named by content hash, never by anything a client sent), where the result
goes, and the agent's own limits. JSON, not pickle, crosses the pipe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from linas_sdk.measurement import MeasureSettings, TensorSpec

METRICS = ("", "top1", "outputs")
"""No validation pass, top-1 accuracy against labels "y", or the first output returned."""


@dataclass(frozen=True, kw_only=True)
class MeasureRequest:
    """What a client asks to have measured (see MeasureRequest in agent.proto)."""

    model_sha256: str
    runtime: str
    provider: str = ""
    inputs: tuple[TensorSpec, ...] = ()
    threads: int = 0
    cpu_affinity: tuple[int, ...] = ()
    settings: MeasureSettings = field(default_factory=MeasureSettings)
    validation_sha256: str = ""
    metric: str = ""

    def to_dict(self) -> dict:
        return {
            **{k: getattr(self, k) for k in (
                "model_sha256", "runtime", "provider", "threads", "validation_sha256", "metric")},
            "inputs": [[s.name, list(s.shape), s.dtype] for s in self.inputs],
            "cpu_affinity": list(self.cpu_affinity),
            "settings": self.settings.to_dict(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> MeasureRequest:
        return cls(**{
            **data,
            "inputs": tuple(TensorSpec(n, tuple(s), d) for n, s, d in data["inputs"]),
            "cpu_affinity": tuple(data["cpu_affinity"]),
            "settings": MeasureSettings(**data["settings"]),
        })  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Job:
    """A request as the worker runs it, with the files its hashes resolved to."""

    request: MeasureRequest
    model_path: str
    validation_path: str = ""
    result_dir: str = ""
    memory_limit_bytes: int = 0  # address space the model may add; 0 = no limit
    fault: str = ""  # test-only fault to inject in the model process (see child.py)

    def to_json(self) -> str:
        return json.dumps({
            "request": self.request.to_dict(),
            **{k: getattr(self, k) for k in (
                "model_path", "validation_path", "result_dir", "memory_limit_bytes", "fault")},
        })  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(**{**data, "request": MeasureRequest.from_dict(data["request"])})
