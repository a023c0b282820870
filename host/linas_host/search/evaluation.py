"""One counted evaluation: what was measured, for which architecture, when and where."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Evaluation:
    """``index``: 0-based position among the run's counted evaluations. ``values``: objective
    name -> natural value (empty when the measurement failed). ``F``/``G``: the minimised
    objective vector and constraint violations the method was told (+inf when failed).
    ``record``: the raw measured record. ``device``: the boards that measured it; ``host``: the
    node that did its host work (extract, score, export). ``iteration``: the ask that proposed
    it (1-based)."""

    index: int
    key: str
    config: dict
    values: dict
    F: tuple
    G: tuple
    record: dict
    device: str = ""
    host: str = ""
    iteration: int = 0
    time: float = 0.0
    hypervolume: float | None = None

    @property
    def failed(self) -> bool:
        return "error" in self.record

    @property
    def feasible(self) -> bool:
        return not self.failed and all(g <= 0 for g in self.G) and all(
            math.isfinite(f) for f in self.F
        )
