"""A validation set as the agent reads it: a ``.npz`` holding each model input under its graph
name (inputs in float32) and the labels under ``"y"``, loadable with ``allow_pickle=False``. A
set whose outputs are scored on the host (BLEU: the references stay there) has no labels."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from linas_sdk.errors import InvalidArgument

LABELS = "y"


def validation_npz(arrays: Mapping[str, np.ndarray], *, path: str | Path | None = None) -> bytes:
    """The ``.npz`` bytes of `arrays` (inputs by name, labels ``"y"`` if scored by top-1);
    also written to `path` if given. Floating inputs are stored as float32; object arrays are
    refused, since the agent never unpickles."""
    if not set(arrays) - {LABELS}:
        raise InvalidArgument(
            f"a validation set needs at least one input array beside the labels {LABELS!r}, "
            f"got {sorted(arrays)}"
        )
    stored: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        value = np.asarray(value)
        if value.dtype == object:
            raise InvalidArgument(f"validation array {name!r} has dtype object; expected numbers")
        if name != LABELS and np.issubdtype(value.dtype, np.floating):
            value = value.astype(np.float32)
        stored[name] = np.ascontiguousarray(value)
    counts = {name: len(value) for name, value in stored.items()}
    if len(set(counts.values())) != 1:
        raise InvalidArgument(f"validation arrays differ in sample count: {counts}")
    buffer = io.BytesIO()
    np.savez(buffer, **stored)
    data = buffer.getvalue()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    return data
