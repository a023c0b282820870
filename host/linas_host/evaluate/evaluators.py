"""Evaluators turn configs into measured records: a replayed table, or any function. Boards are
measured by `linas_host.evaluate.supernet.SupernetEvaluator`, which subclasses `Evaluator`.

A record is a JSON-safe dict: the measured values (objectives and constraints read their
``source`` keys from it) plus whatever identifies the measurement (``device``, a table ``row``).
A config that could not be measured (the model failed on the device, a timeout) yields a record
with an ``error`` key; the run counts it (the board's time was spent) and tells it as infeasible.

``stream(configs)`` yields ``(position, record)`` as each result arrives, so the runner can
journal every evaluation at once; ``evaluate(configs)`` is the same as a list in input order.
Subclasses implement ``_stream`` (or only ``_evaluate_one``) and may refuse a problem in
``_check``, which the runner calls before anything is measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from linas_sdk.errors import InvalidArgument, LinasError
from linas_sdk.objectives import Constraint, Objective
from linas_sdk.space import SearchSpace


class Evaluator:
    name = "evaluator"

    def check(
        self,
        space: SearchSpace,
        objectives: Sequence[Objective],
        constraints: Sequence[Constraint] = (),
    ) -> None:
        """Raise InvalidArgument if this evaluator cannot serve the problem (unknown columns...)."""
        self._check(space, tuple(objectives), tuple(constraints))

    def stream(self, configs: Sequence[Mapping]) -> Iterator[tuple[int, dict]]:
        for position, record in self._stream(list(configs)):
            yield position, dict(record)

    def evaluate(self, configs: Sequence[Mapping]) -> list[dict]:
        out: list[dict] = [{}] * len(configs)
        for position, record in self.stream(configs):
            out[position] = record
        return out

    def _check(self, space, objectives, constraints) -> None:
        pass

    def _stream(self, configs: list[Mapping]) -> Iterator[tuple[int, Mapping]]:
        for position, config in enumerate(configs):
            yield position, self._evaluate_one(config)

    def _evaluate_one(self, config: Mapping) -> Mapping:
        raise NotImplementedError


def failure_record(error: BaseException, **extra: Any) -> dict:
    return {"error": str(error), "error_type": type(error).__name__, **extra}


class TableEvaluator(Evaluator):
    """Replays measurements from a table instead of measuring: each config is looked up in its
    row, and the row's values (plus ``row``, the 0-based data-row number) are the record."""

    name = "table-replay"

    def __init__(self, table, variables: Sequence[str] | None = None) -> None:
        from linas_host.evaluate.table import MeasuredTable

        if isinstance(table, MeasuredTable):
            self.table = table
        else:
            if variables is None:
                raise InvalidArgument("a table path needs its variable columns (variables=...)")
            self.table = MeasuredTable.load(table, variables)

    @property
    def space(self) -> SearchSpace:
        return self.table.space

    def _check(self, space, objectives, constraints) -> None:
        table = self.table.space
        if set(space.names) != set(table.names):
            raise InvalidArgument(
                f"the search space's variables {list(space.names)} are not the table's "
                f"variable columns {list(table.names)}"
            )
        for var in space.variables:
            missing = set(var.choices) - set(table[var.name].choices)
            if missing:
                raise InvalidArgument(
                    f"variable {var.name!r} has choices {sorted(map(str, missing))} that the "
                    f"table never holds (its values: {list(table[var.name].choices)})"
                )
        self.table.check(objectives, constraints)

    def _evaluate_one(self, config: Mapping) -> Mapping:
        return self.table.record(self.table.row_of(dict(config)))


class CallableEvaluator(Evaluator):
    """Any Python callable ``config -> dict`` of measured values. Errors of type ``failures``
    (default: every linas error) become failed evaluations; any other error stops the run."""

    name = "callable"

    def __init__(
        self,
        function: Callable[[dict], Mapping],
        *,
        failures: tuple[type[BaseException], ...] = (LinasError,),
    ) -> None:
        if not callable(function):
            raise InvalidArgument(f"CallableEvaluator needs a callable, got {function!r}")
        self.function = function
        self.failures = failures

    def _evaluate_one(self, config: Mapping) -> Mapping:
        try:
            record = self.function(dict(config))
        except self.failures as error:
            return failure_record(error)
        if not isinstance(record, Mapping):
            raise InvalidArgument(
                f"the evaluation function returned {record!r}; expected a dict of measured values"
            )
        return record
