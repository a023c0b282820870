"""Memory and CPU of one model process: its limits, and its peak resident memory.

Limits: the address space the model may add on top of what the process already maps
(RLIMIT_AS), and CPU seconds (RLIMIT_CPU) as a backstop to the worker's wall-clock timeout.

Peak: the model process's high-water mark above its baseline.

A process forked from the warm worker inherits the worker's high-water mark, so the child
first resets it (writing 5 to /proc/self/clear_refs, Linux 4.0+), then reads VmHWM after the
model ran. Where the reset is refused, the inherited mark stays and the figure is an upper
bound; where /proc is missing, getrusage's ru_maxrss stands in.
"""

from __future__ import annotations

import contextlib
import math
import re
import resource
import sys
from pathlib import Path

STATUS = Path("/proc/self/status")


def _status_bytes(key: str) -> int | None:
    try:
        text = STATUS.read_text()
    except OSError:
        return None
    match = re.search(rf"^{key}:\s+(\d+)\s*kB", text, re.M)
    return int(match.group(1)) * 1024 if match else None


def limit(memory_bytes: int, cpu_seconds: float) -> None:
    """Cap this process: `memory_bytes` more address space (0 = no cap) and `cpu_seconds`."""
    if memory_bytes:
        mapped = _status_bytes("VmSize") or 0
        resource.setrlimit(resource.RLIMIT_AS, (mapped + memory_bytes, mapped + memory_bytes))
    cpu = max(1, math.ceil(cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def reset_peak() -> int:
    """Reset the high-water mark where the kernel allows it; returns the baseline RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    rss = _status_bytes("VmRSS")
    return rss if rss is not None else 0


def peak_bytes() -> int:
    """The process's peak resident memory since the last reset."""
    hwm = _status_bytes("VmHWM")
    if hwm is not None:
        return hwm
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024
