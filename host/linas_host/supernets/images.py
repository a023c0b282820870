"""The user's images: an image folder (one sub-folder a class) or an ``.npz`` of arrays, read
in batches at any resolution, preprocessed as Once-for-All evaluates (Pillow, no torchvision).

- **Folder**: ``ROOT/CLASS/IMAGE.{jpg,jpeg,png}``. A class's index is the position of its folder
  name in sorted order (ImageNet's validation layout), or its line in a ``classes`` file.
  Every file's header is read when the folder is opened, so an unreadable image is refused
  before any measurement. Images are visited in a fixed shuffled order (seed 0), so the first
  `limit` of them sample every class; a batch is decoded only when it is used, so memory
  stays bounded by the batch size.
- **.npz**: ``x`` float32 (N, 3, H, W) already normalised, ``y`` integer labels (N,); it serves
  the one resolution H = W it was made at.

Preprocessing (`Preprocess`): RGB (or grayscale, ``mode="L"``, for a one-channel network),
shorter side resized (bilinear) to ``ceil(resolution /
crop)``, centre crop of ``resolution``, scaled to [0, 1], normalised by mean and std per
channel (ImageNet's by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from linas_sdk.errors import InvalidArgument

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
EXTENSIONS = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Preprocess:
    """Resize, centre crop and normalisation, as Once-for-All's evaluation."""

    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    crop: float = 0.875  # the crop keeps this fraction of the resized shorter side
    mode: str = "RGB"  # "L": one grayscale channel (then mean and std have one value each)

    def __post_init__(self) -> None:
        channels = len(self.mode)
        if len(self.mean) != channels or len(self.std) != channels:
            raise InvalidArgument(
                f"mean {list(self.mean)} and std {list(self.std)} for {self.mode} images: "
                f"expected {channels} value(s) each, one per channel"
            )

    @property
    def channels(self) -> int:
        return len(self.mode)

    def normalise(self, image: Image.Image) -> np.ndarray:
        """An image already at its final size as a float32 (C, H, W) array: [0, 1], then mean
        and std per channel."""
        pixels = np.asarray(image, dtype=np.float32).reshape(image.height, image.width, -1)
        pixels = (pixels / 255.0 - np.asarray(self.mean, np.float32)) / np.asarray(
            self.std, np.float32
        )
        return np.ascontiguousarray(pixels.transpose(2, 0, 1))

    def __call__(self, image: Image.Image, resolution: int) -> np.ndarray:
        """`image` as a float32 (C, resolution, resolution) array."""
        image = image.convert(self.mode)
        width, height = image.size
        short = math.ceil(resolution / self.crop)
        if width <= height:
            size = (short, int(short * height / width))
        else:
            size = (int(short * width / height), short)
        image = image.resize(size, Image.BILINEAR)
        left = round((size[0] - resolution) / 2.0)
        top = round((size[1] - resolution) / 2.0)
        return self.normalise(image.crop((left, top, left + resolution, top + resolution)))


class ImageFolder:
    """Labelled images in class sub-folders (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        *,
        classes: Path | Sequence[str] | None = None,
        preprocess: Preprocess | None = None,
    ) -> None:
        self.root, self.preprocess = Path(root), preprocess or Preprocess()
        folders = sorted(p.name for p in self.root.iterdir() if p.is_dir())
        self.classes = _class_order(classes, folders, self.root) if classes else folders
        files = [
            (path, label)
            for label, name in enumerate(self.classes)
            for path in sorted((self.root / name).iterdir())
            if path.suffix.lower() in EXTENSIONS
        ]
        _check_readable(files, self.root)
        order = np.random.default_rng(0).permutation(len(files))
        self.files = [files[i] for i in order]
        self.counts = np.bincount([label for _, label in files], minlength=len(self.classes))

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.files)

    def check(self, resolution: int) -> None:
        """Any resolution suits a folder."""

    def batches(
        self, resolution: int, *, limit: int | None = None, batch_size: int = 64
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(x float32 (B, 3, r, r), y int64 (B,)) over the first `limit` images."""
        files = self.files[:limit]
        for start in range(0, len(files), batch_size):
            chunk = files[start : start + batch_size]
            x = np.stack([self._load(path, resolution) for path, _ in chunk])
            yield x, np.array([label for _, label in chunk], dtype=np.int64)

    def _load(self, path: Path, resolution: int) -> np.ndarray:
        return self.decode(path, lambda image: self.preprocess(image, resolution))

    @staticmethod
    def decode(path: Path, transform: Callable[[Image.Image], np.ndarray]) -> np.ndarray:
        """`transform` of the image at `path`; a file that fails to decode is named."""
        try:
            with Image.open(path) as image:
                return transform(image)
        except (OSError, UnidentifiedImageError) as error:
            raise InvalidArgument(f"image {path} could not be decoded: {error}") from None


class ArrayImages:
    """Preprocessed images from an ``.npz`` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            with np.load(self.path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError) as error:
            raise InvalidArgument(f"{path} is not a readable .npz: {error}") from None
        x, y = arrays.get("x"), arrays.get("y")
        if x is None or y is None:
            raise InvalidArgument(
                f"{path} holds {sorted(arrays)}: expected 'x' (float32 N x 3 x H x W, "
                "normalised) and 'y' (integer labels)"
            )
        if x.dtype != np.float32 or x.ndim != 4 or x.shape[1] != 3 or x.shape[2] != x.shape[3]:
            raise InvalidArgument(
                f"{path}: 'x' is {x.dtype} of shape {x.shape}; expected float32 of shape "
                "(N, 3, H, H), normalised images in NCHW order"
            )
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),) or len(x) == 0:
            raise InvalidArgument(
                f"{path}: 'y' is {y.dtype} of shape {y.shape}; expected {len(x)} integer labels "
                "(one per image, at least one image)"
            )
        if y.min() < 0:
            raise InvalidArgument(f"{path}: 'y' has negative labels; expected class indices")
        self.x, self.y = x, y.astype(np.int64)

    @property
    def num_classes(self) -> int:
        return int(self.y.max()) + 1

    @property
    def resolution(self) -> int:
        return int(self.x.shape[2])

    def __len__(self) -> int:
        return len(self.y)

    def check(self, resolution: int) -> None:
        """Refuse a resolution other than the one the arrays were made at."""
        if resolution != self.resolution:
            raise InvalidArgument(
                f"{self.path} holds {self.resolution}x{self.resolution} images, but the search "
                f"needs {resolution}x{resolution}: an .npz serves its own resolution only; give "
                "an image folder to search several resolutions"
            )

    def batches(
        self, resolution: int, *, limit: int | None = None, batch_size: int = 64
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        self.check(resolution)
        count = len(self) if limit is None else min(limit, len(self))
        for start in range(0, count, batch_size):
            end = min(start + batch_size, count)
            yield self.x[start:end], self.y[start:end]


Images = ImageFolder | ArrayImages


def open_images(
    path: str | Path,
    *,
    classes: str | Path | Sequence[str] | None = None,
    preprocess: Preprocess | None = None,
) -> Images:
    """The images at `path`: an ``.npz`` file or an image folder (`classes`: a file naming
    the class order, or the names themselves)."""
    path = Path(path)
    if path.is_file() and path.suffix == ".npz":
        if classes is not None:
            raise InvalidArgument(f"a classes file applies to an image folder, not {path}")
        return ArrayImages(path)
    if path.is_dir():
        order = Path(classes) if isinstance(classes, str) else classes
        return ImageFolder(path, classes=order, preprocess=preprocess)
    raise InvalidArgument(
        f"{path} is neither an image folder (one sub-folder a class) nor an .npz file"
    )


def arrays(images: Images, resolution: int, limit: int | None = None) -> tuple[np.ndarray, ...]:
    """The first `limit` images and labels as two arrays (for a board's validation .npz)."""
    xs, ys = zip(*images.batches(resolution, limit=limit), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def _class_order(classes: Path | Sequence[str], folders: Sequence[str], root: Path) -> list[str]:
    if not isinstance(classes, Path):
        return _named_order(list(classes), folders, root)
    try:
        names = [line.strip() for line in Path(classes).read_text().splitlines() if line.strip()]
    except OSError as error:
        raise InvalidArgument(f"classes file {classes} could not be read: {error}") from None
    missing = [name for name in names if name not in folders]
    if missing:
        raise InvalidArgument(
            f"classes file {classes} names {len(missing)} folder(s) absent from {root}: "
            f"{', '.join(missing[:5])}; expected one sub-folder per listed class"
        )
    extra = sorted(set(folders) - set(names))
    if extra:
        raise InvalidArgument(
            f"{root} has sub-folder(s) the classes file {classes} does not list: "
            f"{', '.join(extra[:5])}; expected every class named, one a line"
        )
    if len(set(names)) != len(names):
        raise InvalidArgument(f"classes file {classes} names a class twice")
    return names


def _named_order(names: list[str], folders: Sequence[str], root: Path) -> list[str]:
    """`names` (a network's classes, in its head's order) when `root`'s sub-folders are exactly
    those classes."""
    if sorted(names) != sorted(folders):
        raise InvalidArgument(
            f"the class sub-folders of {root} are [{', '.join(folders)}], but the weights were "
            f"trained on [{', '.join(names)}]: expected the same classes (the head has one "
            "output per trained class, in that order)"
        )
    return names


def _check_readable(files: list[tuple[Path, int]], root: Path) -> None:
    if not files:
        raise InvalidArgument(
            f"no image ({', '.join(EXTENSIONS)}) in the class sub-folders of {root}; expected "
            f"{root}/CLASS/IMAGE files, one sub-folder a class"
        )
    bad = []
    for path, _ in files:
        try:
            with Image.open(path) as image:
                image.size  # noqa: B018 - the header is read here
        except (OSError, UnidentifiedImageError) as error:
            bad.append(f"{path.relative_to(root)} ({type(error).__name__})")
    if bad:
        raise InvalidArgument(
            f"{len(bad)} of {len(files)} files in {root} are not readable images: "
            f"{', '.join(bad[:5])}; expected JPEG or PNG files"
        )
