"""The report's FP32 against int8: a `precision: mixed` run measures an architecture at more
than one precision (its precision genes differ), so for each front model whose architecture
was measured both with every stage in FP32 and with every stage in int8, the table sets the two
files' figures side by side, with the change int8 makes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from linas_host.search.evaluation import Evaluation
from linas_host.supernets.precision import split
from linas_sdk.objectives import Objective


def precision_table(
    evaluations: Sequence[Evaluation], front: Sequence[Evaluation],
    objectives: Sequence[Objective],
) -> tuple[list[dict], list[str]] | None:  # fmt: skip
    """Rows and columns of the table (None: the run has no precision genes)."""
    if not any(split(e.config)[1] for e in evaluations):
        return None
    pairs: dict[str, dict[str, Evaluation]] = {}
    for e in evaluations:
        if e.feasible and e.record.get("precision") in ("fp32", "int8"):
            pairs.setdefault(_architecture(e), {}).setdefault(e.record["precision"], e)
    columns = ["index", "precision", "fp32 index", "int8 index"]
    for o in objectives:
        columns += [f"{o.name} fp32", f"{o.name} int8", f"{o.name} int8 - fp32"]
    rows = []
    for e in front:
        pair = pairs.get(_architecture(e), {})
        if len(pair) < 2:
            continue
        row = {"index": e.index, "precision": label(e), "fp32 index": pair["fp32"].index,
               "int8 index": pair["int8"].index}
        for o in objectives:
            fp32, int8 = pair["fp32"].values[o.name], pair["int8"].values[o.name]
            row.update({f"{o.name} fp32": fp32, f"{o.name} int8": int8,
                        f"{o.name} int8 - fp32": int8 - fp32})
        rows.append(row)
    return rows, columns


def label(evaluation: Evaluation) -> str:
    """fp32, int8, or "mixed: int8 at ..." naming the int8 stages."""
    precision = evaluation.record.get("precision", "")
    if precision != "mixed":
        return precision
    stages = split(evaluation.config)[1]
    return "mixed: int8 at " + ", ".join(s for s, p in stages.items() if p == "int8")


def _architecture(evaluation: Evaluation) -> str:
    return json.dumps(split(evaluation.config)[0], sort_keys=True)
