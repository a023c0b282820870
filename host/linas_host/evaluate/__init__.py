"""Evaluators: from configs to measured records. A replayed table and any function
(`evaluators`), a supernet's sub-networks on the host and the boards (`supernet`), and the
measurement cache shared across runs (`cache`)."""

from __future__ import annotations

from linas_host.evaluate.evaluators import CallableEvaluator, Evaluator, TableEvaluator

__all__ = ["CallableEvaluator", "Evaluator", "TableEvaluator"]
