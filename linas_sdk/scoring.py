"""The validation pass, shared by the host and the board: run a model file's session over a
validation set and score it (top-1), or return its outputs for the host to score (BLEU).

Both sides call `run_validation` on a session of the same runtime, so a candidate's accuracy
is the file's, scored the same way wherever it is scored. A set holds one array per model
input, named like the input (a single-input model takes the only array, whatever its name),
and labels "y" (class indices, or one-hot rows), which only top-1 needs. A file on the wire is
loaded with allow_pickle=False, so an .npz carrying objects is refused rather than unpickled.

A quantized input (an integer tensor with a scale and zero point, as a fully-int8 TFLite model
has) is fed float data through its own parameters, ``round(x / scale) + zero_point`` clipped to
its type, never cast; a quantized output is read back as ``(q - zero_point) * scale``. Samples
are fed in batches: the model's own batch size when it fixes one (the last batch padded by
repeating its final sample, and the padding's outputs dropped), else up to BATCH at a time.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from linas_sdk.errors import InvalidArgument
from linas_sdk.runtimes import Session

BATCH = 64
LABELS = "y"
METRICS = ("top1", "outputs")


def read_set(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz validation set (plain arrays only: nothing is unpickled)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise InvalidArgument(
            f"the validation set is not a readable .npz of plain arrays: {error}"
        ) from error


def require_labels(path: Path) -> None:
    """Refuse a set without labels "y" for top-1 before any model runs: only the zip's
    directory is read. An unreadable archive is left for `read_set` to report."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n.removesuffix(".npy") for n in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return
    if LABELS not in names:
        raise _no_labels(names)


def run_validation(
    session: Session, arrays: Mapping[str, np.ndarray], metric: str
) -> tuple[float | None, np.ndarray]:
    """Run `session` over the set `arrays`; -> (top-1 accuracy for "top1", else None; the
    model's first output over every sample)."""
    if metric not in METRICS:
        raise InvalidArgument(f"a validation pass computes one of {list(METRICS)}, not {metric!r}")
    feeds, labels = _feeds(session, dict(arrays), labels=metric == "top1")
    batch = session.model_inputs[0].shape[0] if session.model_inputs else -1
    outputs = first_output(session, feeds, batch if batch > 0 else None)
    return (top1(outputs, labels) if labels is not None else None), outputs


def _feeds(
    session: Session, arrays: dict[str, np.ndarray], *, labels: bool
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The session's feeds from the set's arrays, and its labels when they are needed (a "y"
    that is there still must count the same samples)."""
    if labels and LABELS not in arrays:
        raise _no_labels(sorted(arrays))
    y = arrays.pop(LABELS, None)
    inputs = session.inputs
    if len(inputs) == 1 and inputs[0].name not in arrays and len(arrays) == 1:
        # a model's only input takes the set's only array, whatever the names: a TFLite file
        # does not keep the graph's input names
        arrays[inputs[0].name] = arrays.popitem()[1]
    feeds = {}
    for spec in inputs:
        if spec.name not in arrays:
            raise InvalidArgument(
                f"the validation set has no array for input {spec.name!r}; it holds "
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
        feeds[spec.name] = quantize(array, spec.dtype, session.input_quantization.get(spec.name))
    sizes = {len(a) for a in feeds.values()} | ({len(y)} if y is not None else set())
    if len(sizes) != 1:
        raise InvalidArgument(f"validation arrays disagree on the number of samples: {sizes}")
    return feeds, y if labels else None


def quantize(array: np.ndarray, dtype: str, parameters: tuple[float, int] | None) -> np.ndarray:
    """`array` as the input tensor of `dtype` takes it: float data through a quantized input's
    (scale, zero point), anything else converted."""
    if parameters is None or array.dtype.kind != "f":
        return array.astype(dtype, copy=False)
    scale, zero_point = parameters
    info = np.iinfo(dtype)
    q = np.round(array.astype(np.float64) / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(array: np.ndarray, parameters: tuple[float, int] | None) -> np.ndarray:
    """A quantized output's real values; anything else as it is."""
    if parameters is None:
        return array
    scale, zero_point = parameters
    return ((array.astype(np.float32) - zero_point) * scale).astype(np.float32)


def _no_labels(names: list[str]) -> InvalidArgument:
    return InvalidArgument(
        f"top-1 accuracy needs labels 'y' in the validation set; it holds {names} "
        "(METRIC_OUTPUTS returns the raw outputs and needs none)"
    )


def first_output(
    session: Session, feeds: dict[str, np.ndarray], fixed_batch: int | None
) -> np.ndarray:
    """The model's first output over every sample, fed batch by batch (dequantized)."""
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
    return dequantize(np.concatenate(parts), session.output_quantization.get(0))


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
