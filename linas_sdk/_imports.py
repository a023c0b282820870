"""Optional dependencies: one clear error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from linas_sdk.errors import LinasError


class MissingExtra(LinasError, ImportError):
    """A feature needs an optional dependency that is not installed."""


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, or raise MissingExtra telling which `linas-sdk[extra]` provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtra(
            f"{module} is not installed; it comes with `pip install linas-sdk[{extra}]` "
            f"(from a clone: `pip install .[{extra}]`)"
        ) from error
