"""Methods and their shared operators: rates as stated, canonical offspring, constraints steer."""

from __future__ import annotations

import numpy as np
import pytest
from linas_host.bench import SHARED_TABLE
from linas_host.evaluate.evaluators import TableEvaluator
from linas_host.evaluate.table import MeasuredTable
from linas_host.search import registry
from linas_host.search.operators import (
    GeneticOperators,
    RandomResetMutation,
    SpaceProblem,
    build_nsga2,
)
from linas_host.search.runner import SearchRun
from pymoo.optimize import minimize
from search_helpers import CountingEvaluator, small_space

from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import parse_objectives
from linas_sdk.space import SearchSpace, Variable


def test_random_reset_changes_each_gene_at_the_stated_per_variable_rate():
    space = SearchSpace([Variable(f"g{i}", list(range(5))) for i in range(10)])
    problem = SpaceProblem(space, n_obj=2)
    X = np.zeros((4000, 10), dtype=np.int64)
    out = RandomResetMutation(0.1)._do(problem, X.copy(), random_state=np.random.default_rng(0))
    changed = out != X
    assert changed.mean() == pytest.approx(0.1, abs=0.01)
    assert out.min() >= 0 and out.max() <= 4
    # a reset always picks a *different* choice, uniformly among the other four
    counts = np.bincount(out[changed], minlength=5)
    assert counts[0] == 0 and counts[1:].min() > 0.2 * changed.sum()


def test_operators_state_their_rates_and_refuse_bad_ones():
    space = small_space()
    ops = GeneticOperators()
    assert ops.per_variable_mutation_rate(space) == pytest.approx(1 / 5)
    assert GeneticOperators(mutation_rate=0.3).per_variable_mutation_rate(space) == 0.3
    assert ops.to_dict()["mutation_rate_per_variable"] is None
    with pytest.raises(InvalidArgument, match="crossover must be one of"):
        GeneticOperators(crossover="one-point")
    with pytest.raises(InvalidArgument, match="per variable"):
        GeneticOperators(mutation_rate=2)
    with pytest.raises(InvalidArgument, match="crossover_rate"):
        GeneticOperators(crossover_rate=-0.1)


@pytest.mark.parametrize("crossover", ["uniform", "sbx"])
def test_a_ga_on_a_function_keeps_offspring_canonical(crossover):
    """How LINAS uses the operators: NSGA-II over a cheap function of the choice indices."""
    space = small_space()

    def function(X):
        configs = [space.decode(x) for x in X]
        assert all(np.array_equal(space.encode(c), x) for c, x in zip(configs, X, strict=True))
        f = space.features_encoded(X)
        return np.column_stack([-f.sum(axis=1), f[:, 0]])

    algorithm = build_nsga2(space, GeneticOperators(crossover=crossover), population_size=20)
    result = minimize(SpaceProblem(space, n_obj=2, function=function), algorithm,
                      ("n_gen", 5), seed=1)
    assert len(result.X) > 0
    keys = [space.key(space.decode(x)) for x in result.pop.get("X")]
    assert len(keys) == len(set(keys))  # duplicates (canonical) were eliminated


def test_nsga2_asks_canonical_configs_and_records_its_operators():
    method = registry.create("nsga2", operators=GeneticOperators(mutation_rate=0.25))
    space = small_space()
    method.setup(space, (), seed=0, population_size=12)
    configs = method.ask()
    assert len(configs) == 12
    assert all(space.canonical(c) == c for c in configs)
    assert method.to_dict()["operators"]["mutation_rate_per_variable"] == 0.25
    with pytest.raises(InvalidArgument, match="exactly the configs last asked"):
        method.tell(configs[:3], np.zeros((3, 0)))


def test_random_search_never_asks_a_known_architecture_twice():
    method = registry.create("random")
    space = small_space()
    method.setup(space, (), seed=2, population_size=30)
    keys = [space.key(c) for _ in range(4) for c in method.ask()]
    assert len(keys) == len(set(keys)) == 120


def test_constraints_steer_nsga2_towards_feasible_networks():
    table = MeasuredTable.load(SHARED_TABLE, [f"e{i}" for i in range(6)])
    feasible = {}
    for name in ("nsga2", "random"):
        result = SearchRun(
            space=table.space, objectives=["acc_cifar100:max", "lat_pi5_onnx_ms:min"],
            constraints=["lat_pi5_onnx_ms<=2"], method=registry.create(name),
            evaluator=TableEvaluator(table), budget=300, population_size=50, seed=0,
        ).run()
        feasible[name] = np.mean([e.feasible for e in result.evaluations[100:]])
    assert feasible["nsga2"] > 2 * feasible["random"]


def test_unknown_methods_and_unloadable_ones_are_refused():
    with pytest.raises(InvalidArgument, match="unknown search method 'sa'"):
        registry.create("sa")
    registry.register("broken", "linas_host.search.no_such_module:Thing")
    try:
        with pytest.raises(InvalidArgument, match="is not available"):
            registry.create("broken")
    finally:
        registry.register("broken", lambda **_: None)


def test_tell_checks_the_shape_of_values():
    method = registry.create("random")
    method.setup(small_space(), parse_objectives(["a:max", "b:min"]), seed=0, population_size=2)
    configs = method.ask()
    method.tell(configs, np.zeros((2, 2)))
    with pytest.raises(InvalidArgument, match=r"F of shape \(2, 2\) and G of shape \(2, 0\)"):
        method.tell(configs, np.zeros((2, 3)))


def test_counting_evaluator_sees_only_configs_of_the_space():
    evaluator = CountingEvaluator()
    SearchRun(space=small_space(), objectives=["acc:max", "lat_ms:min"],
               method=registry.create("nsga2"), evaluator=evaluator, budget=30,
               population_size=10).run()
    for config in evaluator.calls:
        small_space().validate(config)
