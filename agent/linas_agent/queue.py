"""One measurement at a time, first come first served, with a bounded waiting line.

A busy board measures wrong, so measurements never overlap. Requests beyond `max_waiting`
are refused at once with RESOURCE_EXHAUSTED instead of piling up behind a slow model.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from linas_sdk.errors import InvalidArgument, ResourceExhausted


class MeasureQueue:
    def __init__(self, max_waiting: int = 8) -> None:
        if max_waiting < 0:
            raise InvalidArgument(f"max_waiting must be >= 0, got {max_waiting}")
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._busy = False

    @property
    def waiting(self) -> int:
        with self._cond:
            return self._next_ticket - self._serving - (1 if self._busy else 0)

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the device for one measurement; raises ResourceExhausted when the line is full."""
        with self._cond:
            queued = self._next_ticket - self._serving - (1 if self._busy else 0)
            if self._busy and queued >= self.max_waiting:
                raise ResourceExhausted(
                    f"the agent is busy: one measurement running and {queued} waiting "
                    f"(at most {self.max_waiting}); retry later"
                )
            ticket = self._next_ticket
            self._next_ticket += 1
            self._cond.wait_for(lambda: not self._busy and self._serving == ticket)
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._serving += 1
                self._cond.notify_all()
