"""`report.html`: one static page a person can open or mail: the configuration, the devices
with their manifests, the plots (PNG embedded as base64, so the file stands alone) and tables
(the measured Pareto front, the predictors' quality). Device manifests come from the agents'
GetInfo and never hold tokens; the configuration names a devices file, never its secrets.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#1d2630}
h1{font-size:1.6em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ccc;padding:3px 7px}
th{background:#f1f3f5} td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.85em}
img{max-width:100%;border:1px solid #eee} dl{display:grid;grid-template-columns:max-content 1fr}
dt{font-weight:600;padding-right:1em} details{margin:.4em 0}
"""


def write_report(
    path: Path,
    *,
    title: str,
    summary: Mapping[str, Any],
    config_yaml: str,
    devices: Sequence[Mapping[str, Any]],
    images: Mapping[str, Path],
    tables: Mapping[str, tuple[Sequence[Mapping[str, Any]], Sequence[str]]],
) -> Path:
    """Write the page: `summary` is shown as a definition list, `images` maps a caption to a
    PNG file, `tables` a heading to its rows and columns (the front, predictor quality)."""
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
        parts.append(_table(rows, columns))
    parts.append("<h2>Devices</h2>")
    for device in devices:
        parts.append(
            f"<details open><summary>{escape(str(device.get('name', '?')))}</summary>"
            f"<pre>{escape(json.dumps(device, indent=2, sort_keys=True, default=str))}</pre>"
            "</details>"
        )
    if not devices:
        parts.append("<p>No device measured in this run (a table replays recorded figures).</p>")
    parts.append(f"<h2>Configuration</h2><pre>{escape(config_yaml)}</pre>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
    return path


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            text = f"{value:.5g}" if isinstance(value, float) else str(value)
            cells.append(f"<td class='n'>{escape(text)}</td>" if number
                         else f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
