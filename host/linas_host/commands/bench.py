"""`linas bench`: compare search methods on a table of measured architectures.

Thin wrapper over linas_host.bench (docs/search.md). Example, on the shared Pi 5 table
(its variables are the ops on a NAS-Bench-201 cell's six edges, which --edge and --zero-op tell
LINAS's predictors):

    linas bench --table nb201_pi5_cifar100.csv.gz --var e0 --var e1 --var e2 --var e3 \\
        --var e4 --var e5 --objective acc_cifar100:max --objective lat_pi5_onnx_ms:min \\
        --edge e0=0-1 --edge e1=0-2 --edge e2=1-2 --edge e3=0-3 --edge e4=1-3 --edge e5=2-3 \\
        --zero-op none --budget 1000 --seeds 10 --methods linas,nsga2,random --out bench.json

Three objectives: a third --objective (e.g. energy_pi5_onnx_mj:min). A selection protocol's
seed set: --first-seed 10 --seeds 10 --budget 400 --target-budget 1000. An ablation:
--option linas.extremes=0 (any keyword of the method's factory; the value is read as YAML).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from linas_host.commands.flags import Deprecated, add_constraint, add_progress, constraints


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="compare search methods on a measured table (replays its rows)",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument(
        "--suite",
        metavar="NAME",
        help="run every problem of a named suite instead of one table: shared (acc_cifar100 "
        "against each Pi 5 column, and three objectives), held-out (NAS-Bench-201's "
        "cifar10-valid and ImageNet16-120 accuracies against Pi 5 latencies) or wide (both); "
        "each problem described plainly and as a cell",
    )
    parser.add_argument(
        "--problem", action="append", default=[], metavar="NAME",
        help="with --suite: only this problem, e.g. acc_cifar100+lat_pi5_onnx_ms/plain (repeat)",
    )
    parser.add_argument(
        "--table",
        type=Path,
        help="CSV or CSV.gz, one row per "
        "architecture (`shared` for the bundled NAS-Bench-201 Pi 5 table)",
    )
    parser.add_argument(
        "--var",
        action="append",
        metavar="COLUMN",
        help="a design-variable column (repeat for each)",
    )
    parser.add_argument(
        "--objective",
        action="append",
        metavar="COLUMN:DIR",
        help="an objective column with its direction, e.g. acc_cifar100:max "
        "(repeat; 2 to 4: the hypervolume is N-dimensional)",
    )
    add_constraint(parser, example="lat_pi5_onnx_ms<=5")
    parser.add_argument(
        "--edge",
        action="append",
        default=[],
        metavar="COLUMN=FROM-TO",
        help="a variable column that is the op on a cell's edge between two "
        "nodes, 0 the input and the largest the output (repeat; needs "
        "--zero-op)",
    )
    parser.add_argument(
        "--zero-op", metavar="VALUE", help="the edge op that cuts an edge (e.g. none)"
    )
    parser.add_argument("--budget", type=int, default=1000, help="evaluations per run")
    parser.add_argument(
        "--seeds", type=int, default=10, help="runs per method (seeds FIRST..FIRST+N-1)"
    )
    parser.add_argument(
        "--first-seed", type=int, default=0, metavar="FIRST", help="the first seed (default 0)"
    )
    parser.add_argument(
        "--target-budget",
        type=int,
        metavar="N",
        help="the target is NSGA-II's hypervolume after N evaluations (NSGA-II "
        "runs that long; default: --budget)",
    )
    parser.add_argument(
        "--methods", default="linas,nsga2,random", help="comma-separated method names"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="METHOD.KEY=VALUE",
        help="a keyword option of a method's factory, the value read as YAML, "
        "e.g. linas.extremes=0, linas.trust_radius=null (repeat)",
    )
    parser.add_argument("--population", type=int, default=50, help="population size P")
    parser.add_argument(
        "--reference",
        type=float,
        nargs="+",
        metavar="VALUE",
        help="hypervolume reference point, one value per objective in its own "
        "units (default: each objective's worst value in the table)",
    )
    parser.add_argument(
        "--warm-start-from", metavar="COLUMN",
        help="warm-start each seed's LINAS run from a finished LINAS run on the first "
        "objective and COLUMN (minimised), journaled in --journal DIR; figures count only the "
        "new runs' evaluations (the other methods run cold)",
    )
    parser.add_argument(
        "--warm-budget", type=int, default=1000, metavar="N",
        help="evaluations of each warm start's source run (default 1000)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument(
        "--journal", type=Path, metavar="DIR", help="keep a run journal per method and seed in DIR"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the runs journaled in --journal DIR"
    )
    out = parser.add_argument(
        "--out", type=Path, metavar="FILE",
        help="write the figures and every run's row numbers as JSON to FILE",
    )
    parser.add_argument(
        "--json", action=_JsonOrOut, to=out, nargs="?", default=False, metavar="FILE",
        help="print the JSON figures to stdout instead of the table (--json FILE is deprecated: "
        "use --out FILE)",
    )
    progress = add_progress(
        parser, help="per finished run on stderr: a line (rich), nothing (quiet), or a JSON "
        "object (jsonl); stdout keeps the table or the JSON figures",
    )
    parser.add_argument("--quiet", action=Deprecated, to=progress, value="quiet")
    parser.set_defaults(func=run)


class _JsonOrOut(Deprecated):
    """``--json`` prints the figures; ``--json FILE``, its old meaning, is ``--out FILE``."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
        option_string: str | None = None,
    ) -> None:
        if values is None:
            setattr(namespace, self.dest, True)
        else:
            super().__call__(parser, namespace, values, option_string)


def run(args: argparse.Namespace) -> int:
    import json

    from linas_host.bench import (
        SHARED_TABLE,
        BenchRun,
        format_report,
        parse_method_options,
        run_bench,
        write_json,
    )
    from linas_sdk.errors import InvalidArgument

    if args.resume and args.journal is None:
        raise InvalidArgument("--resume needs --journal DIR (where the runs were journaled)")
    cell = _cell(args.edge, args.zero_op)

    def on_run(r: BenchRun) -> None:
        if args.progress == "jsonl":
            line = json.dumps({
                "event": "run", "method": r.method, "seed": r.seed, "evaluations": len(r.rows),
                "status": r.status, "wall_seconds": round(r.wall_seconds, 3),
                "resumed": r.resumed, "hypervolume": r.hypervolume[-1] if r.hypervolume else None,
            })
        elif args.progress == "rich":
            line = (f"{r.method} seed {r.seed}: {len(r.rows)} evaluations, {r.status}, "
                    f"{r.wall_seconds:.1f} s")
        else:
            return
        print(line, file=sys.stderr, flush=True)

    settings = dict(
        constraints=constraints(args.constraint),
        budget=args.budget,
        seeds=args.seeds,
        first_seed=args.first_seed,
        target_budget=args.target_budget,
        method_options=parse_method_options(args.option),
        methods=[m.strip() for m in args.methods.split(",") if m.strip()],
        population=args.population,
        reference_point=args.reference,
        resume=args.resume,
    )
    if args.suite is not None:
        return _run_suite(args, settings, on_run)
    if args.problem:
        raise InvalidArgument("--problem picks problems of a --suite")
    missing = [flag for flag, value in (("--table", args.table), ("--var", args.var),
                                        ("--objective", args.objective)) if not value]
    if missing:
        raise InvalidArgument(f"{', '.join(missing)} needed (or --suite NAME)")
    report = run_bench(
        table=SHARED_TABLE if str(args.table) == "shared" else args.table,
        variables=args.var,
        objectives=args.objective,
        cell=cell,
        journal_dir=args.journal,
        warm_start_from=args.warm_start_from,
        warm_budget=args.warm_budget,
        jobs=args.jobs,
        on_run=on_run,
        **settings,
    )
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    if args.out is not None:
        write_json(report, args.out)
    return 0


def _run_suite(args: argparse.Namespace, settings: dict, on_run) -> int:
    """``--suite``: each problem's Markdown row on stdout as it finishes (its whole report in
    the journal folder), every report in ``--out``."""
    import json

    from linas_host.bench import CHECKPOINTS, write_json
    from linas_host.bench.suite import format_row, run_suite
    from linas_sdk.errors import InvalidArgument

    given = [flag for flag, value in (
        ("--table", args.table), ("--var", args.var), ("--objective", args.objective),
        ("--edge", args.edge), ("--zero-op", args.zero_op),
        ("--warm-start-from", args.warm_start_from)) if value]
    if given:
        raise InvalidArgument(f"--suite names its own problems; leave out {', '.join(given)}")
    if settings["reference_point"] is not None:
        raise InvalidArgument("--suite problems take each table's own reference point; "
                              "leave out --reference")

    def on_problem(report: dict) -> None:
        if args.json:
            print(json.dumps(report), flush=True)
        else:
            print(format_row(report), flush=True)

    if not args.json:
        budget = settings["budget"]
        at = "/".join(str(c) for c in sorted({c for c in CHECKPOINTS if c <= budget} | {budget}))
        print(f"| problem | linas gap % @{at} | nsga2 gap % | linas evaluations to nsga2@"
              f"{settings['target_budget'] or budget} |\n|---|---|---|---|", flush=True)
    reports = run_suite(args.suite, only=args.problem, jobs=args.jobs, journal_dir=args.journal,
                        on_problem=on_problem, on_run=on_run, **settings)
    if args.out is not None:
        write_json({"suite": args.suite, "problems": reports}, args.out)
    return 0


def _cell(edges: list[str], zero: str | None):
    from linas_sdk.cell import Cell
    from linas_sdk.errors import InvalidArgument

    if not edges and zero is None:
        return None
    if not edges or zero is None:
        raise InvalidArgument(
            "--edge and --zero-op go together: the edges, and the op that cuts one"
        )
    pairs = {}
    for text in edges:
        name, _, span = text.partition("=")
        start, _, end = span.partition("-")
        if not (name and start.isdigit() and end.isdigit()):
            raise InvalidArgument(f"--edge {text!r}: expected COLUMN=FROM-TO, e.g. e0=0-1")
        pairs[name] = (int(start), int(end))
    return Cell(edges=pairs, zero=zero)
