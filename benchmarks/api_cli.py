"""The Python API and the CLI run the same search in the same time (issue 25).

    .venv/bin/python benchmarks/api_cli.py [--rounds 3] [--budget 10]

The demo's search (examples/mobilenetv3-local.yaml: the small elastic MobileNetV3, accuracy on
the host, latency through a local agent on this machine), cut to `--budget` evaluations with a
population of the same size and no measurement cache, run in rounds: `linas search CONFIG` and
then `python -c "import linas_sdk; linas_sdk.search(**the same options)"`, each a fresh process
as a user starts it (the environment as the caller's, without OMP_WAIT_POLICY). Prints each
run's wall time, the medians and the API/CLI ratio (target: within 10 %). No assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "mobilenetv3-local.yaml"


def options(budget: int, out: Path) -> dict:
    config = yaml.safe_load(EXAMPLE.read_text())
    return {**config, "budget": budget, "population": budget, "cache": False, "out": str(out)}


def timed(argv: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=10)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"cli": [], "api": []}
    with tempfile.TemporaryDirectory(prefix="linas-api-cli-") as folder:
        work = Path(folder)
        for round_ in range(args.rounds):
            config = work / f"cli{round_}.yaml"
            config.write_text(yaml.safe_dump(options(args.budget, work / f"cli{round_}")))
            times["cli"].append(timed(
                [sys.executable, "-m", "linas_sdk.cli", "search", str(config), "--quiet"], work))
            given = json.dumps(options(args.budget, work / f"api{round_}"))
            script = f"import json, linas_sdk; linas_sdk.search(**json.loads({given!r}), " \
                     "progress='quiet')"
            times["api"].append(timed([sys.executable, "-c", script], work))
            print(f"round {round_}: cli {times['cli'][-1]:.1f} s, api {times['api'][-1]:.1f} s",
                  flush=True)
    cli, api = statistics.median(times["cli"]), statistics.median(times["api"])
    print(f"median over {args.rounds} rounds, {args.budget} evaluations: "
          f"cli {cli:.1f} s, api {api:.1f} s, api/cli {api / cli:.2f} (target 0.90-1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
