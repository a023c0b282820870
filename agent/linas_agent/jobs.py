"""The job the agent hands its worker for one measurement: plain data, sent as JSON.

A job is the client's request (`linas_sdk.measurement.MeasureRequest`) plus what the agent
resolved for it: the files the artifact store holds for its hashes (named by content hash,
never by anything a client sent), where the result goes, and the agent's own limits. JSON, not
pickle, crosses the pipe.
"""

from __future__ import annotations

import json
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
