"""`linas export RUN_DIR`: pick the best model of a search that meets constraints, for a build.

Writes OUT/model.onnx (or .tflite) and OUT/manifest.json. Exit codes, for Makefile and CMake
steps: 0 a model was exported; 3 (EXIT_NO_MODEL) no measured model meets the constraints;
2 the run directory, a constraint or an option is invalid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from linas_host.commands.flags import Deprecated, add_constraint, constraints

EXIT_NO_MODEL = 3
"""No measured architecture meets the --constraint bounds: the build should fail."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export the best model of a run that meets constraints (see docs/export.md)",
        description=__doc__.split("\n")[0],
        epilog="Without --maximize/--minimize, the run's first objective decides. Exit codes: "
        "0 exported, 3 no model meets the constraints, 2 invalid input.",
    )
    parser.add_argument("run_dir", type=Path, help="a `linas search` output directory")
    constraint = add_constraint(parser, example="latency_ms<=5")
    parser.add_argument("--where", action=Deprecated, to=constraint)
    goal = parser.add_mutually_exclusive_group()
    goal.add_argument("--maximize", metavar="NAME", help="pick the highest NAME (e.g. accuracy)")
    goal.add_argument("--minimize", metavar="NAME", help="pick the lowest NAME (e.g. latency_ms)")
    parser.add_argument("--format", choices=["onnx", "tflite"],
                        help="artifact format (default: the runtime the run measured)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from linas_host.firmware import NoModelMeetsConstraints, export_model

    objective, direction = ((args.minimize, "min") if args.minimize
                            else (args.maximize, "max") if args.maximize else (None, None))
    try:
        manifest = export_model(args.run_dir, constraints=constraints(args.constraint),
                                objective=objective, direction=direction, fmt=args.format,
                                out=args.out)
    except NoModelMeetsConstraints as error:
        print(f"linas export: {error}", file=sys.stderr)
        return EXIT_NO_MODEL
    print(f"wrote {manifest} and its model in {manifest.parent}")
    return 0
