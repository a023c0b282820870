"""The options several commands share, so that each is spelled and means the same everywhere:

- ``--json``: print JSON to stdout instead of the human table (measure, devices, bench);
- ``--progress rich|quiet|jsonl``: how a long command shows its progress (search, demo, bench);
- ``--constraint NAME<=BOUND``: a bound an architecture must meet (export, bench);

and `Deprecated`, the action that keeps an old spelling working for one release.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

PROGRESS = ("rich", "quiet", "jsonl")
"""linas_host.run.progress.MODES, spelled again so that building the parser imports no host
logic (tests/test_layering.py); a test checks that the two agree."""


def add_json(parser: argparse.ArgumentParser) -> argparse.Action:
    return parser.add_argument(
        "--json", action="store_true", help="print JSON to stdout instead of the table"
    )


def add_progress(parser: argparse.ArgumentParser, help: str) -> argparse.Action:
    return parser.add_argument("--progress", choices=PROGRESS, default="rich", help=help)


def add_constraint(parser: argparse.ArgumentParser, example: str) -> argparse.Action:
    return parser.add_argument(
        "--constraint", action="append", default=[], metavar="NAME<=BOUND",
        help=f"a bound an architecture must meet, NAME<=BOUND or NAME>=BOUND, e.g. '{example}' "
        "(repeat, or separate with commas)",
    )


def constraints(given: Sequence[str]) -> list[str]:
    """The constraints of every ``--constraint``, commas split."""
    return [part.strip() for text in given for part in text.split(",") if part.strip()]


class Deprecated(argparse.Action):
    """An old spelling, kept for one release: it says so on stderr, then does what the new
    spelling does. `to` is the new spelling's action (what `add_argument` returned); `value`,
    when the old spelling was a flag, is the value it stands for (``--quiet`` is
    ``--progress quiet``). Hidden from --help, so that only the new spellings are taught.
    """

    def __init__(
        self, option_strings: list[str], dest: str, *, to: argparse.Action,
        value: str | None = None, **kwargs: Any,
    ) -> None:
        kwargs.setdefault("help", argparse.SUPPRESS)
        kwargs.setdefault("default", argparse.SUPPRESS)  # only the new spelling's dest is set
        if value is not None:
            kwargs["nargs"] = 0
        super().__init__(option_strings, dest, **kwargs)
        self.to, self.value, self.told = to, value, False

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
        option_string: str | None = None,
    ) -> None:
        new = self.to.option_strings[-1]
        given = values if self.value is None else self.value
        old = option_string if self.metavar is None else f"{option_string} {self.metavar}"
        use = f"{new} {self.value or self.to.metavar or ''}".rstrip()
        if not self.told:  # once, however often the old spelling is repeated
            print(f"{parser.prog}: {old} is deprecated and will be removed in the next release; "
                  f"use {use}", file=sys.stderr)
            self.told = True
        self.to(parser, namespace, self.to.type(given) if self.to.type else given, new)
