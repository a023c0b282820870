"""The agent tests' helpers: the committed models and a wire client that reads replies."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import grpc
from linas_agent.zygote import MODEL_PROCESS_NAME
from polling import wait_for
from wire_client import WireClient, rpc_error

from linas_sdk import serde
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

__all__ = [
    "FAST", "MODELS", "Client", "children_of", "hang_in_background", "rpc_error",
    "running_model", "zygote_of",
]  # fmt: skip

MODELS = Path(__file__).resolve().parent / "models"

FAST = {"warmup_runs": 3, "warmup_seconds": 0.02, "min_runs": 10, "min_seconds": 0.1,
        "max_seconds": 1.0, "timeout_seconds": 30.0}  # fmt: skip
"""Short timing settings, so the suite stays quick."""


class Client(WireClient):
    """A wire client whose `measure` reads the reply into a `Measurement`, with short timing."""

    settings = FAST

    def info(self):
        return serde.device_info_from_proto(
            self.stub.GetInfo(pb.GetInfoRequest(), metadata=self.metadata, timeout=10)
        )

    def measure(self, model_sha256: str, **kwargs):
        reply = super().measure(model_sha256, **kwargs)
        return serde.measurement_from_proto(reply, model_sha256=model_sha256)


def hang_in_background(client, timeout_seconds: float, **fields):
    """Measure hang.onnx in a thread with that execution timeout (and the request's other
    `fields`), its model process running when this returns; -> (the thread, the list its
    call's RpcError lands in).

    An earlier job's model process may still be exiting (named, not yet a zombie) when the
    call starts: it is not this one. The worker reaps it before it forks the next, so once
    another runs, `running_model` names that one."""
    hang = client.upload(MODELS / "hang.onnx")
    errors: list[grpc.RpcError] = []
    settings = {"timeout_seconds": timeout_seconds}
    call = threading.Thread(
        target=lambda: errors.append(rpc_error(client.measure, hang, settings=settings, **fields))
    )
    earlier = running_model(client.agent.pid)
    call.start()
    wait_for(lambda: running_model(client.agent.pid) not in (None, earlier), 30,
             "the model process")  # fmt: skip
    return call, errors


def running_model(agent_pid: int) -> int | None:
    """The model process that has taken a job under the agent's worker, if any."""
    with contextlib.suppress(AssertionError, OSError):
        for pid in children_of(zygote_of(agent_pid)):
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == MODEL_PROCESS_NAME:
                    return pid
    return None


def zygote_of(pid: int) -> int:
    """The only child of a process, found in /proc: an agent's worker, a worker's model."""
    children = children_of(pid)
    if not children:
        raise AssertionError(f"process {pid} has no child")
    return children[0]


def children_of(pid: int) -> list[int]:
    """The live children of a process: not the zombie of one that died and is not reaped yet
    (a killed worker, an earlier job's model process), which keeps its name until it is."""
    children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]  # fmt: skip
    return [c for c in children if _state(c) not in ("Z", None)]


def _state(pid: int) -> str | None:
    """A process's state letter (/proc/PID/stat: "pid (comm) state ..."), None once gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return None
