"""A search of Once-for-All's `ofa-w1.0` supernet at 224 px on the user's data, end to end
through `linas_sdk.search`: a random-weight checkpoint with the reference's key names, a
32-image `.npz` (its first 8 images recalibrate batch norms; top-1 on all 32 is scored by the
agent, as onnxruntime scores 32 images many times faster than PyTorch on the host), a local
agent, a budget of 10; and bad data refused before any agent starts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from e2e_helpers import FAST_TIMING
from linas_host.supernets.mobilenetv3.net import Architecture, ElasticMobileNetV3

from linas_sdk import search
from linas_sdk.errors import InvalidArgument


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ofa")
    torch.manual_seed(0)
    checkpoint = folder / "ofa_mbv3_d234_e346_k357_w1.0"
    torch.save({"state_dict": ElasticMobileNetV3(Architecture(width=1.0)).state_dict()}, checkpoint)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3, 224, 224)).astype(np.float32)
    np.savez(folder / "val.npz", x=x, y=rng.integers(0, 1000, 32))
    return {"checkpoint": checkpoint, "val": folder / "val.npz"}


def _search(files: dict[str, Path], out: Path, **data):
    return search(
        space={"supernet": "mobilenetv3", "options": {
            "variant": "ofa-w1.0", "checkpoint": str(files["checkpoint"]),
            "calibration_samples": 8}},
        data={"val": str(files["val"]), "calibration": str(files["val"]), **data},
        objectives=["accuracy", "latency", "macs"], method="linas", population=5, budget=10,
        accuracy_on="device", seed=0, threads=1, measure={**FAST_TIMING, "min_runs": 3},
        out=out, cache=False, progress="quiet",
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_search_of_ofa_w1_0_on_a_32_image_npz_runs_end_to_end(files, tmp_path):
    result = _search(files, tmp_path / "run")
    assert result.status == "budget" and result.evaluations == 10
    with (tmp_path / "run" / "results.csv").open() as rows:
        rows = list(csv.DictReader(rows))
    assert len(rows) == 10 and {row["device"] for row in rows} == {"local"}
    assert all(float(row["accuracy"]) in {k / 32 for k in range(33)} for row in rows)
    macs = sorted(float(row["macs"]) for row in rows)
    assert 100e6 < macs[0] < macs[-1] < 600e6  # between the ends (121 M and 566 M at 224)
    assert all(float(row["latency_ms"]) > 0 for row in rows)


def test_bad_data_is_refused_before_any_agent_starts(files, tmp_path):
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, x=np.zeros((4, 1, 224, 224), np.float32), y=np.zeros(4, int))
    with pytest.raises(InvalidArgument, match=r"'x' is float32 of shape \(4, 1, 224, 224\)"):
        _search(files, tmp_path / "run", val=str(wrong))
    assert not (tmp_path / "run" / "devices.json").exists()
