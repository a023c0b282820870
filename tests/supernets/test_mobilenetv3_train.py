"""`linas train mobilenetv3` runs end to end (one step here), writes weights with a manifest
that `load` verifies, and the distorted-digits task is fixed by its seed."""

from __future__ import annotations

import json

import pytest
import torch
from linas_host.supernets.mobilenetv3.digits import DigitsTask
from linas_host.supernets.mobilenetv3.supernet import load

from linas_sdk.cli import main


@pytest.mark.timeout(240)
def test_one_training_step_from_the_cli_writes_loadable_weights(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # what `run` would set for good
    out = tmp_path / "w" / "mobilenetv3.pt"
    argv = ["train", "mobilenetv3", "--out", str(out), "--epochs", "1", "--max-steps", "1",
            "--threads", "1"]
    assert main(argv) == 0
    assert str(out) in capsys.readouterr().out
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["command"].startswith("linas train mobilenetv3")
    assert set(manifest["accuracy"]) == {"smallest", "largest"}
    supernet = load(weights=out)
    assert len(supernet.space) == 45


def test_the_task_is_fixed_by_its_seed_and_validation_is_distorted():
    a, b = DigitsTask(seed=3), DigitsTask(seed=3)
    xa, ya = a.validation()
    xb, yb = b.validation()
    assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert len(ya) == 4 * len(a._split()[3])
    xc, _ = DigitsTask(seed=4).validation()
    assert not torch.equal(xa, xc)
    clean = a._split()[2].repeat(4, 1, 1, 1)
    assert (xa - (clean - 0.5) / 0.5).abs().mean() > 0.1  # distorted, not the clean digits
