"""The `linas` command: hardware-aware neural architecture search on embedded boards.

A thin face. Each side of linas registers its own subcommands through the ``linas.commands``
entry-point group (``linas_agent.commands:register`` for ``linas agent``,
``linas_host.commands:register`` for the rest); each registering function names the install
extra its commands need, and adds parsers only, so building the parser imports nothing heavy.
Before a command runs, the face checks that its extra is installed, so a host command on a
board (``pip install linas-sdk[agent]``) says which extra to install instead of failing on an
import.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from linas_sdk._imports import require_extra
from linas_sdk.errors import LinasError

ENTRY_POINT_GROUP = "linas.commands"

DESCRIPTION = (
    "Search sub-networks of a supernetwork for a model that is accurate and fast on your boards, "
    "measured by an agent on each board."
)


def build_parser() -> argparse.ArgumentParser:
    from linas_sdk import __version__

    parser = argparse.ArgumentParser(prog="linas", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"linas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        point.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        require_extra(getattr(args, "extra", None), command=f"linas {args.command}")
        return int(args.func(args) or 0)
    except LinasError as error:
        print(f"linas: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
