"""A real transfer on real images (issue 27): train the bundled elastic MobileNetV3 (width 0.15,
16 px, grayscale) from scratch on the digits 0-4, then adapt it to the digits 5-9 (a new head on
a disjoint label set) and compare with the same steps from random initialisation, for 3 seeds:
val top-1 of the smallest and largest sub-network after 1, 3 and 10 epochs. Then a
100-evaluation LINAS search of the adapted supernet (top-1 on the host, latency through a local
agent) and the span of its front; `--resolutions 12 14 16` makes the input resolution a 46th
gene, as Once-for-All searches it (the supernet is trained at 16 px only).

The images are scikit-learn's digits, upscaled to 16 px and distorted as the digits task does
(rotation, scale, shift, noise), written as PNG files with Pillow into image folders; both
trainings read them through `linas train mobilenetv3 --train DIR --valid DIR` (the Python
function under it), augmented with random resized crops (no flips: a mirrored digit is not a
digit). Every run writes its checkpoint each epoch under --work, so a rerun resumes where it
stopped: finished runs are read back, an interrupted one continues from its last epoch.

    nice -n 10 python benchmarks/adapt.py [--work .cache/adapt-bench] [--seeds 0 1 2]
        [--epochs 10] [--pretrain-epochs 10] [--budget 100] [--resolutions 16]
        [--threads 1] [--jobs 2]
    python benchmarks/adapt.py --search-only    # the search alone, once adapted-0.pt is done
    python benchmarks/adapt.py --ofa-step [--threads 2]

`--ofa-step` times sandwich steps of OFA w1.0 at 224 px instead (a random-weight checkpoint
with the reference's keys, batch 32, the largest, the smallest and 2 random sub-networks, as
the trainer steps) and reports the process's peak resident memory.

Targets: after 1 epoch the adapted supernet leads scratch by at least 10 points at both ends;
after 10 epochs it is at least level; the searched front spans at least 5 top-1 points; all
within 45 minutes on 2 cores.
"""
# ruff: noqa: E402 (OpenMP's wait policy is set before torch is imported)

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from linas_host.threads import passive_openmp

passive_openmp()  # as `run_search` does, before torch is imported

import numpy as np
import torch
import torch.nn.functional as F
from linas_host.supernets.mobilenetv3.adapt import AdaptRecipe, adapt, state_path
from linas_host.supernets.mobilenetv3.digits import Distortion
from PIL import Image

REPORTED = (1, 3, 10)
RECIPE = {"crop_scale": 0.6, "flip": False}


def write_digits(root: Path, digits: range, *, train_copies: int = 1, val_copies: int = 2) -> None:
    """The digits in `digits` as 16 px grayscale PNGs: ``train/D/`` and ``valid/D/`` (a fixed
    stratified 75/25 split of scikit-learn's images), each a distorted copy (seeded)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = torch.from_numpy(data.images.astype(np.float32) / 16.0).unsqueeze(1)
    images = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
    train, val = train_test_split(
        np.arange(len(data.target)), test_size=0.25, random_state=0, stratify=data.target
    )
    generator = torch.Generator().manual_seed(0)
    for role, index, copies in (("train", train, train_copies), ("valid", val, val_copies)):
        keep = [i for i in index if data.target[i] in digits]
        for copy in range(copies):
            distorted = Distortion().apply(images[keep], generator) * 0.5 + 0.5
            pixels = (distorted.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
            for i, image in zip(keep, pixels[:, 0], strict=True):
                folder = root / role / str(data.target[i])
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(image, mode="L").save(folder / f"{i:04d}_{copy}.png")


def trained(out: Path, **options) -> dict:
    """The manifest of the run writing `out`: read back when finished, else run (resuming its
    checkpoint when one exists)."""
    manifest = out.with_suffix(".json")
    if manifest.is_file():
        return json.loads(manifest.read_text())
    resume = state_path(out).is_file()
    adapt(out=out, resume=resume, progress=False,
          log=lambda line: print(f"    {out.stem}: {line}", flush=True), **options)  # fmt: skip
    return json.loads(manifest.read_text())


def train_all(work: Path, args: argparse.Namespace) -> dict[tuple[int, str], dict]:
    """Every training's manifest by (seed, start), `args.jobs` at a time: the pretraining and
    the runs from scratch first, the adaptations once the pretraining is done."""
    common = {"threads": args.threads, "resolution": 16}
    new = {"train_dir": work / "new" / "train", "valid_dir": work / "new" / "valid"}
    spawn = multiprocessing.get_context("spawn")  # torch in forked workers can deadlock
    with ProcessPoolExecutor(args.jobs, mp_context=spawn) as pool:
        print(f"pretraining on the digits 0-4 ({args.pretrain_epochs} epochs, seed 0)", flush=True)
        pre = pool.submit(trained, work / "pretrained.pt", train_dir=work / "old" / "train",
                          valid_dir=work / "old" / "valid", grayscale=True, **common,
                          recipe=AdaptRecipe(epochs=args.pretrain_epochs, **RECIPE))  # fmt: skip
        runs = {(seed, "scratch"): pool.submit(
                    trained, work / f"scratch-{seed}.pt", checkpoint=None, grayscale=True,
                    recipe=AdaptRecipe(epochs=args.epochs, seed=seed, **RECIPE), **new, **common)
                for seed in args.seeds}  # fmt: skip
        print(f"  digits 0-4: {pre.result()['accuracy']}", flush=True)
        runs |= {(seed, "adapted"): pool.submit(
                     trained, work / f"adapted-{seed}.pt", checkpoint=work / "pretrained.pt",
                     grayscale=False, recipe=AdaptRecipe(epochs=args.epochs, seed=seed, **RECIPE),
                     **new, **common)
                 for seed in args.seeds}  # fmt: skip
        return {key: run.result() for key, run in runs.items()}


def front_span(run: Path, resolutions: list[int]) -> dict:
    """Top-1 and latency ranges of the run's measured front (pareto.csv), and the resolutions
    on it."""
    with (run / "pareto.csv").open() as rows:
        rows = list(csv.DictReader(rows))
    top1 = [100 * float(r["accuracy"]) for r in rows]
    latency = [float(r["latency_ms"]) for r in rows]
    sides = sorted({int(r["resolution"]) for r in rows if r.get("resolution")}) or resolutions
    return {"points": len(rows), "top1": (min(top1), max(top1)),
            "latency_ms": (min(latency), max(latency)), "resolutions": sides}  # fmt: skip


def searched(work: Path, seed: int, budget: int, resolutions: list[int], threads: int) -> None:
    """A LINAS search of adapted-SEED.pt at `resolutions` (top-1 on the host on the 5-9
    validation folder, latency through a local agent), resumed from its journal; print its
    front's span."""
    from linas_sdk import search

    tag = "-".join(map(str, resolutions))
    run, weights = work / f"search-{tag}", work / f"adapted-{seed}.pt"
    if not weights.with_suffix(".json").is_file():
        raise SystemExit(f"{weights} is not finished: run the benchmark first")
    print(f"\nLINAS search of {weights.name} at {tag} px, budget {budget}", flush=True)
    started = time.perf_counter()
    search(
        space={"supernet": "mobilenetv3",
               "options": {"weights": str(weights), "resolutions": resolutions}},
        data={"val": str(work / "new" / "valid")}, objectives=["accuracy", "latency"],
        method="linas", population=20, budget=budget, seed=0, threads=threads, out=run,
        cache_dir=run / "cache",  # every candidate measured by this run, none from another
        resume=(run / "journal.sqlite").is_file(), progress="quiet",
    )  # fmt: skip
    span = front_span(run, resolutions)
    print(f"front: {span['points']} points, top-1 {span['top1'][0]:.1f}-{span['top1'][1]:.1f} "
          f"% (span {span['top1'][1] - span['top1'][0]:.1f} points), latency "
          f"{span['latency_ms'][0]:.3f}-{span['latency_ms'][1]:.3f} ms, at "
          f"{', '.join(map(str, span['resolutions']))} px "
          f"({time.perf_counter() - started:.0f} s)")  # fmt: skip


def ofa_step(threads: int, steps: int = 3) -> None:
    """Seconds of one sandwich step of OFA w1.0 at 224 px, batch 32, and peak memory."""
    import resource

    from linas_host.supernets.mobilenetv3.adapt import sandwich_loss
    from linas_host.supernets.mobilenetv3.net import Architecture, ElasticMobileNetV3
    from linas_host.supernets.mobilenetv3.space import mobilenetv3_space

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = ElasticMobileNetV3(Architecture(width=1.0, num_classes=10)).train()
    arch = net.arch
    space = mobilenetv3_space(arch.depths, arch.expand_ratios, arch.kernel_sizes)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x, y = torch.randn(32, 3, 224, 224), torch.randint(0, 10, (32,))
    rng = np.random.default_rng(0)
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        sandwich_loss(net, space, x, y, rng, AdaptRecipe())
        optimizer.step()
        times.append(time.perf_counter() - began)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"OFA w1.0, 224 px, batch 32, 4 sub-networks, {threads} thread(s): step "
          f"{', '.join(f'{t:.1f}' for t in times)} s; peak resident memory {peak:.2f} GiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path(".cache/adapt-bench"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100, help="search evaluations (0: none)")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[16],
                        help="the search's input resolutions (px; trained at 16)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per training")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at a time")
    parser.add_argument("--ofa-step", action="store_true", help="time OFA w1.0 steps instead")
    parser.add_argument("--search-only", action="store_true",
                        help="only the search of the finished adapted-SEED.pt")  # fmt: skip
    args = parser.parse_args()
    if args.ofa_step:
        ofa_step(args.threads)
        return
    started = time.perf_counter()
    work = args.work
    if args.search_only:
        searched(work, args.seeds[0], args.budget, args.resolutions, args.threads)
        return
    for name, digits in (("old", range(0, 5)), ("new", range(5, 10))):
        if not (work / name / "valid").is_dir():
            write_digits(work / name, digits)
    manifests = train_all(work, args)
    rows = [{"seed": seed, "start": start, "history": manifests[seed, start]["history"],
             "seconds": manifests[seed, start]["train_seconds"]}
            for seed in args.seeds for start in ("adapted", "scratch")]  # fmt: skip
    print("\nval top-1 (%) on the digits 5-9, smallest / largest sub-network")
    print(f"{'seed':>4} {'start':>8} " + " ".join(f"{'epoch ' + str(e):>14}" for e in REPORTED))
    for row in rows:
        by = {h["epoch"]: h for h in row["history"]}
        cells = [f"{100 * by[e]['top1_smallest']:5.1f} / {100 * by[e]['top1_largest']:5.1f}"
                 if e in by else "-" for e in REPORTED]  # fmt: skip
        print(f"{row['seed']:>4} {row['start']:>8} " + " ".join(f"{c:>14}" for c in cells))
    for e in REPORTED:
        gaps = []
        for seed in args.seeds:
            h = {r["start"]: {x["epoch"]: x for x in r["history"]} for r in rows
                 if r["seed"] == seed}  # fmt: skip
            if e in h["adapted"] and e in h["scratch"]:
                gaps.append([100 * (h["adapted"][e][k] - h["scratch"][e][k])
                             for k in ("top1_smallest", "top1_largest")])  # fmt: skip
        if gaps:
            mean = np.mean(gaps, axis=0)
            low = np.min(gaps, axis=0)
            print(f"epoch {e}: adapted - scratch, mean over {len(gaps)} seeds: smallest "
                  f"{mean[0]:+.1f}, largest {mean[1]:+.1f} points (worst seed {low[0]:+.1f}, "
                  f"{low[1]:+.1f})")  # fmt: skip
    if args.budget:
        searched(work, args.seeds[0], args.budget, args.resolutions, args.threads)
    print(f"\nwall time of this invocation: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
