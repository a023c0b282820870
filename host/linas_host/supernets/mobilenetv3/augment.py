"""Training-time augmentation of the user's images, in Pillow and numpy (no torchvision): a
random resized crop (Inception's, as Once-for-All trains) and a horizontal flip, then the same
normalisation as evaluation (`images.Preprocess`). Every draw comes from the numpy generator
passed in, so an epoch's batches are fixed by its seed and a resumed run sees the same ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from linas_host.supernets.images import Preprocess
from linas_sdk.errors import InvalidArgument


@dataclass(frozen=True)
class Augment:
    """Random resized crop (`scale`: area fraction kept, `ratio`: aspect ratio), then an
    optional horizontal flip (off for images whose mirror is another class, such as digits)."""

    preprocess: Preprocess
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip: bool = True

    def __post_init__(self) -> None:
        low, high = self.scale
        if not 0 < low <= high <= 1:
            raise InvalidArgument(
                f"crop scale {list(self.scale)}: expected 0 < min <= max <= 1 (area fractions)"
            )

    def __call__(self, image: Image.Image, resolution: int, rng: np.random.Generator) -> np.ndarray:
        """A random crop of `image` resized to `resolution`, maybe mirrored: float32 (C, r, r)."""
        image = image.convert(self.preprocess.mode)
        left, top, width, height = self.box(image.width, image.height, rng)
        crop = image.resize(
            (resolution, resolution), Image.BILINEAR, box=(left, top, left + width, top + height)
        )
        if self.flip and rng.random() < 0.5:
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        return self.preprocess.normalise(crop)

    def box(self, width: int, height: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
        """(left, top, width, height) of a crop: ten tries at a random area and aspect ratio,
        then the centre crop of the clamped ratio, as torchvision's RandomResizedCrop."""
        area = width * height
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            w = round(math.sqrt(target * aspect))
            h = round(math.sqrt(target / aspect))
            if 0 < w <= width and 0 < h <= height:
                return (
                    int(rng.integers(0, width - w + 1)),
                    int(rng.integers(0, height - h + 1)),
                    w,
                    h,
                )
        aspect = width / height
        if aspect < self.ratio[0]:
            w, h = width, round(width / self.ratio[0])
        elif aspect > self.ratio[1]:
            w, h = round(height * self.ratio[1]), height
        else:
            w, h = width, height
        return (width - w) // 2, (height - h) // 2, w, h
