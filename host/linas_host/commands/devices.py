"""`linas devices list|ping -d devices.yaml`: what each device is, and whether it answers.

Thin wrapper over linas_host.devices.survey. `ping` exits with 1 when any device is down. The
table is drawn by rich on a terminal; piped, it is plain fixed columns, one line per device.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from linas_host.commands.flags import add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list or ping the devices of a devices file (see docs/devices.md)",
        description=__doc__.split("\n")[0],
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("list", "each device's manifest: runtimes, cores, CPU governor, warnings"),
        ("ping", "a health check of each device with its round trip; exit 1 if any is down"),
    ):
        sub = actions.add_parser(action, help=text, description=text)
        sub.add_argument("-d", "--devices", type=Path, required=True, help="the devices file")
        add_json(sub)
        sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from rich.console import Console

    from linas_host.devices.config import load_devices
    from linas_host.devices.render import device_rows, devices_table, plain_table
    from linas_host.devices.survey import survey

    ping = args.action == "ping"
    reports = survey(load_devices(args.devices).devices.values(), ping=ping)
    if args.json:
        print(json.dumps([report.to_dict() for report in reports], indent=2))
    elif sys.stdout.isatty():
        Console().print(devices_table(reports, ping=ping))
    else:
        print(plain_table(*device_rows(reports, ping=ping)))
    return 1 if ping and not all(report.alive for report in reports) else 0
