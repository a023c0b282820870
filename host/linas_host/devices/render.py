"""Tables for device reports and measurements (the CLIs' output): rich ones for a terminal, and
a plain one for the devices when the output is piped."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from linas_host.devices.survey import DeviceReport
from linas_sdk.measurement import Measurement


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def int8_text(dot: Sequence[str] | None) -> str:
    """A manifest's int8 dot-product instructions (`DeviceInfo.cpu_int8_dot`), "emulated"
    without any, "?" when the agent does not say (an older one)."""
    return "?" if dot is None else ",".join(dot) or "emulated"


def device_rows(
    reports: Sequence[DeviceReport], *, ping: bool = False
) -> tuple[list[str], list[list[str]]]:
    """The devices table's header and one row per device (who it is, whether it answers, what
    it runs, what int8 costs there, what is off), every cell one line of plain text."""
    columns = ["name", "address", "labels", "alive"]
    columns += ["rtt ms"] if ping else ["runtimes", "cores", "governor", "int8"]
    rows = []
    for report in reports:
        spec, info = report.spec, report.info
        row = [spec.name, spec.address, _labels(spec.labels), "yes" if report.alive else "no"]
        if ping:
            row.append(f"{report.rtt_ms:.2f}" if report.rtt_ms is not None else "-")
        elif info is None:
            row += ["-", "-", "-", "-"]
        else:
            runtimes = ", ".join(f"{r.name} {r.version}" for r in info.runtimes) or "-"
            row += [runtimes, str(info.cpu_count), info.cpu_governor or "-",
                    int8_text(info.cpu_int8_dot)]
        notes = report.warnings if report.alive else (report.error,)
        row.append("; ".join(notes) or "-")
        rows.append([" ".join(cell.split()) for cell in row])  # an error may span lines
    return [*columns, "warnings"], rows


def devices_table(reports: Sequence[DeviceReport], *, ping: bool = False) -> Table:
    """`device_rows` drawn by rich, for a terminal (alive in green, down in red)."""
    columns, rows = device_rows(reports, ping=ping)
    table = Table(title="devices")
    for column in columns:
        table.add_column(column, overflow="fold")
    alive = columns.index("alive")
    for report, row in zip(reports, rows, strict=True):
        cells = [Text(cell) for cell in row]  # Text: a "[" in an error is not rich markup
        cells[alive].stylize("green" if report.alive else "red")
        table.add_row(*cells)
    return table


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned fixed columns, one line per row, as wide as the cells need: what a pipe,
    grep or a log keep readable (rich would fold every cell into the terminal's width)."""
    widths = [max(len(cell) for cell in cells) for cells in zip(columns, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [columns, *rows]
    )


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
