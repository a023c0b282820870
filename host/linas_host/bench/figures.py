"""The figures of `linas bench`: gaps to the true front at checkpoints, evaluations to NSGA-II's
target hypervolume, and their text and JSON forms (any runs' hypervolume histories will do)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

CHECKPOINTS = (100, 250, 500, 1000)
TARGET_METHOD = "nsga2"


def _at(history: Sequence[float], n: int) -> float:
    """Hypervolume after ``n`` evaluations (the last value if the run ended earlier)."""
    return history[min(n, len(history)) - 1] if history else 0.0


def _spread(values: Sequence[float]) -> dict:
    q25, q50, q75 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return {"median": float(q50), "q25": float(q25), "q75": float(q75)}


def summarise(
    histories: Mapping[str, Sequence[Sequence[float]]],
    *,
    best: float,
    checkpoints: Sequence[int],
    budget: int,
    target_budget: int | None = None,
) -> dict:
    """The figures of hypervolume histories (per method, one per seed: the hypervolume after
    each evaluation): the gap ``(best - HV) / best`` and the hypervolume at each checkpoint
    (median and IQR over seeds) and, when NSGA-II is among them, the evaluations (within
    ``budget``) each method needs to reach NSGA-II's median hypervolume after
    ``target_budget`` (default ``budget``) evaluations."""
    target_budget = budget if target_budget is None else target_budget
    target = None
    if TARGET_METHOD in histories:
        target = float(np.median([_at(h, target_budget) for h in histories[TARGET_METHOD]]))
    out: dict = {
        "checkpoints": list(checkpoints),
        "target_method": TARGET_METHOD,
        "target_budget": target_budget,
        "target_hypervolume": target,
        "methods": {},
    }
    for name, group in histories.items():
        entry: dict = {
            "gap": {
                str(c): _spread([(best - _at(h, c)) / best for h in group]) for c in checkpoints
            },
            "hypervolume": {str(c): _spread([_at(h, c) for h in group]) for c in checkpoints},
        }
        if target is not None:
            entry["evaluations_to_target"] = evaluations_to(group, target, budget)
        out["methods"][name] = entry
    return out


def evaluations_to(histories: Sequence[Sequence[float]], target: float, budget: int) -> dict:
    """The evaluations (within `budget`) the median curve of `histories` and each of them
    need to reach the hypervolume `target` (None: not within the budget)."""
    curves = [_padded(h, budget) for h in histories]
    return {
        "median_curve": _first_reaching(np.median(curves, axis=0), target),
        "per_seed": [_first_reaching(c, target) for c in curves],
    }


def _padded(history: Sequence[float], budget: int) -> np.ndarray:
    """A run's hypervolume after 1..budget evaluations (held at its last value if it ended)."""
    return np.array([_at(history, n) for n in range(1, budget + 1)])


def _first_reaching(history: Sequence[float], target: float) -> int | None:
    # a hair of tolerance: NSGA-II's own median run reaches its median exactly
    hits = np.flatnonzero(np.asarray(history) >= target * (1 - 1e-12))
    return int(hits[0]) + 1 if len(hits) else None


def format_report(report: dict) -> str:
    """The report as a plain-text table (what `linas bench` prints)."""
    first = report.get("first_seed", 0)
    lines = [
        f"table {report['table']} ({report['rows']} rows), objectives "
        f"{', '.join(report['objectives'])}, budget {report['budget']}, {report['seeds']} seeds "
        f"({first}..{first + report['seeds'] - 1}), population {report['population']}",
        f"reference point {report['reference_point']}, true-front hypervolume "
        f"{report['true_hypervolume']:.6g}",
    ]
    if report.get("cell"):
        edges = ", ".join(f"{k} {a}-{b}" for k, (a, b) in report["cell"]["edges"].items())
        lines.append(f"cell edges {edges} (zero op {report['cell']['zero']})")
    for name, options in report.get("method_options", {}).items():
        lines.append(f"{name} options {options}")
    lines.append("hypervolume gap to the true front, % (median [IQR] over seeds):")
    return "\n".join(lines + format_gaps(report))


def format_gaps(figures: dict) -> list[str]:
    """The gap table of `summarise`'s figures: a row per method, a column per checkpoint, and
    the evaluations to the target with the speed-up over the target budget."""
    budget = max(figures["checkpoints"])
    target_budget = figures.get("target_budget", budget)
    header = f"{'method':<10}" + "".join(f"{'@' + str(c):>24}" for c in figures["checkpoints"])
    if figures["target_hypervolume"] is not None:
        header += f"  evals to {figures['target_method']}@{target_budget}"
    lines = [header]
    for name, entry in figures["methods"].items():
        row = f"{name:<10}"
        for c in figures["checkpoints"]:
            g = entry["gap"][str(c)]
            cell = f"{100 * g['median']:.3f} [{100 * g['q25']:.3f}-{100 * g['q75']:.3f}]"
            row += f"  {cell:>22}"
        if "evaluations_to_target" in entry:
            needed = entry["evaluations_to_target"]["median_curve"]
            row += (
                f"  >{budget}" if needed is None else f"  {needed} ({target_budget / needed:.1f}x)"
            )
        lines.append(row)
    return lines


def write_json(report: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report, indent=1) + "\n")
