"""The measurement protocol (ARCHITECTURE.md), as the tools that do it best do it.

1. Warm up: untimed calls until both `warmup_runs` calls and `warmup_seconds` have passed
   (TFLite benchmark_model's warm-up by count and time); their count and summed time are
   reported.
2. Batch: when one call is shorter than `min_sample_ms`, each sample times several calls and
   divides (TVM time_evaluator's number/repeat), so the clock's resolution and the loop's own
   cost do not swamp a sub-millisecond model.
3. Sample: timed samples until both `min_runs` and `min_seconds` are reached, stopping at
   `max_runs` or `max_seconds`, whichever comes first (at least one sample).
4. Check stability: when the coefficient of variation exceeds `max_cv`, measure again (up to
   `max_remeasures` times), keep the steadiest run, and flag it unstable if none was steady.

The garbage collector is off while samples are timed. Nothing here knows about runtimes: it
times a callable.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np

from linas_sdk.measurement import MeasureSettings

Clock = Callable[[], float]


@dataclass(frozen=True)
class Latency:
    """Statistics of the timed samples, in milliseconds per call."""

    median_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    p90_ms: float
    p99_ms: float
    samples_ms: tuple[float, ...]
    calls_per_sample: int
    cv: float
    stable: bool = True
    remeasures: int = 0
    warmup_runs: int = 0
    warmup_ms: float = 0.0  # the warm-up calls' own time, summed

    def summary(self) -> dict[str, float | int | bool]:
        """The statistics by their Measurement field names (all but the raw samples)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "samples_ms"}

    @classmethod
    def of(cls, samples_ms: list[float], calls_per_sample: int, max_cv: float) -> Latency:
        a = np.asarray(samples_ms, dtype=np.float64)
        mean = float(a.mean())
        std = float(a.std(ddof=1)) if a.size > 1 else 0.0
        cv = std / mean if mean > 0 else 0.0
        p90, p99 = (float(x) for x in np.percentile(a, [90, 99]))
        return cls(
            median_ms=float(np.median(a)), mean_ms=mean, std_ms=std,
            min_ms=float(a.min()), max_ms=float(a.max()), p90_ms=p90, p99_ms=p99,
            samples_ms=tuple(float(x) for x in a), calls_per_sample=calls_per_sample,
            cv=cv, stable=cv <= max_cv,
        )  # fmt: skip


def warm_up(call: Callable[[], object], settings: MeasureSettings, clock: Clock) -> list[float]:
    """Run the warm-up; returns the seconds each call took (reported, so a caller can tell
    the model's own time from everything else). At least one call runs, at most
    `max_seconds` pass."""
    times: list[float] = []
    start = clock()
    while True:
        t0 = clock()
        call()
        t1 = clock()
        times.append(t1 - t0)
        elapsed = t1 - start
        done = len(times) >= settings.warmup_runs and elapsed >= settings.warmup_seconds
        if done or elapsed >= settings.max_seconds:
            break
    return times


def calls_per_sample(call_seconds: float, min_sample_ms: float) -> int:
    """How many calls one sample must hold to last at least `min_sample_ms`."""
    if call_seconds <= 0:
        return max(1, math.ceil(min_sample_ms * 1000))  # a call shorter than the clock tick
    ratio = min_sample_ms / (call_seconds * 1000.0)
    return max(1, math.ceil(round(ratio, 6)))  # 9.9999999 calls is 10, not 11


def sample(
    call: Callable[[], object], settings: MeasureSettings, calls: int, clock: Clock
) -> list[float]:
    """Timed samples (ms per call) under the run and time bounds of `settings`."""
    samples: list[float] = []
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        start = clock()
        while True:
            t0 = clock()
            for _ in range(calls):
                call()
            t1 = clock()
            samples.append((t1 - t0) * 1000.0 / calls)
            n, elapsed = len(samples), t1 - start
            if n >= settings.max_runs or elapsed >= settings.max_seconds:
                break
            if n >= settings.min_runs and elapsed >= settings.min_seconds:
                break
    finally:
        if gc_was_on:
            gc.enable()
    return samples


def measure(
    call: Callable[[], object], settings: MeasureSettings, clock: Clock = time.perf_counter
) -> Latency:
    """Warm up, then time `call` by the protocol above."""
    warm = warm_up(call, settings, clock)
    # the median of the warm-up's second half estimates the steady-state call time
    calls = calls_per_sample(float(np.median(warm[len(warm) // 2 :])), settings.min_sample_ms)
    best = Latency.of(sample(call, settings, calls, clock), calls, settings.max_cv)
    remeasures = 0
    while not best.stable and remeasures < settings.max_remeasures:
        remeasures += 1
        again = Latency.of(sample(call, settings, calls, clock), calls, settings.max_cv)
        if again.cv < best.cv:
            best = again
    return replace(best, remeasures=remeasures, warmup_runs=len(warm),
                   warmup_ms=sum(warm) * 1000.0)  # fmt: skip
