"""The run's two figures, drawn with matplotlib's Agg backend (no display needed).

- `pareto_plot`: every measured architecture, the measured Pareto front and, when the method
  offers one, the front its predictors expected; one panel per pair of objectives.
- `hypervolume_plot`: the hypervolume of the measured archive against evaluations.

Rows are plain dicts objective name -> value, in the objectives' own units and directions.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def pareto_plot(
    path: Path,
    objectives: Sequence[tuple[str, str]],
    measured: Sequence[dict[str, float]],
    front: Sequence[dict[str, float]],
    predicted: Sequence[dict[str, float]] = (),
) -> Path:
    """Scatter panels for each pair of objectives (name, direction); writes a PNG at `path`."""
    plt = _pyplot()
    pairs = list(combinations(range(len(objectives)), 2))
    columns = min(3, len(pairs))
    rows = -(-len(pairs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 4.2 * rows), squeeze=False)
    for ax, (i, j) in zip(axes.flat, pairs, strict=False):
        (x, dx), (y, dy) = objectives[i], objectives[j]
        ax.scatter([r[x] for r in measured], [r[y] for r in measured], s=14, c="#9aa5b1",
                   label=f"measured ({len(measured)})")
        if predicted:
            ax.scatter([r[x] for r in predicted], [r[y] for r in predicted], s=22,
                       facecolors="none", edgecolors="#1f77b4", label="predicted front")
        ordered = sorted(front, key=lambda r: r[x])
        # With two objectives the front is a staircase worth joining; with more, a projection
        # of it is not, so only its points are drawn.
        ax.plot([r[x] for r in ordered], [r[y] for r in ordered],
                "-o" if len(objectives) == 2 else "o", c="#d62728", ms=5, lw=1.2,
                label=f"measured front ({len(front)})")
        ax.set_xlabel(f"{x} ({dx})")
        ax.set_ylabel(f"{y} ({dy})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(pairs):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def hypervolume_plot(
    path: Path, evaluations: Sequence[int], hypervolume: Sequence[float], method: str = ""
) -> Path:
    """The hypervolume after each evaluation; writes a PNG at `path`."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(evaluations, hypervolume, c="#2ca02c", lw=1.8, label=method or None)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume")
    ax.grid(alpha=0.3)
    if method:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
