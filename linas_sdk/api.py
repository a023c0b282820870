"""The Python front door: `linas_sdk.search(...)`, keyword-only, one option per config field.

Every keyword means what the same field of a `linas search` YAML file means (docs/search-e2e.md);
both are validated by one schema (linas_host.config.schema). linas_host is imported only when a
search is actually run, so importing linas_sdk stays cheap on a board.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linas_host.run.session import RunResult


def search(
    *,
    space: str | Mapping[str, Any],
    objectives: Sequence[str | Mapping[str, Any]],
    budget: int,
    constraints: Sequence[str] = (),
    data: Mapping[str, Any] | None = None,
    devices: str | Path | None = None,
    runtime: str = "onnx",
    provider: str = "",
    accuracy_on: str = "host",
    accuracy_limit: int | None = None,
    threads: int = 0,
    host_threads: int | None = None,
    measure: Mapping[str, Any] | None = None,
    method: str = "linas",
    method_options: Mapping[str, Any] | None = None,
    population: int = 50,
    seed: int = 0,
    reference_point: Mapping[str, float] | None = None,
    out: str | Path = "runs/search",
    cache_dir: str | Path | None = None,
    cache: bool = True,
    export_front: bool = True,
    executor: str | Mapping[str, Any] = "local",
    resume: bool = False,
    progress: str = "rich",
) -> RunResult:
    """Run a search and return its result (run directory, measured front, hypervolume).

    `space` is a supernet name (``"mobilenetv3"``, ``"transformer"``, ``"module:factory"``) or
    a mapping (``{"supernet": ..., "options": {...}}`` or ``{"table": CSV, "variables": [...]}``);
    `objectives` are metric names (``"accuracy"``, ``"latency"``, ...), mappings
    (``{"metric": "latency", "device": "pi5-a"}``) or, for a table, ``"column:min|max"``.
    `data` gives a supernet the user's images (``{"val": PATH, "calibration": PATH}``).
    With no `devices` file, a local agent is started on loopback and measures on this machine.
    `executor` is where each candidate's host work runs: ``"local"`` (this process) or
    ``{"kind": "ray", "address": "auto", "num_cpus": 1, "num_gpus": 0}`` (docs/ray.md).
    `progress` is ``"rich"``, ``"quiet"`` or ``"jsonl"``. Invalid options raise
    `linas_host.config.schema.ConfigError` (an InvalidArgument) naming every field at fault.
    """
    from linas_host.config.schema import validate
    from linas_host.run.session import run_search

    options = {
        "space": space, "objectives": list(objectives), "budget": budget,
        "constraints": list(constraints), "data": data, "devices": devices, "runtime": runtime,
        "provider": provider, "accuracy_on": accuracy_on, "accuracy_limit": accuracy_limit,
        "threads": threads, "host_threads": host_threads, "measure": dict(measure or {}),
        "method": method,
        "method_options": dict(method_options or {}), "population": population, "seed": seed,
        "reference_point": reference_point, "out": out, "cache_dir": cache_dir, "cache": cache,
        "export_front": export_front, "executor": executor,
    }
    settings = validate({k: v for k, v in options.items() if v is not None})
    return run_search(settings, resume=resume, progress=progress)
