"""Hand a searched model to a firmware build: pick one from a run, export it, describe it.

`export_model(run_dir, constraints=[...], objective=..., direction=..., fmt=..., out=...)` picks,
among the run's measured feasible architectures, those meeting every constraint (on an
objective or any numeric figure of the record, e.g. ``model_bytes``), the best by `objective`,
and writes into `out`:

- ``model.onnx`` or ``model.tflite``: the sub-network (the run's own exported file when it has
  one in that format, else extracted from the supernet again);
- ``manifest.json``: the architecture (config and key), the measured figures with the manifests
  of the devices that measured them, the artifact's sha256 and whether it is byte-identical to
  the file that was measured, the selection, the linas version, and ``labels``: the class
  names in the order of the model's outputs when the supernet's weights carry them (weights
  adapted to the user's classes), else null.

No architecture meeting the constraints raises `NoModelMeetsConstraints`, which the CLI turns
into its own exit code, so a build step fails visibly.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from linas_host.config.layout import RunDirectory
from linas_host.config.schema import SearchConfig, load_saved
from linas_host.search.evaluation import Evaluation
from linas_host.search.journal import SQLiteJournal
from linas_sdk.errors import InvalidArgument, LinasError
from linas_sdk.formats import format_named
from linas_sdk.objectives import Constraint, parse_constraints


class NoModelMeetsConstraints(LinasError):
    """No measured architecture of the run satisfies the requested constraints."""


def figures(evaluation: Evaluation) -> dict[str, float]:
    """The numbers a constraint may name: the objectives, then the record's numeric fields."""
    numbers = {
        k: float(v)
        for k, v in evaluation.record.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    return {**numbers, **evaluation.values}


def select(
    evaluations: Sequence[Evaluation],
    constraints: Sequence[Constraint],
    objective: str,
    direction: str,
) -> Evaluation | None:
    """The best feasible evaluation by `objective` among those meeting `constraints` (None if
    none)."""
    known = set().union(*(figures(e) for e in evaluations)) if evaluations else set()
    for name in [c.source for c in constraints] + [objective]:
        if name not in known:
            raise InvalidArgument(
                f"the run has no figure {name!r}; expected one of {', '.join(sorted(known))}"
            )
    fitting = [
        e
        for e in evaluations
        if e.feasible and all(c.violation(figures(e)[c.source]) <= 0 for c in constraints)
    ]
    if not fitting:
        return None
    sign = -1.0 if direction == "max" else 1.0
    return min(fitting, key=lambda e: (sign * figures(e)[objective], e.index))


def load_run(run_dir: RunDirectory) -> tuple[SearchConfig, list[Evaluation]]:
    """A run directory's config and evaluations."""
    run_dir.check()
    settings = load_saved(run_dir.config)
    with SQLiteJournal(run_dir.journal) as journal:
        return settings, journal.evaluations()


def export_model(
    run_dir: str | Path,
    *,
    constraints: Sequence[str | Constraint] = (),
    objective: str | None = None,
    direction: str | None = None,
    fmt: str | None = None,
    out: str | Path,
) -> Path:
    """Pick and export a model (see the module docstring); -> the manifest's path. Without
    `objective`, the run's first objective in its own direction decides."""
    run, out = RunDirectory(Path(run_dir)), Path(out)
    settings, evaluations = load_run(run)
    if settings.space.table is not None:
        raise InvalidArgument(f"{run_dir} searched a table of recorded figures: it has no models")
    fmt = format_named(fmt or settings.format.name)
    constraints = parse_constraints(list(constraints))
    if objective is None:
        first = settings.objectives[0]
        objective, direction = first.resolved_name, first.resolved_direction
    direction = direction or "max"
    chosen = select(evaluations, constraints, objective, direction)
    if chosen is None:
        raise NoModelMeetsConstraints(
            f"no architecture of {run_dir} ({len(evaluations)} measured) meets "
            + " and ".join(str(c) for c in constraints)
        )
    out.mkdir(parents=True, exist_ok=True)
    artifact = out / f"model{fmt.suffix}"
    _write_artifact(run, settings, chosen, fmt.name, artifact)
    data = artifact.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    measured_sha = chosen.record.get("model_sha256")
    precision = chosen.record.get("precision", settings.precision)  # mixed: fp32, int8 or mixed
    manifest = {
        "linas_version": _version(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run": str(run.root.resolve()),
        "selection": {
            "constraints": [str(c) for c in constraints],
            "where": [str(c) for c in constraints],  # its name until issue 25: kept one release
            "objective": objective,
            "direction": direction,
            "candidates": len(evaluations),
        },
        "supernet": {"name": settings.space.supernet, "options": settings.space.options},
        "architecture": {"key": chosen.key, "config": chosen.config, "evaluation": chosen.index},
        "labels": labels(settings),
        "figures": figures(chosen),
        "measurements": chosen.record.get("measurements", {}),
        "devices": _manifests(run, chosen),
        "artifact": {
            "file": artifact.name,
            "format": fmt.name,
            "runtime": fmt.runtime,
            "bytes": len(data),
            "sha256": sha,
            "measured_sha256": measured_sha,
            "measured_format": settings.format.name,
            "identical_to_measured": measured_sha == sha if measured_sha else None,
            "precision": precision,
        },
    }
    if precision != "fp32":
        manifest["artifact"]["quantization"] = _quantization(settings, chosen, data, fmt.runtime)
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return path


def _write_artifact(run: RunDirectory, settings, chosen: Evaluation, fmt: str, path: Path) -> None:
    """Copy the run's exported file for `chosen` when it has one in `fmt`, else export anew."""
    saved = run.model(chosen.index, fmt)
    if saved.is_file():
        shutil.copyfile(saved, path)
        return
    from linas_host.run.problem import build_problem, candidate_exporter

    exporter = candidate_exporter(settings, build_problem(settings).supernet, fmt)
    path.write_bytes(exporter(exporter.supernet.extract(chosen.config), chosen.config))


def _quantization(settings: SearchConfig, chosen: Evaluation, data: bytes,
                  runtime: str) -> dict[str, Any]:
    """How the file was quantized, for a firmware build that feeds it integers: the scheme,
    the calibration images (count and hash), each stage's precision (`precision: mixed`) and
    each integer input's and output's scale and zero point, read from the file itself."""
    from linas_host.evaluate.scored import runtime as load_runtime
    from linas_host.export.quantize import STATIC_ACTIVATIONS
    from linas_host.run.problem import build_problem, candidate_exporter

    exporter = candidate_exporter(settings, build_problem(settings).supernet)
    scheme = exporter.quantization
    engine = load_runtime(runtime)
    session = engine.load(data, provider=engine.info().providers[0], options={}, threads=1,
                          inputs=())
    static = scheme.scheme == "static"
    stages = exporter.stages(chosen.config)
    return {
        "scheme": scheme.scheme,
        **({"stages": stages} if stages is not None else {}),
        "weights": "int8 per channel" if scheme.per_channel else "int8 per tensor",
        "activations": (STATIC_ACTIVATIONS[exporter.fmt] if static
                        else "float, quantized at run time"),
        "calibration_images": settings.quantization.calibration_samples if static else 0,
        "calibration_sha256": chosen.record.get("calibration_sha256", ""),
        "inputs": [_io(spec.name, session.input_quantization.get(spec.name))
                   for spec in session.model_inputs],
        "outputs": [_io(name, session.output_quantization.get(i))
                    for i, name in enumerate(session.output_names)],
    }


def _io(name: str, parameters: tuple[float, int] | None) -> dict[str, Any]:
    if parameters is None:
        return {"name": name, "integer": False}
    return {"name": name, "integer": True, "scale": parameters[0], "zero_point": parameters[1]}


def labels(settings: SearchConfig) -> list[str] | None:
    """The class names, in output order, that the supernet's weights file records in its
    manifest (``classes``: weights adapted to the user's classes), else None."""
    for option in ("weights", "checkpoint"):
        path = settings.space.options.get(option)
        meta = Path(str(path)).with_suffix(".json") if path else None
        if meta is not None and meta.is_file():
            classes = json.loads(meta.read_text()).get("classes")
            if classes is not None:
                return list(classes)
    return None


def _manifests(run: RunDirectory, chosen: Evaluation) -> dict[str, Any]:
    rows = run.read_devices()
    used = set(chosen.device.split(","))
    return {row["name"]: row.get("manifest") for row in rows if row["name"] in used}


def _version() -> str:
    from linas_sdk import __version__

    return __version__
