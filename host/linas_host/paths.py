"""Where the host keeps files between runs: one cache folder (trained supernet weights, the
measurement cache, a local agent's artifacts), inside the working tree unless the user names
another, and never silently the home folder."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "LINAS_CACHE"


def cache_dir(explicit: str | Path | None = None) -> Path:
    """`explicit` (a config's ``cache_dir``), else ``$LINAS_CACHE``, else ``.cache/linas`` under
    the working directory (inside the clone for `make demo`)."""
    if explicit is not None:
        return Path(explicit)
    return Path(os.environ.get(CACHE_ENV) or Path.cwd() / ".cache" / "linas")
