"""Adapting the elastic MobileNetV3 to image folders (`linas train mobilenetv3 --train DIR`):
augmentation, the new head on the checkpoint's body, determinism for a seed, exact resume
after a run stopped between epochs, bad input refused before the first step, and the adapted
file loaded by `create` with its classes (a val folder of other classes refused)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from linas_cli import LINAS, cli_env
from linas_host.supernets import create
from linas_host.supernets.images import Preprocess
from linas_host.supernets.mobilenetv3.adapt import (
    AdaptRecipe,
    adapt,
    start_from,
    state_path,
    with_head,
)
from linas_host.supernets.mobilenetv3.augment import Augment
from linas_host.supernets.weights import PACKAGED
from ofa_helpers import image_folder
from PIL import Image

from linas_sdk.cli import main
from linas_sdk.errors import InvalidArgument

DIGITS = PACKAGED / "mobilenetv3.pt"
QUICK = {"resolution": 16, "threads": 1, "progress": False, "log": lambda line: None}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("images")
    return (image_folder(root / "train", classes=3, per_class=4),
            image_folder(root / "valid", classes=3, per_class=2, seed=1))  # fmt: skip


def _adapt(folders, out: Path, recipe: AdaptRecipe, **options) -> Path:
    return adapt(train_dir=folders[0], valid_dir=folders[1], out=out, recipe=recipe,
                 **{**QUICK, **options})  # fmt: skip


def test_random_resized_crop_stays_inside_is_seeded_and_flips():
    augment = Augment(Preprocess(mode="L", mean=(0.5,), std=(0.5,)), scale=(0.3, 1.0))
    rng = np.random.default_rng(0)
    for width, height in ((40, 40), (100, 20), (7, 90)):
        for _ in range(50):
            left, top, w, h = augment.box(width, height, rng)
            assert left >= 0 and top >= 0 and left + w <= width and top + h <= height
            assert w > 0 and h > 0
    image = Image.fromarray(np.tile(np.arange(32, dtype=np.uint8) * 8, (32, 1)))  # left dark
    a = augment(image, 16, np.random.default_rng(3))
    b = augment(image, 16, np.random.default_rng(3))
    assert a.shape == (1, 16, 16) and a.dtype == np.float32 and np.array_equal(a, b)
    flips = [augment(image, 16, np.random.default_rng(s))[0, :, 0].mean() > 0 for s in range(20)]
    assert 0 < sum(flips) < 20  # some crops mirrored (bright left edge), some not
    with pytest.raises(InvalidArgument, match="crop scale"):
        Augment(Preprocess(), scale=(0.0, 1.0))


def test_the_new_head_has_one_output_per_class_and_the_body_is_the_checkpoints():
    start = start_from(DIGITS, width=0.15, grayscale=False, resolution=None)
    assert start.resolution == 16 and start.preprocess["mode"] == "L"
    net = with_head(start, 7, seed=0)
    assert net.classifier.linear.out_features == 7 and net.arch.num_classes == 7
    source = start.net.state_dict()
    for key, value in net.state_dict().items():
        if not key.startswith("classifier.linear."):
            assert torch.equal(value, source[key]), key


def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_weights(folders, tmp_path):
    """Deterministic for a seed across processes, and a kill loses at most the epoch under
    way: `linas train` is SIGKILLed once its first checkpoint lands, then resumed here."""
    recipe = AdaptRecipe(epochs=3, batch_size=4, head_epochs=1, freeze_stages=1)
    whole = _adapt(folders, tmp_path / "whole.pt", recipe)
    killed = tmp_path / "killed.pt"
    argv = [*LINAS, "train", "mobilenetv3", "--train", str(folders[0]), "--valid",
            str(folders[1]), "--out", str(killed), "--epochs", "3", "--batch-size", "4",
            "--head-epochs", "1", "--freeze-stages", "1", "--resolution", "16",
            "--threads", "1"]  # fmt: skip
    process = subprocess.Popen(argv, env=cli_env(), stdout=subprocess.DEVNULL)
    try:
        while not state_path(killed).exists() and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        assert process.wait(timeout=60) == -signal.SIGKILL, "killed before the run ended"
    assert not killed.exists()
    saved = torch.load(state_path(killed), weights_only=True)
    assert 1 <= saved["epoch"] < 3 and saved["step"] == 3 * saved["epoch"]
    resumed = _adapt(folders, killed, recipe, resume=True)
    a, c = torch.load(whole), torch.load(resumed)
    assert all(torch.equal(a[k], c[k]) for k in a), "resume must give the uninterrupted weights"

    def scores(weights: Path) -> list[dict]:  # every epoch's record but its wall time
        history = json.loads(weights.with_suffix(".json").read_text())["history"]
        return [{k: v for k, v in h.items() if k != "seconds"} for h in history]

    assert scores(whole) == scores(resumed) and [h["epoch"] for h in scores(whole)] == [1, 2, 3]
    # the head warmed up alone and stage 1 stayed frozen: the stem is the initial one
    initial = with_head(start_from(None, width=0.15, grayscale=False, resolution=16), 3, 0)
    initial = initial.state_dict()
    for key in ("first_conv.conv.weight", "blocks.1.conv.inverted_bottleneck.conv.conv.weight",
                "blocks.1.conv.inverted_bottleneck.bn.bn.running_mean"):  # fmt: skip
        assert torch.equal(a[key], initial[key]), key
    for key in ("blocks.9.conv.point_linear.conv.conv.weight", "classifier.linear.weight"):
        assert not torch.equal(a[key], initial[key]), key
    # another run's checkpoint is refused: another seed
    with pytest.raises(InvalidArgument, match=r"another run's checkpoint.*recipe"):
        _adapt(folders, tmp_path / "other.pt", AdaptRecipe(epochs=3, batch_size=4, seed=1),
               resume=state_path(killed))  # fmt: skip


def _folder(root: Path, classes: dict[str, int]) -> Path:
    for name, count in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            Image.new("RGB", (20, 20), (i * 40, 0, 0)).save(root / name / f"{i}.png")
    return root


@pytest.mark.parametrize(
    ("train", "valid", "expected"),
    [
        ({}, {"a": 1}, "no image"),
        ({"a": 2}, {"a": 1}, "has 1 class.*expected at least 2"),
        ({"a": 2, "b": 2}, {"a": 1, "c": 1}, r"classes \[a, c\], --train .* \[a, b\]"),
        ({"a": 2, "b": 2}, {"a": 1, "b": 0}, "--valid .* b have no image"),
    ],
)
def test_bad_folders_are_refused_before_training(tmp_path, train, valid, expected):
    (tmp_path / "train").mkdir()
    t, v = _folder(tmp_path / "train", train), _folder(tmp_path / "valid", valid)
    with pytest.raises(InvalidArgument, match=expected):
        adapt(train_dir=t, valid_dir=v, out=tmp_path / "w.pt", **QUICK)
    assert not state_path(tmp_path / "w.pt").exists()


def test_unreadable_images_and_other_networks_are_refused(folders, tmp_path):
    broken = _folder(tmp_path / "broken", {"a": 1, "b": 1})
    (broken / "b" / "bad.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InvalidArgument, match=r"not readable images: b/bad\.jpg"):
        adapt(train_dir=broken, valid_dir=folders[1], out=tmp_path / "w.pt", **QUICK)
    with pytest.raises(InvalidArgument, match="weights of the 'transformer' supernet"):
        _adapt(folders, tmp_path / "w.pt", AdaptRecipe(), checkpoint=PACKAGED / "transformer.pt")
    torch.save({"state_dict": {"fc.weight": torch.zeros(2, 2)}}, tmp_path / "resnet.pth")
    with pytest.raises(InvalidArgument, match=r"neither linas weights.*first_conv"):
        _adapt(folders, tmp_path / "w.pt", AdaptRecipe(), checkpoint=tmp_path / "resnet.pth")
    with pytest.raises(InvalidArgument, match=r"--resume: .* does not exist"):
        _adapt(folders, tmp_path / "w.pt", AdaptRecipe(), resume=True)
    assert not state_path(tmp_path / "w.pt").exists()


@pytest.mark.timeout(120)
def test_cli_adapts_the_committed_weights_and_a_search_loads_them(folders, tmp_path, capsys):
    out = tmp_path / "adapted.pt"
    argv = ["train", "mobilenetv3", "--train", str(folders[0]), "--valid", str(folders[1]),
            "--checkpoint", str(DIGITS), "--out", str(out), "--epochs", "1", "--max-steps", "1",
            "--threads", "1", "--batch-size", "4", "--no-flip"]  # fmt: skip
    assert main(argv) == 0
    assert "val top-1 smallest" in capsys.readouterr().out
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["classes"] == ["class_00", "class_01", "class_02"]
    assert manifest["command"].startswith("linas train mobilenetv3 --train")
    assert manifest["source"]["kind"] == "linas" and manifest["recipe"]["flip"] is False
    supernet = create("mobilenetv3", weights=str(out), data={"val": str(folders[1])})
    arrays = supernet.validation_arrays()
    assert arrays["input"].shape == (6, 1, 16, 16)  # grayscale, as the digits weights
    assert sorted(arrays["y"].tolist()) == [0, 0, 1, 1, 2, 2]
    assert supernet.extract(supernet.smallest)(torch.from_numpy(arrays["input"])).shape == (6, 3)
    other = _folder(tmp_path / "other", {"cat": 1, "dog": 1, "class_00": 1})
    with pytest.raises(InvalidArgument, match=r"\[cat, class_00, dog\].*\[class_00, class_01"):
        create("mobilenetv3", weights=str(out), data={"val": str(other)})
    with pytest.raises(InvalidArgument, match="name it as weights:"):
        create("mobilenetv3", variant="ofa-w1.0", checkpoint=str(out))
    with pytest.raises(InvalidArgument, match="trained on the digits task"):
        create("mobilenetv3", data={"val": str(folders[1])})


def test_options_of_the_other_task_are_refused(folders, tmp_path, capsys):
    base = ["train", "mobilenetv3", "--out", str(tmp_path / "w.pt")]
    for extra, expected in (
        (["--checkpoint", str(DIGITS)], "--checkpoint adapt(s) to image folders: expected both"),
        (["--train", str(folders[0])], "expected both --train DIR and --valid DIR"),
        (["--train", str(folders[0]), "--valid", str(folders[1]), "--noise", "0.1"],
         "--noise apply to the digits task"),
        (["--train", str(folders[0]), "--valid", str(folders[1]), "--checkpoint", str(DIGITS),
          "--grayscale"], "--grayscale applies from scratch"),
        (["--train", str(folders[0]), "--valid", str(folders[1]), "--freeze-stages", "6"],
         "--freeze-stages 6: expected 0 to 5"),
    ):  # fmt: skip
        assert main([*base, *extra]) == 2
        assert expected in capsys.readouterr().err
    assert not (tmp_path / "w.pt").exists()
