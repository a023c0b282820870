"""The validation pass: run a model over an .npz set and score it, or return its outputs.

The set holds one array per model input, named like the input (or "x" for a single-input
model), and labels "y" (class indices, or one-hot rows), which only top-1 needs: for the raw
outputs (METRIC_OUTPUTS) the host holds the labels and scores them itself. It is loaded with
allow_pickle=False, so an .npz carrying objects is refused rather than unpickled. Samples
are fed in batches: the model's own batch size when it fixes one (the last batch padded by
repeating its final sample, and the padding's outputs dropped), else up to BATCH at a time.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from linas_agent.runtimes import Session
from linas_sdk.errors import InvalidArgument
from linas_sdk.measurement import TensorSpec

BATCH = 64


def load_set(
    path: Path, inputs: Sequence[TensorSpec], *, labels: bool = True
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The model's input arrays and, when `labels` are needed, the labels "y" from an .npz
    file (None when not needed; a "y" that is there still must count the same samples)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise InvalidArgument(
            f"the validation set is not a readable .npz of plain arrays: {error}"
        ) from error
    if labels and "y" not in arrays:
        raise _no_labels(sorted(arrays))
    y = arrays.pop("y", None)
    if len(inputs) == 1 and inputs[0].name not in arrays and "x" in arrays:
        arrays[inputs[0].name] = arrays.pop("x")
    feeds = {}
    for spec in inputs:
        if spec.name not in arrays:
            raise InvalidArgument(
                f"the validation set has no array for input {spec.name!r} (nor 'x'); it holds "
                f"{sorted(arrays)}"
            )
        array = arrays[spec.name]
        if array.ndim != len(spec.shape) or array.shape[1:] != tuple(spec.shape[1:]):
            raise InvalidArgument(
                f"validation input {spec.name!r} has shape {list(array.shape)}; the model is "
                f"fed {list(spec.shape)} (any number of samples on the first axis)"
            )
        if array.dtype.kind not in "biuf":
            raise InvalidArgument(
                f"validation input {spec.name!r} has dtype {array.dtype}; expected numbers"
            )
        feeds[spec.name] = array.astype(spec.dtype, copy=False)
    sizes = {len(a) for a in feeds.values()} | ({len(y)} if y is not None else set())
    if len(sizes) != 1:
        raise InvalidArgument(f"validation arrays disagree on the number of samples: {sizes}")
    return feeds, y if labels else None


def require_labels(path: Path) -> None:
    """Refuse a set without labels "y" for top-1 before any model runs: only the zip's
    directory is read. An unreadable archive is left for `load_set` to report."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n.removesuffix(".npy") for n in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return
    if "y" not in names:
        raise _no_labels(names)


def _no_labels(names: list[str]) -> InvalidArgument:
    return InvalidArgument(
        f"top-1 accuracy needs labels 'y' in the validation set; it holds {names} "
        "(METRIC_OUTPUTS returns the raw outputs and needs none)"
    )


def first_output(
    session: Session, feeds: dict[str, np.ndarray], fixed_batch: int | None
) -> np.ndarray:
    """The model's first output over every sample, fed batch by batch."""
    n = len(next(iter(feeds.values())))
    step = fixed_batch or BATCH
    parts = []
    for start in range(0, n, step):
        batch = {k: v[start : start + step] for k, v in feeds.items()}
        real = len(next(iter(batch.values())))
        if fixed_batch and real < fixed_batch:
            batch = {k: np.concatenate([v, np.repeat(v[-1:], fixed_batch - real, axis=0)])
                     for k, v in batch.items()}  # fmt: skip
        parts.append(np.asarray(session.run(batch)[0])[:real])
    return np.concatenate(parts)


def top1(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples whose highest-scoring class is the label."""
    if labels.ndim == outputs.ndim and labels.shape == outputs.shape:
        labels = labels.argmax(axis=-1)  # one-hot labels
    predicted = outputs.reshape(len(outputs), -1).argmax(axis=-1)
    if labels.shape != predicted.shape:
        raise InvalidArgument(
            f"labels 'y' have shape {list(labels.shape)}; expected one class index per sample "
            f"({len(predicted)}) or one-hot rows like the output {list(outputs.shape)}"
        )
    return float(np.mean(predicted == labels))
