"""Executors: where a candidate's host work runs (extract, calibrate, score, export, hash).
One interface (`executor.Executor`), two implementations: this process (`LocalExecutor`) and a
Ray cluster (`ray_cluster.RayExecutor`, with the ``ray`` extra)."""

from __future__ import annotations

from typing import Any

from linas_host.execute.executor import ClusterLost, Executor, LocalExecutor, TaskLost

__all__ = ["ClusterLost", "Executor", "LocalExecutor", "TaskLost", "open_executor"]


def open_executor(spec: Any) -> Executor:
    """The executor a config's `executor` field names (a
    `linas_host.config.schema.ExecutorSpec`)."""
    if spec.kind == "ray":
        from linas_host.execute.ray_cluster import RayExecutor

        return RayExecutor(spec.address, num_cpus=spec.num_cpus, num_gpus=spec.num_gpus)
    return LocalExecutor()
