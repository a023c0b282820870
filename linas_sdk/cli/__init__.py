"""The `linas` command. Each subcommand lives in its own module of this package, as a thin
wrapper that parses arguments and calls into linas_agent or linas_host (imported lazily, so a
board with only the agent profile installed still runs `linas agent serve`)."""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules; each defines register(subparsers) and sets `func` on its parser.
COMMANDS = ["agent", "bench", "devices", "measure", "search", "export", "demo", "train"]


def build_parser() -> argparse.ArgumentParser:
    from linas_sdk import __version__

    parser = argparse.ArgumentParser(prog="linas", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"linas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from linas_sdk.errors import LinasError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LinasError as error:
        print(f"linas: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
