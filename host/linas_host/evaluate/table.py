"""A table of measured architectures (CSV or CSV.gz), one row per architecture.

The design-variable columns (``variables``) define a table space: each variable's choices are
the distinct values in its column (integers when every value is one, else strings). Every row
must be its own architecture and every architecture of the space must have a row, so:

- two rows with the same values in all variable columns are refused (say which rows): a table
  space cannot tell them apart. Drop or aggregate duplicates first, or pick variable columns
  that tell them apart while still covering every combination;
- a combination of choices without a row is refused too (a search could ask for it).

The shared NAS-Bench-201 Pi 5 table passes both: its 15,625 e0..e5 combinations are unique
(isomorphic cells are distinct rows with their own accuracies). Its columns are the ops on a
cell's edges, which ``cell`` (`linas_sdk.cell.Cell`) may tell the space.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from linas_sdk.cell import Cell
from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import Constraint, Objective
from linas_sdk.space import SearchSpace, Variable


class MeasuredTable:
    """Rows of a measured CSV keyed by their variable columns. Row numbers are 0-based data
    rows (the header is not a row)."""

    def __init__(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        variables: Sequence[str],
        *,
        source: str = "<table>",
        cell: Cell | None = None,
    ) -> None:
        self.source = source
        self.header = list(header)
        self.rows = [list(r) for r in rows]
        if not self.rows:
            raise InvalidArgument(f"{source} has no data rows")
        if len(set(self.header)) != len(self.header):
            raise InvalidArgument(f"{source} repeats a column name: {self.header}")
        variables = list(variables)
        if not variables:
            raise InvalidArgument("name at least one variable column (--var)")
        self._check_columns(variables, "variable")
        if len(set(variables)) != len(variables):
            raise InvalidArgument(f"variable columns repeat: {variables}")
        for n, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise InvalidArgument(
                    f"{source}: data row {n} has {len(row)} fields, the header has "
                    f"{len(self.header)}"
                )
        self.variables = variables
        columns = [self._variable(name) for name in variables]
        if cell is not None and isinstance(cell.zero, str):  # CSV text: "0" names the int 0
            edge = next((v for v in columns if v.name in cell.edges), None)
            match = [c for c in edge.choices if str(c) == cell.zero] if edge else []
            if match:
                cell = Cell(edges=cell.edges, zero=match[0])
        self.space = SearchSpace(columns, cell=cell)
        self._row_of: dict[str, int] = {}
        for n, row in enumerate(self.rows):
            key = self.space.key(self._config_of_row(row))
            if key in self._row_of:
                raise InvalidArgument(
                    f"{source}: data rows {self._row_of[key]} and {n} have the same values of "
                    f"{variables} ({key}); in a table space every row must be its own "
                    "architecture. Drop or aggregate the duplicates, or choose variable "
                    "columns that tell them apart"
                )
            self._row_of[key] = n
        if len(self._row_of) != self.space.size():
            raise InvalidArgument(
                f"{source}: the {len(variables)} variable columns have {self.space.size()} "
                f"combinations of their values but only {len(self._row_of)} rows; every "
                "combination needs a row, since a search may ask for any of them"
            )
        self._numeric: dict[str, np.ndarray] = {}

    @classmethod
    def load(
        cls, path: str | Path, variables: Sequence[str], *, cell: Cell | None = None
    ) -> MeasuredTable:
        """Read a ``.csv`` or ``.csv.gz`` file."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise InvalidArgument(f"cannot read table {path}: {error}") from None
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError) as error:
                raise InvalidArgument(f"{path} is not a valid gzip file: {error}") from None
        try:
            reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
            header = next(reader, None)
            rows = [r for r in reader if r]
        except (UnicodeDecodeError, csv.Error) as error:
            raise InvalidArgument(f"{path} is not a readable CSV file: {error}") from None
        if not header:
            raise InvalidArgument(f"{path} is empty; expected a CSV header line")
        return cls(header, rows, variables, source=str(path), cell=cell)

    def __len__(self) -> int:
        return len(self.rows)

    def _check_columns(self, names: Sequence[str], what: str) -> None:
        unknown = [n for n in names if n not in self.header]
        if unknown:
            raise InvalidArgument(
                f"{self.source} has no {what} column {unknown[0]!r}; its columns are "
                f"{self.header}"
            )

    def _variable(self, name: str) -> Variable:
        j = self.header.index(name)
        values = sorted({row[j] for row in self.rows})
        try:
            ints = sorted({int(v) for v in values})
            if len(ints) == len(values):
                return Variable(name, ints, kind="int")
        except ValueError:
            pass
        return Variable(name, values)

    def _config_of_row(self, row: Sequence[str]) -> dict:
        config = {}
        for name in self.variables:
            value = row[self.header.index(name)]
            config[name] = int(value) if self.space[name].kind == "int" else value
        return config

    def column(self, name: str) -> np.ndarray:
        """A numeric column as floats; refuses missing or non-numeric values."""
        if name not in self._numeric:
            self._check_columns([name], "measured")
            j = self.header.index(name)
            values = np.empty(len(self.rows))
            for n, row in enumerate(self.rows):
                try:
                    values[n] = float(row[j])
                except ValueError:
                    values[n] = math.nan
                if not math.isfinite(values[n]):
                    raise InvalidArgument(
                        f"{self.source}: column {name!r} must hold finite numbers, data row {n} "
                        f"has {row[j]!r}"
                    )
            self._numeric[name] = values
        return self._numeric[name]

    def check(self, objectives: Sequence[Objective], constraints: Sequence[Constraint]) -> None:
        """Refuses unknown or non-numeric objective/constraint columns, before any search."""
        for source in [o.source for o in objectives] + [c.source for c in constraints]:
            if source in self.variables:
                raise InvalidArgument(f"{source!r} is a variable column, not a measured one")
            self.column(source)

    def row_of(self, config: dict) -> int:
        return self._row_of[self.space.key(config)]

    def record(self, row: int) -> dict:
        """The row as a record: numeric fields as floats, the others as text, plus ``row``."""
        out: dict = {"row": row}
        for name, value in zip(self.header, self.rows[row], strict=False):
            try:
                number = float(value)
                out[name] = number if math.isfinite(number) else value
            except ValueError:
                out[name] = value
        return out

    def minimised(self, objectives: Sequence[Objective]) -> np.ndarray:
        """Every row's objective vector in minimised form, shape (rows, k)."""
        return np.column_stack([o.sign * self.column(o.source) for o in objectives])

    def violations(self, constraints: Sequence[Constraint]) -> np.ndarray:
        cols = [c.violation(self.column(c.source)) for c in constraints]
        return np.column_stack(cols) if cols else np.zeros((len(self.rows), 0))
