"""Pool scheduling: selection, the two timeouts, close and the health check against real agent
processes (shared by the module's tests; the pool names them), and against scripted agents what
a real agent cannot be made to do: another protocol version, Measure calls counted as they
overlap, one status for every Measure."""

from __future__ import annotations

import threading

import grpc
import pytest
from device_helpers import FAST, MLP_TFLITE, SLOW, tiny_onnx
from linas_host.devices import AgentClient, DevicePool, DeviceSpec, PoolSettings, QueueTimeout
from polling import wait_for

from linas_sdk.errors import (
    DeviceUnavailable,
    InvalidArgument,
    MeasurementTimeout,
    ModelError,
    ProtocolMismatch,
)
from linas_sdk.measurement import MeasureRequest
from linas_sdk.target import Target

QUICK = PoolSettings(retry_initial_s=0.1, retry_max_s=0.5)
BOARD_X = Target.of(labels={"board": "x"})

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def boards(module_agent_process) -> list:
    """Three real agents; each test's pool gives them the names and labels it needs."""
    return [module_agent_process(name=f"board{i}") for i in range(3)]


def spec(agent, name, **fields) -> DeviceSpec:
    return DeviceSpec(name=name, address=agent.address, **fields)


def test_client_refuses_an_agent_of_another_protocol_version(scripted):
    old = scripted(protocol_version=99)
    with pytest.raises(ProtocolMismatch) as caught:
        AgentClient(spec(old, "old")).get_info()
    message = str(caught.value)
    assert "version 99" in message and "this host speaks version 1" in message


def test_refused_device_gets_no_jobs_and_its_label_mate_does(scripted, boards):
    old = scripted(protocol_version=99)
    devices = [spec(old, "old", labels={"board": "x"}),
               spec(boards[0], "new", labels={"board": "x"})]
    with DevicePool(devices, settings=QUICK) as pool:
        states = {s.name: s for s in pool.wait_ready(10)}
        assert states["old"].state == "refused" and "version 99" in states["old"].reason
        results = [pool.measure(tiny_onnx(i), FAST, target=BOARD_X) for i in range(3)]
        done = {s.name: s.jobs_done for s in pool.status()}
    assert {r.device for r in results} == {"new"}
    assert old.measured == 0 and done == {"old": 0, "new": 3}


def test_one_measurement_in_flight_per_device_under_concurrent_submits(scripted):
    agents = [scripted() for _ in range(2)]
    devices = [spec(a, f"d{i}", labels={"board": "x"}) for i, a in enumerate(agents)]
    futures, lock = [], threading.Lock()

    def client_thread(k):
        for i in range(4):
            future = pool.submit(tiny_onnx(10 * k + i), target=BOARD_X)
            with lock:
                futures.append(future)

    with DevicePool(devices, settings=QUICK) as pool:
        threads = [threading.Thread(target=client_thread, args=(k,)) for k in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results = [future.result(timeout=30) for future in futures]
        done = {s.name: s.jobs_done for s in pool.status()}
    assert len(results) == 24
    assert [a.max_in_flight for a in agents] == [1, 1]
    assert sum(a.measured for a in agents) == 24 and min(a.measured for a in agents) > 0
    assert done == {"d0": agents[0].measured, "d1": agents[1].measured}


def test_jobs_go_to_the_named_device_or_the_labels_asked(boards):
    a, b, c = boards
    devices = [spec(a, "a", labels={"board": "pi5"}), spec(b, "b", labels={"board": "pi5"}),
               spec(c, "c", labels={"board": "jetson"}, runtime="litert")]
    with DevicePool(devices, settings=QUICK) as pool:
        named = [pool.submit(tiny_onnx(i), FAST, target=Target("b")) for i in range(3)]
        jetson = pool.submit(MLP_TFLITE, FAST, target=Target.of(labels={"board": "jetson"}))
        assert {f.result(timeout=30).device for f in named} == {"b"}
        measured = jetson.result(timeout=30)
        assert (measured.device, measured.runtime) == ("c", "litert")
        with pytest.raises(InvalidArgument, match="no device in the pool can take a job for "
                                                  "labels board=rpi4"):
            pool.submit(tiny_onnx(), target=Target.of(labels={"board": "rpi4"}))
        with pytest.raises(InvalidArgument, match="device nope"):
            pool.submit(tiny_onnx(), target=Target("nope"))
        # c only takes litert jobs; an ONNX model runs on onnxruntime
        with pytest.raises(InvalidArgument, match="labels board=jetson"):
            pool.submit(tiny_onnx(), target=Target.of(labels={"board": "jetson"}))
        with pytest.raises(InvalidArgument, match="unknown measurement settings"):
            pool.submit(tiny_onnx(), MeasureRequest(settings={"min_run": 3}))


def test_queue_wait_and_execution_timeouts_are_apart(boards):
    with DevicePool([spec(boards[0], "slow")], settings=QUICK) as pool:
        running = pool.submit(tiny_onnx(1), SLOW)
        waiting = pool.submit(tiny_onnx(2), FAST, queue_timeout=0.3)
        with pytest.raises(QueueTimeout, match=r"waited 0\.3 s and no device took it"):
            waiting.result(timeout=10)
        assert running.result(timeout=10).device == "slow"  # the running job was not cut short
        with pytest.raises(MeasurementTimeout, match=r"Measure: no reply within 0\.3 s"):
            pool.measure(tiny_onnx(3), SLOW, timeout=0.3)
        # a model's own timeout is its result: the device stays live and takes the next job
        assert pool.measure(tiny_onnx(4), FAST).device == "slow"
        assert [s.state for s in pool.status()] == ["alive"]


def test_close_fails_queued_jobs_and_refuses_new_ones(boards):
    pool = DevicePool([spec(boards[0], "slow")], settings=QUICK)
    running = pool.submit(tiny_onnx(1), SLOW)
    queued = [pool.submit(tiny_onnx(i), FAST) for i in range(2, 5)]
    wait_for(lambda: pool.status()[0].busy, 10, "the first job to run")
    pool.close()
    assert running.result(timeout=0).device == "slow"
    for future in queued:
        with pytest.raises(Exception, match="closed before the job ran"):
            future.result(timeout=0)
    with pytest.raises(Exception, match="the device pool is closed"):
        pool.submit(tiny_onnx(9))


def test_a_model_error_is_the_jobs_result_and_the_device_stays_live(boards):
    broken = b"\x08\x07" + b"not an onnx graph" * 10
    devices = [spec(boards[0], "f", labels={"board": "x"}),
               spec(boards[1], "g", labels={"board": "x"})]
    with DevicePool(devices, settings=QUICK) as pool:
        with pytest.raises(ModelError, match="could not load the model"):
            pool.measure(broken, FAST, target=BOARD_X)
        status = pool.status()
    assert [s.state for s in status] == ["alive", "alive"]
    assert sum(s.jobs_done for s in status) == 1  # tried once, not retried elsewhere


def test_a_job_that_keeps_losing_its_device_fails_after_max_device_losses(scripted):
    # a device answering UNAVAILABLE to every Measure looks down each time, then answers probes
    flaky = scripted(fail_with=grpc.StatusCode.UNAVAILABLE)
    settings = PoolSettings(retry_initial_s=0.05, retry_max_s=0.1, max_device_losses=3)
    lost_thrice = r"lost its device 3 times \(flaky, flaky, flaky\)"
    with DevicePool([spec(flaky, "flaky")], settings=settings) as pool, \
            pytest.raises(DeviceUnavailable, match=lost_thrice):
        pool.measure(tiny_onnx(1))
    assert flaky.measured == 3 * 3  # three losses, each after the client's 2 quick retries


def test_a_device_that_rejects_the_token_mid_run_is_refused_and_its_job_moves(scripted, boards):
    bad = scripted(fail_with=grpc.StatusCode.UNAUTHENTICATED)
    devices = [spec(bad, "bad", labels={"board": "x"}),
               spec(boards[0], "good", labels={"board": "x"})]
    settings = PoolSettings(retry_initial_s=0.1, retry_max_s=30)
    with DevicePool(devices, settings=settings) as pool:
        pool.wait_ready(10)
        results = [f.result(timeout=30) for f in
                   [pool.submit(tiny_onnx(i), FAST, target=BOARD_X) for i in range(4)]]
        status = {s.name: s for s in pool.status()}
    assert [r.device for r in results] == ["good"] * 4
    assert bad.measured == 1 and status["bad"].state == "refused"
    assert "scripted UNAUTHENTICATED" in status["bad"].reason


def test_an_idle_device_that_goes_away_is_seen_down_by_the_health_check(agent_process):
    agent = agent_process(name="idle")
    settings = PoolSettings(retry_initial_s=0.1, retry_max_s=0.5, health_interval_s=0.2)
    with DevicePool([spec(agent, "idle")], settings=settings) as pool:
        assert pool.wait_ready(10)[0].state == "alive"
        agent.stop()  # no job is running: only the periodic check can notice
        wait_for(lambda: pool.status()[0].state == "down", 10, "the device to be seen down")
        assert "GetInfo" in pool.status()[0].reason
