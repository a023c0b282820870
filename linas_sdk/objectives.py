"""What a search optimises (objectives) and what it must respect (constraints).

An objective names a value in a measured record (``source``, by default its own name: a table
column, a `Measurement` field such as ``median_ms``, or a key a callable returns), a direction
and a unit. Methods only ever see *minimised* vectors: max objectives are negated by
`to_minimise`. A constraint such as ``latency_ms<=5`` becomes one G value per record, feasible
when G <= 0 (pymoo's convention), so methods steer by it instead of filtering afterwards.

Text forms: ``"acc_cifar100:max"``, ``"latency_ms:min:ms"``, ``"latency_ms<=5"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from linas_sdk.errors import InvalidArgument
from linas_sdk.metrics import METRICS
from linas_sdk.target import Target

DIRECTIONS = ("min", "max")
STATISTICS = ("median", "mean", "min", "p90", "p99")
"""Which statistic of a board's timed runs a latency objective reads."""
MIN_OBJECTIVES, MAX_OBJECTIVES = 2, 4


@dataclass(frozen=True)
class Objective:
    """``name`` (what reports call it), ``direction`` min|max, ``unit``, and ``source``: the key
    of the measured record it is read from (defaults to ``name``).

    An objective on a supernet also says what fills that key: a catalogued ``metric``
    (`linas_sdk.metrics`), the ``target`` it is measured on (for a board's metrics) and, for
    latency, the ``statistic`` of the timed runs. A table column or a callable's key has none.
    """

    name: str
    direction: str
    unit: str = ""
    source: str = ""
    metric: str = ""
    target: Target = field(default_factory=Target)
    statistic: str = "median"

    def __post_init__(self) -> None:
        if self.metric and self.metric not in METRICS:
            raise InvalidArgument(
                f"objective {self.name!r}: unknown metric {self.metric!r}; expected one of "
                f"{list(METRICS)}"
            )
        if self.statistic not in STATISTICS:
            raise InvalidArgument(
                f"objective {self.name!r}: statistic must be one of {list(STATISTICS)}, got "
                f"{self.statistic!r}"
            )
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgument(f"an objective needs a non-empty name, got {self.name!r}")
        if self.direction not in DIRECTIONS:
            raise InvalidArgument(
                f"objective {self.name!r} needs a direction 'min' or 'max', got "
                f"{self.direction!r} (text form: '{self.name}:min' or '{self.name}:max')"
            )
        if not self.source:
            object.__setattr__(self, "source", self.name)

    @classmethod
    def parse(cls, text: str) -> Objective:
        """``"name:min"``, ``"name:max"`` or ``"name:max:unit"``."""
        parts = str(text).strip().split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise InvalidArgument(
                f"objective {text!r} needs a direction: write 'NAME:min' or 'NAME:max' "
                "(optionally 'NAME:min:UNIT')"
            )
        return cls(parts[0], parts[1].lower(), parts[2] if len(parts) == 3 else "")

    @property
    def sign(self) -> float:
        """+1 for min, -1 for max: multiply a value by it to get the minimised form."""
        return 1.0 if self.direction == "min" else -1.0

    def __str__(self) -> str:
        return f"{self.name}:{self.direction}" + (f":{self.unit}" if self.unit else "")

    def to_dict(self) -> dict:
        return {"name": self.name, "direction": self.direction, "unit": self.unit,
                "source": self.source}


_CONSTRAINT = re.compile(r"^\s*([^<>=\s]+)\s*(<=|>=)\s*([-+0-9.eE]+|[-+]?inf)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``source op bound``: the record value ``source`` must be ``<=`` or ``>=`` ``bound``."""

    source: str
    op: str
    bound: float

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise InvalidArgument(f"constraint on {self.source!r}: op must be '<=' or '>='")
        if not isinstance(self.bound, (int, float)) or math.isnan(self.bound):
            raise InvalidArgument(f"constraint on {self.source!r}: bound must be a number")
        object.__setattr__(self, "bound", float(self.bound))

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """``"latency_ms<=5"`` or ``"acc >= 70"``."""
        match = _CONSTRAINT.match(str(text))
        if not match:
            raise InvalidArgument(
                f"constraint {text!r} is not of the form 'NAME<=NUMBER' or 'NAME>=NUMBER'"
            )
        return cls(match.group(1), match.group(2), float(match.group(3)))

    def violation(self, value: float) -> float:
        """G: <= 0 when satisfied, else by how much the bound is missed."""
        return value - self.bound if self.op == "<=" else self.bound - value

    def __str__(self) -> str:
        return f"{self.source}{self.op}{self.bound:g}"


def parse_objectives(items: Sequence[Objective | str | Mapping]) -> tuple[Objective, ...]:
    """Objectives from objects, text forms or dicts; checks there are 2 to 4 with unique names."""
    out = []
    for item in items:
        if isinstance(item, Objective):
            out.append(item)
        elif isinstance(item, str):
            out.append(Objective.parse(item))
        elif isinstance(item, Mapping):
            if "direction" not in item:
                raise InvalidArgument(f"objective {dict(item)!r} has no 'direction' (min or max)")
            out.append(Objective(**item))
        else:
            raise InvalidArgument(f"cannot read an objective from {item!r}")
    if not MIN_OBJECTIVES <= len(out) <= MAX_OBJECTIVES:
        raise InvalidArgument(
            f"a search needs {MIN_OBJECTIVES} to {MAX_OBJECTIVES} objectives, got {len(out)}"
        )
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"objective names must be unique, got {names}")
    return tuple(out)


def parse_constraints(items: Sequence[Constraint | str]) -> tuple[Constraint, ...]:
    return tuple(c if isinstance(c, Constraint) else Constraint.parse(c) for c in items or ())


def record_value(record: Mapping[str, Any], source: str) -> float:
    """The number under ``source`` in a measured record, or a clear error naming what is there."""
    if source not in record:
        raise InvalidArgument(
            f"the measured record has no {source!r}; it has {sorted(record)}"
        )
    value = record[source]
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"record value {source!r}={value!r} is not a number") from None


def to_minimise(objectives: Sequence[Objective], record: Mapping[str, Any]) -> np.ndarray:
    """The record's objective values as one minimised vector (max objectives negated)."""
    return np.array([o.sign * record_value(record, o.source) for o in objectives])


def violations(constraints: Sequence[Constraint], record: Mapping[str, Any]) -> np.ndarray:
    """One G value per constraint (<= 0 feasible)."""
    return np.array([c.violation(record_value(record, c.source)) for c in constraints])


def from_minimised(objectives: Sequence[Objective], F: np.ndarray) -> np.ndarray:
    """Back from minimised vectors to natural values (undoes the negation of max objectives)."""
    return np.asarray(F, dtype=float) * np.array([o.sign for o in objectives])
