"""The boards a run measures on: a devices file's `DevicePool` of remote (or local) agents or,
without one, a `LocalAgent` started on loopback that measures on this machine (the embedded
default). Opened only when an objective needs a board.

Before the first candidate every device is probed once, and each target the objectives measure
on must have a device that answers. A target no device can take (a mistyped name or label, or a
runtime no device runs) is refused at once; one whose devices are all down stops the run with
each address and the reason, unless the config allows waiting for them (`wait_for_devices_s`),
in which case the run says it is waiting and for how long.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from linas_host.devices import DevicePool, LocalAgent, load_devices
from linas_host.run.progress import Reporter
from linas_sdk.errors import DeviceUnavailable, InvalidArgument
from linas_sdk.target import Target

READY_TIMEOUT_S = 60.0
"""Longest the first probe of every device may take: a search learns within a minute whether
its boards answer."""


class Boards:
    """A context manager: opens the pool (or local agent) for `targets` on `runtime`, checks
    that each target has a live device, and closes everything after."""

    def __init__(self, devices: Path | None, targets: Sequence[Target], runtime: str, *,
                 agent_cache: Path, reporter: Reporter, wait_s: float = 0.0) -> None:
        self.devices, self.targets, self.runtime = devices, list(targets), runtime
        self.agent_cache, self.reporter, self.wait_s = agent_cache, reporter, wait_s
        self.pool: DevicePool | None = None
        self.agent: LocalAgent | None = None

    def __enter__(self) -> Boards:
        try:
            self._open()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _open(self) -> None:
        if self.devices is None:
            self.agent = LocalAgent(name="local", cache_dir=self.agent_cache)
            self.agent.start()
            specs, settings = [self.agent.spec()], None
            self.reporter.note(
                f"no devices file: measuring on this machine with a local agent "
                f"at {self.agent.address}"
            )
        else:
            devices = load_devices(self.devices)
            specs, settings = list(devices.devices.values()), devices.pool
        self.pool = DevicePool(specs, settings=settings)
        for device in self.pool.wait_ready(READY_TIMEOUT_S):
            if device.state != "alive":
                self.reporter.note(
                    f"device {device.name} ({device.address}) is {device.state}: {device.reason}"
                )
            for warning in device.info.warnings if device.info else ():
                self.reporter.note(f"device {device.name}: {warning}")
        for target in self.targets:
            self._check(target)

    def _check(self, target: Target) -> None:
        """Refuse a target no device can take; wait for (or give up on) one none answers."""
        takers = self.pool.takers(target, self.runtime)
        where = f"the devices file {self.devices}" if self.devices else "the local agent"
        if not takers:
            listed = "; ".join(
                f"{d.name} at {d.address} (labels {dict(d.labels) or 'none'})"
                for d in self.pool.status())
            raise InvalidArgument(
                f"no device in {where} can take {_jobs(target)} on {self.runtime}: "
                f"expected a device of that name or with those labels; it has {listed}")
        if any(d.state == "alive" for d in takers):
            return
        if self.wait_s > 0:
            self.reporter.note(
                f"waiting up to {self.wait_s:g} s for a device to take {_jobs(target)}: "
                + _down(takers))
            if self.pool.wait_alive(target, self.runtime, self.wait_s):
                return
            takers = self.pool.takers(target, self.runtime)
        raise DeviceUnavailable(
            f"no device answers to take {_jobs(target)}: {_down(takers)}. Expected a running "
            "agent at each address (`linas agent serve` on the board); check the address, the "
            "network and the token, or set wait_for_devices_s to wait for boards coming up")

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.close()
        if self.agent is not None:
            self.agent.close()

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.pool.status()] if self.pool else []

    def manifests(self) -> list[dict[str, Any]]:
        """What devices.json keeps: each device's address, labels, state and manifest (never a
        token)."""
        return [
            {
                "name": d.name,
                "address": d.address,
                "labels": dict(d.labels),
                "state": d.state,
                "manifest": d.info.to_dict() if d.info else None,
            }
            for d in (self.pool.status() if self.pool else [])
        ]


def _jobs(target: Target) -> str:
    return "jobs for any device" if target.anywhere else f"jobs for '{target}'"


def _down(devices: Sequence[Any]) -> str:
    return "; ".join(f"{d.name} at {d.address} is {d.state} ({d.reason})" for d in devices)
