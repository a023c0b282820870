"""Ask every device of a devices file what it is and whether it answers, all at once.

Behind `linas devices list` and `linas devices ping`. Besides the agent's own warnings (CPU
governor, throttling), it flags where the devices file and the agent disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from linas_host.devices.client import AgentClient
from linas_host.devices.config import DeviceSpec
from linas_sdk.errors import LinasError
from linas_sdk.measurement import DeviceInfo


@dataclass(frozen=True)
class DeviceReport:
    """What one device answered (or why it did not)."""

    spec: DeviceSpec
    info: DeviceInfo | None = None
    error: str = ""
    rtt_ms: float | None = None
    """Round trip of a standard health check, when pinged."""
    warnings: tuple[str, ...] = ()

    @property
    def alive(self) -> bool:
        return self.info is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe; names where the token lives at most, never the token."""
        return {
            "name": self.spec.name,
            "address": self.spec.address,
            "labels": dict(self.spec.labels),
            "runtime": self.spec.runtime,
            "alive": self.alive,
            "error": self.error,
            "rtt_ms": self.rtt_ms,
            "warnings": list(self.warnings),
            "info": self.info.to_dict() if self.info else None,
        }


def _disagreements(spec: DeviceSpec, info: DeviceInfo) -> list[str]:
    notes = []
    if info.name and info.name != spec.name:
        notes.append(f"the agent calls itself {info.name!r}")
    for key, value in spec.labels.items():
        if key in info.labels and info.labels[key] != value:
            notes.append(f"label {key}={value} here, {key}={info.labels[key]} on the agent")
    if spec.runtime and info.runtime(spec.runtime) is None:
        offered = ", ".join(r.name for r in info.runtimes) or "none"
        notes.append(f"runtime {spec.runtime} is not offered (the agent has {offered})")
    return notes


def inspect(spec: DeviceSpec, *, ping: bool = False) -> DeviceReport:
    """One device: its manifest (protocol version checked) and, with `ping`, a health round
    trip. Never raises for the device's sake: a failure is the report's `error`."""
    try:
        with AgentClient(spec, retries=0) as client:
            rtt_ms = client.ping() if ping else None
            info = client.get_info()
    except LinasError as error:
        return DeviceReport(spec, error=str(error).removeprefix(f"{spec.where}: "))
    return DeviceReport(
        spec, info, rtt_ms=rtt_ms, warnings=(*info.warnings, *_disagreements(spec, info))
    )


def survey(specs: Iterable[DeviceSpec], *, ping: bool = False) -> list[DeviceReport]:
    """Every device, inspected in parallel, in the order given."""
    specs = list(specs)
    with ThreadPoolExecutor(max(1, min(16, len(specs)))) as workers:
        return list(workers.map(lambda spec: inspect(spec, ping=ping), specs))
