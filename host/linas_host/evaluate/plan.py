"""How a search measures its candidates: one object for everything the evaluator needs to know
besides the objectives.

``request`` is what every board measurement runs as (runtime, provider, threads, timing
settings); ``accuracy_on`` says where quality scores are taken: on the ``host`` (the default)
or on the ``device`` that runs the exported file; ``accuracy_limit`` caps the validation
samples either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from linas_sdk.errors import InvalidArgument
from linas_sdk.measurement import MeasureRequest
from linas_sdk.metrics import DEVICE_METRICS, SCORES
from linas_sdk.objectives import Objective
from linas_sdk.target import Target

PLACES = ("host", "device")


@dataclass(frozen=True)
class MeasurementPlan:
    request: MeasureRequest = field(default_factory=lambda: MeasureRequest(runtime="onnxruntime"))
    accuracy_on: str = "host"
    accuracy_limit: int | None = None

    def __post_init__(self) -> None:
        if self.request.runtime is None:
            raise InvalidArgument("a measurement plan's request names its runtime; got None")
        if self.accuracy_on not in PLACES:
            raise InvalidArgument(
                f"accuracy_on must be one of {list(PLACES)}, got {self.accuracy_on!r}")
        if self.accuracy_limit is not None and self.accuracy_limit < 1:
            raise InvalidArgument(
                f"accuracy_limit must be a positive number of samples, got {self.accuracy_limit}")

    @property
    def runtime(self) -> str:
        return str(self.request.runtime)

    def scored_on_device(self, objectives: Sequence[Objective]) -> bool:
        """Whether a quality score among `objectives` is taken on a board."""
        return self.accuracy_on == "device" and any(o.metric in SCORES for o in objectives)

    def targets(self, objectives: Sequence[Objective]) -> list[Target]:
        """The targets a candidate is measured on, in order, each once; a score taken on the
        device goes with the first (any device when no objective names a board's metric)."""
        targets = list(dict.fromkeys(o.target for o in objectives if o.metric in DEVICE_METRICS))
        if self.scored_on_device(objectives) and not targets:
            targets = [Target()]
        return targets

    def identity(self) -> dict[str, Any]:
        """What a cached measurement must have been measured with (with the device's own)."""
        request = self.request
        return {"runtime": request.runtime, "provider": request.provider or "",
                "provider_options": dict(request.provider_options), "threads": request.threads,
                "settings": dataclasses.asdict(request.settings)}
