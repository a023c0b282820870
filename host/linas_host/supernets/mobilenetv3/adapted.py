"""Weights adapted to the user's classes (`linas train mobilenetv3 --train DIR`), loaded for a
search and scored on the user's images.

The adapted file is a linas weights file (`supernets.weights`: sha256-checked state dict and
JSON manifest) whose manifest holds the head's ``classes`` in output order, the architecture,
the resolution and preprocessing it was trained at, and what it was adapted from. A config
names it where it named the original: ``weights:`` for linas's own supernet, ``checkpoint:``
for an OFA variant. A validation folder is read in the head's class order, and one whose
classes differ is refused, naming both lists, before anything is measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from linas_host.supernets import images as image_data
from linas_host.supernets import weights as weight_files
from linas_host.supernets.mobilenetv3.net import Architecture, ElasticMobileNetV3
from linas_host.supernets.mobilenetv3.ofa import VARIANTS, OFAMobileNetV3Supernet
from linas_sdk.errors import InvalidArgument

DATA_KEYS = ("val", "calibration", "classes", "mean", "std")


class AdaptedSupernet(OFAMobileNetV3Supernet):
    """An elastic MobileNetV3 with a head for the user's `classes`, scored on their images."""

    def __init__(self, net: ElasticMobileNetV3, *, classes: list[str], **options: Any) -> None:
        super().__init__(net, **options)
        self.classes = list(classes)

    def example_input(self, config: dict | None = None) -> tuple[torch.Tensor, ...]:
        side, channels = self.resolution(config or {}), self.net.arch.in_channels
        generator = torch.Generator().manual_seed(0)
        return (torch.randn(1, channels, side, side, generator=generator),)


def manifest_of(path: str | Path | None) -> dict | None:
    """The manifest beside `path` when it describes adapted weights, else None."""
    if path is None:
        return None
    meta = weight_files.manifest_path(Path(path))
    if not meta.is_file():
        return None
    try:
        manifest = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and "classes" in manifest else None


def preprocess_of(manifest: dict, data: dict | None = None) -> image_data.Preprocess:
    """The preprocessing the weights were trained with (`data`'s mean and std override)."""
    data, trained = data or {}, manifest["preprocess"]
    return image_data.Preprocess(
        mean=tuple(data.get("mean") or trained["mean"]),
        std=tuple(data.get("std") or trained["std"]),
        mode=trained["mode"],
    )


def load(
    path: str | Path,
    *,
    named_as: str,
    variant: str = "digits",
    data: dict | None = None,
    resolutions: list[int] | tuple[int, ...] | None = None,
    calibration_samples: int = 256,
) -> AdaptedSupernet:
    """The adapted weights at `path` (named by the config's `named_as`: ``weights`` or
    ``checkpoint``), scored on `data` (default: the folders it was trained and validated on,
    when they still exist)."""
    state, manifest = weight_files.load(Path(path))
    source = manifest["source"]["variant"]
    expected = "checkpoint" if source in VARIANTS else "weights"
    if named_as != expected:
        raise InvalidArgument(
            f"{path} holds weights adapted from {source}: name it as {expected}: (the way the "
            f"original is named), not {named_as}:"
        )
    if source in VARIANTS and variant != source:
        raise InvalidArgument(
            f"{path} was adapted from {source}, not {variant}: expected variant {source}"
        )
    data = dict(data or {})
    unknown = sorted(set(data) - set(DATA_KEYS))
    if unknown:
        raise InvalidArgument(
            f"data has unknown key(s) {', '.join(unknown)}: expected {', '.join(DATA_KEYS)}"
        )
    classes = list(manifest["classes"])
    if data.get("classes") is not None:
        _check_class_file(Path(data["classes"]), classes, path)
    preprocess = preprocess_of(manifest, data)
    sets = {}
    for role, recorded in (("val", "valid"), ("calibration", "train")):
        where = data.get(role) or (
            manifest.get(recorded) if Path(manifest[recorded]).is_dir() else None
        )
        if where is not None:
            sets[role] = image_data.open_images(where, classes=classes, preprocess=preprocess)
    net = ElasticMobileNetV3(Architecture.from_dict(manifest["architecture"]))
    net.load_state_dict(state)
    return AdaptedSupernet(
        net,
        classes=classes,
        variant=f"{Path(path).name} (adapted from {source})",
        resolutions=tuple(resolutions or (manifest["resolution"],)),
        val=sets.get("val"),
        calibration=sets.get("calibration"),
        calibration_samples=calibration_samples,
    )


def _check_class_file(path: Path, classes: list[str], weights: str | Path) -> None:
    try:
        named = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except OSError as error:
        raise InvalidArgument(f"classes file {path} could not be read: {error}") from None
    if named != classes:
        raise InvalidArgument(
            f"classes file {path} lists [{', '.join(named)}], but {weights} was trained on "
            f"[{', '.join(classes)}]: expected the weights' classes in their order (or no "
            "classes file: adapted weights carry their own)"
        )
