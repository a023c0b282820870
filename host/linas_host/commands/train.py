"""`linas train NAME [OPTIONS]`: train a supernet's shared weights and cache them.

NAME is a trainer (`linas_host.supernets.trainer`: built-in, registered, a ``linas.trainers``
entry point or a ``"module:attr"`` path). Each trainer declares its own OPTIONS, so they are
parsed once NAME is loaded (`linas train NAME --help` lists them) and building the `linas`
parser imports no trainer.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any


class _HelpNamingTrainers(argparse.Action):
    """``--help`` that also lists the trainers, looked up only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0,
            help="show this help and the trainers, and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from linas_host.supernets.trainer import names

        parser.print_help()
        print(f"\ntrainers: {', '.join(names())}, or a 'module:attr' path")
        parser.exit()


def register(subparsers: argparse._SubParsersAction) -> None:
    description = __doc__.split("\n")[0]
    parser = subparsers.add_parser(
        "train", help="train a supernet's shared weights", description=description,
        add_help=False,
    )
    parser.add_argument("-h", "--help", action=_HelpNamingTrainers)
    parser.add_argument("trainer", metavar="NAME", help="the trainer (see the list below)")
    parser.add_argument(
        "options", nargs=argparse.REMAINDER, metavar="OPTIONS",
        help="the trainer's options (linas train NAME --help)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from linas_host.supernets.trainer import resolve

    trainer = resolve(args.trainer)
    parser = argparse.ArgumentParser(prog=f"linas train {args.trainer}", description=trainer.help)
    trainer.options(parser)
    given = vars(parser.parse_args(args.options))
    options = {k: v for k, v in given.items() if v is not None}
    line = "linas " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else ""
    print(f"weights: {trainer(**options, command=line)}")
    return 0
