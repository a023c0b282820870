"""Progress of a search that a person can follow, or a CI log can parse.

Three reporters share one interface (`start`, `update`, `note`, `finish`):

- ``rich``: a live panel with a bar (evaluations done / budget, elapsed, ETA), the current
  hypervolume, each objective's predictor quality (cross-validated Kendall tau and MAPE from
  LINAS' diagnostics) and the best trade-offs so far;
- ``quiet``: nothing but notes and the closing line;
- ``jsonl``: one JSON object per event on its own line (``{"event": "update", ...}``).
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any, TextIO

MODES = ("rich", "quiet", "jsonl")
FRONT_ROWS = 6


class Reporter:
    """Receives a search's events; the base class records them and shows nothing."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.budget = 0
        self.objectives: list[tuple[str, str]] = []
        self.started = time.monotonic()
        self.log: Any = None
        """A `RunLog` that keeps every note too, when the run has one."""

    def start(
        self, *, budget: int, done: int, objectives: list[tuple[str, str]], out: str,
        devices: list[str],
    ) -> None:
        """A search begins: `objectives` are (name, "min"|"max"), `done` evaluations resumed."""
        self.budget, self.objectives, self.started = budget, objectives, time.monotonic()
        self._start(budget=budget, done=done, out=out, devices=devices)

    def update(
        self, *, done: int, hypervolume: float | None, front: list[dict[str, float]],
        predictors: dict[str, dict[str, float]] | None = None, iteration: int | None = None,
    ) -> None:
        """Evaluations done so far, the current hypervolume and measured front (objective
        values per architecture), and per objective the predictor's CV quality."""
        self._update(done=done, hypervolume=hypervolume, front=front,
                     predictors=predictors or {}, iteration=iteration)

    def note(self, text: str) -> None:
        """A line worth telling (a device joined, a cache hit count, a warning)."""
        if self.log is not None:
            self.log.write(text)
        self._note(text)

    def finish(self, *, done: int, hypervolume: float | None, out: str) -> None:
        self._finish(done=done, hypervolume=hypervolume, out=out)

    def close(self) -> None:
        """Stop any live display (a run that ends with an error never reaches `finish`)."""

    def _start(self, **event: Any) -> None:
        pass

    def _update(self, **event: Any) -> None:
        pass

    def _note(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _finish(self, **event: Any) -> None:
        print(f"search finished: {event['done']} evaluations, report in {event['out']}",
              file=self.stream, flush=True)


class QuietReporter(Reporter):
    """Notes and the closing line only."""


class JsonlReporter(Reporter):
    """One JSON object per event, for CI logs and scripts."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stdout)

    def _emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "elapsed_s": round(time.monotonic() - self.started, 3), **fields}
        print(json.dumps(record, default=_plain), file=self.stream, flush=True)

    def _start(self, **event: Any) -> None:
        self._emit("start", objectives=[n for n, _ in self.objectives], **event)

    def _update(self, **event: Any) -> None:
        self._emit("update", budget=self.budget, **event)

    def _note(self, text: str) -> None:
        self._emit("note", text=text)

    def _finish(self, **event: Any) -> None:
        self._emit("finish", **event)


class RichReporter(Reporter):
    """A live panel: bar, hypervolume, predictor quality, best trade-offs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console

        super().__init__(stream)
        self.console = Console(file=self.stream)
        self.live: Any = None

    def _start(self, **event: Any) -> None:
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("evaluations"), BarColumn(), MofNCompleteColumn(),
            TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console,
        )
        self.task = self.bar.add_task("search", total=event["budget"], completed=event["done"])
        self.last: dict[str, Any] = {"hypervolume": None, "front": [], "predictors": {}}
        self.console.print(
            f"linas search: budget {event['budget']}, objectives "
            + ", ".join(f"{n} ({d})" for n, d in self.objectives)
            + f", devices {', '.join(event['devices']) or '-'}; writing to {event['out']}"
        )
        self.live = Live(self._render(), console=self.console, refresh_per_second=2)
        self.live.start()

    def _update(self, **event: Any) -> None:
        self.last = event
        self.bar.update(self.task, completed=event["done"])
        self.live.update(self._render())

    def _note(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
            if not self.console.is_terminal:
                self.console.line()  # a live display on a pipe ends without a newline

    def _finish(self, **event: Any) -> None:
        if self.live is not None:  # a run closes the panel when its devices close
            self.last = {**self.last, "hypervolume": event["hypervolume"]}
            self.bar.update(self.task, completed=event["done"])
            self.live.update(self._render())
            self.close()
        self.console.print(
            f"search finished: {event['done']} evaluations, report in {event['out']}",
            markup=False, highlight=False,
        )

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        hv = self.last.get("hypervolume")
        iteration = self.last.get("iteration")
        head = f"hypervolume {_fmt(hv)}"
        if iteration is not None:
            head += f"   iteration {iteration}"
        parts: list[Any] = [self.bar, head]
        predictors = self.last.get("predictors") or {}
        if predictors:
            table = Table(title="predictor quality (k-fold CV)", title_justify="left")
            for column in ("objective", "model", "Kendall tau", "MAPE"):
                table.add_column(column)
            for name, quality in predictors.items():
                table.add_row(name, str(quality.get("model", "")), _fmt(quality.get("tau")),
                              _fmt(quality.get("mape"), percent=True))
            parts.append(table)
        front = self.last.get("front") or []
        if front and self.objectives:
            table = Table(title=f"best trade-offs so far ({len(front)} on the front)",
                          title_justify="left")
            for name, direction in self.objectives:
                table.add_column(f"{name} ({direction})", justify="right")
            first, direction = self.objectives[0]
            ordered = sorted(front, key=lambda r: r[first], reverse=direction == "max")
            for row in _spread(ordered, FRONT_ROWS):
                table.add_row(*(_fmt(row[n]) for n, _ in self.objectives))
            parts.append(table)
        return Group(*parts)


def make_reporter(mode: str = "rich", stream: TextIO | None = None) -> Reporter:
    """The reporter for `mode` (one of MODES)."""
    from linas_sdk.errors import InvalidArgument

    reporters = {"rich": RichReporter, "quiet": QuietReporter, "jsonl": JsonlReporter}
    if mode not in reporters:
        raise InvalidArgument(f"progress mode {mode!r}: expected one of {', '.join(MODES)}")
    return reporters[mode](stream)


def _spread(rows: list[dict], count: int) -> list[dict]:
    """At most `count` rows evenly spread along `rows` (both ends kept)."""
    if len(rows) <= count:
        return rows
    step = (len(rows) - 1) / (count - 1)
    return [rows[round(i * step)] for i in range(count)]


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if percent:
        return f"{100 * value:.1f}%"
    return f"{value:.4g}"


def _plain(value: Any) -> Any:
    """numpy scalars and arrays in events -> JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
