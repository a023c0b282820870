"""The run journal: every evaluation, appended the moment it arrives, so a killed run resumes.

Storage sits behind one small interface (as Optuna's storages do), chosen by `open_journal`:
``None`` -> in memory, a path -> SQLite, a `Journal` -> itself.

Contract of every journal:
- ``start(meta, resume=...)`` records a run's metadata (space fingerprint and definition,
  objectives, constraints, method and its settings, seed, population size, budget) or, when
  resuming, checks that the stored run is the same (the budget may grow) and refuses another
  search space, objectives, method or seed with a message naming the difference; starting
  afresh on a journal that already holds a run is refused too.
- ``append(evaluation)`` makes the evaluation durable before returning (SQLite: one committed
  transaction, WAL mode, so a SIGKILL loses at most the measurement in flight).
- ``evaluations()`` returns the records in append order; they are immutable values.
- ``set_hypervolumes({index: value})`` fills in the hypervolume after earlier evaluations,
  known only once an automatic reference point is fixed; nothing else of a record changes.
- ``note(iteration, record)`` keeps a method's diagnostics for an iteration (a replay on resume
  writes the same iteration again, replacing it); ``notes()`` returns them by iteration.
- Safe to call from several threads (one lock per journal).

A SQLite journal written before evaluations recorded their host node gains the ``host`` column
when it is opened (empty for the evaluations it held), so it still loads and resumes.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from linas_host.search.evaluation import Evaluation
from linas_sdk.errors import InvalidArgument

# Meta fields that must match for a resume (the budget may change).
_IDENTITY = (
    "space_fingerprint", "objectives", "constraints", "method", "seed", "population_size",
    "warm_start",
)


class Journal:
    """Base class: subclasses implement the four `_` hooks."""

    def start(self, meta: dict, *, resume: bool = False) -> list[Evaluation]:
        """Begin or continue a run; returns the evaluations already recorded (resume only)."""
        with self._lock:
            stored = self._load_meta()
            if stored is not None and not resume:
                raise InvalidArgument(
                    f"{self.describe()} already holds a run ({len(self._load())} evaluations); "
                    "resume it (--resume / resume=True) or use a new journal"
                )
            if stored is not None:
                _check_same_run(stored, meta, self.describe())
            self._save_meta(meta)
            return self._load() if stored is not None else []

    def append(self, evaluation: Evaluation) -> None:
        with self._lock:
            self._append(evaluation)

    def evaluations(self) -> list[Evaluation]:
        with self._lock:
            return self._load()

    def set_hypervolumes(self, values: dict[int, float]) -> None:
        with self._lock:
            self._set_hypervolumes({int(i): float(v) for i, v in values.items()})

    def meta(self) -> dict | None:
        with self._lock:
            return self._load_meta()

    def note(self, iteration: int, record: dict) -> None:
        with self._lock:
            self._note(int(iteration), json.loads(json.dumps(record, default=_plain)))

    def notes(self) -> dict[int, dict]:
        with self._lock:
            return self._load_notes()

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return "the journal"

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # hooks
    _lock: threading.Lock

    def _load_meta(self) -> dict | None:
        raise NotImplementedError

    def _save_meta(self, meta: dict) -> None:
        raise NotImplementedError

    def _append(self, evaluation: Evaluation) -> None:
        raise NotImplementedError

    def _load(self) -> list[Evaluation]:
        raise NotImplementedError

    def _set_hypervolumes(self, values: dict[int, float]) -> None:
        raise NotImplementedError

    def _note(self, iteration: int, record: dict) -> None:
        raise NotImplementedError

    def _load_notes(self) -> dict[int, dict]:
        raise NotImplementedError


class MemoryJournal(Journal):
    """Keeps the run in memory (nothing survives the process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meta: dict | None = None
        self._rows: list[Evaluation] = []
        self._notes: dict[int, dict] = {}

    def _load_meta(self):
        return self._meta

    def _save_meta(self, meta):
        self._meta = json.loads(json.dumps(meta))

    def _append(self, evaluation):
        self._rows.append(evaluation)

    def _load(self):
        return list(self._rows)

    def _set_hypervolumes(self, values):
        self._rows = [replace(e, hypervolume=values.get(e.index, e.hypervolume))
                      for e in self._rows]

    def _note(self, iteration, record):
        self._notes[iteration] = record

    def _load_notes(self):
        return dict(sorted(self._notes.items()))

    def describe(self):
        return "the in-memory journal"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    idx INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    objective_values TEXT NOT NULL,
    f TEXT NOT NULL,
    g TEXT NOT NULL,
    record TEXT NOT NULL,
    device TEXT NOT NULL,
    host TEXT NOT NULL DEFAULT '',
    iteration INTEGER NOT NULL,
    time REAL NOT NULL,
    hypervolume REAL
);
CREATE TABLE IF NOT EXISTS notes (iteration INTEGER PRIMARY KEY, record TEXT NOT NULL);
"""
_COLUMNS = ("idx", "key", "config", "objective_values", "f", "g", "record", "device", "host",
            "iteration", "time", "hypervolume")


class SQLiteJournal(Journal):
    """One run per SQLite file (stdlib sqlite3, WAL mode)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(evaluations)")}
            if "host" not in columns:  # written before evaluations named their host node
                with self._db:
                    self._db.execute(
                        "ALTER TABLE evaluations ADD COLUMN host TEXT NOT NULL DEFAULT ''")
        except sqlite3.DatabaseError as error:
            raise InvalidArgument(f"{self.path} is not a usable linas journal: {error}") from None

    def describe(self):
        return f"journal {self.path}"

    def close(self):
        with self._lock:
            self._db.close()

    def _load_meta(self):
        rows = self._db.execute("SELECT name, value FROM meta").fetchall()
        return {name: json.loads(value) for name, value in rows} or None

    def _save_meta(self, meta):
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [(name, json.dumps(value)) for name, value in meta.items()],
            )

    def _append(self, e):
        with self._db:
            self._db.execute(
                f"INSERT INTO evaluations ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                (e.index, e.key, json.dumps(e.config), json.dumps(e.values), _floats(e.F),
                 _floats(e.G), json.dumps(e.record), e.device, e.host, e.iteration, e.time,
                 e.hypervolume),
            )

    def _load(self):
        query = f"SELECT {', '.join(_COLUMNS)} FROM evaluations ORDER BY idx"
        return [
            Evaluation(
                index=r[0], key=r[1], config=json.loads(r[2]), values=json.loads(r[3]),
                F=tuple(map(float, json.loads(r[4]))), G=tuple(map(float, json.loads(r[5]))),
                record=json.loads(r[6]), device=r[7], host=r[8], iteration=r[9], time=r[10],
                hypervolume=r[11],
            )
            for r in self._db.execute(query).fetchall()
        ]

    def _set_hypervolumes(self, values):
        with self._db:
            self._db.executemany("UPDATE evaluations SET hypervolume = ? WHERE idx = ?",
                                 [(v, i) for i, v in values.items()])

    def _note(self, iteration, record):
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO notes VALUES (?, ?)",
                             (iteration, json.dumps(record)))

    def _load_notes(self):
        rows = self._db.execute("SELECT iteration, record FROM notes ORDER BY iteration")
        return {iteration: json.loads(record) for iteration, record in rows.fetchall()}


def open_journal(target: str | Path | Journal | None) -> Journal:
    """``None`` -> in memory, a path -> SQLite, a `Journal` -> itself."""
    if target is None:
        return MemoryJournal()
    if isinstance(target, Journal):
        return target
    if isinstance(target, (str, Path)):
        return SQLiteJournal(target)
    raise InvalidArgument(f"a journal is None, a path or a Journal, got {target!r}")


def export_csv(evaluations: Sequence[Evaluation], path: str | Path) -> Path:
    """One row per evaluation: order, iteration, time, the device that measured it, the host
    node that prepared it, key, each config value, each objective value, feasibility,
    hypervolume after it, and the error of a failed one."""
    path = Path(path)
    names = list(dict.fromkeys(n for e in evaluations for n in e.config))
    objectives = list(dict.fromkeys(n for e in evaluations for n in e.values))
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["index", "iteration", "time", "device", "host", "key", *names,
                         *objectives,
                         "feasible", "hypervolume", "error"])
        for e in evaluations:
            writer.writerow([
                e.index, e.iteration, f"{e.time:.3f}", e.device, e.host, e.key,
                *[e.config.get(n, "") for n in names],
                *[e.values.get(n, "") for n in objectives],
                int(e.feasible), "" if e.hypervolume is None else e.hypervolume,
                e.record.get("error", ""),
            ])
    return path


def _plain(value):
    """numpy scalars and arrays as Python numbers and lists, for json.dumps."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _floats(values) -> str:
    # JSON has no infinity; failed evaluations carry +inf, written as a string and read back.
    return json.dumps([v if abs(v) != float("inf") else str(v) for v in map(float, values)])


def _check_same_run(stored: dict, meta: dict, where: str) -> None:
    if stored.get("space_fingerprint") != meta.get("space_fingerprint"):
        raise InvalidArgument(
            f"{where} was written for another search space (fingerprint "
            f"{stored.get('space_fingerprint')}, this search has {meta.get('space_fingerprint')}"
            f"; its space: {stored.get('space')}); use a new journal for this search"
        )
    for name in _IDENTITY:
        if json.loads(json.dumps(meta.get(name))) != stored.get(name):
            raise InvalidArgument(
                f"{where} holds a run with {name}={stored.get(name)!r}, but this search has "
                f"{name}={meta.get(name)!r}; resume it with the same settings or use a new journal"
            )
