"""Optional dependencies: one clear error that names the extra to install."""

from __future__ import annotations

import importlib
import re
from importlib import metadata
from types import ModuleType

from linas_sdk.errors import LinasError

DISTRIBUTION = "linas-sdk"


class MissingExtra(LinasError, ImportError):
    """A feature needs an optional dependency that is not installed."""


def _advice(extra: str) -> str:
    return f"`pip install linas-sdk[{extra}]` (from a clone: `pip install .[{extra}]`)"


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, or raise MissingExtra telling which `linas-sdk[extra]` provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtra(f"{module} is not installed; it comes with {_advice(extra)}") from error


def missing_from_extra(extra: str) -> list[str]:
    """The distributions `linas-sdk[extra]` requires that are not installed (none when linas
    runs from a source tree that was never installed, which has no metadata to read)."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    missing = []
    for line in requirements:
        requirement, _, marker = line.partition(";")
        if not re.search(rf"extra\s*==\s*['\"]{re.escape(extra)}['\"]", marker):
            continue
        name = re.match(r"\s*([A-Za-z0-9._-]+)", requirement).group(1)
        if not _installed(name):
            missing.append(name)
    return missing


def _installed(distribution: str) -> bool:
    """Installed, or its module comes with another build of it (``onnxruntime-gpu`` installs
    the ``onnxruntime`` module, as NVIDIA's Jetson wheel does)."""
    try:
        metadata.version(distribution)
        return True
    except metadata.PackageNotFoundError:
        return re.sub(r"[-.]+", "_", distribution).lower() in metadata.packages_distributions()


def require_extra(extra: str | None, *, command: str) -> None:
    """Raise MissingExtra when `command` needs `extra` and some of it is not installed."""
    if not extra:
        return
    missing = missing_from_extra(extra)
    if missing:
        raise MissingExtra(
            f"`{command}` needs the {extra!r} extra, and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed: {_advice(extra)}"
        )
