"""Cell graphs: which edges are live, how predictors' features see dead ones, files, refusals."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from linas_host.bench import SHARED_CELL
from linas_host.evaluate.table import MeasuredTable

from linas_sdk.cell import Cell
from linas_sdk.errors import InvalidArgument
from linas_sdk.space import SearchSpace, Variable

OPS = ["avg_pool_3x3", "none", "nor_conv_1x1", "nor_conv_3x3", "skip_connect"]


def nb201_space(cell: Cell | None = SHARED_CELL) -> SearchSpace:
    return SearchSpace([Variable(f"e{i}", OPS) for i in range(6)], cell=cell)


def live_by_paths(cell: Cell, cut: tuple[bool, ...]) -> list[bool]:
    """Reference: enumerate the input-to-output paths of uncut edges, one network at a time."""
    pairs = list(cell.edges.values())
    live = [False] * len(pairs)

    def walk(node: int, used: list[int]) -> None:
        if node == cell.output:
            for k in used:
                live[k] = True
        for k, (a, b) in enumerate(pairs):
            if a == node and not cut[k]:
                walk(b, [*used, k])

    walk(0, [])
    return live


def test_live_edges_match_path_enumeration_for_every_cut_pattern():
    cells = [
        SHARED_CELL,
        Cell(edges={"a": (0, 2), "b": (2, 4), "c": (0, 1), "d": (1, 4), "e": (1, 3)}, zero="z"),
    ]
    for cell in cells:
        cuts = np.array(list(itertools.product([False, True], repeat=len(cell.edges))))
        expected = [live_by_paths(cell, tuple(c)) for c in cuts]
        assert cell.live(cuts).tolist() == expected


def test_nb201_examples_by_hand():
    live = SHARED_CELL.live
    # only the direct input->output edge uncut
    assert live([[True, True, True, False, True, True]]).tolist() == [
        [False, False, False, True, False, False]
    ]
    # node 1 has no way out (e2, e4 cut), so e0 is dead; node 2 still reaches the output
    assert live([[False, False, True, False, True, False]]).tolist() == [
        [False, True, False, True, False, True]
    ]
    # edge e3 (node 0 -> 3) is the one edge (here cut); node 3 is unreachable: nothing is live
    assert not live([[False, False, False, True, True, True]]).any()


def test_features_see_dead_edges_as_the_zero_op_but_keys_stay_distinct():
    space, plain = nb201_space(), nb201_space(None)
    # e0 holds a 3x3 conv, but node 1 leads nowhere (e2 and e4 cut): it cannot matter
    dead = {"e0": "nor_conv_3x3", "e1": "skip_connect", "e2": "none", "e3": "nor_conv_1x1",
            "e4": "none", "e5": "skip_connect"}
    other = dict(dead, e0="avg_pool_3x3")
    f = space.features([dead, other])
    assert np.array_equal(f[0], f[1])
    names = space.feature_names()
    assert f[0][names.index("e0=none")] == 1 and f[0][names.index("e0=nor_conv_3x3")] == 0
    assert not np.array_equal(plain.features([dead]), plain.features([other]))
    # the architectures themselves are not merged: a table keeps a row for each
    assert space.key(dead) != space.key(other)
    assert space.canonical(dead) == dead
    # where no edge is dead (each is cut or on a path), features are those without a cell
    codes = np.random.default_rng(0).integers(0, 5, size=(500, 6))
    cut = codes == OPS.index("none")
    rows = (SHARED_CELL.live(cut) | cut).all(axis=1)
    assert rows.any() and cut[rows].any()
    kept = codes[rows]
    assert np.array_equal(space.features_encoded(kept), plain.features_encoded(kept))
    assert not np.array_equal(space.features_encoded(codes), plain.features_encoded(codes))


def test_a_cell_round_trips_through_yaml_and_changes_the_fingerprint(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(
        "variables:\n"
        + "".join(f"  - {{name: e{i}, choices: [{', '.join(OPS)}]}}\n" for i in range(6))
        + "cell:\n  zero: none\n"
        "  edges: {e0: [0, 1], e1: [0, 2], e2: [1, 2], e3: [0, 3], e4: [1, 3], e5: [2, 3]}\n"
    )
    space = SearchSpace.from_yaml(path)
    assert space == nb201_space()
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert space.fingerprint() != nb201_space(None).fingerprint()


def test_a_table_reads_an_integer_coded_zero_op():
    header = ["e0", "e1", "acc"]
    rows = [[str(a), str(b), str(a + b)] for a in range(3) for b in range(3)]
    table = MeasuredTable(header, rows, ["e0", "e1"],
                          cell=Cell(edges={"e0": (0, 1), "e1": (1, 2)}, zero="0"))
    assert table.space.cell.zero == 0
    f = table.space.features([{"e0": 0, "e1": 2}, {"e0": 1, "e1": 2}])  # int kind: values
    assert f.tolist() == [[0, 0], [1, 2]]  # e0 cut: e1 leads from nowhere


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ({"edges": {"e0": [1, 0]}, "zero": "none"}, "0 <= from < to"),
        ({"edges": {"e0": [0, 1.5]}, "zero": "none"}, "integer nodes"),
        ({"edges": {"e0": "0-1"}, "zero": "none"}, "expected [from, to]"),
        ({"edges": {}, "zero": "none"}, "needs 'edges'"),
        ({"edges": {"e0": [0, 1]}}, "'edges' (variable -> [from, to]) and 'zero'"),
        ({"edges": {"e0": [0, 1]}, "zero": None}, "needs 'zero'"),
        ({"edges": {"e9": [0, 1]}, "zero": "none"}, "cell edge 'e9' must be an unconditional "
                                                    "variable of the space"),
        ({"edges": {"e1": [0, 1]}, "zero": "none"}, "cell edge 'e1' must be"),
        ({"edges": {"e0": [0, 1]}, "zero": "zero"}, "the zero op 'zero' is not among"),
    ],
)
def test_bad_cells_are_refused_with_the_reason(cell, message):
    data = {"variables": [
        {"name": "e0", "choices": OPS},
        {"name": "w", "kind": "int", "choices": [8, 16]},
        {"name": "e1", "choices": OPS, "active_if": {"w": [16]}},
    ], "cell": cell}
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        SearchSpace.from_dict(data)
