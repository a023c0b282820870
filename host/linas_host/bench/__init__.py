"""`linas bench`: search methods side by side on measured tables (`compare`), and the named
suites of problems a protocol runs together (`suite`)."""

from __future__ import annotations

from linas_host.bench.compare import (
    CHECKPOINTS,
    SHARED_CELL,
    SHARED_TABLE,
    TARGET_METHOD,
    BenchPlan,
    BenchRun,
    bench_report,
    format_gaps,
    format_report,
    parse_method_options,
    plan_bench,
    run_bench,
    summarise,
    write_json,
)

__all__ = [
    "CHECKPOINTS",
    "SHARED_CELL",
    "SHARED_TABLE",
    "TARGET_METHOD",
    "BenchPlan",
    "BenchRun",
    "bench_report",
    "format_gaps",
    "format_report",
    "parse_method_options",
    "plan_bench",
    "run_bench",
    "summarise",
    "write_json",
]
