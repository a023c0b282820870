"""Adapt an elastic MobileNetV3 to the user's classes on image folders (`linas train
mobilenetv3 --train DIR --valid DIR [--checkpoint FILE]`), as Once-for-All and BigNAS fine-tune
every sub-network at once.

- **Start**: an OFA checkpoint (w1.0 or w1.2), linas's own weights (committed, trained or
  adapted), or nothing (the small member, from scratch). The head gets one output per class
  folder, newly initialised; every other weight comes from the checkpoint.
- **Steps**: the sandwich rule, the largest, the smallest and `random_subnets` random
  sub-networks on each batch; the largest learns from the labels, the others from the labels
  and its predictions (in-place distillation, added to the label loss as Once-for-All adds its
  teacher's: the new head's teacher knows nothing at first), gradients summed. AdamW, linear
  warm-up then cosine.
  `head_epochs` first trains the head alone (the new head would otherwise send large, random
  gradients into the pretrained features); `freeze_stages` keeps the stem and the first
  stages fixed throughout (their batch norms too).
- **State**: a checkpoint after every epoch (weights, optimizer, schedule, epoch, step and the
  per-epoch scores), written atomically beside `out`, so a run killed at any point loses at
  most the epoch under way; `resume` continues it exactly, since every epoch's draws (order,
  crops, flips, sub-networks, dropout) come from generators seeded by (seed, epoch). A
  checkpoint of another run (other data, start, architecture or recipe) is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from linas_host.supernets import images as image_data
from linas_host.supernets import weights as weight_files
from linas_host.supernets.mobilenetv3.adapted import AdaptedSupernet, manifest_of, preprocess_of
from linas_host.supernets.mobilenetv3.augment import Augment
from linas_host.supernets.mobilenetv3.net import Architecture, ElasticMobileNetV3
from linas_host.supernets.mobilenetv3.ofa import VARIANTS, load_checkpoint
from linas_host.supernets.mobilenetv3.space import mobilenetv3_space
from linas_sdk.errors import ArtifactCorrupt, InvalidArgument
from linas_sdk.space import SearchSpace

HEAD = "classifier.linear."
GRAY = {"mode": "L", "mean": [0.5], "std": [0.5]}  # the digits task's normalisation
RGB = {"mode": "RGB", "mean": list(image_data.IMAGENET_MEAN), "std": list(image_data.IMAGENET_STD)}


@dataclass(frozen=True)
class AdaptRecipe:
    """Optimisation settings of one adaptation."""

    epochs: int = 10
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 5e-5
    random_subnets: int = 2  # besides the largest and the smallest, per step
    label_smoothing: float = 0.1  # the largest's loss on the labels
    head_epochs: int = 0  # first epochs that train the new head alone
    freeze_stages: int = 0  # stem, first block and this many elastic stages stay fixed
    crop_scale: float = 0.08  # smallest area fraction of a random resized crop
    flip: bool = True
    seed: int = 0


@dataclass
class Start:
    """The network training starts from (its head still the source's), what it came from,
    and the input it takes."""

    net: ElasticMobileNetV3
    source: dict[str, Any]  # variant ("digits" or an OFA one), kind, path, sha256
    resolution: int
    preprocess: dict[str, Any]  # mode, mean, std


def start_from(
    checkpoint: Path | None, *, width: float, grayscale: bool, resolution: int | None
) -> Start:
    """The network training starts from, its head still the source's: `checkpoint`'s weights
    (OFA or linas's own), or the small member (untrained: `with_head` initialises it all)."""
    if checkpoint is None:
        from linas_host.supernets.mobilenetv3.training import digits_architecture

        arch = dataclasses.replace(digits_architecture(width), in_channels=1 if grayscale else 3)
        return Start(
            ElasticMobileNetV3(arch),
            {"variant": "digits", "kind": "scratch", "path": None, "sha256": None},
            resolution or 32,
            GRAY if grayscale else RGB,
        )
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise InvalidArgument(
            f"checkpoint {checkpoint} does not exist: expected an OFA "
            "checkpoint or linas weights (a .pt beside its .json manifest)"
        )
    sha = weight_files.sha256_file(checkpoint)
    meta = weight_files.manifest_path(checkpoint)
    if meta.is_file():  # linas's own weights
        state, manifest = weight_files.load(checkpoint)
        if manifest.get("supernet") != "mobilenetv3":
            raise InvalidArgument(
                f"checkpoint {checkpoint} holds weights of the {manifest.get('supernet')!r} "
                "supernet: expected an elastic MobileNetV3 (OFA checkpoint or linas weights)"
            )
        arch = Architecture.from_dict(manifest["architecture"])
        adapted = manifest_of(checkpoint)
        if adapted is not None:
            preprocess, side = adapted["preprocess"], adapted["resolution"]
            variant = adapted["source"]["variant"]
        else:  # the digits task's weights: grayscale
            preprocess, side, variant = GRAY, manifest["task"]["resolution"], "digits"
        net = ElasticMobileNetV3(arch)
        net.load_state_dict(state)
        kind = "linas"
    else:
        net = _ofa(checkpoint)
        variant = next(v for v, a in VARIANTS.items() if a == net.arch)
        preprocess, side, kind = RGB, 224, "ofa"
    source = {"variant": variant, "kind": kind, "path": str(checkpoint.resolve()), "sha256": sha}
    return Start(net, source, resolution or side, dict(preprocess))


def _ofa(path: Path) -> ElasticMobileNetV3:
    """The OFA supernet in `path`, whichever published width it is."""
    errors = []
    for variant in VARIANTS:
        try:
            return load_checkpoint(path, variant)
        except InvalidArgument as error:
            errors.append(str(error))
    raise InvalidArgument(
        f"checkpoint {path} is neither linas weights (no manifest {path.with_suffix('.json').name} "
        f"beside it) nor an OFA MobileNetV3 checkpoint: {errors[0]}"
    )


def with_head(start: Start, classes: int, seed: int) -> ElasticMobileNetV3:
    """`start`'s network with a newly initialised head of `classes` outputs (seeded), every
    other weight the checkpoint's (from scratch: all newly initialised)."""
    torch.manual_seed(seed)
    fresh = ElasticMobileNetV3(dataclasses.replace(start.net.arch, num_classes=classes))
    if start.source["kind"] != "scratch":
        body = {k: v for k, v in start.net.state_dict().items() if not k.startswith(HEAD)}
        fresh.load_state_dict({**fresh.state_dict(), **body})
    return fresh


def folders(
    train: Path, valid: Path, preprocess: image_data.Preprocess
) -> tuple[image_data.ImageFolder, image_data.ImageFolder]:
    """The training and validation folders, checked: at least two classes, the same ones in
    both, each with images in both."""
    sets = []
    for role, root in (("train", train), ("valid", valid)):
        if not Path(root).is_dir():
            raise InvalidArgument(f"--{role} {root} is not a folder: expected {root}/CLASS/IMAGE")
        sets.append(image_data.ImageFolder(Path(root), preprocess=preprocess))
    training, validation = sets
    if training.num_classes < 2:
        raise InvalidArgument(
            f"--train {train} has {training.num_classes} class ([{', '.join(training.classes)}]): "
            "expected at least 2 class sub-folders"
        )
    if validation.classes != training.classes:
        raise InvalidArgument(
            f"--valid {valid} has classes [{', '.join(validation.classes)}], --train {train} has "
            f"[{', '.join(training.classes)}]: expected the same class sub-folders in both"
        )
    for role, images in (("train", training), ("valid", validation)):
        empty = [
            name for name, count in zip(images.classes, images.counts, strict=True) if count == 0
        ]
        if empty:
            raise InvalidArgument(
                f"--{role} {images.root}: class(es) {', '.join(empty)} have no image: expected "
                "at least one image per class in both folders"
            )
    return training, validation


def describe(images: image_data.ImageFolder) -> dict[str, Any]:
    """A folder's identity for the run's fingerprint: path, classes, files and their sizes."""
    digest = hashlib.sha256()
    for path, label in sorted(images.files):
        digest.update(f"{path.relative_to(images.root)}\0{label}\0{path.stat().st_size}\n".encode())
    return {
        "path": str(images.root.resolve()),
        "classes": images.classes,
        "images": len(images),
        "digest": digest.hexdigest(),
    }


class Adaptation:
    """One run: the network, its data and recipe, the optimizer and the per-epoch history."""

    def __init__(
        self,
        start: Start,
        training: image_data.ImageFolder,
        validation: image_data.ImageFolder,
        recipe: AdaptRecipe,
        *,
        calibration_samples: int,
        val_limit: int | None,
    ) -> None:
        self.start, self.recipe, self.training = start, recipe, training
        self.net = start.net
        arch = self.net.arch
        self.space = mobilenetv3_space(arch.depths, arch.expand_ratios, arch.kernel_sizes)
        self.augment = Augment(
            training.preprocess, scale=(recipe.crop_scale, 1.0), flip=recipe.flip
        )
        self.val_limit = val_limit
        self.scorer = AdaptedSupernet(
            self.net,
            classes=training.classes,
            variant="adaptation",
            resolutions=(start.resolution,),
            val=validation,
            calibration=training,
            calibration_samples=calibration_samples,
        )
        self.frozen = self._frozen_modules(recipe.freeze_stages)
        fixed = {id(p) for module in self.frozen for p in module.parameters()}
        named = [(n, p) for n, p in self.net.named_parameters() if id(p) not in fixed]
        decays = [
            p for n, p in named if not (n.endswith("bias") or "bn" in n or n.endswith("_matrix"))
        ]
        rest = [p for n, p in named if all(p is not q for q in decays)]
        self.optimizer = torch.optim.AdamW(
            [
                {"params": decays, "weight_decay": recipe.weight_decay},
                {"params": rest, "weight_decay": 0.0},
            ],
            lr=recipe.lr,
        )
        self.steps_per_epoch = math.ceil(len(training) / recipe.batch_size)
        steps, warmup = (
            recipe.epochs * self.steps_per_epoch,
            max(1, recipe.epochs * self.steps_per_epoch // 20),
        )
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda s: (
                min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps)))
            ),
        )
        self.epoch = self.step = 0
        self.history: list[dict[str, Any]] = []

    def _frozen_modules(self, stages: int) -> list[nn.Module]:
        if stages == 0:
            return []
        depth = max(self.net.arch.depths)
        return [self.net.first_conv, *self.net.blocks[: 1 + depth * stages]]

    def state(self, fingerprint: dict) -> dict[str, Any]:
        return {
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "history": self.history,
            "fingerprint": fingerprint,
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.net.load_state_dict(saved["net"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.schedule.load_state_dict(saved["schedule"])
        self.epoch, self.step, self.history = saved["epoch"], saved["step"], saved["history"]

    def batches(self, epoch: int):
        """Epoch `epoch`'s augmented batches, drawn from a generator seeded by (seed, epoch)."""
        rng = np.random.default_rng([self.recipe.seed, epoch])
        files, side = self.training.files, self.start.resolution
        order = rng.permutation(len(files))
        for first in range(0, len(order), self.recipe.batch_size):
            chunk = [files[i] for i in order[first : first + self.recipe.batch_size]]
            x = np.stack(
                [
                    self.training.decode(path, lambda im: self.augment(im, side, rng))
                    for path, _ in chunk
                ]
            )
            yield torch.from_numpy(x), torch.tensor([label for _, label in chunk])

    def train_step(self, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator) -> float:
        """One sandwich step; the largest sub-network's loss."""
        loss = sandwich_loss(self.net, self.space, x, y, rng, self.recipe)
        self.optimizer.step()
        self.schedule.step()
        return loss

    def train_mode(self, head_only: bool) -> None:
        """Training mode, except frozen parts: no gradients, and their batch norms keep their
        statistics. With `head_only`, everything but the head is frozen."""
        self.net.train()
        frozen = (
            [m for n, m in self.net.named_children() if n != "classifier"]
            if head_only
            else self.frozen
        )
        self.net.requires_grad_(True)
        for module in frozen:
            module.eval().requires_grad_(False)

    def scores(self) -> dict[str, float]:
        """Val top-1 of the smallest and largest sub-network, batch norms recalibrated."""
        result = {}
        for end in ("smallest", "largest"):
            module = self.scorer.extract(
                self.space.extreme(largest=end == "largest"), calibrate=True
            )
            result[end] = self.scorer.evaluate(module, limit=self.val_limit)["accuracy"]
        return result


def sandwich_loss(
    net: ElasticMobileNetV3, space: SearchSpace, x: torch.Tensor, y: torch.Tensor,
    rng: np.random.Generator, recipe: AdaptRecipe,
) -> float:  # fmt: skip
    """Zero `net`'s gradients and accumulate one sandwich step's: the largest sub-network on the
    labels, the smallest and `recipe.random_subnets` random ones on the labels and the
    largest's predictions. Returns the largest's loss."""
    net.zero_grad(set_to_none=True)
    logits = net(x, space.extreme(largest=True))
    loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
    loss.backward()
    teacher = F.softmax(logits.detach(), dim=1)
    for config in [
        space.extreme(largest=False),
        *space.sample(rng, recipe.random_subnets),
    ]:
        out = net(x, config)
        log_p = F.log_softmax(out, 1)
        distill = -(teacher * log_p).sum(1).mean()
        (distill + F.nll_loss(log_p, y)).backward()
    return loss.item()


def fingerprint(start: Start, training: dict, validation: dict, recipe: AdaptRecipe) -> dict:
    """What makes two runs the same run (and a checkpoint resumable)."""
    return {
        "source": {k: start.source[k] for k in ("kind", "variant", "sha256")},
        "architecture": start.net.arch.to_dict(),
        "resolution": start.resolution,
        "preprocess": start.preprocess,
        "train": training,
        "valid": validation,
        "recipe": asdict(recipe),
    }


def state_path(out: Path) -> Path:
    """The training checkpoint beside the weights `out`."""
    return Path(out).with_suffix(".state.pt")


def read_state(path: Path, expected: dict) -> dict[str, Any]:
    """The checkpoint at `path`, refused unless it is this run's."""
    if not path.is_file():
        raise InvalidArgument(
            f"--resume: {path} does not exist: expected the training "
            "checkpoint an interrupted run wrote (OUT.state.pt)"
        )
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged file
        raise ArtifactCorrupt(
            f"--resume: {path} could not be read ({type(error).__name__}): "
            "expected a training checkpoint written by linas"
        ) from None
    if not isinstance(saved, dict) or "fingerprint" not in saved:
        raise InvalidArgument(f"--resume: {path} is not a linas training checkpoint")
    differ = [k for k in expected if saved["fingerprint"].get(k) != expected[k]]
    if differ:
        shown = "; ".join(
            f"{k}: {_short(saved['fingerprint'].get(k))} there, {_short(expected[k])} here"
            for k in differ
        )
        raise InvalidArgument(
            f"--resume: {path} is another run's checkpoint ({shown}): expected a checkpoint of "
            "the same start, data, architecture and recipe"
        )
    return saved


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 160 else text[:157] + "..."


def atomic_save(obj: Any, path: Path) -> None:
    """Write `obj` to `path` whole or not at all (a kill mid-write leaves the old file)."""
    temporary = path.with_name(path.name + ".tmp")
    torch.save(obj, temporary)
    os.replace(temporary, path)


def train_epochs(
    run: Adaptation,
    *,
    fingerprint: dict,
    state: Path,
    max_steps: int | None,
    log: Callable[[str], None],
    progress: bool,
) -> None:
    """Train `run` from its current epoch to the recipe's last, checkpointing each epoch."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    recipe = run.recipe
    bar = Progress(
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps, loss {task.fields[loss]}"),
        TimeRemainingColumn(),
        transient=True,
        disable=not progress,
    )
    with bar:
        while run.epoch < recipe.epochs:
            epoch, started, total, count = run.epoch, time.perf_counter(), 0.0, 0
            torch.manual_seed(recipe.seed * 100_003 + epoch)  # dropout draws of this epoch
            subnets = np.random.default_rng([recipe.seed, epoch, 1])
            head_only = epoch < recipe.head_epochs
            run.train_mode(head_only)
            task = bar.add_task(
                "", total=run.steps_per_epoch, epoch=f"{epoch + 1}/{recipe.epochs}", loss="-"
            )
            for x, y in run.batches(epoch):
                total += run.train_step(x, y, subnets)
                count, run.step = count + 1, run.step + 1
                bar.update(task, advance=1, loss=f"{total / count:.3f}")
                if max_steps is not None and run.step >= max_steps:
                    break
            bar.remove_task(task)
            run.epoch += 1
            scores = run.scores()
            run.history.append(
                {
                    "epoch": run.epoch,
                    "loss": round(total / count, 4),
                    "seconds": round(time.perf_counter() - started, 1),
                    **{f"top1_{k}": v for k, v in scores.items()},
                }
            )
            atomic_save(run.state(fingerprint), state)
            log(
                f"epoch {run.epoch}/{recipe.epochs}{' (head only)' if head_only else ''}: loss "
                f"{total / count:.3f}, val top-1 smallest {100 * scores['smallest']:.1f} %, "
                f"largest {100 * scores['largest']:.1f} % ({run.history[-1]['seconds']} s)"
            )
            if max_steps is not None and run.step >= max_steps:
                break
    run.net.eval()


def adapt(
    *,
    train_dir: Path,
    valid_dir: Path,
    out: Path,
    checkpoint: Path | None = None,
    recipe: AdaptRecipe = AdaptRecipe(),
    width: float = 0.15,
    grayscale: bool = False,
    resolution: int | None = None,
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
    resume: bool | Path = False,
    calibration_samples: int = 256,
    val_limit: int | None = None,
    max_steps: int | None = None,
    threads: int = 2,
    command: str = "",
    log: Callable[[str], None] = print,
    progress: bool = True,
) -> Path:
    """Adapt (see the module docstring), write the weights and manifest to `out`; return it.
    Every input is checked before the first step."""
    torch.set_num_threads(threads)
    out = Path(out)
    _check_recipe(recipe)
    if checkpoint is not None and grayscale:
        raise InvalidArgument(
            "--grayscale applies from scratch: with --checkpoint, the input channels are the "
            "checkpoint's; expected one or the other"
        )
    start = start_from(checkpoint, width=width, grayscale=grayscale, resolution=resolution)
    trained = start.preprocess
    start.preprocess = {
        **trained,
        "mean": list(mean or trained["mean"]),
        "std": list(std or trained["std"]),
    }
    training, validation = folders(Path(train_dir), Path(valid_dir), preprocess_of(vars(start)))
    start.net = with_head(start, training.num_classes, recipe.seed)
    described = describe(training), describe(validation)
    identity = fingerprint(start, *described, recipe)
    run_ = Adaptation(
        start,
        training,
        validation,
        recipe,
        calibration_samples=calibration_samples,
        val_limit=val_limit,
    )
    state = state_path(out) if resume is True or not resume else Path(resume)
    out.parent.mkdir(parents=True, exist_ok=True)
    if resume:
        run_.restore(read_state(state, identity))
        log(f"resuming {state} after epoch {run_.epoch}/{recipe.epochs}")
    log(
        f"{len(training)} training and {len(validation)} validation images, "
        f"{training.num_classes} classes; start: {start.source['kind']} "
        f"({start.source['variant']}), {start.resolution} px"
    )
    started = time.perf_counter()
    train_epochs(
        run_, fingerprint=identity, state=state, max_steps=max_steps, log=log, progress=progress
    )
    last = run_.history[-1] if run_.history else {}
    manifest = weight_files.save(
        out,
        run_.net.state_dict(),
        {
            "supernet": "mobilenetv3",
            "command": command,
            "architecture": start.net.arch.to_dict(),
            "classes": training.classes,
            "resolution": start.resolution,
            "preprocess": start.preprocess,
            "source": start.source,
            "train": described[0]["path"],
            "valid": described[1]["path"],
            "recipe": asdict(recipe),
            "threads": threads,
            "train_seconds": round(time.perf_counter() - started, 1),
            "history": run_.history,
            "accuracy": {end: last.get(f"top1_{end}") for end in ("smallest", "largest")},
            "torch": torch.__version__,
        },
    )
    log(f"wrote {out} (sha256 {manifest['sha256']})")
    return out


def _check_recipe(recipe: AdaptRecipe) -> None:
    if recipe.epochs < 1 or recipe.batch_size < 1 or recipe.random_subnets < 0:
        raise InvalidArgument("expected --epochs and --batch-size of at least 1")
    if not 0 <= recipe.head_epochs <= recipe.epochs:
        raise InvalidArgument(
            f"--head-epochs {recipe.head_epochs}: expected 0 to --epochs ({recipe.epochs})"
        )
    if not 0 <= recipe.freeze_stages <= 5:
        raise InvalidArgument(
            f"--freeze-stages {recipe.freeze_stages}: expected 0 to 5 (the elastic stages)"
        )
    Augment(image_data.Preprocess(), scale=(recipe.crop_scale, 1.0))  # checks the scale
