"""Search space: canonical form, keys, encode/decode, features, YAML and the errors."""

from __future__ import annotations

import numpy as np
import pytest

from linas_sdk.errors import InvalidArgument
from linas_sdk.space import SearchSpace, Variable


def conditional_space() -> SearchSpace:
    return SearchSpace([
        Variable("depth", [1, 2, 3], kind="int"),
        Variable("op1", ["conv", "pool"]),
        Variable("op2", ["conv", "pool"], active_if={"depth": [2, 3]}),
        Variable("op3", ["conv", "pool"], active_if={"depth": [3]}),
        Variable("k3", [3, 5], kind="int", active_if={"op3": ["conv"]}),
    ])


def test_inactive_genes_collapse_to_one_canonical_config_and_key():
    space = conditional_space()
    a = {"depth": 1, "op1": "conv", "op2": "pool", "op3": "pool", "k3": 5}
    b = {"depth": 1, "op1": "conv", "op2": "conv", "op3": "conv", "k3": 3}
    assert space.canonical(a) == space.canonical(b) == {
        "depth": 1, "op1": "conv", "op2": "conv", "op3": "conv", "k3": 3
    }
    assert space.key(a) == space.key(b)
    assert space.key(a) != space.key(dict(a, depth=2))


def test_a_child_of_an_inactive_parent_is_inactive():
    space = conditional_space()
    # op3 is "pool" but inactive at depth 2, so k3 (active only when op3 is conv) is inactive too
    config = {"depth": 2, "op1": "conv", "op2": "pool", "op3": "conv", "k3": 5}
    assert not space.is_active("op3", config)
    assert not space.is_active("k3", config)
    assert space.canonical(config)["k3"] == 3


def test_encode_decode_roundtrip_and_canonical_samples():
    space = conditional_space()
    for config in space.sample(np.random.default_rng(0), 200):
        x = space.encode(config)
        assert x.dtype == np.int64
        assert space.decode(x) == config == space.canonical(config)
        assert space.config_from_key(space.key(config)) == config


def test_canonical_count_is_the_number_of_distinct_networks():
    space = conditional_space()
    grids = np.stack(np.meshgrid(*[np.arange(n) for n in space.sizes]), -1).reshape(-1, len(space))
    keys = {space.key(space.decode(x)) for x in grids}
    # depth 1: 2 ops; depth 2: 4; depth 3: op1 x op2 x (op3=pool | op3=conv x k3) = 2*2*3
    assert len(keys) == 2 + 4 + 12
    assert space.size() == 3 * 2 * 2 * 2 * 2


def test_keys_are_stable_text_and_numpy_values_are_plain():
    space = SearchSpace([Variable("a", [1, 2], kind="int"), Variable("b", ["x", "y"])])
    assert space.key({"a": np.int64(2), "b": "y"}) == '[2,"y"]'
    assert space.canonical({"a": np.int64(2), "b": "y"})["a"].__class__ is int


def test_features_int_values_and_one_hot_with_inactive_zeroed():
    space = conditional_space()
    f = space.features([{"depth": 1, "op1": "pool", "op2": "pool", "op3": "pool", "k3": 5}])
    assert space.feature_names() == [
        "depth", "op1=conv", "op1=pool", "op2=conv", "op2=pool", "op3=conv", "op3=pool", "k3"
    ]
    assert f.tolist() == [[1, 0, 1, 0, 0, 0, 0, 0]]


def test_vectorised_canonical_and_active_match_the_per_config_ones():
    space = conditional_space()
    X = np.random.default_rng(3).integers(0, space.sizes, size=(300, len(space)))
    expected = np.array([space.encode(space.decode(x)) for x in X])
    assert np.array_equal(space.canonical_encoded(X), expected)
    active = space.active_encoded(X)
    for x, row in zip(X, active, strict=True):
        config = space.decode(x)
        assert row.tolist() == [space.is_active(n, config) for n in space.names]
    with pytest.raises(InvalidArgument, match="outside"):
        space.features_encoded([[0, 0, 0, 0, 9]])


def test_yaml_and_dict_roundtrip(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(
        "variables:\n"
        "  - {name: depth, kind: int, choices: [1, 2, 3]}\n"
        "  - {name: op1, choices: [conv, pool]}\n"
        "  - {name: op2, choices: [conv, pool], active_if: {depth: [2, 3]}}\n"
        "  - {name: op3, choices: [conv, pool], active_if: {depth: 3}}\n"
        "  - {name: k3, kind: int, choices: [3, 5], active_if: {op3: [conv]}}\n"
    )
    space = SearchSpace.from_yaml(path)
    assert space == conditional_space()
    assert space.fingerprint() == conditional_space().fingerprint()
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert space.fingerprint() != SearchSpace.from_dict(
        {"variables": [{"name": "depth", "kind": "int", "choices": [1, 2]}]}
    ).fingerprint()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"vars": []}, "'variables' list"),
        ({"variables": []}, "at least one variable"),
        ({"variables": [{"name": "a", "choices": [1]}], "cel": {}}, "optionally 'cell'"),
        ({"variables": [{"name": "a"}]}, "needs 'name' and 'choices'"),
        ({"variables": [{"name": "a", "choices": []}]}, "has no choices"),
        ({"variables": [{"name": "a", "choices": [1, 1]}]}, "lists a choice twice"),
        ({"variables": [{"name": "a", "choices": "abc"}]}, "choices must be a list"),
        ({"variables": [{"name": "a", "choices": [1.5], "kind": "int"}]}, "not an integer"),
        ({"variables": [{"name": "a", "choices": [1], "kind": "real"}]}, "kind must be one of"),
        ({"variables": [{"name": "a", "choices": [1]}, {"name": "a", "choices": [2]}]},
         "declared twice"),
        ({"variables": [{"name": "a", "choices": [1], "active_if": {"b": [1]}},
                        {"name": "b", "choices": [1]}]}, "declared before it"),
        ({"variables": [{"name": "a", "choices": [1]},
                        {"name": "b", "choices": [1], "active_if": {"a": [7]}}]},
         "7 is not a choice of variable 'a'"),
    ],
)
def test_bad_spaces_are_refused_with_the_reason(data, message):
    with pytest.raises(InvalidArgument, match=message):
        SearchSpace.from_dict(data)


def test_bad_configs_and_files_are_refused(tmp_path):
    space = conditional_space()
    with pytest.raises(InvalidArgument, match=r"missing \['k3'\]"):
        space.key({"depth": 1, "op1": "conv", "op2": "conv", "op3": "conv"})
    with pytest.raises(InvalidArgument, match="'maxpool' is not a choice of variable 'op1'"):
        space.key({"depth": 1, "op1": "maxpool", "op2": "conv", "op3": "conv", "k3": 3})
    with pytest.raises(InvalidArgument, match="outside"):
        space.decode([0, 0, 0, 0, 2])
    bad = tmp_path / "bad.yaml"
    bad.write_text("variables: [\n")
    with pytest.raises(InvalidArgument, match="not valid YAML"):
        SearchSpace.from_yaml(bad)
    with pytest.raises(InvalidArgument, match="cannot read"):
        SearchSpace.from_yaml(tmp_path / "absent.yaml")
