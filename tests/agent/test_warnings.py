"""What a measurement warns about, from its own before/after board state."""

from __future__ import annotations

from linas_agent.agent import measurement_warnings

from linas_sdk.measurement import Measurement, MeasureSettings, SystemSnapshot


def measured(**changes) -> Measurement:
    values = dict(runtime="onnxruntime", median_ms=1.0, mean_ms=1.0, std_ms=0.01, min_ms=0.9,
                  max_ms=1.1, p90_ms=1.0, p99_ms=1.1, samples=20, cv=0.01, stable=True,
                  load_ms=1.0, first_inference_ms=1.0,
                  before=SystemSnapshot({"cpu": 50.0}, (2400.0, 2400.0)),
                  after=SystemSnapshot({"cpu": 55.0}, (2400.0, 2350.0)))  # fmt: skip
    values.update(changes)
    return Measurement(**values)


def test_a_steady_run_has_no_warnings() -> None:
    assert measurement_warnings(measured(), MeasureSettings()) == []


def test_unstable_throttled_slowed_and_heated_runs_say_so() -> None:
    m = measured(
        cv=0.2, stable=False, remeasures=1, cpu_affinity=(1,),
        before=SystemSnapshot({"cpu": 50.0, "gpu": 40.0}, (2400.0, 2400.0)),
        after=SystemSnapshot({"cpu": 65.0, "gpu": 41.0}, (2400.0, 1500.0), throttled=True),
    )  # fmt: skip
    text = " | ".join(measurement_warnings(m, MeasureSettings()))
    assert "coefficient of variation 0.200 > max_cv 0.05 after 1 re-measurement" in text
    assert "throttled during the measurement" in text
    assert "CPU frequency changed" in text and "(cores [1])" in text
    assert "warmed by more than 10 C" in text and "['cpu']" in text


def test_frequency_changes_on_unused_cores_do_not_count() -> None:
    m = measured(cpu_affinity=(0,), after=SystemSnapshot({}, (2400.0, 1000.0)))
    assert measurement_warnings(m, MeasureSettings()) == []
    assert measurement_warnings(measured(stable=False), MeasureSettings(), board_throttled=True)
