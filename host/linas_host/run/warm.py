"""A warm start (`warm_start:`, `linas search --warm-start RUN_DIR`): a finished run on another
board becomes a `Prior` of this one (`linas_host.search.prior`).

The previous run must have searched the same space on the same data with the same weights and
candidate files (precision, format): otherwise its accuracies are not this search's, and it is
refused with the difference named. Its objectives that do not depend on the board (accuracy,
BLEU, MACs, parameters; in a table, a column both runs name) are reused for every architecture
it measured: `ReusingEvaluator` fills them in and only the new board's objectives are measured.
Its other objectives (the old board's latency or energy) become a feature of LINAS's
predictors for the new board's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from linas_host.config.layout import RunDirectory
from linas_host.config.schema import ConfigError, SearchConfig, load_saved
from linas_host.evaluate.evaluators import Evaluator
from linas_host.search.evaluation import Evaluation
from linas_host.search.journal import SQLiteJournal
from linas_host.search.prior import Prior
from linas_sdk.metrics import DEVICE_METRICS
from linas_sdk.objectives import Objective
from linas_sdk.space import SearchSpace


def board_independent(objective: Objective) -> bool:
    """Whether an objective's value is the same on every board: a score, MACs or parameters,
    or a table column (a column named in both runs is the same measurement)."""
    return objective.metric not in DEVICE_METRICS


def table_prior(evaluations: Sequence[Evaluation], space: SearchSpace, *,
                objectives: Sequence[Objective], previous: Sequence[Objective],
                source: str) -> Prior:
    """The prior of a previous run's ``evaluations`` (made on ``previous`` objectives) for a
    search on ``objectives``: a previous objective of the same name that does not depend on
    the board is reused; the previous objectives this search lacks are the old board's."""
    reused = {o.name for o in previous if board_independent(o)}
    names = [o.name for o in objectives]
    board = [o for o in previous if o.name not in names]
    rows = [e for e in evaluations if not e.failed]
    X = np.array([space.encode(e.config) for e in rows], dtype=np.int64).reshape(
        len(rows), len(space))
    known = np.array([[o.sign * e.values[o.name] if o.name in reused else np.nan
                       for o in objectives] for e in rows], dtype=float).reshape(len(rows), -1)
    values = np.array([[o.sign * e.values[o.name] for o in board] for e in rows],
                      dtype=float).reshape(len(rows), -1)
    return Prior(X, known, values, tuple(names), tuple(o.name for o in board),
                 tuple(e.key for e in rows), source=source)


def run_prior(run_dir: str | Path, config: SearchConfig, space: SearchSpace,
              objectives: Sequence[Objective]) -> Prior:
    """The prior of the finished run in ``run_dir`` for a search of ``config``, or ConfigError
    naming what differs (space, data, weights, candidate files) or what is missing."""
    previous_dir = RunDirectory(Path(run_dir))
    previous_dir.check()
    before = load_saved(previous_dir.config)
    differences = _differences(before, config)
    if differences:
        lines = "\n".join(f"  - {what}: {was!r} there, {now!r} here"
                          for what, was, now in differences)
        raise ConfigError(
            f"cannot warm-start from {previous_dir.root}: it searched another problem, so its "
            f"figures are not this search's:\n{lines}\nExpected a run on the same space, data "
            "and weights, on another board")
    with SQLiteJournal(previous_dir.journal) as journal:
        meta = journal.meta() or {}
        evaluations = journal.evaluations()
    if meta.get("space_fingerprint") != space.fingerprint():
        raise ConfigError(
            f"cannot warm-start from {previous_dir.root}: its journal's search space (fingerprint "
            f"{meta.get('space_fingerprint')}) is not this search's ({space.fingerprint()})")
    previous = [o.objective() for o in before.objectives]
    prior = table_prior(evaluations, space, objectives=objectives, previous=previous,
                        source=str(previous_dir.root))
    if not prior.reused:
        raise ConfigError(
            f"cannot warm-start from {previous_dir.root}: none of its objectives "
            f"({[o.name for o in previous]}) is a board-independent objective of this search "
            f"({[o.name for o in objectives]}); expected a shared accuracy, BLEU, MACs or "
            "parameters objective of the same name")
    return prior


def _differences(before: SearchConfig, after: SearchConfig) -> list[tuple[str, Any, Any]]:
    """(what, there, here) for each setting that makes the previous run's figures another
    problem's: the space (supernet and its options, or table, variables and cell), the data,
    the weights (their sha256 when a manifest has one) and the candidate files."""
    out = []
    space_before, space_after = _space(before), _space(after)
    for key in sorted(space_before.keys() | space_after.keys()):
        if space_before.get(key) != space_after.get(key):
            out.append((f"space.{key}", space_before.get(key), space_after.get(key)))
    data_before = before.data.model_dump(mode="json") if before.data else None
    data_after = after.data.model_dump(mode="json") if after.data else None
    if data_before != data_after:
        out.append(("data", data_before, data_after))
    if _weights(before) != _weights(after):
        out.append(("weights", _weights(before), _weights(after)))
    for field in ("precision", "quantization"):
        was, now = getattr(before, field), getattr(after, field)
        if was != now:
            out.append((field, was if isinstance(was, str) else was.model_dump(),
                        now if isinstance(now, str) else now.model_dump()))
    if before.format.name != after.format.name:
        out.append(("format (the runtime's candidate files)", before.format.name,
                    after.format.name))
    return out


def _space(config: SearchConfig) -> dict[str, Any]:
    """The space's settings by name, its options one by one; the weights apart (`_weights`)."""
    data = config.space.model_dump(mode="json", exclude_none=True)
    options = {k: v for k, v in data.pop("options", {}).items() if k != "weights"}
    return {**data, **{f"options.{k}": v for k, v in options.items()}}


def _weights(config: SearchConfig) -> str | None:
    """The weights' sha256 from their manifest (else their path); None: the supernet's own."""
    weights = config.space.options.get("weights")
    if weights is None:
        return None
    manifest = Path(weights).with_suffix(".json")
    if manifest.is_file():
        return json.loads(manifest.read_text()).get("sha256", str(weights))
    return str(weights)


class ReusingEvaluator(Evaluator):
    """Measures an architecture the prior knows with ``board_only`` (an evaluator of the new
    board's objectives alone) and fills in its reused values; any other with ``evaluator``.
    The record names what it reused (``reused``)."""

    def __init__(self, evaluator: Evaluator, prior: Prior, space: SearchSpace,
                 board_only: Evaluator | None = None) -> None:
        self.evaluator, self.board_only = evaluator, board_only or evaluator
        self.name = evaluator.name
        self.space, self.prior = space, prior
        self.known: dict[str, dict[str, float]] = {}

    def _check(self, space, objectives, constraints) -> None:
        self.evaluator.check(space, objectives, constraints)
        reused = [objectives[j] for j in self.prior.reused]
        self.known = {  # natural values by record key
            key: {o.source: o.sign * float(row[j]) for o, j in zip(
                reused, self.prior.reused, strict=True)}
            for key, row in zip(self.prior.keys, self.prior.known, strict=True)
        }

    def _stream(self, configs: list[Mapping]) -> Iterator[tuple[int, Mapping]]:
        keys = [self.space.key(c) for c in configs]
        known = [p for p, k in enumerate(keys) if k in self.known]
        fresh = [p for p, k in enumerate(keys) if k not in self.known]
        for position, record in self.evaluator.stream([configs[p] for p in fresh]):
            yield fresh[position], record
        for position, record in self.board_only.stream([configs[p] for p in known]):
            p = known[position]
            values = self.known[keys[p]]
            yield p, record if "error" in record else {**record, **values,
                                                       "reused": sorted(values)}
