"""The image-classification task: scikit-learn's handwritten digits (shipped with it, no
download), upscaled and made harder with random affine distortion and noise.

The 8x8 digits alone are too easy to separate small from large networks, so every image is
rotated, scaled, shifted and buried in Gaussian noise; the validation set is a fixed draw of
such distortions (several per held-out image), so accuracy is comparable across calls.
The train/validation split and every fixed draw depend only on the seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Distortion:
    """How hard the task is: ranges of the random affine transform, and the noise level."""

    rotation_degrees: float = 15.0
    scale: tuple[float, float] = (0.8, 1.1)
    shift: float = 0.1  # fraction of the image side
    noise: float = 0.2  # std of additive Gaussian noise (images are in [0, 1])

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Distortion:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def apply(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Distorted copies of `images` (N, 1, H, W), drawn from `generator`."""
        n = images.shape[0]

        def uniform(low: float, high: float) -> torch.Tensor:
            return low + (high - low) * torch.rand(n, generator=generator)

        angle = uniform(-self.rotation_degrees, self.rotation_degrees) * math.pi / 180
        scale = uniform(*self.scale)
        shift = uniform(-self.shift, self.shift), uniform(-self.shift, self.shift)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack(
            [torch.stack([cos, -sin, 2 * shift[0]], 1), torch.stack([sin, cos, 2 * shift[1]], 1)],
            1,
        )
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        out = F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")
        out = out + self.noise * torch.randn(out.shape, generator=generator)
        return (out - 0.5) / 0.5


@dataclass(frozen=True)
class DigitsTask:
    """Train and validation data of the distorted-digits task at one resolution."""

    resolution: int = 16
    seed: int = 0
    validation_fraction: float = 0.25
    validation_copies: int = 4
    distortion: Distortion = Distortion()

    num_classes = 10
    in_channels = 1

    def _split(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
        images = F.interpolate(
            images, size=(self.resolution, self.resolution), mode="bilinear", align_corners=False
        )
        labels = torch.from_numpy(digits.target.astype(np.int64))
        index = np.arange(len(labels))
        train, val = train_test_split(
            index, test_size=self.validation_fraction, random_state=self.seed,
            stratify=digits.target,
        )
        return images[train], labels[train], images[val], labels[val]

    def train_images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Clean (undistorted) training images and labels."""
        x, y, _, _ = self._split()
        return x, y

    def validation(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed validation set: `validation_copies` distortions of each held-out image."""
        _, _, x, y = self._split()
        generator = torch.Generator().manual_seed(self.seed + 1)
        xs = [self.distortion.apply(x, generator) for _ in range(self.validation_copies)]
        return torch.cat(xs), y.repeat(self.validation_copies)

    def batches(
        self, batch_size: int, generator: torch.Generator, images: tuple | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of freshly distorted training batches, shuffled by `generator`."""
        x, y = images if images is not None else self.train_images()
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), batch_size):
            idx = order[start : start + batch_size]
            yield self.distortion.apply(x[idx], generator), y[idx]

    def calibration(self, samples: int) -> torch.Tensor:
        """A fixed draw of distorted training images, for re-estimating batch-norm statistics."""
        generator = torch.Generator().manual_seed(self.seed + 2)
        x, y = self.train_images()
        batch = next(self.batches(samples, generator, (x, y)))
        return batch[0]
