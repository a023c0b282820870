"""Weight-sharing training of the Transformer supernet with the sandwich rule (BigNAS,
Yu et al., 2020): every step trains the largest sub-network, the smallest and random ones (one
by default, as HAT samples one per step) on the same batch, summing their gradients, so both
ends of the space come out good.

A fixed number of steps (not a time budget) keeps a seed's result reproducible. The corpus is
easy: after 13 epochs the smallest sub-network of a wider earlier demo space (embed 64, 2
heads) translated the validation set perfectly (BLEU 99.99 at both ends, measured), so the demo
recipe stops after 5 epochs (470 steps of 128 pairs), where capacity decides how far a
sub-network gets: a real trade-off, in minutes.
"""

from __future__ import annotations

import math
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from linas_host.paths import cache_dir
from linas_host.supernets import weights as weight_files
from linas_host.supernets.trainer import Trainer, common_options
from linas_host.supernets.transformer.bleu import source_ids, teacher_ids
from linas_host.supernets.transformer.supernet import TransformerSupernet, build
from linas_host.supernets.transformer.vocab import PAD

EPOCHS = 5  # 470 steps: the large end converges, the small end lags (a real trade-off)
BATCH_SIZE = 128

def train_supernet(
    supernet: TransformerSupernet,
    *,
    steps: int,
    batch_size: int = BATCH_SIZE,
    lr: float = 2e-3,
    warmup: int = 100,
    random_subnets: int = 1,
    label_smoothing: float = 0.1,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train `supernet` in place; returns what was done (steps, seconds, final losses)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    pairs = supernet.corpus()["train"]
    src = source_ids(supernet.vocab, pairs, supernet.steps)
    tgt_in, tgt_out = teacher_ids(supernet.vocab, pairs, supernet.steps)
    net = supernet.net.train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)

    def schedule(step: int) -> float:  # linear warm-up, then cosine decay to zero
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    order = torch.randperm(len(pairs))
    position, started, losses = 0, time.monotonic(), {}
    for step in range(steps):
        if position + batch_size > len(order):
            order, position = torch.randperm(len(pairs)), 0
        batch = order[position : position + batch_size]
        position += batch_size
        x, y_in, y_out = src[batch], tgt_in[batch], tgt_out[batch]
        length = int((y_in != PAD).sum(1).max())  # trim padding columns the batch does not use
        y_in, y_out = y_in[:, :length], y_out[:, :length]
        configs = [supernet.largest, supernet.smallest]
        configs += supernet.space.sample(rng, random_subnets)
        optimizer.zero_grad(set_to_none=True)
        names = ["largest", "smallest", *["random"] * random_subnets]
        for name, config in zip(names, configs, strict=True):
            logits = net(x, y_in, supernet.arch(config))
            loss = F.cross_entropy(
                logits.flatten(0, 1), y_out.flatten(), ignore_index=PAD,
                label_smoothing=label_smoothing,
            )  # fmt: skip
            loss.backward()
            losses[name] = loss.item()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if log and (step % 100 == 0 or step == steps - 1):
            shown = " ".join(f"{k} {v:.3f}" for k, v in losses.items())
            log(f"step {step + 1}/{steps} {time.monotonic() - started:.0f}s loss {shown}")
    net.eval()
    return {"steps": steps, "seconds": round(time.monotonic() - started, 1), "losses": losses}


def train(
    *,
    out: Path | str | None = None,
    epochs: int | None = None,
    seed: int = 0,
    threads: int = 2,
    max_steps: int | None = None,
    command: str = "",
    half: bool = True,
    log: Callable[[str], None] | None = print,
) -> Path:
    """Build the demo supernet, train it (`max_steps` steps, else `epochs` passes over the
    training split, default `EPOCHS`), score both ends on the validation set and save the weights
    with their manifest (in half precision with `half`, which halves the file); return the
    weights' path (default: the cache, `linas_host.paths.cache_dir`)."""
    options = [f"--seed={seed}", f"--threads={threads}"]
    options += [f"--epochs={epochs}"] if epochs is not None else []
    options += [f"--max-steps={max_steps}"] if max_steps is not None else []
    torch.set_num_threads(threads)
    out = Path(out) if out else cache_dir() / "transformer.pt"
    supernet = build()
    batches = math.ceil(len(supernet.corpus()["train"]) / BATCH_SIZE)
    steps = max_steps or (epochs or EPOCHS) * batches
    record = train_supernet(supernet, steps=steps, seed=seed, log=log)
    if half:  # score what is saved: the weights as they will be loaded
        with torch.no_grad():
            for p in supernet.net.parameters():
                p.copy_(p.half().float())
    scores = {
        end: supernet.evaluate(supernet.extract(config))["bleu"]
        for end, config in (("smallest", supernet.smallest), ("largest", supernet.largest))
    }
    if log:
        log(f"trained in {record['seconds']:.0f} s; validation BLEU: smallest "
            f"{scores['smallest']:.1f}, largest {scores['largest']:.1f}")  # fmt: skip
    state = supernet.state()
    if half:
        state = {k: v.half() for k, v in state.items()}
    manifest = weight_files.save(out, state, {
        **supernet.manifest(),
        "command": command or f"linas train transformer {shlex.join(options)}",
        "seed": seed,
        "threads": threads,
        "training": record,
        "validation_bleu": {k: round(v, 2) for k, v in scores.items()},
        "dtype": "float16" if half else "float32",
        "torch": torch.__version__,
    })  # fmt: skip
    if log:
        log(f"wrote {out} (sha256 {manifest['sha256']})")
    return out


TRAINER = Trainer(
    train, common_options,
    "elastic Transformer (HAT space) on English->German numbers (sandwich rule)",
)
