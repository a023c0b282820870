"""A warm start from another board's run: `linas search --warm-start`, `warm_start:`, the
refusals naming what differs, and `linas bench --warm-start-from`."""

from __future__ import annotations

import csv
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from linas_host.bench import run_bench
from linas_host.config.schema import ConfigError, load
from linas_host.run.warm import run_prior
from linas_host.search.journal import SQLiteJournal
from linas_host.search.linas import LINAS

from linas_sdk.cli import main
from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import parse_objectives

VARS = ["k", "w", "op"]
SMALL = {"predictions": 400, "ga_population": 20}  # a small inner GA keeps the tests quick


def write_table(path: Path) -> Path:
    """72 architectures, accuracy and two boards' latencies (correlated, not equal)."""
    rows = []
    for n, (k, w, op) in enumerate(itertools.product([3, 5, 7], [8, 12, 16, 24, 32, 64],
                                                     ["a", "b", "c", "d"])):
        acc = 50 + 2 * k + np.log2(w) * 3 + "abcd".index(op) + (n % 5) * 0.37
        lat_a = 0.2 * k + w / 16 + 0.4 * "abcd".index(op) + (n % 3) * 0.11
        lat_b = 1.7 * lat_a + (0.5 if op == "c" else 0.0) + (n % 4) * 0.05
        rows.append([k, w, op, f"{acc:.4f}", f"{lat_a:.4f}", f"{lat_b:.4f}"])
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*VARS, "acc", "lat_a", "lat_b"])
        writer.writerows(rows)
    return path


def write_config(folder: Path, name: str, latency: str, budget: int, **extra) -> Path:
    data = {
        "space": {"table": "t.csv", "variables": VARS},
        "objectives": ["acc:max", f"{latency}:min"],
        "method": "linas", "method_options": SMALL,
        "budget": budget, "population": 8, "seed": 3, "out": f"runs/{name}", **extra,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def board_a(tmp_path) -> Path:
    """A finished run on board a: accuracy against lat_a."""
    write_table(tmp_path / "t.csv")
    assert main(["search", str(write_config(tmp_path, "a", "lat_a", 40)),
                 "--progress", "quiet"]) == 0
    return tmp_path / "runs" / "a"


def evaluations(run: Path):
    with SQLiteJournal(run / "journal.sqlite") as journal:
        return journal.evaluations(), journal.meta()


def test_a_warm_start_reuses_the_accuracies_and_measures_the_new_board(tmp_path, board_a):
    config = write_config(tmp_path, "b", "lat_b", 16)
    assert main(["search", str(config), "--warm-start", str(board_a), "--progress",
                 "quiet"]) == 0
    before, _ = evaluations(board_a)
    after, meta = evaluations(tmp_path / "runs" / "b")
    assert meta["warm_start"] == {"source": str(board_a), "architectures": 40,
                                  "reused": ["acc"], "board": ["lat_a"]}
    assert len(after) == 16  # only the new board's measurements count
    known = {e.key: e for e in before}
    assert {e.key for e in after[:8]} <= set(known)  # the first ask: the old run's front
    for e in after:
        if e.key in known:
            assert e.record["reused"] == ["acc"] and e.values["acc"] == known[e.key].values["acc"]
        else:
            assert "reused" not in e.record
        assert e.values["lat_b"] == pytest.approx(float(e.record["lat_b"]))
    saved = load(tmp_path / "runs" / "b" / "config.yaml")
    assert saved.warm_start == board_a  # kept with the run, so resuming checks it


def test_the_config_key_and_a_refusal_naming_what_differs(tmp_path, board_a, capsys):
    other = write_config(tmp_path, "c", "lat_b", 16, warm_start="runs/a")
    assert load(other).warm_start == tmp_path / "runs" / "a"  # relative to the config's folder
    (tmp_path / "u.csv").write_text((tmp_path / "t.csv").read_text())
    moved = write_config(tmp_path, "d", "lat_b", 16, warm_start="runs/a")
    moved.write_text(moved.read_text().replace("table: t.csv", "table: u.csv"))
    assert main(["search", str(moved), "--progress", "quiet"]) != 0
    assert re.search(r"cannot warm-start from .*runs/a: it searched another problem.*\n"
                     r"  - space.table: '.*t.csv' there, '.*u.csv' here",
                     capsys.readouterr().err)
    assert main(["search", str(other), "--warm-start", str(tmp_path), "--progress",
                 "quiet"]) != 0
    assert "is not a linas run directory" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "d" / "journal.sqlite").exists()  # refused before running


def test_weights_and_data_that_differ_are_named(tmp_path):
    def run_dir(name: str, weights: str, val: str) -> tuple[Path, dict]:
        config = {"space": {"supernet": "mobilenetv3", "options": {"weights": weights}},
                  "objectives": ["accuracy", "latency"], "budget": 4, "population": 2,
                  "data": {"val": val}}
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
        SQLiteJournal(folder / "journal.sqlite").close()
        return folder, config

    (tmp_path / "w1.json").write_text('{"sha256": "aaa"}')
    (tmp_path / "w2.json").write_text('{"sha256": "bbb"}')
    before, _ = run_dir("old", str(tmp_path / "w1.pt"), "v1.npz")
    _, config = run_dir("new", str(tmp_path / "w2.pt"), "v2.npz")
    from linas_host.config.schema import validate

    with pytest.raises(ConfigError) as caught:
        run_prior(before, validate(config), None, parse_objectives(["accuracy:max", "l:min"]))
    message = str(caught.value)
    assert "weights: 'aaa' there, 'bbb' here" in message
    assert "data: {'val': 'v1.npz'" in message and "v2.npz" in message


def test_the_old_board_is_a_feature_of_the_new_boards_predictors(tmp_path, board_a):
    from linas_host.evaluate.table import MeasuredTable
    from linas_host.run.warm import table_prior

    table = MeasuredTable.load(tmp_path / "t.csv", VARS)
    before, _ = evaluations(board_a)
    objectives = parse_objectives(["acc:max", "lat_b:min"])
    prior = table_prior(before, table.space, objectives=objectives,
                        previous=parse_objectives(["acc:max", "lat_a:min"]), source="a")
    method = LINAS(**SMALL).setup(table.space, objectives, seed=0, population_size=8,
                                  prior=prior)
    X = prior.X[:5]
    plain = table.space.features_encoded(X)
    features = method._features(X)
    assert features.shape == (5, plain.shape[1] + 1)
    assert np.array_equal(features[:, :-1], plain)
    lat_a = prior.board[:5, 0]
    assert np.corrcoef(features[:, -1], lat_a)[0, 1] > 0.9  # the old board's latency, learned


def test_bench_replays_a_warm_start_and_counts_only_the_new_column(tmp_path):
    table = write_table(tmp_path / "t.csv")
    common = dict(table=table, variables=VARS, objectives=["acc:max", "lat_b:min"], budget=16,
                  seeds=2, population=8, methods=["linas", "nsga2"],
                  method_options={"linas": SMALL}, journal_dir=tmp_path / "j")
    report = run_bench(warm_start_from="lat_a", warm_budget=40, **common)
    assert report["warm_start"] == {"from": "lat_a", "budget": 40, "methods": ["linas"]}
    for seed, run in zip((0, 1), report["methods"]["linas"]["runs"], strict=True):
        assert run["evaluations"] == len(run["rows"]) == 16
        with SQLiteJournal(tmp_path / "j" / f"warm-lat_a-seed{seed}.sqlite") as source:
            rows = {int(e.record["row"]) for e in source.evaluations()}
            assert len(rows) == 40
        assert set(run["rows"][:8]) <= rows
    again = run_bench(warm_start_from="lat_a", warm_budget=40, resume=True, **common)
    assert again["methods"]["linas"]["runs"][0]["rows"] == report["methods"]["linas"]["runs"][
        0]["rows"]  # the finished runs are read back, sources included
    with pytest.raises(InvalidArgument, match="an objective of this search"):
        run_bench(warm_start_from="lat_b", **common)
    with pytest.raises(InvalidArgument, match="--journal DIR"):
        run_bench(warm_start_from="lat_a", **{**common, "journal_dir": None})


def test_the_bench_flags_reach_the_replay(tmp_path, capsys):
    table = write_table(tmp_path / "t.csv")
    args = ["bench", "--table", str(table), *[a for v in VARS for a in ("--var", v)],
            "--objective", "acc:max", "--objective", "lat_b:min", "--budget", "16",
            "--seeds", "1", "--population", "8", "--methods", "linas,nsga2",
            "--option", "linas.predictions=400", "--option", "linas.ga_population=20",
            "--warm-start-from", "lat_a", "--warm-budget", "24"]
    assert main(args) != 0
    assert "--warm-start-from keeps its source runs in --journal DIR" in capsys.readouterr().err
    assert main([*args, "--journal", str(tmp_path / "j"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["warm_start"] == {"from": "lat_a", "budget": 24, "methods": ["linas"]}
    with SQLiteJournal(tmp_path / "j" / "warm-lat_a-seed0.sqlite") as source:
        assert len(source.evaluations()) == 24
