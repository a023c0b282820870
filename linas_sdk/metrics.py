"""The metric catalogue: every quantity a search can optimise on a supernet, its unit, its
direction, the column a record names it by, and where it is measured.

``host``: computed on the host (MACs, parameters); ``device``: timed or read on a board;
``host or device``: a quality score, on the host by default or on the board that runs the file
(``accuracy_on``). The config schema, the evaluator and the reports read this one table.
"""

from __future__ import annotations

from dataclasses import dataclass

from linas_sdk.errors import InvalidArgument


@dataclass(frozen=True)
class Metric:
    name: str
    column: str
    unit: str
    direction: str
    measured: str


CATALOGUE = (
    Metric("accuracy", "accuracy", "", "max", "host or device"),
    Metric("bleu", "bleu", "", "max", "host or device"),
    Metric("latency", "latency_ms", "ms", "min", "device"),
    Metric("memory", "memory_mb", "MB", "min", "device"),
    Metric("macs", "macs", "", "min", "host"),
    Metric("params", "params", "", "min", "host"),
)
METRICS = {m.name: m for m in CATALOGUE}
DEVICE_METRICS = tuple(m.name for m in CATALOGUE if m.measured == "device")
"""Metrics only a board gives: an objective on one of these names where it is measured."""
SCORES = tuple(m.name for m in CATALOGUE if m.measured == "host or device")
"""Quality scores: on the host, or on the board that runs the exported file."""


def metric(name: str) -> Metric:
    if name not in METRICS:
        raise InvalidArgument(f"unknown metric {name!r}; expected one of {list(METRICS)}")
    return METRICS[name]
