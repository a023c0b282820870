"""One conformance suite for every executor: this process, a Ray cluster reached by its GCS
address, and the same cluster through Ray Client (``ray://``). Then what is particular to Ray:
what it checks on connecting, and the weights shipped once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest
from linas_host.execute import LocalExecutor
from linas_host.execute.ray_cluster import MissingOnCluster, RayExecutor

from linas_sdk.errors import InvalidArgument, ModelError


@pytest.fixture(scope="module", params=["local", "ray", "ray-client"])
def executor(request):
    if request.param == "local":
        yield LocalExecutor()
        return
    cluster = request.getfixturevalue("ray_cluster")
    address = cluster.address if request.param == "ray" else cluster.client_address
    with RayExecutor(address) as ray_executor:
        yield ray_executor


def doubling():
    """Twice x, a linas error for 3, a bug for 5; made in a closure, so that Ray ships it by
    value (the workers cannot import this test module)."""

    def double(x: int) -> int:
        if x == 3:
            raise ModelError("three is no model")
        if x == 5:
            raise ZeroDivisionError("five is a bug")
        return 2 * x

    return double


def test_every_item_once_with_its_node(executor) -> None:
    items = [0, 1, 2, 4, 6, 7, 8]
    outcomes = list(executor.map(doubling(), items))
    assert sorted(p for p, _, _ in outcomes) == list(range(len(items)))
    assert {p: result for p, result, _ in outcomes} == {p: 2 * x for p, x in enumerate(items)}
    assert {node for _, _, node in outcomes} == {socket.gethostname()}
    assert [n["hostname"] for n in executor.describe()["nodes"]] == [socket.gethostname()]


def test_a_linas_error_is_the_items_outcome(executor) -> None:
    outcomes = {p: result for p, result, _ in executor.map(doubling(), [1, 3, 4])}
    assert outcomes[0] == 2 and outcomes[2] == 8
    assert isinstance(outcomes[1], ModelError) and "three is no model" in str(outcomes[1])


def test_any_other_error_stops_the_map(executor) -> None:
    with pytest.raises(ZeroDivisionError, match="five is a bug"):
        list(executor.map(doubling(), [1, 5]))


def _copies():
    """A function whose every unpickled copy has an id of its own (a closure, as above)."""

    class Copy:
        def __init__(self) -> None:
            self.copy = "original"

        def __setstate__(self, state: dict) -> None:
            self.__dict__.update(state, copy=uuid.uuid4().hex)

        def __call__(self, x: int) -> tuple[int, str]:
            import os

            return os.getpid(), self.copy

    return Copy()


def test_ray_ships_the_function_once_per_run(ray_cluster) -> None:
    function = _copies()
    with RayExecutor(ray_cluster.address) as executor:
        first = [result for _, result, _ in executor.map(function, range(8))]
        again = [result for _, result, _ in executor.map(function, range(8))]
    copies: dict[int, set[str]] = {}
    for pid, copy in first + again:
        copies.setdefault(pid, set()).add(copy)
    assert all(len(seen) == 1 for seen in copies.values()), copies  # one copy per worker
    assert function.copy == "original"


def test_ray_refuses_a_task_no_node_can_take(ray_cluster) -> None:
    with pytest.raises(InvalidArgument, match=r"num_gpus=1.*127\.0\.0\.1: 2 CPUs, 0 GPUs"):
        RayExecutor(ray_cluster.address, num_gpus=1)


def test_ray_names_a_module_the_workers_lack(ray_cluster) -> None:
    # linas and torch are installed on this cluster, so a module that is not stands for them.
    needs = ("linas_host", "torch", "linas_not_on_the_cluster")
    with pytest.raises(MissingOnCluster) as raised:
        RayExecutor(ray_cluster.address, needs=needs)
    message = str(raised.value)
    assert "cannot import linas_not_on_the_cluster" in message
    assert "linas-sdk[host,ray]" in message and "torch" not in message.split("cannot import")[1]


def test_without_ray_the_message_names_the_extra() -> None:
    # Ray is installed here (the dev extra); a None in sys.modules makes its import fail as
    # on a host without it.
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from linas_host.execute.ray_cluster import RayExecutor\n"
        "RayExecutor('auto')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert "MissingExtra" in done.stderr and "pip install linas-sdk[ray]" in done.stderr


def test_a_driver_without_token_mode_is_told_to_set_it(ray_cluster, tmp_path) -> None:
    # The cluster runs in token mode (ray_helpers.RAY_ENV); a driver with neither RAY_AUTH_MODE
    # nor a token, here with a home of its own (no ~/.ray/auth_token), is refused by it.
    code = (
        "from linas_host.execute.ray_cluster import RayExecutor\n"
        f"RayExecutor({ray_cluster.address!r})"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env.update(HOME=str(tmp_path), RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    env["RAY_gcs_server_port_wait_time_s"] = "2"  # Ray tries to connect for 20 s otherwise
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 1
    assert "ClusterLost" in done.stderr and "set RAY_AUTH_MODE=token" in done.stderr, done.stderr
