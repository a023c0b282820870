"""The timing protocol, driven by a simulated clock so every branch is exact and instant."""

from __future__ import annotations

import itertools

import pytest
from linas_agent import timing

from linas_sdk.measurement import MeasureSettings


class SimulatedModel:
    """A callable that advances a simulated clock by the next duration (seconds) it is given."""

    def __init__(self, durations) -> None:
        self.now = 0.0
        self.calls = 0
        self._durations = iter(durations)

    def clock(self) -> float:
        return self.now

    def __call__(self) -> None:
        self.now += next(self._durations)
        self.calls += 1


def settings(**changes) -> MeasureSettings:
    return MeasureSettings(**changes)


def test_warm_up_needs_both_count_and_time() -> None:
    model = SimulatedModel(itertools.repeat(0.001))
    timing.warm_up(model, settings(warmup_runs=5, warmup_seconds=0.1), model.clock)
    assert model.calls == 100  # time was the binding bound
    model = SimulatedModel(itertools.repeat(0.1))
    timing.warm_up(model, settings(warmup_runs=5, warmup_seconds=0.1), model.clock)
    assert model.calls == 5  # count was


def test_warm_up_calls_are_counted_and_their_time_reported() -> None:
    """A caller subtracts the model's own time from a request's wall time: the warm-up's
    calls must be in the reply, apart from the timed samples (here 3 slow, then fast)."""
    model = SimulatedModel(itertools.chain([0.010, 0.004, 0.002], itertools.repeat(0.002)))
    s = settings(warmup_runs=3, warmup_seconds=0.0, min_runs=4, min_seconds=0.0, max_runs=4)
    result = timing.measure(model, s, model.clock)
    assert (result.warmup_runs, result.warmup_ms) == (3, pytest.approx(16.0))
    assert result.samples_ms == pytest.approx((2.0,) * 4)
    assert model.calls == 3 + 4
    none_asked = timing.measure(model, settings(warmup_runs=0, warmup_seconds=0.0,
                                                min_runs=1, min_seconds=0.0, max_runs=1),
                                model.clock)  # fmt: skip
    assert none_asked.warmup_runs == 1  # one call still sizes calls_per_sample


def test_warm_up_stops_at_max_seconds() -> None:
    model = SimulatedModel(itertools.repeat(1.0))
    timing.warm_up(model, settings(warmup_runs=100, max_seconds=3.0), model.clock)
    assert model.calls == 3


@pytest.mark.parametrize(("call_s", "min_ms", "calls"),
                         [(0.0001, 1.0, 10), (0.00015, 1.0, 7), (0.002, 1.0, 1), (0.0, 1.0, 1000)])
def test_sub_millisecond_calls_are_batched(call_s, min_ms, calls) -> None:
    assert timing.calls_per_sample(call_s, min_ms) == calls


def test_samples_until_min_runs_and_min_seconds() -> None:
    model = SimulatedModel(itertools.repeat(0.002))
    result = timing.measure(model, settings(min_runs=20, min_seconds=1.0), model.clock)
    assert result.calls_per_sample == 1
    assert len(result.samples_ms) == 500  # 1 s of 2 ms calls outlasts 20 runs
    assert result.median_ms == pytest.approx(2.0)
    assert result.cv == pytest.approx(0.0, abs=1e-9) and result.stable


def test_sampling_is_capped_by_max_runs_and_max_seconds() -> None:
    model = SimulatedModel(itertools.repeat(0.002))
    capped = timing.measure(model, settings(min_seconds=5.0, max_runs=50), model.clock)
    assert len(capped.samples_ms) == 50
    model = SimulatedModel(itertools.repeat(0.5))
    capped = timing.measure(model, settings(min_runs=100, max_seconds=2.0), model.clock)
    assert len(capped.samples_ms) == 4


def test_batched_samples_are_per_call() -> None:
    model = SimulatedModel(itertools.repeat(0.0001))
    result = timing.measure(model, settings(min_runs=10, min_seconds=0.0), model.clock)
    assert result.calls_per_sample == 10
    assert result.median_ms == pytest.approx(0.1)


def test_statistics() -> None:
    lat = timing.Latency.of([1.0, 2.0, 3.0, 4.0, 100.0], 1, max_cv=0.05)
    assert lat.median_ms == 3.0 and lat.min_ms == 1.0 and lat.max_ms == 100.0
    assert lat.mean_ms == 22.0
    assert lat.p90_ms == pytest.approx(61.6) and lat.p99_ms == pytest.approx(96.16)
    assert lat.cv == pytest.approx(lat.std_ms / 22.0) and not lat.stable


def noisy_then_steady(n_noisy: int):
    noisy = (0.001 if i % 2 else 0.003 for i in range(n_noisy))
    return itertools.chain(noisy, itertools.repeat(0.002))


def test_unstable_run_is_remeasured_and_the_steady_one_kept() -> None:
    s = settings(warmup_runs=1, warmup_seconds=0.0, min_runs=10, min_seconds=0.0,
                 max_remeasures=2)  # fmt: skip
    model = SimulatedModel(noisy_then_steady(11))  # warm-up call + 10 noisy samples
    result = timing.measure(model, s, model.clock)
    assert result.remeasures == 1 and result.stable
    assert result.median_ms == pytest.approx(2.0)


def test_always_unstable_is_flagged() -> None:
    s = settings(warmup_runs=1, warmup_seconds=0.0, min_runs=10, min_seconds=0.0,
                 max_remeasures=2)  # fmt: skip
    model = SimulatedModel(noisy_then_steady(10**6))
    result = timing.measure(model, s, model.clock)
    assert result.remeasures == 2 and not result.stable and result.cv > 0.05
