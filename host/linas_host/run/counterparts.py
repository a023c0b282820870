"""What int8 changed on the front: after a `precision: int8` or `mixed` search, each front
model's architecture is measured at the ends it was not measured at (FP32; for `mixed`, also
every stage in int8), as the search measured it (the same boards, plan, host scoring and
measurement cache), outside the budget and the journal. A mixed search rarely measures one
architecture at both ends by itself, and an int8 search never does, so the report could not
otherwise set FP32 against int8 beside the front (`linas_host.report.precision`).
"""

from __future__ import annotations

from collections.abc import Sequence

from linas_host.evaluate.supernet import SupernetEvaluator
from linas_host.export.subnet import Exporter
from linas_host.search.evaluation import Evaluation
from linas_host.supernets.precision import MixedPrecision

ENDS = ("fp32", "int8")


def front_counterparts(
    evaluator: SupernetEvaluator, front: Sequence[Evaluation]
) -> dict[int, dict[str, dict]]:
    """Front index -> {"fp32": record, "int8": record} of its architecture: its own record at
    the end it is, the others measured now. A mixed search's evaluator measures any end (every
    precision gene set to it); an int8 search's FP32 files are measured by its twin that
    exports them."""
    supernet = evaluator.supernet
    if isinstance(supernet, MixedPrecision):
        def at(e: Evaluation, end: str) -> dict | None:
            return {**e.config, **dict.fromkeys(supernet.genes, end)}
    else:
        evaluator = SupernetEvaluator(
            supernet, evaluator.objectives, evaluator.plan, pool=evaluator.pool,
            cache=evaluator.cache, executor=evaluator.executor, serial=evaluator.serial,
            export=Exporter(supernet, evaluator.host_work.export.fmt),
            host_threads=evaluator.host_work.threads)

        def at(e: Evaluation, end: str) -> dict | None:
            return e.config if end == "fp32" else None
    out: dict[int, dict[str, dict]] = {}
    wanted: list[tuple[int, str, dict]] = []
    for e in front:
        own = e.record.get("precision")
        out[e.index] = {own: e.record} if own in ENDS else {}
        wanted += [(e.index, end, config) for end in ENDS
                   if end != own and (config := at(e, end)) is not None]
    records = evaluator.evaluate([config for *_, config in wanted]) if wanted else []
    for (index, end, _), record in zip(wanted, records, strict=True):
        out[index][end] = record
    return out
