"""The runner's accounting (repeats free, budget exact), hypervolume, feasibility, refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from linas_host.evaluate.evaluators import CallableEvaluator, TableEvaluator
from linas_host.evaluate.table import MeasuredTable
from linas_host.search import registry
from linas_host.search.hypervolume import hypervolume
from linas_host.search.journal import SQLiteJournal
from linas_host.search.method import Method
from linas_host.search.runner import SearchRun
from search_helpers import CountingEvaluator, toy_metrics

from linas_sdk.errors import InvalidArgument, ModelError
from linas_sdk.space import SearchSpace, Variable

OBJECTIVES = ["acc:max", "lat_ms:min"]


class ScriptedMethod(Method):
    """Asks a fixed list of batches and records what it is told."""

    name = "scripted"

    def __init__(self, batches):
        self.batches = [list(b) for b in batches]
        self.told = []

    def _ask(self):
        return self.batches.pop(0) if self.batches else []

    def _tell(self, configs, F, G):
        self.told.append((configs, F.copy(), G.copy()))


def cfg(depth, width=8, op1="conv", op2="conv", op3="conv"):
    return {"depth": depth, "width": width, "op1": op1, "op2": op2, "op3": op3}


def test_repeats_and_other_encodings_of_a_measured_network_are_free(space):
    a, b, c = cfg(1), cfg(2), cfg(3)
    a_again = cfg(1, op2="pool", op3="skip")  # inactive genes differ: the same network as a
    method = ScriptedMethod([[a, b, a_again], [a, b, c, c]])
    evaluator = CountingEvaluator()
    result = SearchRun(space=space, objectives=OBJECTIVES, method=method, evaluator=evaluator,
                        budget=3, population_size=3).run()
    assert [space.key(x) for x in evaluator.calls] == [space.key(a), space.key(b), space.key(c)]
    assert len(result.evaluations) == 3 and result.status == "budget"
    # the first batch was told in full, the repeat with the archived value
    configs, F, _ = method.told[0]
    assert len(configs) == 3 and np.array_equal(F[0], F[2])
    assert F[0].tolist() == [-toy_metrics(a)["acc"], toy_metrics(a)["lat_ms"]]


@pytest.mark.parametrize("name", ["random", "nsga2"])
def test_budget_is_exact_and_every_evaluation_is_a_new_network(space, name):
    evaluator = CountingEvaluator()
    result = SearchRun(space=space, objectives=OBJECTIVES, method=registry.create(name),
                        evaluator=evaluator, budget=37, population_size=10, seed=3).run()
    keys = [space.key(c) for c in evaluator.calls]
    assert len(keys) == len(set(keys)) == 37
    assert [e.key for e in result.evaluations] == keys
    assert [e.index for e in result.evaluations] == list(range(37))
    assert result.status == "budget"


def test_a_run_ends_when_the_space_is_exhausted():
    tiny = SearchSpace([Variable("a", [1, 2, 3], kind="int"), Variable("b", ["x", "y"])])
    evaluator = CountingEvaluator(lambda c: {"acc": c["a"], "lat_ms": len(c["b"]) + c["a"]})
    result = SearchRun(space=tiny, objectives=OBJECTIVES, method=registry.create("random"),
                        evaluator=evaluator, budget=50, population_size=4).run()
    assert len(evaluator.calls) == 6 and result.status == "exhausted"


def test_nsga2_whose_population_holds_every_network_is_exhausted():
    """4 networks, a population of 4: pymoo finds no offspring that is not a duplicate."""
    tiny = SearchSpace([Variable("a", [1, 2], kind="int"), Variable("b", ["x", "y"])])
    evaluator = CountingEvaluator(lambda c: {"acc": c["a"], "lat_ms": c["a"]})
    result = SearchRun(space=tiny, objectives=OBJECTIVES, method=registry.create("nsga2"),
                        evaluator=evaluator, budget=10, population_size=4, max_stalled_asks=5).run()
    assert len(evaluator.calls) == 4 and result.status == "exhausted"


def test_nsga2_that_only_repeats_what_it_was_told_stalls_instead_of_spinning():
    """6 networks, a population of 2: once all 6 are measured, pymoo (which only keeps its
    population's duplicates out) goes on asking measured ones; the run ends after
    max_stalled_asks such asks in a row, not at the budget."""
    tiny = SearchSpace([Variable("a", [1, 2, 3], kind="int"), Variable("b", ["x", "y"])])
    evaluator = CountingEvaluator(lambda c: {"acc": c["a"], "lat_ms": c["a"]})
    method = registry.create("nsga2")
    asks = []
    ask = method.ask
    method.ask = lambda: asks.append(ask()) or asks[-1]  # observed, not changed
    result = SearchRun(space=tiny, objectives=OBJECTIVES, method=method, evaluator=evaluator,
                        budget=50, population_size=2, max_stalled_asks=5).run()
    assert result.status == "stalled"
    assert len(evaluator.calls) == 6 == len(result.evaluations)  # every network, once
    measured = {e.key for e in result.evaluations}
    keys = [{tiny.key(c) for c in batch} for batch in asks]
    last_new = max(i for i, batch in enumerate(keys) if batch - set().union(*keys[:i]))
    assert len(asks) - 1 - last_new == 5  # five asks of measured networks only, then the end
    assert all(batch <= measured for batch in keys[last_new + 1 :])


def test_only_repeats_in_a_row_count_towards_a_stall(space):
    a, b, c = cfg(1), cfg(2), cfg(3)
    # stalled count after each tell: 0, 1, 2, 0 (b is new), 1, 2, 3 -> stalled; c never asked
    method = ScriptedMethod([[a], [a], [a], [b], [a, b], [b], [a], [c]])
    evaluator = CountingEvaluator()
    result = SearchRun(space=space, objectives=OBJECTIVES, method=method, evaluator=evaluator,
                        budget=10, population_size=1, max_stalled_asks=3).run()
    assert result.status == "stalled"
    assert [space.key(x) for x in evaluator.calls] == [space.key(a), space.key(b)]
    assert len(method.told) == 7 and method.batches == [[c]]


def test_hypervolume_after_every_evaluation_matches_a_hand_computed_2d_case():
    line = SearchSpace([Variable("i", list(range(5)), kind="int")])
    points = [(1, 1), (2, 2), (3, 3), (2.5, 1.5), (0.5, 0.5)]  # natural (a:min, b:max)
    evaluator = CallableEvaluator(lambda c: dict(zip(("a", "b"), points[c["i"]], strict=True)))
    method = ScriptedMethod([[{"i": i}] for i in range(5)])
    result = SearchRun(space=line, objectives=["a:min", "b:max"], method=method,
                        evaluator=evaluator, budget=5, population_size=1,
                        reference_point={"a": 4, "b": 0}).run()
    # boxes against (4, 0): 3*1; + 2*1; + 1*1; dominated; + a 0.5 x 0.5 strip
    assert result.hypervolume == pytest.approx([3, 5, 6, 6, 6.25])
    assert [e.hypervolume for e in result.evaluations] == pytest.approx([3, 5, 6, 6, 6.25])
    assert hypervolume(np.array([[1, 3], [2, 2], [3, 1]]), [4, 4]) == pytest.approx(6)
    assert {e.config["i"] for e in result.front()} == {0, 1, 2, 4}


def test_an_automatic_reference_is_fixed_after_the_population_and_fills_every_hypervolume(
    tmp_path,
):
    line = SearchSpace([Variable("i", list(range(5)), kind="int")])
    points = [(1, 1), (2, 2), (3, 3), (2.5, 1.5), (0.5, 0.5)]  # natural (a:min, b:max)
    evaluator = CallableEvaluator(lambda c: dict(zip(("a", "b"), points[c["i"]], strict=True)))
    seen = []
    result = SearchRun(space=line, objectives=["a:min", "b:max"],
                        method=ScriptedMethod([[{"i": i} for i in range(3)], [{"i": 3}, {"i": 4}]]),
                        evaluator=evaluator, budget=5, population_size=3,
                        journal=tmp_path / "j.sqlite", callbacks=[seen.append]).run()
    # the first 3 points' worst (a 3, b 1) widened by a tenth of the range (2): (3.2, 0.8)
    assert result.reference_point == pytest.approx({"a": 3.2, "b": 0.8})
    boxes = [hypervolume(np.array([[a, -b] for a, b in points[: n + 1]]), [3.2, -0.8])
             for n in range(5)]
    assert result.hypervolume == pytest.approx(boxes)
    stored = SQLiteJournal(tmp_path / "j.sqlite").evaluations()
    assert [e.hypervolume for e in stored] == pytest.approx(boxes)
    assert [p.hypervolume for p in seen[:2]] == [None, None]  # unknown until the 3rd is in
    assert [p.reference_point for p in seen[:2]] == [None, None]
    assert seen[2].reference_point == result.reference_point


def test_constraints_are_feasibility_told_to_the_method_and_kept_out_of_the_hypervolume():
    line = SearchSpace([Variable("i", list(range(3)), kind="int")])
    points = [(1, 1), (2, 5), (3, 3)]  # (lat_ms, acc); lat_ms <= 2.5 rules the last one out
    evaluator = CallableEvaluator(lambda c: dict(zip(("lat_ms", "acc"), points[c["i"]],
                                                     strict=True)))
    method = ScriptedMethod([[{"i": 0}, {"i": 1}, {"i": 2}]])
    result = SearchRun(space=line, objectives=OBJECTIVES, constraints=["lat_ms<=2.5"],
                        method=method, evaluator=evaluator, budget=3, population_size=3,
                        reference_point=[0, 4]).run()
    assert [e.feasible for e in result.evaluations] == [True, True, False]
    _, _, G = method.told[0]
    assert G[:, 0].tolist() == [-1.5, -0.5, 0.5]
    # feasible front: (1,1) box 2*1 ... (2,5) box 2*5 -> union 2*5 + 1*1 - overlap = 11
    assert result.hypervolume[-1] == pytest.approx(hypervolume(np.array([[-1, 1], [-5, 2]]),
                                                               [0, 4]))


def test_a_failed_measurement_counts_is_infeasible_and_the_run_goes_on(space):
    def flaky(config):
        if config["width"] == 64:
            raise ModelError("the runtime rejected the model")
        return toy_metrics(config)

    evaluator = CountingEvaluator(flaky)
    result = SearchRun(space=space, objectives=OBJECTIVES, method=registry.create("nsga2"),
                        evaluator=evaluator, budget=40, population_size=10, seed=1,
                        reference_point=[0, 10]).run()
    failed = [e for e in result.evaluations if e.failed]
    assert failed and len(result.evaluations) == 40
    assert all(not e.feasible and (float("inf"),) * 2 == e.F for e in failed)
    assert "rejected" in failed[0].record["error"]


def test_progress_callbacks_see_every_evaluation(space):
    seen = []
    SearchRun(space=space, objectives=OBJECTIVES, method=registry.create("random"),
               evaluator=CountingEvaluator(), budget=12, population_size=5,
               reference_point=[0, 10], callbacks=[seen.append]).run()
    assert [p.evaluations for p in seen] == list(range(1, 13))
    assert seen[-1].fraction == 1.0
    assert all(b.hypervolume >= a.hypervolume for a, b in itertools.pairwise(seen))


def table_evaluator(tmp_path) -> TableEvaluator:
    path = tmp_path / "t.csv"
    path.write_text("a,b,acc,lat_ms\n" + "".join(
        f"{a},{b},{i},{10 - i}\n" for i, (a, b) in enumerate(
            (a, b) for a in ("x", "y") for b in ("p", "q", "r"))
    ))
    return TableEvaluator(MeasuredTable.load(path, ["a", "b"]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": 4}, r"budget \(4 evaluations\) is smaller than the population \(5\)"),
        ({"objectives": ["acc", "lat_ms:min"]}, "needs a direction"),
        ({"objectives": ["acc:max", "latency:min"]}, "no measured column 'latency'"),
        ({"constraints": ["energy<=3"]}, "no measured column 'energy'"),
        ({"objectives": ["a:max", "lat_ms:min"]}, "'a' is a variable column"),
        ({"reference_point": [1.0]}, "one finite value per objective"),
        ({"method": "nsga2"}, "must be a linas Method"),
    ],
)
def test_bad_input_is_refused_before_anything_is_measured(tmp_path, change, message):
    evaluator = table_evaluator(tmp_path)
    calls = []
    evaluator.stream = lambda configs: calls.append(configs) or iter(())
    options = dict(space=evaluator.space, objectives=OBJECTIVES, method=registry.create("random"),
                   evaluator=evaluator, budget=6, population_size=5)
    options.update(change)
    with pytest.raises(InvalidArgument, match=message):
        SearchRun(**options).run()
    assert calls == []


def test_a_table_evaluator_refuses_another_space(tmp_path, space):
    with pytest.raises(InvalidArgument, match="not the table's variable columns"):
        SearchRun(space=space, objectives=OBJECTIVES, method=registry.create("random"),
                  evaluator=table_evaluator(tmp_path), budget=6, population_size=5)
