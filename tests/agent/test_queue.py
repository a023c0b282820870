"""One measurement at a time, first come first served, and a full line is refused."""

from __future__ import annotations

import threading

import pytest
from linas_agent.queue import MeasureQueue
from polling import wait_for

from linas_sdk.errors import ResourceExhausted

pytestmark = pytest.mark.timeout(30)


def test_one_at_a_time_in_arrival_order_and_bounded() -> None:
    queue = MeasureQueue(max_waiting=2)
    order, running, overlap = [], [], []
    first_running, release = threading.Event(), threading.Event()

    def job(n: int) -> None:
        with queue.turn():
            running.append(n)
            overlap.append(len(running))
            if n == 0:
                first_running.set()
                release.wait(10)
            order.append(n)
            running.remove(n)

    threads = [threading.Thread(target=job, args=(n,)) for n in range(3)]
    threads[0].start()
    assert first_running.wait(10)
    for n in (1, 2):  # each takes its ticket before the next arrives: the arrival order is 1, 2
        threads[n].start()
        wait_for(lambda n=n: queue.waiting == n, 10, f"job {n} waiting")
    with pytest.raises(ResourceExhausted, match="one measurement running and 2 waiting"), \
            queue.turn():
        pass
    release.set()
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2] and overlap == [1, 1, 1] and queue.waiting == 0
