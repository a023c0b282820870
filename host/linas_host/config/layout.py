"""A run directory's layout: every file a search writes, and who reads it back.

    config.yaml      the configuration as run (defaults filled in)
    journal.sqlite   every evaluation, appended as it arrives (resume with --resume)
    run.json         the hypervolume reference point (null until fixed), the linas version,
                     the executor (its kind and nodes) and the evaluations each node did the
                     host work of
    devices.json     the devices that measured, with their manifests (never tokens)
    run.log          notes, and the warnings third-party code raised (tracing, export)
    results.csv, pareto.csv, pareto.png, hypervolume.png, report.html
    models/          the front's sub-networks, exported (ONNX or TFLite)

`linas export` and the report read a run through this class too, so the names live here once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linas_sdk.errors import InvalidArgument
from linas_sdk.formats import format_named


@dataclass(frozen=True)
class RunDirectory:
    """The files of one run directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def journal(self) -> Path:
        return self.root / "journal.sqlite"

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def devices(self) -> Path:
        return self.root / "devices.json"

    @property
    def log(self) -> Path:
        return self.root / "run.log"

    @property
    def models(self) -> Path:
        return self.root / "models"

    def model(self, index: int, fmt: str) -> Path:
        """Where evaluation `index`'s model is exported as `fmt` ("onnx" or "tflite")."""
        return self.models / f"{index:05d}{format_named(fmt).suffix}"

    def check(self) -> None:
        """Refuse a folder that holds no run."""
        if not self.journal.is_file() or not self.config.is_file():
            raise InvalidArgument(
                f"{self.root} is not a linas run directory: expected {self.journal.name} and "
                f"{self.config.name} (written by `linas search`)"
            )

    def write_run_json(self, reference: dict[str, float] | None, executor: dict[str, Any],
                       host_work: dict[str, int]) -> None:
        from linas_sdk import __version__

        data = {"reference_point": reference, "linas_version": __version__,
                "executor": executor, "host_work": host_work}
        self.run_json.write_text(json.dumps(data, indent=2) + "\n")

    def write_devices(self, rows: list[dict[str, Any]]) -> None:
        self.devices.write_text(json.dumps(rows, indent=2) + "\n")

    def read_devices(self) -> list[dict[str, Any]]:
        return json.loads(self.devices.read_text()) if self.devices.is_file() else []
