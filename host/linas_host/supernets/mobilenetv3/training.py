"""Train the elastic MobileNetV3 on distorted digits with the sandwich rule (BigNAS, US-Nets),
or, with ``--train DIR --valid DIR``, adapt it to the user's image folders (`adapt`).

Each step trains the largest sub-network, the smallest and two random ones on the labels (or,
with `distill`, the smaller ones on the largest's predictions: in-place distillation, which
did worse than labels in this 8-epoch budget): both ends and the middle of the space improve
together, so a search finds a real accuracy/cost trade-off. Takes minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from linas_host.paths import cache_dir
from linas_host.supernets import weights as weight_files
from linas_host.supernets.mobilenetv3.digits import DigitsTask, Distortion
from linas_host.supernets.mobilenetv3.net import Architecture
from linas_host.supernets.mobilenetv3.supernet import MobileNetV3Supernet, build, task_to_dict
from linas_host.supernets.trainer import Trainer, common_options
from linas_sdk.errors import InvalidArgument


@dataclass(frozen=True)
class Recipe:
    """Optimisation settings of one training run."""

    epochs: int = 8
    batch_size: int = 32
    lr: float = 6e-3
    weight_decay: float = 5e-5
    random_subnets: int = 2  # besides the largest and the smallest, per step
    distill: bool = False  # smaller sub-networks learn from the largest's soft predictions
    label_smoothing: float = 0.1
    seed: int = 0
    max_steps: int | None = None  # stop early after this many steps (smoke tests)


def digits_architecture(width: float = 0.15, head_width: int = 1280) -> Architecture:
    """The small member that trains here: 1-channel input, stem at full resolution, channels
    in multiples of 4 so the smallest sub-network is small enough for capacity to matter."""
    return Architecture(
        num_classes=DigitsTask.num_classes, in_channels=DigitsTask.in_channels, width=width,
        stem_stride=1, head_width=head_width, divisor=4,
    )


def _decays(name: str) -> bool:
    return not (name.endswith("bias") or "bn" in name or name.endswith("_matrix"))


def train_supernet(
    supernet: MobileNetV3Supernet, recipe: Recipe, *, log: Callable[[str], None] = print
) -> list[float]:
    """Train `supernet.net` in place; return the mean loss of each epoch."""
    torch.manual_seed(recipe.seed)
    net, space, task = supernet.net, supernet.space, supernet.task
    rng = np.random.default_rng(recipe.seed)
    generator = torch.Generator().manual_seed(recipe.seed)
    images = task.train_images()
    named = list(net.named_parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for n, p in named if _decays(n)], "weight_decay": recipe.weight_decay},
            {"params": [p for n, p in named if not _decays(n)], "weight_decay": 0.0},
        ],
        lr=recipe.lr,
    )
    steps = recipe.epochs * math.ceil(len(images[1]) / recipe.batch_size)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))),
    )
    losses: list[float] = []
    step = 0
    net.train()
    for epoch in range(recipe.epochs):
        start, total, count = time.perf_counter(), 0.0, 0
        for x, y in task.batches(recipe.batch_size, generator, images):
            optimizer.zero_grad(set_to_none=True)
            logits = net(x, supernet.largest)
            loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
            loss.backward()
            teacher = F.softmax(logits.detach(), dim=1)
            for config in [supernet.smallest, *space.sample(rng, recipe.random_subnets)]:
                out = net(x, config)
                if recipe.distill:
                    sub_loss = F.kl_div(F.log_softmax(out, 1), teacher, reduction="batchmean")
                else:
                    sub_loss = F.cross_entropy(out, y, label_smoothing=recipe.label_smoothing)
                sub_loss.backward()
            optimizer.step()
            schedule.step()
            total, count, step = total + loss.item(), count + 1, step + 1
            if recipe.max_steps is not None and step >= recipe.max_steps:
                break
        losses.append(total / count)
        log(f"epoch {epoch + 1}/{recipe.epochs}: loss {losses[-1]:.3f} "
            f"({time.perf_counter() - start:.1f} s)")
        if recipe.max_steps is not None and step >= recipe.max_steps:
            break
    net.eval()
    return losses


def train(
    *,
    out: Path | None = None,
    epochs: int | None = None,
    seed: int = 0,
    threads: int = 2,
    width: float = 0.15,
    resolution: int | None = None,
    noise: float | None = None,
    max_steps: int | None = None,
    distill: bool | None = None,
    command: str = "",
    log: Callable[[str], None] = print,
    **adaptation: Any,
) -> Path:
    """Train a digits supernet and save its weights and manifest; return the weights path.
    `command` is recorded in the manifest (default: the equivalent `linas train` line). With
    `train_dir` (and the other `adaptation` options of `adapt.adapt`), adapt to image folders
    instead."""
    if adaptation:
        digits_only = {"--noise": noise, "--distill": distill}
        return _adapt(out=out, epochs=epochs, seed=seed, threads=threads, width=width,
                      resolution=resolution, max_steps=max_steps, command=command, log=log,
                      digits_only=digits_only, **adaptation)  # fmt: skip
    epochs = Recipe.epochs if epochs is None else epochs
    resolution = DigitsTask.resolution if resolution is None else resolution
    noise = Distortion.noise if noise is None else noise
    distill = Recipe.distill if distill is None else distill
    options = [f"--epochs={epochs}", f"--seed={seed}", f"--threads={threads}",
               f"--width={width}", f"--resolution={resolution}", f"--noise={noise}"]
    options += ["--distill"] if distill else []
    torch.set_num_threads(threads)
    out = Path(out) if out else cache_dir() / "mobilenetv3.pt"
    task = DigitsTask(resolution=resolution, seed=seed, distortion=Distortion(noise=noise))
    arch = digits_architecture(width)
    supernet = build(arch, task)
    recipe = Recipe(epochs=epochs, seed=seed, max_steps=max_steps, distill=distill)
    started = time.perf_counter()
    losses = train_supernet(supernet, recipe, log=log)
    seconds = time.perf_counter() - started
    accuracy = {
        end: supernet.evaluate(supernet.extract(config))["accuracy"]
        for end, config in (("smallest", supernet.smallest), ("largest", supernet.largest))
    }
    log(f"trained in {seconds:.0f} s; accuracy {accuracy}")
    manifest = weight_files.save(
        out,
        supernet.net.state_dict(),
        {
            "supernet": "mobilenetv3",
            "command": command or f"linas train mobilenetv3 {shlex.join(options)}",
            "architecture": arch.to_dict(),
            "task": task_to_dict(task),
            "recipe": asdict(recipe),
            "threads": threads,
            "train_seconds": round(seconds, 1),
            "final_loss": round(losses[-1], 4),
            "accuracy": accuracy,
            "torch": torch.__version__,
        },
    )
    log(f"wrote {out} (sha256 {manifest['sha256']})")
    return out


def _adapt(
    *, out: Path | None, epochs: int | None, seed: int, threads: int, width: float,
    resolution: int | None, max_steps: int | None, command: str, log: Callable[[str], None],
    digits_only: dict[str, Any], train_dir: Path | None = None, valid_dir: Path | None = None,
    **options: Any,
) -> Path:  # fmt: skip
    """`adapt.adapt` with the command line's options (the recipe's gathered)."""
    from linas_host.supernets.mobilenetv3 import adapt

    if train_dir is None or valid_dir is None:
        raise InvalidArgument(
            f"{', '.join('--' + k.replace('_', '-') for k in options) or '--valid'} adapt(s) to "
            "image folders: expected both --train DIR and --valid DIR"
        )
    given = [flag for flag, value in digits_only.items() if value is not None]
    if given:
        raise InvalidArgument(f"{', '.join(given)} apply to the digits task, not to image "
                              "folders (--train): expected neither")  # fmt: skip
    fields = {f.name for f in dataclasses.fields(adapt.AdaptRecipe)}
    recipe = adapt.AdaptRecipe(
        seed=seed, **({"epochs": epochs} if epochs is not None else {}),
        **{k: options.pop(k) for k in list(options) if k in fields},
    )  # fmt: skip
    if options.pop("no_flip", False):
        recipe = dataclasses.replace(recipe, flip=False)
    out = Path(out) if out else cache_dir() / "mobilenetv3-adapted.pt"
    return adapt.adapt(
        train_dir=train_dir, valid_dir=valid_dir, out=out, recipe=recipe, width=width,
        resolution=resolution, max_steps=max_steps, threads=threads, log=log,
        command=command or f"linas train mobilenetv3 --train {train_dir} --valid {valid_dir}",
        **options,
    )  # fmt: skip


def _options(parser: argparse.ArgumentParser) -> None:
    common_options(parser)
    parser.add_argument("--width", type=float, default=None, help="width multiplier")
    parser.add_argument("--resolution", type=int, default=None, help="input side in pixels")
    parser.add_argument("--noise", type=float, default=None, help="std of the input noise")
    parser.add_argument(
        "--distill", action="store_true", default=None,
        help="smaller sub-networks learn from the largest's predictions (in-place distillation)",
    )
    folders = parser.add_argument_group(
        "your own classes", "adapt to image folders (ROOT/CLASS/IMAGE, docs/your-data.md)"
    )
    folders.add_argument("--train", dest="train_dir", type=Path, default=None, metavar="DIR",
                         help="training images, one sub-folder a class")  # fmt: skip
    folders.add_argument("--valid", dest="valid_dir", type=Path, default=None, metavar="DIR",
                         help="validation images, the same class sub-folders")  # fmt: skip
    folders.add_argument(
        "--checkpoint", type=Path, default=None, metavar="FILE",
        help="start from an OFA checkpoint (w1.0, w1.2) or linas weights (default: the small "
        "member from scratch); the head is new, one output per class",
    )  # fmt: skip
    folders.add_argument(
        "--resume", nargs="?", const=True, default=None, type=Path, metavar="STATE",
        help="continue an interrupted run from its checkpoint (default: OUT.state.pt)",
    )  # fmt: skip
    folders.add_argument("--head-epochs", type=int, default=None,
                         help="first epochs that train the new head alone (0)")  # fmt: skip
    folders.add_argument("--freeze-stages", type=int, default=None,
                         help="keep the stem and this many elastic stages fixed (0)")  # fmt: skip
    folders.add_argument("--lr", type=float, default=None, help="peak learning rate (3e-3)")
    folders.add_argument("--batch-size", type=int, default=None, help="images a step (32)")
    folders.add_argument("--random-subnets", type=int, default=None,
                         help="random sub-networks a step besides both ends (2)")  # fmt: skip
    folders.add_argument("--crop-scale", type=float, default=None,
                         help="smallest area fraction of a random resized crop (0.08)")  # fmt: skip
    folders.add_argument("--no-flip", action="store_true", default=None,
                         help="no horizontal flips (for classes a mirror changes)")  # fmt: skip
    folders.add_argument("--grayscale", action="store_true", default=None,
                         help="from scratch: one input channel")  # fmt: skip
    folders.add_argument("--mean", type=float, nargs="+", default=None,
                         help="per-channel normalisation (default: the checkpoint's)")  # fmt: skip
    folders.add_argument("--std", type=float, nargs="+", default=None)
    folders.add_argument("--calibration-samples", type=int, default=None,
                         help="training images to recalibrate batch norms (256)")  # fmt: skip
    folders.add_argument("--val-limit", type=int, default=None,
                         help="score epochs on the first N val images (all)")  # fmt: skip


TRAINER = Trainer(
    train, _options,
    "elastic MobileNetV3 on distorted digits, or adapted to your image folders (sandwich rule)",
)  # fmt: skip
