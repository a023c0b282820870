"""`linas demo` with the demo's configuration on the real MobileNetV3 supernet (committed
weights, else trained first), shrunk to two LINAS batches of four, each model timed briefly
(the tiny test's timing settings): extraction, host accuracy, ONNX export, a local agent,
predictors, outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from e2e_helpers import FAST_TIMING, write_yaml
from linas_cli import linas

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mobilenetv3-local.yaml"
POPULATION = 4


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_demo_config_on_the_real_supernet(tmp_path: Path) -> None:
    options = yaml.safe_load(EXAMPLE.read_text())
    options.update(
        budget=2 * POPULATION,
        population=POPULATION,
        cache_dir=str(tmp_path / "cache"),
        measure=FAST_TIMING,
        method_options={**options.get("method_options", {}), "predictions": 2000},
    )
    done = linas(
        "demo",
        "--config",
        write_yaml(tmp_path / "demo.yaml", options),
        "--out",
        tmp_path / "run",
        "--progress",
        "jsonl",
        cwd=tmp_path,
        timeout=1100,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]  # stdout is JSON only
    assert f"report: {tmp_path / 'run' / 'report.html'}" in done.stderr
    assert events[-1] == {**events[-1], "event": "finish", "done": 2 * POPULATION}
    second_batch = [e for e in events if e["event"] == "update" and e["iteration"] == 2]
    assert second_batch and set(second_batch[-1]["predictors"]) == {"accuracy", "latency_ms"}
    run = tmp_path / "run"
    with (run / "results.csv").open() as rows:
        rows = list(csv.DictReader(rows))
    assert len(rows) == 2 * POPULATION
    accuracies = [float(r["accuracy"]) for r in rows]
    assert all(0 < a <= 1 for a in accuracies) and max(accuracies) > 0.3  # chance: 0.1
    assert all(float(r["latency_ms"]) > 0 for r in rows)
    with (run / "pareto.csv").open() as rows:
        front = list(csv.DictReader(rows))
    assert front and all((run / row["model"]).stat().st_size > 10_000 for row in front)
    assert (run / "report.html").stat().st_size > 50_000
