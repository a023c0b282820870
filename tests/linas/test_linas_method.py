"""The LINAS method: never re-asks, asks P, beats random, records its diagnostics."""

from __future__ import annotations

import numpy as np
import pytest
from linas_helpers import OPS, synthetic_metrics, synthetic_space
from linas_host.evaluate.evaluators import CallableEvaluator
from linas_host.search import registry
from linas_host.search.hypervolume import hypervolume
from linas_host.search.linas import LINAS
from linas_host.search.operators import GeneticOperators
from linas_host.search.runner import SearchRun

from linas_sdk.cell import Cell
from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import parse_constraints, parse_objectives, to_minimise, violations
from linas_sdk.space import SearchSpace, Variable

OBJECTIVES = parse_objectives(["acc:max", "lat_ms:min"])
OPS_INDEX = {op: n for n, op in enumerate(OPS)}
FAST = dict(predictions=1500, ga_population=50)  # a small inner GA keeps the tests quick


def _drive(method: LINAS, space, metrics, iterations: int, constraints=()):
    """Ask / tell by hand; return every ask and the set of keys told before it."""
    told: set[str] = set()
    history = []
    for _ in range(iterations):
        configs = method.ask()
        if not configs:
            break
        history.append(([space.key(c) for c in configs], set(told)))
        records = [metrics(c) for c in configs]
        F = np.array([to_minimise(OBJECTIVES, r) for r in records])
        G = np.array([violations(constraints, r) for r in records]).reshape(len(records), -1)
        method.tell(configs, F, G)
        told.update(space.key(c) for c in configs)
    return history


@pytest.mark.parametrize(
    ("trust_radius", "batch", "sizes"),
    [(1, None, [20, 20, 20, 20]), (None, None, [20, 20, 20, 20]), (1, 10, [20, 10, 10, 10])],
)
def test_never_asks_a_measured_architecture_and_asks_p_then_batches(trust_radius, batch, sizes):
    space, metrics = synthetic_space(), synthetic_metrics()
    method = LINAS(trust_radius=trust_radius, batch=batch, **FAST).setup(
        space, OBJECTIVES, seed=1, population_size=20
    )
    history = _drive(method, space, metrics, iterations=4)
    assert [len(keys) for keys, _ in history] == sizes  # P random, then batches (P unless set)
    for keys, told_before in history:
        assert len(set(keys)) == len(keys)
        assert not set(keys) & told_before


def _cell_run(**options):
    """Five asks of LINAS on a cell space whose dead edges buy nothing; the asks as features."""
    edges = {"e0": (0, 1), "e1": (0, 2), "e2": (1, 2), "e3": (0, 3), "e4": (1, 3), "e5": (2, 3)}
    cell = Cell(edges=edges, zero="a")
    space = SearchSpace(synthetic_space().variables, cell=cell)
    base = synthetic_metrics()

    def metrics(config):  # like a real cell: a dead edge buys nothing, a cut one costs nothing
        ops = [config[name] for name in edges]
        live = cell.live([[op == "a" for op in ops]])[0]
        out = base({n: op if on else "a" for n, op, on in zip(edges, ops, live, strict=True)})
        out["lat_ms"] = 1.0 + 0.2 * sum(op != "a" for op in ops) + 0.5 * live.sum()
        return out

    method = LINAS(**FAST, **options).setup(space, OBJECTIVES, seed=3, population_size=20)
    history = _drive(method, space, metrics, iterations=5)

    def features(keys):
        return [space.features([space.config_from_key(k)]).tobytes() for k in keys]

    return [(features(keys), set(features(told))) for keys, told in history[1:]]


def test_with_a_cell_it_never_asks_what_its_predictors_cannot_tell_from_the_measured():
    for asked, told_before in _cell_run():  # the first ask, a uniform draw, is left out
        assert len(asked) == 20
        assert len(set(asked)) == 20  # no two alike
        assert not set(asked) & told_before


def test_the_feature_duplicates_switch_keeps_them():
    """The ablation of docs/linas.md: the same run with feature-duplicates left in asks some."""
    duplicates = sum(
        len(asked) - len(set(asked) - told_before)
        for asked, told_before in _cell_run(drop_feature_duplicates=False)
    )
    assert duplicates > 0


def test_offspring_picks_are_bred_from_the_measured_whatever_the_predictors_say():
    space, metrics = synthetic_space(), synthetic_metrics()

    def asks(predictors, offspring):
        method = LINAS(predictors=predictors, offspring=offspring, batch=10, **FAST)
        return _drive(
            method.setup(space, OBJECTIVES, seed=2, population_size=20),
            space,
            metrics,
            iterations=3,
        )

    bred_ridge, bred_svr = asks(("ridge",), 20), asks(("svr",), 20)  # 20: more than a batch
    assert [keys for keys, _ in bred_ridge] == [keys for keys, _ in bred_svr]
    assert [len(keys) for keys, _ in bred_ridge] == [20, 10, 10]
    for keys, told_before in bred_ridge:
        assert len(set(keys)) == len(keys) and not set(keys) & told_before
    mixed = asks(("ridge",), 5)
    assert mixed[1][0][:5] == bred_ridge[1][0][:5]  # the same parents breed the same children
    assert mixed[1][0][5:] != bred_ridge[1][0][5:]  # the rest the predictors chose


def test_asks_fewer_only_when_the_space_runs_out():
    space = SearchSpace([Variable(f"g{i}", [0, 1, 2]) for i in range(3)])  # 27 networks

    def metrics(config):
        x = [config[f"g{i}"] for i in range(3)]
        return {"acc": float(sum(x) + 0.1 * x[0] * x[1]), "lat_ms": float(1 + sum(x) ** 1.2)}

    method = LINAS(**FAST).setup(space, OBJECTIVES, seed=0, population_size=10)
    history = _drive(method, space, metrics, iterations=5)
    sizes = [len(keys) for keys, _ in history]
    assert sizes == [10, 10, 7]  # then nothing is left to ask
    assert len({k for keys, _ in history for k in keys}) == 27


def _final_hv(name: str, seed: int, **options) -> float:
    space, metrics = synthetic_space(), synthetic_metrics()
    method = registry.create(name, **options)
    result = SearchRun(
        space=space,
        objectives=OBJECTIVES,
        method=method,
        evaluator=CallableEvaluator(metrics),
        budget=120,
        population_size=20,
        seed=seed,
    ).run()
    F = np.array([e.F for e in result.evaluations])
    return hypervolume(F, reference_point=[-40.0, 12.0])


@pytest.mark.timeout(120)
def test_beats_random_search_on_hypervolume():
    linas = [_final_hv("linas", seed, **FAST) for seed in range(3)]
    rand = [_final_hv("random", seed) for seed in range(3)]
    assert np.median(linas) > np.median(rand)
    assert min(linas) > 0


def test_diagnostics_record_each_iteration():
    space, metrics = synthetic_space(), synthetic_metrics()
    constraints = parse_constraints(["lat_ms<=8"])
    method = LINAS(**FAST).setup(space, OBJECTIVES, constraints, seed=2, population_size=20)
    _drive(method, space, metrics, iterations=3, constraints=constraints)
    assert [d["iteration"] for d in method.diagnostics] == [2, 3]  # the first ask is random
    for d in method.diagnostics:
        assert set(d["predictors"]) == {"acc", "lat_ms", "lat_ms<=8"}
        for quality in d["predictors"].values():
            assert quality["model"] in ("ridge", "ridge2", "svr", "lightgbm")
            assert quality["model"] in quality["cv"]
            assert -1 <= quality["tau"] <= 1 and quality["mape"] >= 0
        assert d["predictors"]["lat_ms"]["tau"] > 0.5  # latency is learnable here
        assert 0 < d["predictions"] <= FAST["predictions"] + FAST["ga_population"]
        assert d["host_seconds"] >= d["ga_seconds"] > 0 and d["host_cpu_seconds"] > 0
        assert d["predicted_front"] and set(d["predicted_front"][0]) == {"acc", "lat_ms"}
    assert method.diagnostics[0]["measured"] == 20 and method.diagnostics[1]["measured"] == 40


def test_settings_are_explicit_and_bad_ones_refused():
    method = registry.create("linas", operators=GeneticOperators(mutation_rate=0.25))
    assert isinstance(method, LINAS)
    settings = method.to_dict()
    assert settings["predictions"] == 20_000 and settings["name"] == "linas"
    assert settings["trust_radius"] == "auto" and settings["optimism"] == 1.0
    assert settings["extremes"] == 5 and settings["drop_feature_duplicates"] is True
    assert settings["operators"]["mutation_rate_per_variable"] == 0.25
    with pytest.raises(InvalidArgument, match="unknown predictors"):
        LINAS(predictors=("ridge", "gp"))
    with pytest.raises(InvalidArgument, match="predictions"):
        LINAS(predictions=0)
    with pytest.raises(InvalidArgument, match="optimism"):
        LINAS(optimism=-1)
    for bad in (-1, "far", 1.5):
        with pytest.raises(InvalidArgument, match="trust_radius"):
            LINAS(trust_radius=bad)
    with pytest.raises(InvalidArgument, match="extremes"):
        LINAS(extremes=-1)
    assert settings["batch"] is None
    with pytest.raises(InvalidArgument, match="batch"):
        LINAS(batch=0)
    with pytest.raises(InvalidArgument, match=r"batch \(30\) must be at most the population"):
        LINAS(batch=30).setup(synthetic_space(), OBJECTIVES, population_size=20)


def test_the_journal_keeps_the_diagnostics(tmp_path):
    from linas_host.search.journal import SQLiteJournal

    space, metrics = synthetic_space(), synthetic_metrics()
    journal = SQLiteJournal(tmp_path / "run.sqlite")
    SearchRun(
        space=space,
        objectives=OBJECTIVES,
        method=LINAS(**FAST),
        evaluator=CallableEvaluator(metrics),
        budget=60,
        population_size=20,
        journal=journal,
    ).run()
    notes = journal.notes()
    journal.close()
    assert sorted(notes) == [2, 3]
    assert notes[2]["predictors"]["acc"]["model"] in ("ridge", "ridge2", "svr", "lightgbm")


@pytest.mark.parametrize(("n_variables", "radius"), [(6, 1), (20, 1), (45, 3), (46, 3)])
def test_the_automatic_trust_radius_grows_with_the_space(n_variables, radius):
    space = SearchSpace([Variable(f"v{i}", (0, 1, 2)) for i in range(n_variables)])
    method = LINAS(**FAST).setup(space, OBJECTIVES, seed=0, population_size=10)

    def metrics(config):
        ones = sum(config.values())
        return {"acc": ones, "lat_ms": 1.0 + ones + config["v0"]}

    _drive(method, space, metrics, iterations=2)
    assert method.diagnostics[0]["trust_radius"] == radius


def test_a_stalled_front_widens_the_trust_region_and_breeds_offspring():
    """One architecture is best on both objectives: once LINAS has measured it, nothing adds
    hypervolume, and after ``stall_iterations`` iterations it says so and widens."""
    space = synthetic_space()
    best = [0, 3, 1, 4, 2, 0]

    def metrics(config):
        d = sum(OPS_INDEX[config[f"e{i}"]] != b for i, b in enumerate(best))
        return {"acc": float(10 - d), "lat_ms": float(1 + d)}

    method = LINAS(**FAST, batch=10).setup(space, OBJECTIVES, seed=1, population_size=10)
    _drive(method, space, metrics, iterations=9)
    stalled = [d["stalled_iterations"] for d in method.diagnostics]
    hv = [d["front_hypervolume"] for d in method.diagnostics]
    first = stalled.index(1)  # it stalls, once the best is measured and 3 iterations add nothing
    assert all(s == 0 for s in stalled[:first]) and stalled[first:] == list(
        range(1, len(stalled) - first + 1))
    assert hv[first] == hv[first - 3]
    for d in method.diagnostics:
        assert d["trust_radius"] == 1 + d["stalled_iterations"]
        assert d["offspring_picks"] == (2 if d["stalled_iterations"] else 0)  # explore 0.2 of 10


def test_an_improving_front_is_not_stalled():
    space, metrics = synthetic_space(), synthetic_metrics()
    method = LINAS(**FAST, batch=10).setup(space, OBJECTIVES, seed=3, population_size=20)
    _drive(method, space, metrics, iterations=8)
    hv = [d["front_hypervolume"] for d in method.diagnostics]
    assert all(b > a for a, b in zip(hv[:-3], hv[3:], strict=True))  # it keeps growing
    assert all(d["stalled_iterations"] == 0 and d["trust_radius"] == 1
               and d["offspring_picks"] == 0 for d in method.diagnostics)
    never = LINAS(**FAST, batch=10, stall_iterations=None)
    assert never.to_dict()["stall_iterations"] is None
    for bad in ({"stall_iterations": 0}, {"stall_tolerance": -1}, {"explore": 1.5}):
        with pytest.raises(InvalidArgument, match=r"stall_|explore"):
            LINAS(**bad)
