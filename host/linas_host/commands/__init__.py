"""The host's `linas` subcommands, one module each: thin wrappers that parse arguments and call
the host's logic (`linas_host.run`, `devices`, `export`, `search.bench`, the supernets'
trainers), imported only when the command runs.

`register` is the host side's ``linas.commands`` entry point; every command it adds needs the
``host`` extra, which the `linas` face checks before running one.
"""

from __future__ import annotations

import argparse
import importlib

from linas_host.threads import passive_openmp

COMMANDS = ("search", "demo", "bench", "devices", "measure", "export", "train")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the host's subcommands to the `linas` parser, and ask OpenMP to wait passively
    before any of them imports torch (`linas_host.threads`)."""
    passive_openmp()
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
        subparsers.choices[name].set_defaults(extra="host")
