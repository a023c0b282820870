"""The host's side of the wire: devices files, one client per agent, a pool that schedules
measurements over many agents, and local agent processes.

    from linas_sdk import MeasureRequest
    from linas_sdk.target import Target

    with DevicePool.from_yaml("devices.yaml") as pool:
        m = pool.measure("model.onnx", MeasureRequest(settings={"min_runs": 50}),
                         target=Target.of(labels={"board": "pi5"}))
"""

from __future__ import annotations

from linas_host.devices.client import AgentClient, Artifact, NoReply
from linas_host.devices.config import DevicesFile, DeviceSpec, PoolSettings, load_devices
from linas_host.devices.local import AgentStartError, LocalAgent
from linas_host.devices.pool import DevicePool, DeviceStatus, PoolClosed, QueueTimeout

__all__ = [
    "AgentClient",
    "AgentStartError",
    "Artifact",
    "DevicePool",
    "DeviceSpec",
    "DeviceStatus",
    "DevicesFile",
    "LocalAgent",
    "NoReply",
    "PoolClosed",
    "PoolSettings",
    "QueueTimeout",
    "load_devices",
]
