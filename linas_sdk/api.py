"""The Python front door: `linas_sdk.search(...)`, keyword-only, one option per config field.

Every keyword is the field of a `linas search` YAML file of the same name (docs/search-e2e.md),
and only the keywords given are passed on: the one schema (`linas_host.config.schema`) fills
in every default, so the API and the CLI cannot drift apart, and both run the same
`run_search` (threads and OpenMP settings included). linas_host is imported only when a search
is actually run, so importing linas_sdk stays cheap on a board.
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
    resume: bool = False,
    progress: str = "rich",
    **options: Any,
) -> RunResult:
    """Run a search and return its result (run directory, measured front, hypervolume).

    `space` is a supernet name (``"mobilenetv3"``, ``"transformer"``, ``"module:factory"``) or
    a mapping (``{"supernet": ..., "options": {...}}`` or ``{"table": CSV, "variables": [...]}``);
    `objectives` are metric names (``"accuracy"``, ``"latency"``, ...), mappings
    (``{"metric": "latency", "device": "pi5-a"}``) or, for a table, ``"column:min|max"``.
    Any other field of a search config is a keyword of the same name and meaning: ``data``
    (the user's images), ``devices`` (a devices file; without one, a local agent measures on
    this machine), ``runtime`` (``"onnxruntime"`` or ``"litert"``), ``method``, ``population``,
    ``seed``, ``executor``, ``out`` (``runs/search`` unless given)... `resume` continues the
    run's journal; `progress` is ``"rich"``, ``"quiet"`` or ``"jsonl"``. Invalid options raise
    `linas_host.config.schema.ConfigError` (an InvalidArgument) naming every field at fault.
    """
    from linas_host.config.schema import validate
    from linas_host.run.session import run_search

    given = {"space": space, "objectives": list(objectives), "budget": budget, **options}
    config = validate(given)
    if config.out is None:
        config = config.model_copy(update={"out": Path("runs/search")})
    return run_search(config, resume=resume, progress=progress)
