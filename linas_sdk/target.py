"""Where a measurement runs: one device by name, the devices whose labels include some labels, or
any device. One type for the objective that names it, the pool's job queue that routes by it
and the record that keeps its figures, and one way to write it (``str``):

    pi5-a            the device named pi5-a
    board=pi5,os=rt  every device labelled board=pi5 and os=rt (sorted by key)
    any              any device
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from linas_sdk.errors import InvalidArgument

ANY = "any"


@dataclass(frozen=True)
class Target:
    """A device name, or labels that must all match, or (both empty) any device."""

    device: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.device and self.labels:
            raise InvalidArgument(
                f"a target names either a device ({self.device!r}) or labels, not both"
            )

    @classmethod
    def of(cls, device: str | None = None, labels: Mapping[str, str] | None = None) -> Target:
        """The target for a device name or a labels mapping (labels kept sorted by key)."""
        pairs = tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items()))
        return cls(device or None, pairs)

    @property
    def anywhere(self) -> bool:
        return not self.device and not self.labels

    def accepts(self, name: str, labels: Mapping[str, str]) -> bool:
        """Whether a device called `name` with `labels` may take this target's jobs."""
        if self.device is not None and name != self.device:
            return False
        return all(labels.get(k) == v for k, v in self.labels)

    def slug(self) -> str:
        """An identifier fragment for names derived from the target (``latency_ms_pi5_a``);
        empty for any device."""
        text = self.device or "_".join(v for _, v in self.labels)
        return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")

    def __str__(self) -> str:
        return self.device or ",".join(f"{k}={v}" for k, v in self.labels) or ANY
