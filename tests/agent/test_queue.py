"""One measurement at a time, first come first served, and a full line is refused."""

from __future__ import annotations

import threading
import time

import pytest
from linas_agent.queue import MeasureQueue

from linas_sdk.errors import ResourceExhausted

pytestmark = pytest.mark.timeout(30)


def test_one_at_a_time_in_arrival_order_and_bounded() -> None:
    queue = MeasureQueue(max_waiting=2)
    order, running, overlap = [], [], []
    release = threading.Event()

    def job(n: int) -> None:
        with queue.turn():
            running.append(n)
            overlap.append(len(running))
            if n == 0:
                release.wait(10)
            order.append(n)
            running.remove(n)

    threads = [threading.Thread(target=job, args=(0,))]
    threads[0].start()
    time.sleep(0.1)
    for n in (1, 2):
        threads.append(threading.Thread(target=job, args=(n,)))
        threads[-1].start()
        time.sleep(0.1)
    assert queue.waiting == 2
    with pytest.raises(ResourceExhausted, match="one measurement running and 2 waiting"), \
            queue.turn():
        pass
    release.set()
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2] and max(overlap) == 1 and queue.waiting == 0
