"""`linas search --warm-start` on a supernet against a real agent: the second board's search
reuses the first's accuracies (never scored again: its host work has no accuracy objective)
and measures only its latency."""

from __future__ import annotations

import pytest
from e2e_helpers import FAST_TIMING, devices_file
from linas_cli import linas, tiny_search_config
from linas_host.search.journal import SQLiteJournal

POPULATION = 4


def evaluations(run):
    with SQLiteJournal(run / "journal.sqlite") as journal:
        return journal.evaluations(), journal.meta()


@pytest.mark.timeout(600)
def test_a_second_board_reuses_the_first_boards_accuracies(agent_process, tmp_path) -> None:
    runs = {}
    for board, budget, extra in (("a", 8, {}), ("b", 6, {"warm_start": tmp_path / "a"})):
        agent = agent_process(name=board, labels={"board": board})
        devices = devices_file(tmp_path / f"{board}.yaml", {board: (agent, {"board": board})})
        config = tiny_search_config(
            tmp_path / f"search-{board}.yaml",
            objectives=["accuracy", {"metric": "latency", "name": f"latency_{board}"}],
            devices=devices, method="linas",
            method_options={"predictions": 200, "ga_population": 10},
            budget=budget, population=POPULATION, measure=FAST_TIMING, cache=False,
            out=tmp_path / board, **extra,
        )
        done = linas("search", config, "--progress", "quiet", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        runs[board] = evaluations(tmp_path / board)
    (before, _), (after, meta) = runs["a"], runs["b"]
    assert meta["warm_start"]["reused"] == ["accuracy"]
    assert meta["warm_start"]["board"] == ["latency_a"]
    assert len(after) == 6
    known = {e.key: e for e in before}
    assert {e.key for e in after[:POPULATION]} <= set(known)  # the first ask: board a's front
    for e in after:
        assert e.values["latency_b"] > 0 and e.device == "b"
        if e.key in known:
            assert e.record["reused"] == ["accuracy"]
            assert e.values["accuracy"] == known[e.key].values["accuracy"]
        else:
            assert "reused" not in e.record and 0 <= e.values["accuracy"] <= 1
