"""What int8 changed on the front: after a `precision: int8` or `mixed` search, each front
model's architecture is measured at the ends it was not measured at (FP32; for `mixed`, also
every stage in int8), as the search measured it (the same boards, plan, host scoring and
measurement cache), outside the budget and the journal. A mixed search rarely measures one
architecture at both ends by itself, and an int8 search never does, so the report could not
otherwise set FP32 against int8 beside the front (`linas_host.report.precision`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from linas_host.evaluate.evaluators import Evaluator
from linas_host.search.evaluation import Evaluation
from linas_host.supernets.precision import MixedPrecision

ENDS = ("fp32", "int8")


def measure_counterparts(
    front: Sequence[Evaluation], supernet: Any, evaluator: Evaluator, fp32: Evaluator
) -> dict[int, dict[str, dict]]:
    """Front index -> {"fp32": record, "int8": record} of its architecture: its own record at
    the end it is, the others measured now, by `evaluator` with every precision gene set (a
    `MixedPrecision` supernet) or by `fp32` (the evaluator of the FP32 files) for an int8
    search's front."""
    out: dict[int, dict[str, dict]] = {}
    jobs: list[tuple[Evaluator, list[tuple[int, str, dict]]]] = [(evaluator, []), (fp32, [])]
    for e in front:
        own = e.record.get("precision")
        out[e.index] = {own: e.record} if own in ENDS else {}
        for end in ENDS:
            if end == own:
                continue
            if isinstance(supernet, MixedPrecision):
                genes = dict.fromkeys(supernet.genes, end)
                jobs[0][1].append((e.index, end, {**e.config, **genes}))
            elif end == "fp32":
                jobs[1][1].append((e.index, end, e.config))
    for measurer, wanted in jobs:
        if wanted:
            records = measurer.evaluate([config for *_, config in wanted])
            for (index, end, _), record in zip(wanted, records, strict=True):
                out[index][end] = record
    return out
