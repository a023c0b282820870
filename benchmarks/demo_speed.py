"""`make demo`'s candidates per minute, this tree against an earlier one, side by side (issue 26).

    .venv/bin/python benchmarks/demo_speed.py [--baseline 7de5994] [--budget 50] [--rounds 2]

The demo's search (examples/mobilenetv3-local.yaml: the small elastic MobileNetV3, accuracy on
the host, latency through a local agent on this machine) for `--budget` evaluations (its
population, so every candidate is a fresh sample and the method's own time does not count),
no measurement cache, run by `linas search` from this tree and from `--baseline` (checked out
with `git worktree` into a temporary folder and run with the same venv), alternately, in
`--rounds` rounds. Prints each run's candidates per minute and the medians' ratio (target:
this tree at least 1.5x the baseline, issue 26). No assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BEFORE_ISSUE_26 = "7de5994"
"""The last commit before a candidate's accuracy was scored on its exported file."""


def run(tree: Path, config: Path, cwd: Path) -> float:
    """Seconds for `linas search CONFIG` run from the source `tree`."""
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(str(tree / p) for p in ("", "host", "agent"))}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "linas_sdk.cli", "search", str(config),
                    "--quiet"], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default=BEFORE_ISSUE_26)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    options = yaml.safe_load((ROOT / "examples" / "mobilenetv3-local.yaml").read_text())
    options.update(budget=args.budget, population=args.budget, cache=False)
    rates: dict[str, list[float]] = {"baseline": [], "this tree": []}
    with tempfile.TemporaryDirectory(prefix="linas-demo-speed-") as folder:
        work = Path(folder)
        baseline = work / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(baseline),
                        args.baseline], check=True, capture_output=True)
        try:
            for round_ in range(args.rounds):
                for name, tree in (("baseline", baseline), ("this tree", ROOT)):
                    config = work / f"{name.replace(' ', '-')}-{round_}.yaml"
                    config.write_text(yaml.safe_dump({**options, "out": str(work / config.stem)}))
                    seconds = run(tree, config, work)
                    rates[name].append(60 * args.budget / seconds)
                    print(f"round {round_} {name}: {seconds:.1f} s, "
                          f"{rates[name][-1]:.1f} candidates/min", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(baseline)], check=False, capture_output=True)
    before, now = (statistics.median(rates[k]) for k in ("baseline", "this tree"))
    print(f"median candidates/min over {args.rounds} rounds of {args.budget}: baseline "
          f"{args.baseline} {before:.1f}, this tree {now:.1f}, ratio {now / before:.2f} "
          "(target >= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
