"""`linas demo`: a whole search on this machine, in minutes (what `make demo` runs).

Runs examples/mobilenetv3-local.yaml from the clone: LINAS over the small elastic MobileNetV3,
accuracy on the host against latency measured by a local agent started on loopback, about 150
real evaluations. The supernet's committed weights are used; without them, weights trained
earlier by `linas train mobilenetv3` (in the cache), else they are trained first. Each demo
writes a new run directory; a second demo answers every measurement it already has from the
shared cache. Prints where the report is.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import time
from pathlib import Path

from linas_host.commands.flags import add_progress

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "mobilenetv3-local.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="search the demo supernet on this machine (what `make demo` runs)",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument("--config", type=Path, default=EXAMPLE, help="search config (YAML)")
    parser.add_argument("--budget", type=int, help="evaluations (default: the config's)")
    parser.add_argument("--out", type=Path, help="run directory (default: runs/demo-<time>)")
    add_progress(parser, help="a live panel (rich), only notes (quiet), or JSON lines (jsonl)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from linas_host.config.schema import load
    from linas_host.run.session import run_search
    from linas_sdk.errors import InvalidArgument

    if not args.config.is_file():
        raise InvalidArgument(f"{args.config} not found; run the demo from a clone of linas")

    settings = load(args.config)
    update = {"out": args.out or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")}
    if args.budget is not None:
        update["budget"] = args.budget
    if settings.space.supernet == "mobilenetv3" and "weights" not in settings.space.options:
        weights = _mobilenetv3_weights()
        if weights is not None:
            options = {**settings.space.options, "weights": str(weights)}
            update["space"] = settings.space.model_copy(update={"options": options})
    settings = settings.model_copy(update=update)
    # JSON lines own stdout; the demo's own words then go to stderr
    say = functools.partial(print, file=sys.stderr if args.progress == "jsonl" else sys.stdout,
                            flush=True)
    say(f"linas demo: {args.config} -> {settings.out}")
    result = run_search(settings, progress=args.progress)
    say(f"\n{result.evaluations} evaluations, {len(result.front)} on the Pareto front.")
    say(f"report: {result.report.resolve()}")
    latencies = sorted(row["latency_ms"] for row in result.front if "latency_ms" in row)
    if latencies:
        bound = f"{latencies[len(latencies) // 2]:.3g}"
        say(f"pick a model for a build: linas export {result.out} "
            f"--constraint 'latency_ms<={bound}' --maximize accuracy -o build/model")
    return 0


def _mobilenetv3_weights() -> Path | None:
    """None when the committed weights are there; else cached ones, trained now if need be."""
    from linas_host import paths
    from linas_host.supernets.mobilenetv3.supernet import DEFAULT_WEIGHTS

    if DEFAULT_WEIGHTS.is_file():
        return None
    cached = paths.cache_dir() / "mobilenetv3.pt"
    if not cached.is_file():
        print(f"no committed MobileNetV3 weights: training them into {cached} first "
              "(`linas train mobilenetv3`, a few minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "linas_sdk.cli", "train", "mobilenetv3",
                        "--out", str(cached)], check=True)
    return cached
