"""One measurement job as the agent hands it to its worker: plain data, sent as JSON.

The job names files by the paths the artifact store chose (content hashes), never by anything
a client sent, and carries the validated settings. JSON, not pickle, crosses the pipe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from linas_sdk.measurement import MeasureSettings, TensorSpec

METRICS = ("", "top1", "outputs")
"""No validation pass, top-1 accuracy against labels "y", or the first output returned."""


@dataclass(frozen=True, kw_only=True)
class Job:
    model_path: str
    runtime: str
    provider: str = ""
    inputs: tuple[TensorSpec, ...] = ()
    threads: int = 0
    cpu_affinity: tuple[int, ...] = ()
    settings: MeasureSettings = field(default_factory=MeasureSettings)
    validation_path: str = ""
    metric: str = ""
    result_dir: str = ""
    memory_limit_bytes: int = 0  # address space the model may add; 0 = no limit
    fault: str = ""  # test-only fault to inject in the model process (see child.py)

    def to_json(self) -> str:
        return json.dumps({
            **{k: getattr(self, k) for k in (
                "model_path", "runtime", "provider", "threads", "validation_path", "metric",
                "result_dir", "memory_limit_bytes", "fault")},
            "inputs": [[s.name, list(s.shape), s.dtype] for s in self.inputs],
            "cpu_affinity": list(self.cpu_affinity),
            "settings": self.settings.to_dict(),
        })  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        data["inputs"] = tuple(TensorSpec(n, tuple(s), d) for n, s, d in data["inputs"])
        data["cpu_affinity"] = tuple(data["cpu_affinity"])
        data["settings"] = MeasureSettings(**data["settings"])
        return cls(**data)
