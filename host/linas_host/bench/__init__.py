"""`linas bench`: search methods side by side on measured tables (`compare`), their figures
(`figures`), and the named suites of problems a protocol runs together (`suite`)."""

from __future__ import annotations

from linas_host.bench.compare import (
    SHARED_CELL,
    SHARED_TABLE,
    BenchPlan,
    BenchRun,
    bench_report,
    parse_method_options,
    plan_bench,
    run_bench,
)
from linas_host.bench.figures import (
    CHECKPOINTS,
    TARGET_METHOD,
    evaluations_to,
    format_gaps,
    format_report,
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
    "evaluations_to",
    "format_gaps",
    "format_report",
    "parse_method_options",
    "plan_bench",
    "run_bench",
    "summarise",
    "write_json",
]
