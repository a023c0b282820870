"""The run journal: append, resume (after a real SIGKILL too), refusals, CSV export."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from linas_host.search import registry
from linas_host.search.journal import SQLiteJournal, export_csv
from linas_host.search.runner import SearchRun
from polling import wait_for
from search_helpers import CountingEvaluator, small_space

from linas_sdk.errors import InvalidArgument
from linas_sdk.space import SearchSpace, Variable

OBJECTIVES = ["acc:max", "lat_ms:min"]
ROOT = Path(__file__).resolve().parents[2]


def search(journal, *, budget, method="nsga2", seed=0, resume=False, space=None, evaluator=None):
    return SearchRun(
        space=space or small_space(), objectives=OBJECTIVES, method=registry.create(method),
        evaluator=evaluator or CountingEvaluator(), budget=budget, population_size=10,
        seed=seed, reference_point=[0, 10], journal=journal, resume=resume,
    ).run()


@pytest.mark.parametrize("method", ["nsga2", "random"])
def test_resume_measures_only_new_architectures_and_continues_the_same_run(tmp_path, method):
    whole = search(tmp_path / "whole.sqlite", budget=45, method=method)
    first = search(tmp_path / "run.sqlite", budget=23, method=method)
    evaluator = CountingEvaluator()
    resumed = search(tmp_path / "run.sqlite", budget=45, method=method, resume=True,
                     evaluator=evaluator)
    assert resumed.resumed == 23
    assert len(evaluator.calls) == 22
    journaled = {e.key for e in first.evaluations}
    assert not journaled & {small_space().key(c) for c in evaluator.calls}
    # a deterministic method replays to where it stopped: the same run as an uninterrupted one
    assert [e.key for e in resumed.evaluations] == [e.key for e in whole.evaluations]
    assert resumed.hypervolume == pytest.approx(whole.hypervolume)
    stored = SQLiteJournal(tmp_path / "run.sqlite").evaluations()
    assert [e.key for e in stored] == [e.key for e in whole.evaluations]
    assert stored[5].values == whole.evaluations[5].values
    assert stored[5].config == whole.evaluations[5].config


def test_a_full_journal_resumes_without_measuring(tmp_path):
    search(tmp_path / "j.sqlite", budget=20)
    evaluator = CountingEvaluator()
    result = search(tmp_path / "j.sqlite", budget=20, resume=True, evaluator=evaluator)
    assert evaluator.calls == [] and len(result.evaluations) == 20


def test_journals_refuse_another_run(tmp_path):
    path = tmp_path / "j.sqlite"
    search(path, budget=10)
    with pytest.raises(InvalidArgument, match=r"already holds a run \(10 evaluations\); resume it"):
        search(path, budget=10)
    other = SearchSpace([Variable("depth", [1, 2], kind="int"), Variable("x", ["a", "b"])])
    evaluator = CountingEvaluator(lambda c: {"acc": 1.0, "lat_ms": 1.0})
    with pytest.raises(InvalidArgument, match="written for another search space"):
        search(path, budget=10, resume=True, space=other, evaluator=evaluator)
    with pytest.raises(InvalidArgument, match="method="):
        search(path, budget=10, resume=True, method="random")
    with pytest.raises(InvalidArgument, match="seed=0"):
        search(path, budget=10, resume=True, seed=1)
    assert evaluator.calls == []
    bad = tmp_path / "not-a-journal.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InvalidArgument, match="not a usable linas journal"):
        SQLiteJournal(bad)


def test_export_csv_has_one_row_per_evaluation(tmp_path):
    result = search(tmp_path / "j.sqlite", budget=15)
    out = export_csv(SQLiteJournal(tmp_path / "j.sqlite").evaluations(), tmp_path / "run.csv")
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 15
    assert list(rows[0])[:6] == ["index", "iteration", "time", "device", "host", "key"]
    assert {"depth", "width", "op1", "op2", "op3", "acc", "lat_ms", "feasible"} <= set(rows[0])
    assert [r["key"] for r in rows] == [e.key for e in result.evaluations]
    assert float(rows[3]["acc"]) == pytest.approx(result.evaluations[3].values["acc"])
    assert float(rows[-1]["hypervolume"]) == pytest.approx(result.hypervolume[-1])


KILLABLE = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from search_helpers import small_space, toy_metrics
    from linas_host.search import registry
    from linas_host.evaluate.evaluators import CallableEvaluator
    from linas_host.search.runner import SearchRun

    space = small_space()
    log = open(sys.argv[2], "a")

    def measure(config):
        time.sleep(0.03)
        log.write(space.key(config) + "\\n")
        log.flush()
        return toy_metrics(config)

    SearchRun(space=space, objectives=["acc:max", "lat_ms:min"],
               method=registry.create("nsga2"), evaluator=CallableEvaluator(measure),
               budget=60, population_size=10, seed=4, journal=sys.argv[1],
               resume=sys.argv[3] == "resume").run()
""")


@pytest.mark.timeout(120)
def test_a_sigkilled_run_resumes_without_remeasuring(tmp_path):
    script = tmp_path / "killable.py"
    script.write_text(KILLABLE.format(tests=str(Path(__file__).parent)))
    journal, log = tmp_path / "run.sqlite", tmp_path / "measured.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "host")]))
    proc = subprocess.Popen([sys.executable, str(script), str(journal), str(log), "fresh"],
                            env=env, cwd=tmp_path)

    def journalled() -> int:
        if not journal.exists():
            return 0
        try:
            with sqlite3.connect(journal) as db:
                return db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # the schema is not there yet

    wait_for(lambda: journalled() >= 25 or proc.poll() is not None, 60,
             "25 evaluations journalled")  # fmt: skip
    assert proc.poll() is None, "the search finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {e.key for e in SQLiteJournal(journal).evaluations()}
    measured_before = log.read_text().split()
    assert 25 <= len(before) < 60

    subprocess.run([sys.executable, str(script), str(journal), str(log), "resume"], env=env,
                   cwd=tmp_path, check=True, timeout=90)
    stored = SQLiteJournal(journal).evaluations()
    keys = [e.key for e in stored]
    assert len(keys) == len(set(keys)) == 60
    measured = log.read_text().split()
    remeasured = {k for k in measured if measured.count(k) > 1}
    # only a measurement in flight at the kill (done, not yet journaled) may be taken again
    assert not remeasured & before
    assert len(remeasured) <= 1 and remeasured <= set(measured_before) - before
    assert len(measured) == 60 + len(remeasured)


def test_method_diagnostics_are_journaled_per_iteration_and_replays_replace_them(tmp_path):
    from linas_host.search.random_search import RandomSearch

    class Diagnosed(RandomSearch):
        name = "diagnosed"

        def _ask(self):
            self.diagnostics.append({"asked": len(self.diagnostics), "tau": np.float64(0.5),
                                     "front": np.arange(2)})
            return super()._ask()

    def run(budget, resume):
        return SearchRun(space=small_space(), objectives=OBJECTIVES, method=Diagnosed(),
                          evaluator=CountingEvaluator(), budget=budget, population_size=10,
                          journal=tmp_path / "j.sqlite", resume=resume).run()

    run(25, False)
    assert SQLiteJournal(tmp_path / "j.sqlite").notes() == {
        i + 1: {"asked": i, "tau": 0.5, "front": [0, 1]} for i in range(3)
    }
    run(40, True)
    notes = SQLiteJournal(tmp_path / "j.sqlite").notes()
    assert sorted(notes) == [1, 2, 3, 4] and notes[4]["asked"] == 3


def test_linas_resumed_from_its_journal_replays_the_same_run(tmp_path):
    def run(path, budget, resume=False, evaluator=None):
        return SearchRun(
            space=small_space(), objectives=OBJECTIVES,
            method=registry.create("linas", predictions=600, ga_population=30),
            evaluator=evaluator or CountingEvaluator(), budget=budget, population_size=8,
            seed=5, journal=path, resume=resume,
        ).run()

    whole = run(tmp_path / "whole.sqlite", 32)
    run(tmp_path / "run.sqlite", 20)
    evaluator = CountingEvaluator()
    resumed = run(tmp_path / "run.sqlite", 32, resume=True, evaluator=evaluator)
    assert len(evaluator.calls) == 12
    assert [e.key for e in resumed.evaluations] == [e.key for e in whole.evaluations]
    notes = SQLiteJournal(tmp_path / "run.sqlite").notes()
    assert sorted(notes) == [2, 3, 4] and "predictors" in notes[2]
