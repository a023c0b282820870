"""The embedded default (no devices file: a local agent on loopback, stopped after the run) and
a table search through the Python API, grown with `resume`."""

from __future__ import annotations

import csv
import json
import re
import socket
from pathlib import Path

import pytest
import yaml
from e2e_helpers import FAST_TIMING
from linas_cli import linas
from linas_host.config.schema import ConfigError

from linas_sdk import search

TABLE = Path(__file__).resolve().parents[2] / "host/linas_host/data/nb201_pi5_cifar100.csv.gz"


def search_tiny(tmp_path: Path, space: object = "tiny_supernet:make", **options):
    """A quiet random search of the tiny supernet through the Python API, on this machine."""
    return search(
        space=space,
        population=2,
        method="random",
        measure=FAST_TIMING,
        out=tmp_path / "run",
        cache_dir=tmp_path / "cache",
        progress="quiet",
        **options,
    )


@pytest.mark.timeout(300)
def test_without_devices_a_local_agent_measures_this_machine(tmp_path: Path) -> None:
    result = search_tiny(tmp_path, objectives=["accuracy", "latency", "params"], budget=4)
    assert result.status == "budget" and result.evaluations == 4
    devices = json.loads((tmp_path / "run" / "devices.json").read_text())
    assert [d["name"] for d in devices] == ["local"]
    assert devices[0]["address"].startswith("127.0.0.1:")
    with (tmp_path / "run" / "results.csv").open() as rows:
        rows = list(csv.DictReader(rows))
    assert {row["device"] for row in rows} == {"local"}
    # the automatic reference point is fixed after the population, and every row has its
    # hypervolume, the last one the run's
    assert all(row["hypervolume"] for row in rows)
    assert float(rows[-1]["hypervolume"]) == pytest.approx(result.hypervolume)
    saved = json.loads((tmp_path / "run" / "run.json").read_text())["reference_point"]
    assert set(saved) == {"accuracy", "latency_ms", "params"}
    page = (tmp_path / "run" / "report.html").read_text()
    assert "host idle while a board times a model" in page
    host, port = devices[0]["address"].split(":")
    with socket.socket() as probe:
        assert probe.connect_ex((host, int(port))) != 0, "the local agent is stopped after the run"
    assert (tmp_path / "cache" / "measurements.sqlite").is_file()


@pytest.mark.timeout(300)
def test_quiet_prints_notes_and_the_closing_line_and_logs_the_tracer_warnings(
    tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    space = {"supernet": "tiny_supernet:make", "options": {"checked_input": True}}
    search_tiny(tmp_path, space=space, objectives=["accuracy", "latency"], budget=2)
    out, err = capfd.readouterr()
    lines = (out + err).splitlines()
    assert lines[-1] == f"search finished: 2 evaluations, report in {tmp_path / 'run'}"
    log = (tmp_path / "run" / "run.log").read_text()
    assert "Converting a tensor to a Python boolean" not in out + err
    assert "TracerWarning: Converting a tensor to a Python boolean" in log
    count = log.count("TracerWarning: Converting")
    # every tracer warning is counted in the closing note (a process that imported JAX, as
    # the int8 tests do, also warns once about forking the local agent: counted beside them)
    assert re.search(rf"\d+ warnings from libraries \((.*, )?TracerWarning x{count}(, .*)?\): "
                     rf"see {re.escape(str(tmp_path / 'run' / 'run.log'))}", out + err), out + err
    for line in lines[:-1]:  # every other line is a note, and the log has each one
        assert line in log, line


def test_table_search_through_the_api_and_a_larger_budget_on_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    options = dict(
        space={"table": str(TABLE), "variables": ["e0", "e1", "e2", "e3", "e4", "e5"]},
        objectives=["acc_cifar100:max", "lat_pi5_onnx_ms:min"],
        constraints=["lat_pi5_onnx_ms<=6"],
        method="nsga2",
        population=10,
        seed=1,
        out=tmp_path / "run",
        progress="rich",
    )
    first = search(budget=20, **options)
    assert "search finished: 20 evaluations" in capsys.readouterr().err  # the live panel's end
    assert first.evaluations == 20 and first.hypervolume > 0
    assert all(row["lat_pi5_onnx_ms"] <= 6 for row in first.front)
    grown = search(budget=40, resume=True, **options)
    assert grown.evaluations == 40 and grown.hypervolume >= first.hypervolume
    with (tmp_path / "run" / "results.csv").open() as rows:
        assert len(list(csv.DictReader(rows))) == 40
    assert not (tmp_path / "run" / "devices.json").read_text().strip("[]\n ")
    saved = (tmp_path / "run" / "config.yaml").read_text()
    # rows scored on other settings would not compare: refused, naming each field, nothing kept
    with pytest.raises(ConfigError) as caught:
        search(budget=60, resume=True, **{**options, "accuracy_limit": 100, "population": 20})
    text = str(caught.value)
    assert "accuracy_limit, population changed" in text
    assert "  - accuracy_limit: was None, now 100" in text and "was 10, now 20" in text
    assert (tmp_path / "run" / "config.yaml").read_text() == saved
    with (tmp_path / "run" / "results.csv").open() as rows:
        assert len(list(csv.DictReader(rows))) == 40


def test_the_api_runs_what_the_cli_runs_with_the_same_defaults(tmp_path: Path) -> None:
    options = {"space": {"table": str(TABLE), "variables": ["e0", "e1", "e2", "e3", "e4", "e5"]},
               "objectives": ["acc_cifar100:max", "lat_pi5_onnx_ms:min"], "budget": 12,
               "population": 6, "method": "nsga2"}
    config = tmp_path / "search.yaml"
    config.write_text(yaml.safe_dump({**options, "out": str(tmp_path / "cli")}))
    done = linas("search", config, "--progress", "quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    search(**options, out=tmp_path / "api", progress="quiet")
    cli, api = (yaml.safe_load((tmp_path / run / "config.yaml").read_text())
                for run in ("cli", "api"))
    assert {k: v for k, v in cli.items() if k != "out"} == {
        k: v for k, v in api.items() if k != "out"}
    assert cli["population"] == 6 and cli["runtime"] == "onnxruntime"  # the schema's default
    assert (tmp_path / "cli" / "results.csv").read_text().splitlines()[0] == (
        tmp_path / "api" / "results.csv").read_text().splitlines()[0]
    assert _rows(tmp_path / "cli") == _rows(tmp_path / "api")


def _rows(run: Path) -> list[tuple[str, str]]:
    """Each evaluation's architecture and objective values (not its time)."""
    with (run / "results.csv").open() as rows:
        return [(r["key"], r["acc_cifar100"], r["lat_pi5_onnx_ms"]) for r in csv.DictReader(rows)]


def test_linas_searches_a_table_of_cells_through_the_api(tmp_path: Path) -> None:
    edges = {"e0": [0, 1], "e1": [0, 2], "e2": [1, 2], "e3": [0, 3], "e4": [1, 3], "e5": [2, 3]}
    cell = {"edges": edges, "zero": "none"}
    result = search(
        space={"table": str(TABLE), "variables": list(edges), "cell": cell},
        objectives=["acc_cifar100:max", "lat_pi5_onnx_ms:min"],
        method="linas", population=10, budget=20, seed=0, out=tmp_path / "run", progress="quiet",
    )
    assert result.evaluations == 20 and result.hypervolume > 0
    kept = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert kept["space"]["cell"] == cell


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("runtime", "suffix"), [("onnxruntime", ".onnx"), ("litert", ".tflite")])
def test_the_host_and_the_board_score_the_same_file_alike(
    runtime: str, suffix: str, tmp_path: Path
) -> None:
    """The same seed asks the same sub-networks of both searches: the host scores each exported
    file with its runtime exactly as the board does, and both agree with PyTorch's module."""
    import tiny_supernet

    scored = {}
    for where in ("host", "device"):
        result = search_tiny(tmp_path / where, objectives=["accuracy", "latency"], budget=4,
                             accuracy_on=where, runtime=runtime, export_front=where == "device")
        assert result.evaluations == 4
        scored[where] = _records(tmp_path / where / "run")
    assert scored["host"].keys() == scored["device"].keys()
    for key, (sha, accuracy) in scored["host"].items():
        assert scored["device"][key] == (sha, accuracy)  # the same file, the same top-1
    supernet = tiny_supernet.make()
    for row in result.front:
        host = supernet.evaluate(supernet.extract(row["config"]))["accuracy"]
        assert row["accuracy"] == pytest.approx(host, abs=1e-6)
    magic = {".onnx": (0, b"\x08"), ".tflite": (4, b"TFL3")}[suffix]
    for model in (tmp_path / "device" / "run" / "models").iterdir():
        assert model.suffix == suffix
        assert model.read_bytes()[magic[0] : magic[0] + len(magic[1])] == magic[1]


def _records(run: Path) -> dict[str, tuple[str, float]]:
    """Each evaluation's exported file (its sha256) and accuracy, by architecture."""
    from linas_host.search.journal import SQLiteJournal

    with SQLiteJournal(run / "journal.sqlite") as journal:
        return {e.key: (e.record["model_sha256"], e.record["accuracy"])
                for e in journal.evaluations()}
