"""The pieces a run's outputs are made of: measurement cache, progress reporters, plots, page."""

from __future__ import annotations

import io
import json
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from linas_host.commands.flags import PROGRESS
from linas_host.evaluate.cache import MeasurementCache, cache_key
from linas_host.paths import cache_dir
from linas_host.report.html import write_report
from linas_host.report.plots import hypervolume_plot, pareto_plot
from linas_host.run.progress import MODES, make_reporter

from linas_sdk.errors import InvalidArgument
from linas_sdk.measurement import Measurement

OBJECTIVES = [("accuracy", "max"), ("latency_ms", "min")]


def _measurement(median: float) -> Measurement:
    return Measurement(
        device="box", model_sha256="ab" * 32, runtime="onnxruntime", median_ms=median,
        mean_ms=median, std_ms=0.1, min_ms=median, max_ms=median, p90_ms=median,
        p99_ms=median, samples_ms=(median, median), samples=2, cv=0.01, stable=True,
        load_ms=3.0, first_inference_ms=4.0,
    )


def test_cache_round_trip_is_shared_between_instances_and_threads(tmp_path: Path) -> None:
    device = {"name": "box", "cpu_model": "x"}
    key = cache_key(model_sha256="ab" * 32, device=device, runtime="onnxruntime", threads=1)
    assert key != cache_key(model_sha256="ab" * 32, device=device, runtime="onnxruntime",
                            threads=2)
    with MeasurementCache(tmp_path) as cache:
        assert cache.get(key) is None
        workers = [threading.Thread(target=cache.put, args=(f"{key}{i}", _measurement(i)))
                   for i in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        cache.put(key, _measurement(2.5))
    with MeasurementCache(tmp_path) as again:
        assert again.get(key) == _measurement(2.5)
        assert len(again) == 9
        assert (again.hits, again.misses) == (1, 0)


def test_cache_folder_is_named_or_beside_the_weights(tmp_path: Path, monkeypatch) -> None:
    assert cache_dir(tmp_path) == tmp_path
    monkeypatch.setenv("LINAS_CACHE", str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env"
    monkeypatch.delenv("LINAS_CACHE")
    monkeypatch.chdir(tmp_path)
    assert cache_dir() == tmp_path / ".cache" / "linas"


FRONT = [{"accuracy": 0.9, "latency_ms": 5.0}, {"accuracy": 0.8, "latency_ms": 2.0}]


def test_jsonl_reporter_writes_one_parsable_object_per_event() -> None:
    stream = io.StringIO()
    reporter = make_reporter("jsonl", stream)
    reporter.start(budget=10, done=0, objectives=OBJECTIVES, out="runs/x", devices=["box"])
    reporter.update(done=4, hypervolume=np.float64(0.5), front=FRONT,
                    predictors={"accuracy": {"tau": 0.7, "mape": 0.05, "model": "ridge"}},
                    iteration=1)
    reporter.note("hello")
    reporter.finish(done=10, hypervolume=0.6, out="runs/x")
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["start", "update", "note", "finish"]
    assert events[1]["hypervolume"] == 0.5 and events[1]["budget"] == 10
    assert events[1]["predictors"]["accuracy"]["tau"] == 0.7


def test_rich_reporter_shows_bar_quality_and_front() -> None:
    stream = io.StringIO()
    reporter = make_reporter("rich", stream)
    reporter.start(budget=10, done=0, objectives=OBJECTIVES, out="runs/x", devices=["box"])
    reporter.update(done=4, hypervolume=0.5, front=FRONT,
                    predictors={"latency_ms": {"tau": 0.81, "mape": 0.12, "model": "lgbm"}})
    reporter.finish(done=10, hypervolume=0.6, out="runs/x")
    text = stream.getvalue()
    for expected in ("10/10", "hypervolume 0.6", "0.81", "12.0%", "lgbm", "latency_ms (min)",
                     "report in runs/x"):
        assert expected in text, text


def test_quiet_reporter_prints_only_notes_and_the_end() -> None:
    stream = io.StringIO()
    reporter = make_reporter("quiet", stream)
    reporter.start(budget=10, done=0, objectives=OBJECTIVES, out="runs/x", devices=[])
    reporter.update(done=4, hypervolume=0.5, front=FRONT)
    reporter.finish(done=10, hypervolume=0.6, out="runs/x")
    assert stream.getvalue() == "search finished: 10 evaluations, report in runs/x\n"
    with pytest.raises(InvalidArgument, match="expected one of rich, quiet, jsonl"):
        make_reporter("loud")


def test_the_commands_offer_every_progress_mode_and_no_other() -> None:
    assert PROGRESS == MODES


def test_plots_and_page_embed_the_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    measured = [{"accuracy": a, "latency_ms": b, "memory_mb": c}
                for a, b, c in rng.random((30, 3))]
    objectives = [*OBJECTIVES, ("memory_mb", "min")]
    pareto = pareto_plot(tmp_path / "pareto.png", objectives, measured, measured[:5],
                         measured[5:8])
    hv = hypervolume_plot(tmp_path / "hv.png", [1, 2, 3], [0.1, 0.3, 0.35], "linas")
    for image in (pareto, hv):
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    device = {"name": "box", "address": "10.0.0.5:50051", "state": "lost",
              "manifest": {"machine": "aarch64", "cpu_model": "Cortex-A76 <4>"}}
    page = write_report(
        tmp_path / "report.html", title="run <x>", summary={"budget": 30},
        config_yaml="space: mobilenetv3\n", devices=[device, {"name": "never", "manifest": None}],
        images={"Pareto": pareto, "Hypervolume": hv},
        tables={"Front": (measured[:5], ["accuracy", "latency_ms"])},
    ).read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "run &lt;x&gt;" in page and "<td class='n'>" in page
    assert "<td>box</td><td>10.0.0.5:50051</td><td></td><td>lost</td>" in page
    assert "<td>aarch64 / Cortex-A76 &lt;4&gt;</td>" in page and "<td>never</td>" in page


def test_page_front_puts_many_differing_genes_in_one_cell(tmp_path: Path) -> None:
    genes = [f"kernel_{j}" for j in range(45)]  # 5 fixed along the front, 40 that differ
    rows = [{"index": i, "accuracy": i / 10, **{g: 3 + (2 * (i + j) % 6 if j >= 5 else 0)
                                                for j, g in enumerate(genes)}}
            for i in range(4)]
    page = write_report(
        tmp_path / "report.html", title="ofa", summary={}, config_yaml="", devices=[],
        images={}, tables={"Front": (rows, ["index", "accuracy", *genes])}, genes=genes,
    ).read_text()
    front = page[page.index("<h2>Front</h2>"):]
    common = ", ".join(f"kernel_{j}=3" for j in range(5))
    assert front.startswith(f"<h2>Front</h2>\n<p>Common to every row: {common}</p><table>")
    assert re.findall(r"<th>(.*?)</th>", front) == ["index", "accuracy", "architecture"]
    cells = re.findall(r"<td>(kernel_[^<]*)</td>", front)
    assert cells == [" ".join(f"{g}={row[g]}" for g in genes[5:]) for row in rows]
