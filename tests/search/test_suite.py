"""`linas bench --suite`: the suites' problems, the joined held-out table, a resumed protocol."""

from __future__ import annotations

import csv
import gzip
import json

import numpy as np
import pytest
from linas_host.bench.nb201 import _accuracies, joined_table
from linas_host.bench.suite import SUITES, suite_problems

from linas_sdk.cli import main
from linas_sdk.errors import InvalidArgument

PROBLEMS = ["acc_cifar10_valid+lat_pi5_litert_ms/plain", "acc_cifar10_valid+lat_pi5_litert_ms/cell"]


def test_the_suites_hold_every_problem_described_both_ways():
    shared = [p.name for p in SUITES["shared"]]
    columns = ["lat_pi5_onnx_ms", "energy_pi5_onnx_mj", "lat_pi5_litert_ms",
               "energy_pi5_litert_mj", "lat_pi5_torchmobile_ms", "energy_pi5_torchmobile_mj",
               "lat_pi5_onnx_ms+energy_pi5_onnx_mj"]
    assert shared == [f"acc_cifar100+{c}/{d}" for c in columns for d in ("plain", "cell")]
    held_out = [p.name for p in SUITES["held-out"]]
    assert held_out == [f"{a}+{c}/{d}" for a in ("acc_cifar10_valid", "acc_imagenet16_120")
                        for c in ("lat_pi5_onnx_ms", "lat_pi5_litert_ms")
                        for d in ("plain", "cell")]
    assert [p.name for p in SUITES["wide"]] == shared + held_out
    assert [p.name for p in suite_problems("wide", PROBLEMS[:1])] == PROBLEMS[:1]
    with pytest.raises(InvalidArgument, match="unknown suite 'wider'; expected one of"):
        suite_problems("wider")
    with pytest.raises(InvalidArgument, match=r"suite 'shared' has no problem \['x/plain'\]"):
        suite_problems("shared", ["x/plain"])


def test_the_held_out_accuracies_are_joined_by_architecture(tmp_path):
    path = joined_table(tmp_path)
    assert joined_table(tmp_path) == path  # written once
    with gzip.open(path, "rt") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 15625
    ops = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    cifar100 = _accuracies("cifar100")
    keys = ["".join(str(ops.index(r[f"e{i}"])) for i in range(6)) for r in rows]
    # the key mapping is right: the same data set's validation and test accuracies agree
    r = np.corrcoef([cifar100[k] for k in keys], [float(r["acc_cifar100"]) for r in rows])[0, 1]
    assert r > 0.99
    cifar10 = _accuracies("cifar10")
    for row, key in list(zip(rows, keys, strict=True))[::997]:
        assert float(row["acc_cifar10_valid"]) == pytest.approx(cifar10[key], abs=1e-4)
        assert float(row["lat_pi5_onnx_ms"]) > 0


def test_a_suite_runs_every_problem_and_resumes_what_finished(tmp_path, capsys):
    args = ["bench", "--suite", "held-out", "--problem", PROBLEMS[0], "--problem", PROBLEMS[1],
            "--budget", "60", "--seeds", "2", "--methods", "nsga2,random", "--population", "10",
            "--journal", str(tmp_path / "j"), "--jobs", "2", "--progress", "jsonl",
            "--out", str(tmp_path / "suite.json")]
    assert main(args) == 0
    first = capsys.readouterr()
    rows = [line for line in first.out.splitlines() if line.startswith("| acc_")]
    assert sorted(row.split(" | ")[0][2:] for row in rows) == sorted(PROBLEMS)
    assert len(first.err.splitlines()) == 8  # a progress line per run
    saved = json.loads((tmp_path / "suite.json").read_text())
    assert [r["problem"] for r in saved["problems"]] == PROBLEMS
    for report in saved["problems"]:
        assert report["objectives"] == ["acc_cifar10_valid:max", "lat_pi5_litert_ms:min"]
        assert (report["cell"] is not None) == report["problem"].endswith("/cell")
        for run in report["methods"]["nsga2"]["runs"]:
            assert run["evaluations"] == 60
    assert main([*args, "--resume"]) == 0
    again = capsys.readouterr()
    assert again.err == ""  # nothing ran again: the finished problems were read back
    assert sorted(line for line in again.out.splitlines() if line.startswith("| acc_")) == \
        sorted(rows)


@pytest.mark.parametrize(("extra", "expected"), [
    (["--suite", "shared", "--table", "shared"], "--suite names its own problems; leave out "
     "--table"),
    (["--suite", "shared", "--reference", "1", "2"], "leave out --reference"),
    (["--problem", "x/plain", "--table", "shared"], "--problem picks problems of a --suite"),
    (["--table", "shared"], "--var, --objective needed (or --suite NAME)"),
])
def test_suite_flags_that_do_not_fit_are_refused(extra, expected, capsys):
    assert main(["bench", *extra]) != 0
    assert expected in capsys.readouterr().err
