"""`linas bench`: figures on a synthetic table checked by hand, the real table, the refusals."""

from __future__ import annotations

import csv
import gzip
import itertools
import json

import numpy as np
import pytest
from linas_cli import linas
from linas_host.bench import SHARED_TABLE, format_report, run_bench
from pymoo.indicators.hv import HV

from linas_sdk.cli import main

VARS = ["k", "w", "op"]


def write_table(path, *, duplicate=False, drop_last=False, bad_value=False):
    """24 architectures: 3 kernels x 4 widths x 2 ops, three conflicting objectives, and an
    extra text column (tables carry more than the search needs)."""
    rows = []
    for n, (k, w, op) in enumerate(itertools.product([3, 5, 7], [8, 16, 32, 64], ["a", "b"])):
        acc = 50 + 2 * k + np.log2(w) * 3 + (4 if op == "a" else 0) + (n % 5) * 0.37
        lat = 0.2 * k + w / 16 + (1.5 if op == "a" else 0.3) + (n % 3) * 0.11
        energy = 3.0 - 0.3 * k + w / 40 + (n % 4) * 0.23  # big kernels save energy here
        rows.append([f"net{n}", k, w, op, f"{acc:.4f}", f"{lat:.4f}", f"{energy:.4f}"])
    if duplicate:
        rows.append(["copy", *rows[4][1:]])
    if drop_last:
        rows.pop()
    if bad_value:
        rows[7][5] = "n/a"
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", *VARS, "acc", "lat_ms", "energy_mj"])
        writer.writerows(rows)
    return path


def read_objectives(path, columns=("-acc", "lat_ms")):
    """The minimised objectives of every row (a leading '-' negates a column)."""
    with gzip.open(path, "rt") if str(path).endswith(".gz") else open(path) as f:
        rows = list(csv.DictReader(f))
    return np.array(
        [[-float(r[c[1:]]) if c[0] == "-" else float(r[c]) for c in columns] for r in rows]
    )


def bench_args(table, *extra):
    args = ["bench", "--table", str(table)]
    for v in VARS:
        args += ["--var", v]
    return [*args, "--objective", "acc:max", "--objective", "lat_ms:min", *extra]


def test_synthetic_table_figures_can_be_recomputed_from_the_row_numbers(tmp_path):
    table = write_table(tmp_path / "t.csv.gz")
    report = run_bench(
        table=table,
        variables=VARS,
        objectives=["acc:max", "lat_ms:min"],
        budget=20,
        seeds=3,
        methods=["nsga2", "random"],
        population=5,
    )
    F = read_objectives(table)
    ref = F.max(axis=0)
    assert report["reference_point"] == pytest.approx([-ref[0], ref[1]])
    true_hv = HV(ref_point=ref)(F)
    assert report["true_hypervolume"] == pytest.approx(true_hv)
    assert report["checkpoints"] == [20]
    for name in ("nsga2", "random"):
        entry = report["methods"][name]
        gaps = []
        for run in entry["runs"]:
            rows = run["rows"]
            assert len(rows) == len(set(rows)) == 20 and all(0 <= r < 24 for r in rows)
            gaps.append((true_hv - HV(ref_point=ref)(F[rows])) / true_hv)
        assert entry["gap"]["20"]["median"] == pytest.approx(np.median(gaps))
        assert (
            entry["gap"]["20"]["q25"] <= entry["gap"]["20"]["median"] <= entry["gap"]["20"]["q75"]
        )
    target = report["target_hypervolume"]
    nsga2_finals = [HV(ref_point=ref)(F[r["rows"]]) for r in report["methods"]["nsga2"]["runs"]]
    assert target == pytest.approx(np.median(nsga2_finals))
    assert report["methods"]["nsga2"]["evaluations_to_target"]["median_curve"] <= 20


def test_evaluating_the_whole_table_closes_the_gap(tmp_path):
    table = write_table(tmp_path / "t.csv")
    report = run_bench(
        table=table,
        variables=VARS,
        objectives=["acc:max", "lat_ms:min"],
        budget=24,
        seeds=2,
        methods=["random"],
        population=4,
    )
    assert report["methods"]["random"]["gap"]["24"]["median"] == pytest.approx(0, abs=1e-12)
    assert "evaluations_to_target" not in report["methods"]["random"]  # no nsga2 to aim at


def test_cli_prints_the_table_and_writes_the_json_file(tmp_path, capsys):
    table = write_table(tmp_path / "t.csv")
    out = tmp_path / "bench.json"
    code = main(
        bench_args(
            table,
            "--budget",
            "12",
            "--seeds",
            "2",
            "--methods",
            "nsga2,random",
            "--population",
            "4",
            "--out",
            str(out),
            "--constraint",
            "lat_ms<=5",
        )
    )
    assert code == 0
    text = capsys.readouterr()
    assert "nsga2 seed 1: 12 evaluations" in text.err
    lines = text.out.splitlines()
    assert any(line.startswith("nsga2 ") for line in lines)
    assert any(line.startswith("random ") for line in lines)
    report = json.loads(out.read_text())
    assert report["constraints"] == ["lat_ms<=5"]
    assert [len(r["rows"]) for r in report["methods"]["random"]["runs"]] == [12, 12]


def test_cli_json_prints_the_figures_and_jsonl_progress_is_a_line_per_run(tmp_path):
    table = write_table(tmp_path / "t.csv")
    args = ["--budget", "8", "--seeds", "2", "--methods", "nsga2,random", "--population", "4"]
    done = linas(*bench_args(table, *args, "--json", "--progress", "jsonl"), timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout is the JSON figures alone, no table
    events = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(e["event"], e["method"], e["seed"]) for e in events] == [
        ("run", m, s) for m in ("nsga2", "random") for s in (0, 1)
    ]
    for event in events:
        run = report["methods"][event["method"]]["runs"][event["seed"]]
        assert event["evaluations"] == run["evaluations"] == 8 and event["hypervolume"] > 0


def test_cli_old_spellings_json_file_and_quiet_still_work_and_say_so(tmp_path):
    table = write_table(tmp_path / "t.csv")
    out = tmp_path / "bench.json"
    args = ["--budget", "8", "--seeds", "1", "--methods", "random", "--population", "4"]
    done = linas(*bench_args(table, *args, "--json", out, "--quiet"), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [  # and no progress line: --quiet took effect
        "linas bench: --json FILE is deprecated and will be removed in the next release; "
        "use --out FILE",
        "linas bench: --quiet is deprecated and will be removed in the next release; "
        "use --progress quiet",
    ]
    assert done.stdout.startswith("table ")  # the table: --json FILE is not the new --json
    assert json.loads(out.read_text())["methods"]["random"]["runs"][0]["evaluations"] == 8


def test_cli_takes_a_cell_and_linas_runs_on_it(tmp_path, capsys):
    table = write_table(tmp_path / "t.csv")
    out = tmp_path / "bench.json"
    code = main(
        bench_args(
            table,
            "--budget",
            "12",
            "--seeds",
            "1",
            "--methods",
            "linas",
            "--population",
            "4",
            "--edge",
            "op=0-1",
            "--zero-op",
            "b",
            "--out",
            str(out),
        )
    )
    assert code == 0
    assert "cell edges op 0-1 (zero op b)" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["cell"] == {"edges": {"op": [0, 1]}, "zero": "b"}
    assert len(set(report["methods"]["linas"]["runs"][0]["rows"])) == 12


def test_parallel_seeds_and_resumed_journals_give_the_same_runs(tmp_path):
    table = write_table(tmp_path / "t.csv")
    common = dict(
        table=table,
        variables=VARS,
        objectives=["acc:max", "lat_ms:min"],
        seeds=2,
        methods=["nsga2", "random"],
        population=4,
    )
    serial = run_bench(budget=16, **common)
    parallel = run_bench(budget=16, jobs=2, **common)
    first = run_bench(budget=9, journal_dir=tmp_path / "runs", **common)
    resumed = run_bench(budget=16, journal_dir=tmp_path / "runs", resume=True, **common)
    assert sorted((tmp_path / "runs").glob("*.sqlite"))[0].name == "nsga2-seed0.sqlite"
    for name in ("nsga2", "random"):
        rows = [r["rows"] for r in serial["methods"][name]["runs"]]
        assert [r["rows"] for r in parallel["methods"][name]["runs"]] == rows
        assert [r["rows"] for r in resumed["methods"][name]["runs"]] == rows
        assert [r["resumed"] for r in resumed["methods"][name]["runs"]] == [9, 9]
        assert [r["rows"] for r in first["methods"][name]["runs"]] == [x[:9] for x in rows]


def test_three_objectives_give_the_figures_of_the_three_dimensional_hypervolume(tmp_path):
    table = write_table(tmp_path / "t.csv")
    out = tmp_path / "bench.json"
    code = main(
        bench_args(
            table,
            "--objective",
            "energy_mj:min",
            "--budget",
            "15",
            "--seeds",
            "3",
            "--methods",
            "linas,nsga2,random",
            "--population",
            "5",
            "--option",
            "linas.predictions=300",
            "--out",
            str(out),
        )
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert report["objectives"] == ["acc:max", "lat_ms:min", "energy_mj:min"]
    F = read_objectives(table, ("-acc", "lat_ms", "energy_mj"))
    ref = F.max(axis=0)
    assert report["reference_point"] == pytest.approx([-ref[0], ref[1], ref[2]])
    true_hv = HV(ref_point=ref)(F)
    assert report["true_hypervolume"] == pytest.approx(true_hv)

    def curve(rows):
        return [HV(ref_point=ref)(F[rows[:n]]) for n in range(1, len(rows) + 1)]

    target = np.median([curve(r["rows"])[-1] for r in report["methods"]["nsga2"]["runs"]])
    assert report["target_hypervolume"] == pytest.approx(target)
    for entry in report["methods"].values():
        curves = [curve(r["rows"]) for r in entry["runs"]]
        assert entry["gap"]["15"]["median"] == pytest.approx(
            np.median([(true_hv - c[-1]) / true_hv for c in curves])
        )
        reached = [
            next((n + 1 for n, h in enumerate(c) if h >= target * (1 - 1e-9)), None) for c in curves
        ]
        assert entry["evaluations_to_target"]["per_seed"] == reached


def test_seeds_start_at_first_seed_and_the_target_has_its_own_budget(tmp_path, capsys):
    table = write_table(tmp_path / "t.csv")
    common = dict(
        table=table,
        variables=VARS,
        objectives=["acc:max", "lat_ms:min"],
        methods=["nsga2", "random"],
        population=4,
    )
    all_seeds = run_bench(budget=12, seeds=4, **common)
    later = run_bench(budget=8, seeds=2, first_seed=2, target_budget=12, **common)
    assert later["first_seed"] == 2 and later["target_budget"] == 12
    for name in ("nsga2", "random"):
        runs = later["methods"][name]["runs"]
        assert [r["seed"] for r in runs] == [2, 3]
        budget = 12 if name == "nsga2" else 8  # NSGA-II runs to the target budget
        expected = [r["rows"][:budget] for r in all_seeds["methods"][name]["runs"][2:]]
        assert [r["rows"] for r in runs] == expected
    F = read_objectives(table)
    ref = F.max(axis=0)
    finals = [HV(ref_point=ref)(F[r["rows"]]) for r in later["methods"]["nsga2"]["runs"]]
    assert later["target_hypervolume"] == pytest.approx(np.median(finals))
    assert later["checkpoints"] == [8]
    text = format_report(later)
    assert "2 seeds (2..3)" in text and "evals to nsga2@12" in text


def test_method_options_reach_the_method_and_are_reported(tmp_path, capsys):
    table = write_table(tmp_path / "t.csv")
    out = tmp_path / "bench.json"
    code = main(
        bench_args(
            table,
            "--budget",
            "8",
            "--seeds",
            "1",
            "--methods",
            "linas",
            "--population",
            "4",
            "--option",
            "linas.trust_radius=null",
            "--option",
            "linas.predictors=[ridge, svr]",
            "--out",
            str(out),
        )
    )
    assert code == 0
    assert "linas options {'trust_radius': None, 'predictors': ['ridge', 'svr']}" in (
        capsys.readouterr().out
    )
    report = json.loads(out.read_text())
    assert report["method_options"] == {
        "linas": {"trust_radius": None, "predictors": ["ridge", "svr"]}
    }


def test_format_report_gives_the_speed_up_or_more_than_budget():
    report = {
        "table": "t.csv",
        "rows": 24,
        "objectives": ["acc:max", "lat_ms:min"],
        "budget": 20,
        "seeds": 1,
        "population": 5,
        "reference_point": [50, 9],
        "true_hypervolume": 10.0,
        "checkpoints": [20],
        "target_method": "nsga2",
        "target_hypervolume": 9.0,
        "methods": {
            "linas": {
                "gap": {"20": {"median": 0.1, "q25": 0.1, "q75": 0.1}},
                "evaluations_to_target": {"median_curve": 5},
            },
            "random": {
                "gap": {"20": {"median": 0.2, "q25": 0.1, "q75": 0.3}},
                "evaluations_to_target": {"median_curve": None},
            },
        },
    }
    lines = format_report(report).splitlines()
    assert lines[-2].split() == ["linas", "10.000", "[10.000-10.000]", "5", "(4.0x)"]
    assert lines[-1].split() == ["random", "20.000", "[10.000-30.000]", ">20"]


@pytest.mark.parametrize(
    ("table_options", "extra", "message"),
    [
        ({"duplicate": True}, [], "data rows 4 and 24 have the same values"),
        ({"drop_last": True}, [], "24 combinations of their values but only 23 rows"),
        ({"bad_value": True}, [], "column 'lat_ms' must hold finite numbers, data row 7"),
        ({}, ["--var", "depth"], "no variable column 'depth'"),
        ({}, ["--objective", "energy:min"], "no measured column 'energy'"),
        ({}, ["--objective", "name:min"], "column 'name' must hold finite numbers"),
        ({}, ["--objective", "energy"], "needs a direction"),
        ({}, ["--budget", "10", "--population", "20"], "smaller than the population"),
        ({}, ["--methods", "nsga2,annealing"], "unknown search method 'annealing'"),
        ({}, ["--resume"], "--resume needs --journal"),
        ({}, ["--reference", "1"], "one finite value per objective"),
        ({}, ["--edge", "op=0-1"], "--edge and --zero-op go together"),
        ({}, ["--edge", "op:0-1", "--zero-op", "a"], "expected COLUMN=FROM-TO"),
        ({}, ["--edge", "op=1-0", "--zero-op", "a"], "0 <= from < to"),
        ({}, ["--edge", "depth=0-1", "--zero-op", "a"], "cell edge 'depth' must be"),
        ({}, ["--edge", "op=0-1", "--zero-op", "none"], "zero op 'none' is not among"),
        ({}, ["--first-seed", "-1"], "--first-seed must be >= 0"),
        ({}, ["--target-budget", "2"], "target budget (2) is smaller than the population"),
        ({}, ["--option", "extremes=0"], "expected METHOD.KEY=VALUE"),
        ({}, ["--option", "random.x=[1"], "the value is not YAML"),
        ({}, ["--option", "linas.extremes=0"], "not among the methods run"),
        ({}, ["--option", "random.extremes=0"], "do not fit method 'random'"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(tmp_path, capsys, table_options, extra, message):
    table = write_table(tmp_path / "t.csv", **table_options)
    code = main(
        bench_args(
            table,
            "--budget",
            "12",
            "--seeds",
            "1",
            "--methods",
            "random",
            "--population",
            "4",
            *extra,
        )
    )
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("linas: error:")


def test_a_missing_table_is_refused(tmp_path, capsys):
    assert main(bench_args(tmp_path / "absent.csv")) == 2
    assert "cannot read table" in capsys.readouterr().err


def test_short_run_on_the_shared_pi5_table():
    report = run_bench(
        table=SHARED_TABLE,
        variables=[f"e{i}" for i in range(6)],
        objectives=["acc_cifar100:max", "lat_pi5_onnx_ms:min"],
        budget=100,
        seeds=2,
        methods=["nsga2", "random"],
        population=50,
    )
    assert report["rows"] == 15625
    assert report["reference_point"] == pytest.approx([1.0, 20.0547])
    for entry in report["methods"].values():
        gap = entry["gap"]["100"]
        assert 0 < gap["median"] < 0.2
        assert all(len(set(r["rows"])) == 100 for r in entry["runs"])
