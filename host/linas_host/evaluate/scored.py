"""A candidate's quality scored on the host by the runtime of its exported file: the file whose
sha256 the record carries, run the way the board runs it (`linas_sdk.scoring`), batched where
the graph allows and on the run's threads. PyTorch scores a sub-network only where no file can
be scored: a supernet that gives no validation arrays."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

from linas_host.supernets.protocol import ScoredOnDevice, ScoresOutputs
from linas_sdk import scoring
from linas_sdk.runtimes import RUNTIMES, Runtime


@functools.cache
def runtime(name: str) -> Runtime:
    """The runtime `name`, imported once per process."""
    return RUNTIMES[name]()


class FileScorer:
    """Scores exported files of `supernet`'s sub-networks on its validation set (the first
    `limit` samples), one set per input shape, made once per process."""

    def __init__(self, supernet: ScoredOnDevice, limit: int | None) -> None:
        self.supernet, self.limit = supernet, limit
        self._sets: dict[tuple, dict[str, np.ndarray]] = {}

    def __getstate__(self) -> dict:  # shipped to a Ray worker without the sets made here
        return {"supernet": self.supernet, "limit": self.limit, "_sets": {}}

    def arrays(self, config: Mapping) -> dict[str, np.ndarray]:
        shape = tuple(tuple(t.shape[1:]) for t in self.supernet.example_input(dict(config)))
        if shape not in self._sets:
            self._sets[shape] = self.supernet.validation_arrays(self.limit, dict(config))
        return self._sets[shape]

    def __call__(self, model: bytes, runtime_name: str, config: Mapping,
                 threads: int) -> dict[str, float]:
        """The file's scores: ``accuracy`` (top-1) or, for a supernet that scores outputs,
        what its `score_outputs` gives (``bleu``)."""
        engine = runtime(runtime_name)
        session = engine.load(model, provider=engine.info().providers[0], options={},
                              threads=threads, inputs=())
        outputs_scored = isinstance(self.supernet, ScoresOutputs)
        accuracy, outputs = scoring.run_validation(
            session, self.arrays(config), "outputs" if outputs_scored else "top1")
        if outputs_scored:
            return self.supernet.score_outputs(outputs, limit=self.limit)
        return {"accuracy": float(accuracy)}
