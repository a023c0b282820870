"""`linas search` against two real agents with different labels (two latency objectives), the
shared measurement cache, `linas export` for a build step, and the report in a real browser."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from e2e_helpers import FAST_TIMING, devices_file
from linas_cli import linas, tiny_search_config

METHOD = "linas"
POPULATION = 4
BUDGET = 2 * POPULATION
TOKEN = "e2e-secret-token-4f1c"


def search_config(tmp: Path, devices: Path, out: str, budget: int = BUDGET) -> Path:
    return tiny_search_config(
        tmp / f"{out}.yaml",
        objectives=[
            "accuracy",
            {"metric": "latency", "labels": {"board": "a"}},
            {"metric": "latency", "labels": {"board": "b"}},
        ],
        devices=devices,
        method=METHOD,
        budget=budget,
        population=POPULATION,
        seed=3,
        measure=FAST_TIMING,
        cache_dir=tmp / "cache",
        out=tmp / out,
    )


@pytest.fixture(scope="module")
def two_board_run(module_agent_process, tmp_path_factory) -> dict:
    """One search over two boards, the same search again into another directory, and its first
    generation with board-b's devices-file entry naming a provider."""
    tmp = tmp_path_factory.mktemp("two-boards")
    agents = {
        name: (
            module_agent_process(name=name, labels={"board": board}, token=TOKEN),
            {"board": board},
        )
        for name, board in (("board-a", "a"), ("board-b", "b"))
    }
    devices = devices_file(tmp / "devices.yaml", agents)
    first = linas("search", search_config(tmp, devices, "first"), "--progress", "jsonl", cwd=tmp)
    assert first.returncode == 0, first.stderr
    second = linas("search", search_config(tmp, devices, "second"), "--progress", "quiet", cwd=tmp)
    assert second.returncode == 0, second.stderr
    spec = yaml.safe_load(devices.read_text())
    spec["devices"]["board-b"]["provider"] = "CPU"
    named = devices.with_name("devices-provider.yaml")
    named.write_text(yaml.safe_dump(spec))
    config = search_config(tmp, named, "provider", budget=POPULATION)
    third = linas("search", config, "--progress", "quiet", cwd=tmp)
    assert third.returncode == 0, third.stderr
    return {"tmp": tmp, "run": tmp / "first", "again": tmp / "second",
            "provider": tmp / "provider", "stdout": first.stdout}  # fmt: skip


def records(run: Path) -> list[dict]:
    with sqlite3.connect(run / "journal.sqlite") as db:
        return [json.loads(r[0]) for r in db.execute("SELECT record FROM evaluations ORDER BY idx")]


def results(run: Path) -> list[dict]:
    with (run / "results.csv").open() as rows:
        return list(csv.DictReader(rows))


@pytest.mark.timeout(600)
def test_each_model_is_timed_on_both_boards(two_board_run) -> None:
    rows = results(two_board_run["run"])
    assert len(rows) == BUDGET
    for row in rows:
        assert float(row["latency_ms_a"]) > 0 and float(row["latency_ms_b"]) > 0
        assert 0 < float(row["accuracy"]) <= 1
        assert row["device"] == "board-a,board-b"
    for record in records(two_board_run["run"]):
        assert {k: m["device"] for k, m in record["measurements"].items()} == {
            "board=a": "board-a",
            "board=b": "board-b",
        }
        assert record["cached"] == 0
    devices = json.loads((two_board_run["run"] / "devices.json").read_text())
    assert sorted(d["name"] for d in devices) == ["board-a", "board-b"]
    assert all(d["manifest"]["cpu_count"] > 0 and d["state"] == "alive" for d in devices)


def test_progress_lines_parse_and_count_to_the_budget(two_board_run) -> None:
    events = [json.loads(line) for line in two_board_run["stdout"].splitlines()]
    updates = [e for e in events if e["event"] == "update"]
    assert [e["done"] for e in updates] == list(range(1, BUDGET + 1))
    assert events[-1]["event"] == "finish" and events[-1]["done"] == BUDGET
    assert updates[-1]["hypervolume"] > 0
    assert updates[-1]["front"], "the best trade-offs so far are reported"
    quality = updates[-1]["predictors"]  # LINAS' cross-validated predictors, second batch
    assert set(quality) == {"accuracy", "latency_ms_a", "latency_ms_b"}
    assert all(-1 <= q["tau"] <= 1 and q["mape"] >= 0 for q in quality.values())


def test_outputs_are_written(two_board_run) -> None:
    run = two_board_run["run"]
    for name in (
        "config.yaml",
        "results.csv",
        "pareto.csv",
        "pareto.png",
        "hypervolume.png",
        "report.html",
        "run.json",
    ):
        assert (run / name).is_file(), name
    with (run / "pareto.csv").open() as rows:
        front = list(csv.DictReader(rows))
    assert front and all((run / row["model"]).read_bytes()[:1] == b"\x08" for row in front)
    page = (run / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "board-a" in page and "board-b" in page
    assert "the front the predictors expected" in page
    assert "Predictors per iteration" in page and "Kendall tau" in page


def test_no_run_file_holds_the_token(two_board_run) -> None:
    for run in (two_board_run["run"], two_board_run["again"]):
        for path in run.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path


def test_a_second_search_re_measures_nothing(two_board_run) -> None:
    again = records(two_board_run["again"])
    assert len(again) == BUDGET
    assert all(r["cached"] == 2 for r in again), [r["cached"] for r in again]
    first = {r["model_sha256"]: r["latency_ms_a"] for r in records(two_board_run["run"])}
    assert {r["model_sha256"]: r["latency_ms_a"] for r in again} == first


def test_a_device_whose_provider_changed_is_measured_again(two_board_run) -> None:
    named = records(two_board_run["provider"])
    assert len(named) == POPULATION
    assert all(r["cached"] == 1 for r in named), [r["cached"] for r in named]
    assert all(r["measurements"]["board=b"]["provider"] == "CPUExecutionProvider" for r in named)


def test_export_meets_the_constraint_or_fails_the_build(two_board_run) -> None:
    run, tmp = two_board_run["run"], two_board_run["tmp"]
    rows = results(run)
    bound = sorted(float(r["latency_ms_a"]) for r in rows)[len(rows) // 2]
    best = max(float(r["accuracy"]) for r in rows if float(r["latency_ms_a"]) <= bound)

    def export(source: Path, where: str, out: str, *more: str):
        """`linas export` of the most accurate model that meets `where`, into tmp/`out`."""
        where_maximize = ["--constraint", where, "--maximize", "accuracy"]
        return linas("export", source, *where_maximize, *more, "-o", tmp / out, cwd=tmp)

    done = export(run, f"latency_ms_a<={bound!r}", "firmware", "--format", "onnx")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp / "firmware" / "manifest.json").read_text())
    model = (tmp / "firmware" / "model.onnx").read_bytes()
    assert manifest["artifact"]["sha256"] == hashlib.sha256(model).hexdigest()
    assert manifest["artifact"]["identical_to_measured"] is True
    assert manifest["figures"]["accuracy"] == pytest.approx(best)
    assert manifest["figures"]["latency_ms_a"] <= bound
    assert set(manifest["devices"]) == {"board-a", "board-b"}
    assert manifest["architecture"]["config"]["depth"] in (1, 2, 3)
    assert manifest["linas_version"]

    none = export(run, "latency_ms_a<=0", "none")
    assert none.returncode == 3, none.stderr
    assert "meets latency_ms_a<=0" in none.stderr
    assert not (tmp / "none" / "manifest.json").exists()

    bare = tmp / "bare-run"  # without its exported models: the model is exported again
    shutil.copytree(run, bare, ignore=shutil.ignore_patterns("models"))
    again = export(bare, f"latency_ms_a<={bound!r}", "again")
    assert again.returncode == 0, again.stderr
    assert (tmp / "again" / "model.onnx").read_bytes() == model

    unknown = linas("export", run, "--constraint", "speed<=3", "-o", tmp / "bad", cwd=tmp)
    assert unknown.returncode == 2 and "no figure 'speed'" in unknown.stderr


def screenshot(page: Path, png: Path, profile: Path) -> Path:
    """Render `page` in headless Chromium (Debian's `chromium`) into `png`."""
    browser = shutil.which("chromium")
    assert browser, "headless Chromium is needed: apt-get install -y chromium"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1280,2200",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return png


def pixels(png: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(png).convert("RGB")).astype(int)


def blank_images(html: str) -> str:
    """The page with every embedded plot replaced by a white PNG of the same size, so the
    layout stays the same and only the plots' content differs."""
    from PIL import Image

    def white(match: re.Match) -> str:
        size = Image.open(io.BytesIO(base64.b64decode(match[1]))).size
        buffer = io.BytesIO()
        Image.new("RGB", size, "white").save(buffer, format="PNG")
        return f"src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'"

    return re.sub(r"src='data:image/png;base64,([^']*)'", white, html)


@pytest.mark.timeout(300)
def test_report_plots_render_in_a_browser(two_board_run, tmp_path) -> None:
    page = two_board_run["run"] / "report.html"
    blank = tmp_path / "blank.html"
    blank.write_text(blank_images(page.read_text()))
    shot = pixels(screenshot(page, tmp_path / "report.png", tmp_path / "p1"))
    white = pixels(screenshot(blank, tmp_path / "blank.png", tmp_path / "p2"))
    drawn = np.abs(shot - white).max(axis=2) > 60
    assert drawn.mean() > 0.002, drawn.mean()  # axes, ticks, labels, points: plots rendered
    coloured = (shot.max(axis=2) - shot.min(axis=2) > 60) & drawn
    assert coloured.sum() > 200, coloured.sum()  # the measured points and the front in colour
    rows = np.flatnonzero(drawn.any(axis=1))
    assert rows.min() < shot.shape[0] / 2, "the plots sit near the top of the page"
