"""From a folder of images to a model for a board, as docs/your-data.md walks it: adapt the
small elastic MobileNetV3 to three classes of images written here, search it from a config
file that names the adapted weights and a `data:` folder (local agent), and `linas export`
the pick with its labels; a val folder of other classes is refused before any agent starts;
an OFA checkpoint (random weights, the reference's keys) adapts at 64 px within a minute."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from e2e_helpers import FAST_TIMING
from linas_host.supernets import create
from linas_host.supernets.mobilenetv3.adapt import AdaptRecipe, adapt
from linas_host.supernets.mobilenetv3.net import Architecture, ElasticMobileNetV3
from PIL import Image

from linas_sdk import search
from linas_sdk.cli import main
from linas_sdk.errors import InvalidArgument

CLASSES = ("bolt", "nut", "washer")


def shapes(root: Path, per_class: int, seed: int) -> Path:
    """Coloured discs, squares and rings on noise: a class each, of assorted sizes."""
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            side = int(rng.integers(24, 48))
            yy, xx = np.mgrid[:side, :side] - side / 2
            radius = np.hypot(yy, xx) / side
            mask = [radius < 0.3, np.maximum(abs(yy), abs(xx)) < side * 0.3,
                    (radius > 0.2) & (radius < 0.35)][label]  # fmt: skip
            pixels = rng.integers(0, 80, (side, side, 3)).astype(np.uint8)
            pixels[mask] = (200, 60 * label, 255 - 80 * label)
            Image.fromarray(pixels).save(root / name / f"{i}.{'png' if i % 2 else 'jpg'}")
    return root


@pytest.fixture(scope="module")
def adapted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("parts")
    shapes(root / "train", 6, 0), shapes(root / "valid", 3, 1)
    adapt(train_dir=root / "train", valid_dir=root / "valid", out=root / "weights" / "parts.pt",
          recipe=AdaptRecipe(epochs=1, batch_size=6), resolution=16, threads=1,
          progress=False, log=lambda line: None)  # fmt: skip
    return root


@pytest.mark.timeout(300)
def test_adapted_weights_are_searched_on_the_data_folder_and_exported_with_labels(adapted):
    config = adapted / "search.yaml"
    config.write_text(yaml.safe_dump({
        "space": {"supernet": "mobilenetv3", "options": {"weights": "weights/parts.pt",
                                                          "calibration_samples": 6}},
        "data": {"val": "valid"},
        "objectives": ["accuracy", "latency"], "method": "random", "population": 2,
        "budget": 2, "seed": 0, "threads": 1, "measure": FAST_TIMING, "out": "run",
    }))  # fmt: skip
    assert main(["search", str(config), "--progress", "quiet"]) == 0
    with (adapted / "run" / "results.csv").open() as rows:
        rows = list(csv.DictReader(rows))
    assert len(rows) == 2 and all(float(r["accuracy"]) in {k / 9 for k in range(10)} for r in rows)
    assert main(["export", str(adapted / "run"), "--maximize", "accuracy",
                 "-o", str(adapted / "firmware")]) == 0  # fmt: skip
    manifest = json.loads((adapted / "firmware" / "manifest.json").read_text())
    assert manifest["labels"] == list(CLASSES)


def test_a_val_folder_of_other_classes_is_refused_before_any_agent_starts(adapted, tmp_path):
    shapes(tmp_path / "other", 1, 2)
    (tmp_path / "other" / "washer").rename(tmp_path / "other" / "spring")
    with pytest.raises(InvalidArgument, match=r"\[bolt, nut, spring\].*\[bolt, nut, washer\]"):
        search(space={"supernet": "mobilenetv3",
                      "options": {"weights": str(adapted / "weights" / "parts.pt")}},
               data={"val": str(tmp_path / "other")}, objectives=["accuracy", "latency"],
               budget=2, population=2, method="random", out=tmp_path / "run",
               progress="quiet")  # fmt: skip
    assert not (tmp_path / "run" / "devices.json").exists()


@pytest.mark.timeout(120)
def test_an_ofa_checkpoint_adapts_at_64_px_within_a_minute(adapted, tmp_path):
    torch.manual_seed(0)
    checkpoint = tmp_path / "ofa_mbv3_d234_e346_k357_w1.0"
    torch.save({"state_dict": ElasticMobileNetV3(Architecture(width=1.0)).state_dict()}, checkpoint)
    out = tmp_path / "ofa-parts.pt"
    adapt(train_dir=adapted / "train", valid_dir=adapted / "valid", out=out,
          checkpoint=checkpoint, recipe=AdaptRecipe(epochs=1, batch_size=6, head_epochs=1),
          resolution=64, calibration_samples=6, threads=1, progress=False,
          log=lambda line: None)  # fmt: skip
    supernet = create("mobilenetv3", variant="ofa-w1.0", checkpoint=str(out))
    assert supernet.classes == list(CLASSES) and supernet.net.classifier.linear.out_features == 3
    body = "blocks.5.conv.depth_conv.conv.conv.weight"  # the head trained alone: body unchanged
    assert torch.equal(supernet.net.state_dict()[body], torch.load(checkpoint)["state_dict"][body])
    x = supernet.validation_arrays(config=supernet.largest)["input"]
    assert x.shape == (9, 3, 64, 64)
    assert supernet.extract(supernet.smallest)(torch.from_numpy(x)).shape == (9, 3)
