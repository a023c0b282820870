"""linas: hardware-aware neural architecture search on embedded targets.

The public API. Heavy parts (torch, pymoo, LightGBM) load only when a function that needs them
is called, so `import linas_sdk` stays cheap on a board.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from linas_sdk.errors import LinasError

try:
    __version__ = version("linas-sdk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Cell",
    "Constraint",
    "DeviceInfo",
    "LinasError",
    "MeasureRequest",
    "Measurement",
    "Objective",
    "SearchSpace",
    "Variable",
    "__version__",
    "search",
]

_LAZY = {
    "search": "linas_sdk.api",
    "Cell": "linas_sdk.cell",
    "SearchSpace": "linas_sdk.space",
    "Variable": "linas_sdk.space",
    "Objective": "linas_sdk.objectives",
    "Constraint": "linas_sdk.objectives",
    "Measurement": "linas_sdk.measurement",
    "MeasureRequest": "linas_sdk.measurement",
    "DeviceInfo": "linas_sdk.measurement",
}
"""Public names whose module is imported on first use: a board that imports linas_sdk (the
agent does) never loads the host-side front door."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'linas_sdk' has no attribute {name!r}")
