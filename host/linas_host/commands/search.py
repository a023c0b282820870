"""`linas search CONFIG.yaml`: run a hardware-aware search described by a config file.

Thin wrapper: the config schema is linas_host.config.schema, the run is linas_host.run.session.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from linas_host.commands.flags import Deprecated, add_progress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="search sub-networks against boards (see docs/search-e2e.md)",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument("config", type=Path, help="the search configuration (YAML)")
    parser.add_argument("--out", type=Path, help="run directory (overrides the config's `out`)")
    parser.add_argument(
        "--resume", action="store_true",
        help="continue the run in the output directory from its journal, re-measuring nothing",
    )
    parser.add_argument(
        "--warm-start", type=Path, metavar="RUN_DIR",
        help="a finished run on another board, same space, data and weights: reuse its "
        "accuracies (and other board-independent objectives) and learn from its board's "
        "latencies (overrides the config's `warm_start`)",
    )
    progress = add_progress(
        parser, help="a live panel on stderr (rich), only notes and the closing line (quiet), "
        "or one JSON object per event on stdout (jsonl, for CI logs)",
    )
    parser.add_argument("--quiet", action=Deprecated, to=progress, value="quiet")
    parser.add_argument("--jsonl", action=Deprecated, to=progress, value="jsonl")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from linas_host.config.schema import load
    from linas_host.run.session import run_search

    settings = load(args.config)
    if args.out is not None:
        settings = settings.model_copy(update={"out": args.out})
    if args.warm_start is not None:
        settings = settings.model_copy(update={"warm_start": args.warm_start})
    run_search(settings, resume=args.resume, progress=args.progress)
    return 0
