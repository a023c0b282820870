"""Search: methods (ask / tell), the runner with its accounting, the run journal.

Heavy pieces (pymoo, predictors) load when a method that needs them is created.
"""

from __future__ import annotations

from linas_host.search.evaluation import Evaluation
from linas_host.search.journal import Journal, MemoryJournal, SQLiteJournal, open_journal
from linas_host.search.method import Method
from linas_host.search.registry import available, create, register
from linas_host.search.runner import Progress, SearchResult, SearchRun

__all__ = [
    "Evaluation",
    "Journal",
    "MemoryJournal",
    "Method",
    "Progress",
    "SQLiteJournal",
    "SearchResult",
    "SearchRun",
    "available",
    "create",
    "open_journal",
    "register",
]
