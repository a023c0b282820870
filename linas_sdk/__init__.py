"""linas: hardware-aware neural architecture search on embedded targets.

The public API. Heavy parts (torch, pymoo, LightGBM) load only when a function that needs them
is called, so `import linas_sdk` stays cheap on a board.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from linas_sdk.api import search
from linas_sdk.errors import LinasError

try:
    __version__ = version("linas-sdk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["LinasError", "__version__", "search"]
