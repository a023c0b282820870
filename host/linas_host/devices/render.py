"""Rich tables for device reports and measurements (the CLIs' and the demo's output)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from linas_host.devices.survey import DeviceReport
from linas_sdk.measurement import Measurement


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def devices_table(reports: Sequence[DeviceReport], *, ping: bool = False) -> Table:
    """One row per device: who it is, whether it answers, what it runs, what is off."""
    table = Table(title="devices")
    columns = ["name", "address", "labels", "alive"]
    columns += ["rtt ms"] if ping else ["runtimes", "cores", "governor"]
    for column in [*columns, "warnings"]:
        table.add_column(column, overflow="fold")
    for report in reports:
        spec, info = report.spec, report.info
        row = [spec.name, spec.address, _labels(spec.labels),
               "[green]yes[/]" if report.alive else "[red]no[/]"]
        if ping:
            row.append(f"{report.rtt_ms:.2f}" if report.rtt_ms is not None else "-")
        elif info is None:
            row += ["-", "-", "-"]
        else:
            runtimes = ", ".join(f"{r.name} {r.version}" for r in info.runtimes) or "-"
            row += [runtimes, str(info.cpu_count), info.cpu_governor or "-"]
        notes = report.warnings if report.alive else (report.error,)
        row.append("\n".join(notes) or "-")
        table.add_row(*row)
    return table


def _ms(value: float) -> str:
    return f"{value:.3f}"


def measurement_table(m: Measurement) -> Table:
    """The statistics of one measurement, one per row."""
    table = Table(title=f"{m.device}: {m.runtime} {m.runtime_version} {m.provider}".rstrip())
    table.add_column("statistic")
    table.add_column("value", justify="right")
    rows = [
        ("median ms", _ms(m.median_ms)),
        ("mean ms", _ms(m.mean_ms)),
        ("std ms", _ms(m.std_ms)),
        ("min ms", _ms(m.min_ms)),
        ("max ms", _ms(m.max_ms)),
        ("p90 ms", _ms(m.p90_ms)),
        ("p99 ms", _ms(m.p99_ms)),
        ("cv", f"{m.cv:.4f}"),
        ("stable", "yes" if m.stable else "[yellow]no[/]"),
        ("samples x calls", f"{m.samples} x {m.calls_per_sample}"),
        ("load ms", _ms(m.load_ms)),
        ("first inference ms", _ms(m.first_inference_ms)),
        ("peak memory MB", f"{m.peak_memory_bytes / 2**20:.1f}"),
        ("threads", str(m.threads or "default")),
    ]
    if m.accuracy is not None:
        rows.append(("accuracy", f"{m.accuracy:.4f} ({m.validation_samples} samples)"))
    for moment, snapshot in (("before", m.before), ("after", m.after)):
        if snapshot.thermal_zones:
            hottest = max(snapshot.thermal_zones.values())
            rows.append((f"max temperature {moment} °C", f"{hottest:.1f}"))
    rows += [("warning", text) for text in m.warnings]
    for name, value in rows:
        table.add_row(name, value)
    return table
