"""The report's FP32 against int8: for each front model of a quantized search, its
architecture's figures with every stage in FP32 and with every stage in int8, as measured
after the search (`linas_host.run.counterparts`), and the change int8 makes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from linas_host.search.evaluation import Evaluation
from linas_host.supernets.precision import split
from linas_sdk.objectives import Objective


def precision_table(
    front: Sequence[Evaluation], counterparts: Mapping[int, Mapping[str, Mapping]],
    objectives: Sequence[Objective],
) -> tuple[list[dict], list[str]]:  # fmt: skip
    """Rows and columns: one row per front model whose two ends were both measured."""
    columns = ["index", "precision"]
    for o in objectives:
        columns += [f"{o.name} fp32", f"{o.name} int8", f"{o.name} int8 - fp32"]
    rows = []
    for e in front:
        ends = counterparts.get(e.index, {})
        if any(end not in ends or "error" in ends[end] for end in ("fp32", "int8")):
            continue
        row: dict = {"index": e.index, "precision": label(e)}
        for o in objectives:
            fp32, int8 = ends["fp32"][o.name], ends["int8"][o.name]
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
