"""One vocabulary across the commands, on a real run of the tiny supernet: `search --progress`,
`export --constraint`, the old spellings that still work for a release and say so, and the
report's compact front and device tables."""

from __future__ import annotations

import csv
import json
import re

import pytest
from e2e_helpers import FAST_TIMING
from linas_cli import linas, tiny_search_config

pytestmark = pytest.mark.timeout(300)

BUDGET = 6
OBJECTIVES = ["accuracy", "latency_ms"]


def deprecated(command: str, old: str, new: str) -> str:
    return (f"linas {command}: {old} is deprecated and will be removed in the next release; "
            f"use {new}")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """A random search of the tiny supernet with a local agent, its progress as JSON lines."""
    folder = tmp_path_factory.mktemp("vocabulary")
    config = tiny_search_config(
        folder / "search.yaml", method="random", budget=BUDGET, population=3,
        measure=FAST_TIMING, cache=False, out=folder / "run",
    )
    done = linas("search", config, "--progress", "jsonl", cwd=folder)
    assert done.returncode == 0, done.stderr
    with (folder / "run" / "pareto.csv").open() as rows:
        front = list(csv.DictReader(rows))
    return {"folder": folder, "config": config, "search": done, "front": front}


def test_search_progress_jsonl_prints_only_json_events(run) -> None:
    events = [json.loads(line) for line in run["search"].stdout.splitlines()]
    assert {"note", "start", "update"} <= {e["event"] for e in events}
    assert events[-1]["event"] == "finish" and events[-1]["done"] == BUDGET
    assert "deprecated" not in run["search"].stderr


@pytest.mark.parametrize("mode", ["jsonl", "quiet"])
def test_old_search_spellings_still_work_and_say_so(run, mode: str) -> None:
    resumed = linas("search", run["config"], "--resume", f"--{mode}", cwd=run["folder"])
    assert resumed.returncode == 0, resumed.stderr
    lines = resumed.stderr.splitlines()
    assert lines[0] == deprecated("search", f"--{mode}", f"--progress {mode}")
    if mode == "jsonl":
        events = [json.loads(line) for line in resumed.stdout.splitlines()]
        assert events[-1] == {**events[-1], "event": "finish", "done": BUDGET}
    else:
        assert resumed.stdout == "" and lines[-1].startswith(f"search finished: {BUDGET} ")


def header(page: str, heading: str) -> tuple[str, list[str]]:
    """The text between `heading` and its table, and the table's column names."""
    section = page[page.index(f"<h2>{heading}"):]
    table = section[: section.index("</table>")]
    return table[: table.index("<table>")], re.findall(r"<th>(.*?)</th>", table)


def test_report_front_shows_only_the_genes_that_differ(run) -> None:
    front = run["front"]
    genes = list(front[0])[5 : -len(OBJECTIVES) - 1]  # pareto.csv: index..key, genes, figures
    assert genes == ["depth", "width0", "width1", "width2"]
    differing = [g for g in genes if len({row[g] for row in front}) > 1]
    common = [g for g in genes if g not in differing]
    page = (run["folder"] / "run" / "report.html").read_text()
    above, columns = header(page, "Pareto front")
    assert columns == ["index", *OBJECTIVES, *differing, "model"]
    if common:
        said = ", ".join(f"{g}={front[0][g]}" for g in common)
        assert f"<p>Common to every row: {said}</p>" in above


def test_report_lists_the_devices_as_a_table(run) -> None:
    page = (run["folder"] / "run" / "report.html").read_text()
    _, columns = header(page, "Devices")
    assert columns == ["name", "address", "labels", "state", "machine / CPU", "cores",
                       "memory GB", "OS", "runtimes", "int8", "agent", "warnings"]
    row = page[page.index("<h2>Devices"):].split("<tbody>")[1].split("</tr>")[0]
    assert "<td>local</td>" in row and "<td>alive</td>" in row
    assert re.search(r"<td>onnxruntime \d[^<]*\(CPUExecutionProvider\)", row)
    assert '"cpu_count"' not in page  # no manifest as raw JSON


def test_export_constraint_and_the_old_where(run) -> None:
    slowest = max(float(row["latency_ms"]) for row in run["front"])
    bound = f"latency_ms<={slowest!r},accuracy>=0"  # two constraints in one, comma-separated
    manifests = {}
    for flag in ("--constraint", "--where"):
        out = run["folder"] / flag.strip("-")
        done = linas("export", run["folder"] / "run", flag, bound, "--maximize", "accuracy",
                     "-o", out, cwd=run["folder"])
        assert done.returncode == 0, done.stderr
        told = [deprecated("export", "--where", "--constraint NAME<=BOUND")]
        assert (done.stderr.splitlines() == told) == (flag == "--where"), done.stderr
        manifests[flag] = json.loads((out / "manifest.json").read_text())
    new, old = manifests["--constraint"], manifests["--where"]
    assert new["selection"]["constraints"] == [f"latency_ms<={slowest:g}", "accuracy>=0"]
    assert new["selection"]["where"] == new["selection"]["constraints"]  # the old key, kept
    assert new["figures"]["accuracy"] == max(float(row["accuracy"]) for row in run["front"])
    assert (old["selection"], old["architecture"]) == (new["selection"], new["architecture"])
