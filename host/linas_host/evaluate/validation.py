"""The validation sets a board scores sub-networks on: `.npz` artifacts made from the supernet's
`validation_arrays`, one per input shape (a supernet whose resolution is searched has one per
resolution), each made and hashed once, so the pool uploads each distinct set once."""

from __future__ import annotations

from collections.abc import Mapping

from linas_host.devices import Artifact
from linas_host.export.validation import validation_npz
from linas_host.supernets.protocol import ScoredOnDevice


class ValidationSets:
    """config -> the validation `Artifact` for the sub-network at that config."""

    def __init__(self, supernet: ScoredOnDevice, limit: int | None = None) -> None:
        self.supernet, self.limit = supernet, limit
        self._sets: dict[tuple, Artifact] = {}

    def __call__(self, config: Mapping) -> Artifact:
        shape = tuple(tuple(t.shape[1:]) for t in self.supernet.example_input(dict(config)))
        if shape not in self._sets:
            arrays = self.supernet.validation_arrays(self.limit, dict(config))
            self._sets[shape] = Artifact.of(validation_npz(arrays))
        return self._sets[shape]
