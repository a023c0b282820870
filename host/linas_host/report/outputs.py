"""Everything a finished (or interrupted) run leaves in its directory, besides the journal:

- ``results.csv``: every evaluation (the journal's CSV export);
- ``pareto.csv``: the measured feasible Pareto front;
- ``pareto.png`` and ``hypervolume.png``;
- ``report.html``: one static page (configuration, devices, plots, front table; for a
  quantized search, the front's architectures measured at FP32 and int8 after it).

All of it is derived from the run's result (the journal's evaluations with their
hypervolumes), ``config.yaml`` and ``devices.json``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from linas_host.config.layout import RunDirectory
from linas_host.report.html import write_report
from linas_host.report.plots import hypervolume_plot, pareto_plot
from linas_host.report.precision import precision_table
from linas_host.search.evaluation import Evaluation
from linas_host.search.journal import export_csv
from linas_host.search.runner import SearchResult


def write_front_csv(front: Sequence[Evaluation], path: Path, models: dict[str, str]) -> Path:
    names = list(dict.fromkeys(n for e in front for n in e.config))
    objectives = list(dict.fromkeys(n for e in front for n in e.values))
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["index", "iteration", "device", "host", "key", *names, *objectives,
                         "model"])
        for e in front:
            writer.writerow([e.index, e.iteration, e.device, e.host, e.key,
                             *[e.config.get(n, "") for n in names],
                             *[e.values.get(n, "") for n in objectives], models.get(e.key, "")])
    return path


def write_outputs(
    run_dir: RunDirectory,
    result: SearchResult,
    *,
    predicted: Sequence[dict[str, float]] = (),
    iterations: Sequence[dict] = (),
    models: dict[str, str] | None = None,
    summary: dict[str, Any] | None = None,
    counterparts: dict[int, dict[str, dict]] | None = None,
) -> Path:
    """Write the CSVs, plots and page of `result` into `run_dir`; returns the page's path.
    The hypervolume curve is the runner's (each evaluation's, with the run's reference point).
    `models` maps an architecture key to its exported file (relative to `out`); `predicted`
    and `iterations` come from a method's diagnostics (LINAS), when it keeps any;
    `counterparts` (a quantized search's) are the front's records at FP32 and int8 by
    evaluation index (`linas_host.run.counterparts`)."""
    models, out, reference = models or {}, run_dir.root, result.reference_point
    evaluations, objectives, front = result.evaluations, result.objectives, result.front()
    export_csv(evaluations, out / "results.csv")
    write_front_csv(front, out / "pareto.csv", models)
    directions = [(o.name, o.direction) for o in objectives]
    measured = [e.values for e in evaluations if e.values]
    images = {
        "Pareto front: measured architectures, measured front"
        + (" and the front the predictors expected" if predicted else ""): pareto_plot(
            out / "pareto.png", directions, measured, [e.values for e in front], predicted
        )
    }
    series = [e.hypervolume for e in evaluations if e.hypervolume is not None]
    if series:
        caption = "Hypervolume against evaluations (reference point " + ", ".join(
            f"{k}={v:.4g}" for k, v in reference.items()) + ")"
        images[caption] = hypervolume_plot(
            out / "hypervolume.png",
            [e.index + 1 for e in evaluations if e.hypervolume is not None], series,
            (summary or {}).get("method", ""),
        )
    # the page's front shows the figures and genes; pareto.csv keeps iteration, device, host
    rows = [{"index": e.index, **e.values, **e.config, "model": models.get(e.key, "")}
            for e in front]
    genes = list(dict.fromkeys(n for e in front for n in e.config))
    columns = ["index", *[o.name for o in objectives], *genes, "model"]
    summary = {
        **(summary or {}),
        "evaluations": len(evaluations),
        "failed evaluations": sum(e.failed for e in evaluations),
        "on the front": len(front),
        "final hypervolume": f"{series[-1]:.6g}" if series else "-",
    }
    tables = {}
    if counterparts:
        precisions = precision_table(front, counterparts, objectives)
        summary["FP32 against int8"] = (
            f"{len(precisions[0])} of the {len(front)} front architectures measured at both, "
            "after the search (table below)")
        if precisions[0]:
            tables["FP32 against int8: the front's architectures with every stage at each"] = \
                precisions
    return write_report(
        out / "report.html",
        title=f"linas search: {out.name}",
        summary=summary,
        config_yaml=run_dir.config.read_text() if run_dir.config.is_file() else "",
        devices=run_dir.read_devices(),
        images=images,
        tables={
            f"Pareto front ({len(front)} architectures)":
                (rows, [c for c in columns if c != "model" or models]),
            **tables,
            **({"Predictors per iteration (k-fold cross-validation)": predictor_table(iterations)}
               if iterations else {}),
        },
        genes=genes,
    )


def predictor_table(iterations: Sequence[dict]) -> tuple[list[dict], list[str]]:
    """One row per iteration and predicted quantity, from a method's diagnostics (LINAS)."""
    rows = [
        {"iteration": it.get("iteration"), "measured": it.get("measured"), "predicts": name,
         "model": q.get("model"), "Kendall tau": q.get("tau"), "MAPE": q.get("mape"),
         "host s": it.get("host_seconds")}
        for it in iterations for name, q in it.get("predictors", {}).items()
    ]
    return rows, ["iteration", "measured", "predicts", "model", "Kendall tau", "MAPE", "host s"]
