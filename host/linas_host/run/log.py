"""The run's log file: what a person may want later but not on the terminal.

While a search runs, every Python warning (torch's TracerWarnings from ONNX export, a deprecation
in a dependency) goes to ``run.log`` in full instead of the terminal; the run ends with one note
saying how many there were and where. Notes the reporter shows are written there too, with the
time, so the log tells the whole story of a run (and of each resume: it is appended to).
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


class RunLog:
    """Appends timestamped lines to one file; thread-safe (warnings may come from any thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._file: TextIO = path.open("a", encoding="utf-8")

    def write(self, text: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with self._lock:
            self._file.write(f"{stamp} {text}\n")
            self._file.flush()

    def _warning(self, message, category, filename, lineno, file=None, line=None) -> None:
        self.warnings[category.__name__] += 1
        self.write(warnings.formatwarning(message, category, filename, lineno, line).rstrip())

    @contextlib.contextmanager
    def collecting_warnings(self) -> Iterator[None]:
        """Send every warning the filters let through inside the block here instead of the
        terminal (the filters stay as they are: once per place, by default)."""
        with warnings.catch_warnings():
            warnings.showwarning = self._warning
            yield

    def summary(self) -> str | None:
        """One line on the warnings collected, or None when there were none."""
        if not self.warnings:
            return None
        kinds = ", ".join(f"{name} x{count}" for name, count in self.warnings.most_common())
        total = sum(self.warnings.values())
        return f"{total} warning{'s' * (total != 1)} from libraries ({kinds}): see {self.path}"

    def close(self) -> None:
        with self._lock:
            self._file.close()
