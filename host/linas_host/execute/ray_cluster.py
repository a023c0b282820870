"""The Ray executor: each candidate's host work is a Ray task on a cluster (docs/ray.md).

- The function (a `HostWork`: the supernet with its weights, the objectives, the export
  settings) is put in the object store once per run; a task receives its reference and each
  worker process deserialises it once, then keeps it for the tasks that follow.
- Results are yielded as tasks end (`ray.wait`), so a model goes to a board while its batch is
  still being prepared elsewhere.
- A worker that dies mid-task (killed, out of memory) has its task retried by Ray, up to
  `MAX_RETRIES` times; a task lost on every try is the item's `TaskLost`, a counted failure.
- Connecting checks, before anything is measured, that some node offers the resources a task
  asks for (a task no node can take would wait forever) and that a worker on every such node
  imports linas and torch, within `PROBE_TIMEOUT_S`; a module a task then cannot import (the
  supernet's own code) stops the run with `MissingOnCluster`. A cluster that goes away mid-run
  is `ClusterLost`: the journal keeps what was measured, and ``--resume`` continues.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
from collections.abc import Callable
from typing import Any

from linas_host.execute.executor import ClusterLost, Executor, TaskLost
from linas_sdk._imports import require
from linas_sdk.errors import InvalidArgument, LinasError

MAX_RETRIES = 3
CONNECT_TRIES = 3
CLIENT_SERVER_FAILED = "Initialization failure from server"
"""Ray Client forks a server process for each connection, and that start fails on its own now
and then (ray-project/ray#63202, a few percent of connects: its gRPC poller dies at birth, or
the process is a zombie before the proxy reads its command line); the proxy answers either
with this failure, and such a connect is tried again, `CONNECT_TRIES` in all."""
PROBE_TIMEOUT_S = 60.0
NEEDED = ("linas_host", "torch")
"""What every worker must import: the host side of linas, and torch for the supernets."""
ADVICE = (
    "every node needs the same Python environment as this host: "
    "`pip install linas-sdk[host,ray]` and the supernet's own code (docs/ray.md)"
)

_HELD: dict[str, Any] = {}
"""In a worker process: the function last shipped, by object reference, deserialised once."""


class MissingOnCluster(LinasError):
    """A Ray worker cannot import what the host work needs."""


def _run(holder: list, item: Any) -> tuple[str, Any]:
    """The task: the shipped function on one item -> (this node's hostname, its outcome)."""
    import ray

    key = holder[0].hex()
    if key not in _HELD:
        _HELD.clear()
        _HELD[key] = ray.get(holder[0])
    try:
        outcome = _HELD[key](item)
    except LinasError as error:
        outcome = error
    return socket.gethostname(), outcome


def _probe_function() -> Callable[[tuple[str, ...]], dict[str, Any]]:
    """The probe, made in a closure so that Ray ships its code by value: it runs on a worker
    that cannot import linas, and says so."""

    def probe(modules: tuple[str, ...]) -> dict[str, Any]:
        import importlib
        import platform
        import socket

        found, missing = {}, {}
        for name in modules:
            try:
                found[name] = getattr(importlib.import_module(name), "__version__", "")
            except Exception as error:  # any import failure is the answer
                missing[name] = f"{type(error).__name__}: {error}"
        if "linas_host" in found:
            from linas_sdk import __version__

            found["linas_host"] = __version__
        return {
            "hostname": socket.gethostname(),
            "python": platform.python_version(),
            "found": found,
            "missing": missing,
        }

    return probe


class RayExecutor(Executor):
    """Host work as Ray tasks of `num_cpus` CPUs and `num_gpus` GPUs on the cluster at
    `address` (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``)."""

    kind = "ray"

    def __init__(
        self,
        address: str = "auto",
        *,
        num_cpus: float = 1,
        num_gpus: float = 0,
        needs: tuple[str, ...] = NEEDED,
    ) -> None:
        self.ray = require("ray", "ray")
        self.address, self.num_cpus, self.num_gpus = address, num_cpus, num_gpus
        self.needs = needs
        self._owned = not self.ray.is_initialized()
        if self._owned:
            self._connect(address)
        self._task = self.ray.remote(_run).options(
            num_cpus=num_cpus, num_gpus=num_gpus, max_retries=MAX_RETRIES
        )
        self._shipped: tuple[Any, Any] | None = None
        try:
            self.nodes = self._probe()
        except BaseException:
            self.close()
            raise

    def _connect(self, address: str) -> None:
        for attempt in range(CONNECT_TRIES):
            try:
                self.ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
                return
            except (ConnectionError, RuntimeError, ValueError) as error:
                self.ray.shutdown()  # a half-made connection would fail this process's next init
                if CLIENT_SERVER_FAILED in str(error) and attempt + 1 < CONNECT_TRIES:
                    continue
                # Ray sends its token to an explicit address only in token mode, and a head
                # started beside ~/.ray/auth_token requires one: name that case.
                token = "" if os.environ.get("RAY_AUTH_MODE") == "token" else (
                    "; if the cluster uses token authentication, set RAY_AUTH_MODE=token "
                    "(and RAY_AUTH_TOKEN, or the token in ~/.ray/auth_token)"
                )
                raise ClusterLost(
                    f"cannot connect to a Ray cluster at {address!r}: {error}{token}; start one "
                    "with `ray start --head` (docs/ray.md) or set executor: local"
                ) from None

    def _probe(self) -> list[dict[str, Any]]:
        """The nodes that can take a task, each checked by a probe task of the same size."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        nodes = [n for n in self.ray.nodes() if n.get("Alive")]
        able = [
            n
            for n in nodes
            if n["Resources"].get("CPU", 0) >= self.num_cpus
            and n["Resources"].get("GPU", 0) >= self.num_gpus
        ]
        if not able:
            offered = "; ".join(
                f"{n['NodeManagerAddress']}: {n['Resources'].get('CPU', 0):g} "
                f"CPUs, {n['Resources'].get('GPU', 0):g} GPUs"
                for n in nodes
            )
            raise InvalidArgument(
                f"no node of the Ray cluster at {self.address!r} can take a task of "
                f"num_cpus={self.num_cpus:g}, num_gpus={self.num_gpus:g} (its nodes: "
                f"{offered or 'none alive'}); lower them or add a node that has them"
            )
        probe = self.ray.remote(_probe_function())
        calls = [
            probe.options(
                num_cpus=self.num_cpus,
                num_gpus=self.num_gpus,
                max_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False),
            ).remote(self.needs)
            for n in able
        ]
        try:
            answers = self.ray.get(calls, timeout=PROBE_TIMEOUT_S)
        except self.ray.exceptions.GetTimeoutError:
            raise MissingOnCluster(
                f"no Ray worker answered within {PROBE_TIMEOUT_S:g} s on the cluster at "
                f"{self.address!r} (a worker that cannot start: see the workers' logs in the "
                f"Ray session folder); {ADVICE}"
            ) from None
        except self.ray.exceptions.RayError as error:
            raise self._lost(error) from None
        from linas_sdk import __version__

        out = []
        for node, answer in zip(able, answers, strict=True):
            where = f"the Ray node {answer['hostname']} ({node['NodeManagerAddress']})"
            if answer["missing"]:
                missing = "; ".join(f"{k}: {v}" for k, v in answer["missing"].items())
                raise MissingOnCluster(f"{where} cannot import {missing}; {ADVICE}")
            version = answer["found"].get("linas_host", __version__)
            if version != __version__:
                raise MissingOnCluster(
                    f"{where} runs linas {version}, this host {__version__}; {ADVICE}"
                )
            out.append(
                {
                    "hostname": answer["hostname"],
                    "address": node["NodeManagerAddress"],
                    "cpus": node["Resources"].get("CPU", 0),
                    "gpus": node["Resources"].get("GPU", 0),
                    "python": answer["python"],
                    "torch": answer["found"].get("torch", ""),
                }
            )
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "address": self.address,
            "ray": self.ray.__version__,
            "num_cpus": self.num_cpus,
            "num_gpus": self.num_gpus,
            "nodes": self.nodes,
        }

    def _ref(self, function: Callable[[Any], Any]) -> Any:
        """The function's object reference, put in the object store the first time only."""
        if self._shipped is None or self._shipped[0] is not function:
            self._shipped = (function, self.ray.put(function))
        return self._shipped[1]

    def _map(self, function, items):
        ray = self.ray
        try:
            holder = [self._ref(function)]
            pending = {self._task.remote(holder, item): p for p, item in enumerate(items)}
        except ImportError as error:  # Ray Client: the server cannot load what was put
            raise MissingOnCluster(
                f"the Ray cluster cannot load the host work ({error}); {ADVICE}"
            ) from None
        except (ray.exceptions.RayError, ConnectionError) as error:
            raise self._lost(error) from None
        try:
            while pending:
                try:
                    done = ray.wait(list(pending), num_returns=1)[0][0]
                except (ray.exceptions.RayError, ConnectionError) as error:
                    raise self._lost(error) from None
                position = pending.pop(done)
                node, outcome = self._outcome(done)
                yield position, outcome, node
        finally:
            # Only while connected: on a lost connection, Ray's API would start a local cluster
            # of its own to cancel in (its auto-init), and wait half a minute for it.
            for ref in pending if ray.is_initialized() else ():
                with contextlib.suppress(Exception):
                    ray.cancel(ref)

    def _outcome(self, ref: Any) -> tuple[str, Any]:
        errors = self.ray.exceptions
        try:
            return self.ray.get(ref)
        except (errors.WorkerCrashedError, errors.OutOfMemoryError) as error:
            return "", TaskLost(
                f"the Ray worker running this candidate's host work died on each of "
                f"{MAX_RETRIES + 1} tries: {str(error).splitlines()[0]}"
            )
        except errors.RayTaskError as error:
            missing = re.search(r"No module named '[^']+'", str(error))
            if missing:
                raise MissingOnCluster(
                    f"a Ray worker cannot load the host work ({missing.group(0)}); {ADVICE}"
                ) from None
            raise error.as_instanceof_cause() from None
        except (errors.RayError, ConnectionError) as error:
            raise self._lost(error) from None

    def _lost(self, error: BaseException) -> ClusterLost:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return ClusterLost(
            f"the Ray cluster at {self.address!r} is gone ({type(error).__name__}: {first}); "
            "the run stopped, and its journal keeps every evaluation made: continue it with "
            "`linas search CONFIG --resume` (on a new cluster, or with executor: local)"
        )

    def close(self) -> None:
        if self._owned and self.ray.is_initialized():
            self.ray.shutdown()
