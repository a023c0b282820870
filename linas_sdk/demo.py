"""`make demo` (`python -m linas_sdk.demo`): a whole search on this machine, in minutes.

Runs examples/mobilenetv3-local.yaml from the clone: LINAS over the small elastic MobileNetV3
(its committed weights), accuracy on the host against latency measured by a local agent
started on loopback, about 150 real evaluations. Each demo writes a new run directory; a second
demo answers every measurement it already has from the shared cache. Prints where the report is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from linas_sdk.api import search
from linas_sdk.errors import LinasError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mobilenetv3-local.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m linas_sdk.demo", description=__doc__)
    parser.add_argument("--config", type=Path, default=EXAMPLE, help="search config (YAML)")
    parser.add_argument("--budget", type=int, help="evaluations (default: the config's)")
    parser.add_argument("--out", type=Path, help="run directory (default: runs/demo-<time>)")
    parser.add_argument("--progress", choices=["rich", "quiet", "jsonl"], default="rich")
    args = parser.parse_args(argv)
    if not args.config.is_file():
        print(f"demo: {args.config} not found; run the demo from a clone of linas",
              file=sys.stderr)
        return 2
    options = yaml.safe_load(args.config.read_text())
    if args.budget is not None:
        options["budget"] = args.budget
    options["out"] = args.out or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    try:
        result = search(**options, progress=args.progress)
    except LinasError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2
    print(f"\n{result.evaluations} evaluations, {len(result.front)} on the Pareto front.")
    print(f"report: {result.report.resolve()}")
    print(f"pick a model for a build: linas export {result.out} --where 'latency_ms<=1' "
          "--maximize accuracy -o build/model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
