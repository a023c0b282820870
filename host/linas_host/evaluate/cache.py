"""A measurement cache shared across runs, so a second search on the same board re-measures
nothing it already has.

An entry is keyed by the model's sha256, the device it was measured on (its name and the
manifest fields that identify the hardware and runtime) and every setting that changes the
figures (runtime, provider, threads, timing settings, validation set, metric). It lives in one
SQLite file (WAL mode, so two runs may share it); entries are `Measurement.to_dict()` JSON.

Where it lives is chosen by `linas_host.paths.cache_dir`, beside the trained supernet weights
and never silently in the home folder; a run prints the path when it starts.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from linas_sdk.measurement import Measurement

FILE_NAME = "measurements.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS measurements (
    key TEXT PRIMARY KEY,
    model_sha256 TEXT NOT NULL,
    device TEXT NOT NULL,
    created REAL NOT NULL,
    record TEXT NOT NULL
)
"""


def cache_key(*, model_sha256: str, device: dict[str, Any], **settings: Any) -> str:
    """The entry key: a sha256 over the model hash, the device identity and the settings."""
    blob = json.dumps(
        {"model": model_sha256, "device": device, "settings": settings},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class MeasurementCache:
    """Measurements by key in one SQLite file; thread-safe, and safe to share between runs."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.commit()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Measurement | None:
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM measurements WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return Measurement.from_dict(json.loads(row[0]))

    def put(self, key: str, measurement: Measurement) -> None:
        record = json.dumps(measurement.to_dict(), separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO measurements VALUES (?, ?, ?, ?, ?)",
                (key, measurement.model_sha256, measurement.device, time.time(), record),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM measurements").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> MeasurementCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
