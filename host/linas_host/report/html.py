"""`report.html`: one static page a person can open or mail: the configuration, the devices
with their manifests, the plots (PNG embedded as base64, so the file stands alone) and tables
(the measured Pareto front, the predictors' quality). Device manifests come from the agents'
GetInfo and never hold tokens; the configuration names a devices file, never its secrets.

A supernet has dozens of genes and most of them are fixed along a front, so a table shows only
the genes that differ between its rows, the others once above it; when too many differ for a
column each, they share one `architecture` cell per row.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from linas_host.devices.render import int8_text

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#1d2630}
h1{font-size:1.6em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ccc;padding:3px 7px}
th{background:#f1f3f5} td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.85em}
img{max-width:100%;border:1px solid #eee} dl{display:grid;grid-template-columns:max-content 1fr}
dt{font-weight:600;padding-right:1em}
"""
GENE_COLUMNS = 8
"""At most this many differing genes get a column each; more share one `architecture` cell."""


def write_report(
    path: Path,
    *,
    title: str,
    summary: Mapping[str, Any],
    config_yaml: str,
    devices: Sequence[Mapping[str, Any]],
    images: Mapping[str, Path],
    tables: Mapping[str, tuple[Sequence[Mapping[str, Any]], Sequence[str]]],
    genes: Sequence[str] = (),
) -> Path:
    """Write the page: `summary` is shown as a definition list, `images` maps a caption to a
    PNG file, `tables` a heading to its rows and columns (the front, predictor quality);
    `genes` are the columns that are design variables, `devices` the rows of devices.json."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<dl>" + "".join(
            f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in summary.items()
        ) + "</dl>",
        "<h2>Plots</h2>",
    ]
    for caption, image in images.items():
        data = base64.b64encode(Path(image).read_bytes()).decode()
        parts.append(
            f"<figure><img alt='{escape(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    for heading, (rows, columns) in tables.items():
        parts.append(f"<h2>{escape(heading)}</h2>")
        parts.append(_compact_table(rows, columns, genes))
    parts.append("<h2>Devices</h2>")
    parts.append(_table(*_device_rows(devices)) if devices else
                 "<p>No device measured in this run (a table replays recorded figures).</p>")
    parts.append(f"<h2>Configuration</h2><pre>{escape(config_yaml)}</pre>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
    return path


def _compact_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], genes: Sequence[str]
) -> str:
    """The table without the gene columns equal in every row (said once above it), the other
    genes in one `architecture` cell per row when there are more than GENE_COLUMNS."""
    shown = [g for g in genes if g in columns]
    common = [g for g in shown if rows and all(r.get(g) == rows[0].get(g) for r in rows)]
    differing = [g for g in shown if g not in common]
    note = ("<p>Common to every row: " + ", ".join(
        f"{escape(g)}={escape(_text(rows[0].get(g)))}" for g in common) + "</p>") if common else ""
    if len(differing) > GENE_COLUMNS:  # the merged cell stands where the first gene did
        rows = [{**r, "architecture": " ".join(f"{g}={_text(r.get(g))}" for g in differing)}
                for r in rows]
        columns = ["architecture" if c == differing[0] else c for c in columns
                   if c not in shown or c == differing[0]]
    return note + _table(rows, [c for c in columns if c not in common])


def _device_rows(devices: Sequence[Mapping[str, Any]]) -> tuple[list[dict], list[str]]:
    """One row per device of devices.json: who it is, its state, what it has and runs."""
    rows = []
    for device in devices:
        info = device.get("manifest") or {}
        rows.append({
            "name": device.get("name", ""),
            "address": device.get("address", ""),
            "labels": ", ".join(f"{k}={v}" for k, v in sorted(device.get("labels", {}).items())),
            "state": device.get("state", ""),
            "machine / CPU": " / ".join(filter(None, [info.get("machine"), info.get("cpu_model")])),
            "cores": info.get("cpu_count", ""),
            "memory GB": round(info["memory_bytes"] / 1e9, 1) if info.get("memory_bytes") else "",
            "OS": info.get("os", ""),
            "runtimes": "; ".join(f"{r['name']} {r['version']} ({', '.join(r['providers'])})"
                                  for r in info.get("runtimes", [])),
            "int8": int8_text(info.get("cpu_int8_dot")) if info else "",
            "agent": info.get("agent_version", ""),
            "warnings": "; ".join(info.get("warnings", [])),
        })
    return rows, list(rows[0]) if rows else []


def _text(value: Any) -> str:
    return f"{value:.5g}" if isinstance(value, float) else str(value)


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            cells.append(f"<td class='n'>{escape(_text(value))}</td>" if number
                         else f"<td>{escape(_text(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
