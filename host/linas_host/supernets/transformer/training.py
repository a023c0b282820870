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

import argparse
import math
import shlex
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from linas_host.paths import cache_dir
from linas_host.supernets import weights as weight_files
from linas_host.supernets.trainer import Trainer, common_options
from linas_host.supernets.transformer import parallel
from linas_host.supernets.transformer.bleu import source_ids, teacher_ids
from linas_host.supernets.transformer.supernet import DEMO_OPTIONS, TransformerSupernet, build
from linas_host.supernets.transformer.vocab import (
    PAD,
    UNK,
    SentencePieceVocabulary,
    Vocabulary,
    from_manifest,
)
from linas_sdk.errors import InvalidArgument

EPOCHS = 5  # 470 steps: the large end converges, the small end lags (a real trade-off)
BATCH_SIZE = 128
VOCAB_SIZE = 8000  # pieces of a user's vocabulary (a soft limit: a small corpus gets fewer)
MAX_LENGTH = 64  # longest sentence of a user's corpus, in pieces with EOS: the workload's N
_FLAGS = {"train_files": "--train", "valid_files": "--valid", "from_weights": "--from"}


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
    train_files: Sequence[Path | str] | None = None,
    valid_files: Sequence[Path | str] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    threads: int = 2,
    max_steps: int | None = None,
    vocab_size: int | None = None,
    max_length: int | None = None,
    encoder_layers: int | None = None,
    decoder_layers: Sequence[int] | None = None,
    embed: Sequence[int] | None = None,
    ffn: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    ende: Sequence[int] | None = None,
    head_dim: int | None = None,
    from_weights: Path | str | None = None,
    command: str = "",
    half: bool = True,
    log: Callable[[str], None] | None = print,
) -> Path:
    """Build a supernet, train it (`max_steps` steps, else `epochs` passes over the training
    split, default `EPOCHS`), score both ends on the validation set and save the weights with
    their manifest (in half precision with `half`, which halves the file); return the weights'
    path (default: the cache, `linas_host.paths.cache_dir`).

    On the bundled numbers corpus by default; on the user's `train_files` and `valid_files`
    (each a [SOURCE, TARGET] pair of text files, `parallel`) with a SentencePiece vocabulary of
    about `vocab_size` pieces saved beside the weights. The supernet's dimensions default to
    `supernet.DEMO_OPTIONS`'s. With `from_weights`, a trained supernet is fine-tuned on the
    user's corpus instead, keeping its dimensions, workload length and vocabulary
    (`_fine_tune`)."""
    given = {k: v for k, v in locals().items() if k not in ("command", "half", "log")}
    dimensions = {
        "encoder_layers": encoder_layers, "decoder_layers": decoder_layers, "embed": embed,
        "ffn": ffn, "heads": heads, "ende": ende, "head_dim": head_dim,
    }  # fmt: skip
    dimensions = {k: tuple(v) if isinstance(v, Sequence) else v
                  for k, v in dimensions.items() if v is not None}  # fmt: skip
    torch.set_num_threads(threads)
    out = Path(out) if out else cache_dir() / "transformer.pt"
    if from_weights is not None:
        fixed = {"--vocab-size": vocab_size, "--max-length": max_length,
                 **{"--" + k.replace("_", "-"): v for k, v in dimensions.items()}}  # fmt: skip
        given_fixed = [flag for flag, value in fixed.items() if value is not None]
        if given_fixed:
            raise InvalidArgument(
                f"{', '.join(given_fixed)} cannot change a trained supernet: --from keeps its "
                "dimensions, workload length and vocabulary; expected none of them"
            )
        supernet, corpus = _fine_tune(Path(from_weights), train_files, valid_files, out, log)
    elif train_files is None and valid_files is None:
        if vocab_size is not None or max_length is not None:
            raise InvalidArgument(
                "--vocab-size and --max-length apply to your own corpus: expected them with "
                "--train SOURCE TARGET --valid SOURCE TARGET"
            )
        supernet, corpus = build(dimensions), None
    else:
        supernet, corpus = _own_corpus(
            train_files, valid_files, dimensions, vocab_path=out.with_suffix(".model"),
            vocab_size=vocab_size or VOCAB_SIZE, max_length=max_length or MAX_LENGTH,
            threads=threads, log=log,
        )  # fmt: skip
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
        **({"corpus": corpus} if corpus else {}),
        "command": command or _command_line(given),
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


def _own_corpus(
    train_files: Sequence[Path | str] | None, valid_files: Sequence[Path | str] | None,
    dimensions: dict[str, Any], *, vocab_path: Path, vocab_size: int, max_length: int,
    threads: int, log: Callable[[str], None] | None,
) -> tuple[TransformerSupernet, dict[str, Any]]:  # fmt: skip
    """The untrained supernet on the user's files, its SentencePiece vocabulary learned from
    the training pairs (both sides) and written to `vocab_path`; and what the manifest records
    of the corpus. `steps` (the longest sentence, EOS included) is the longest training pair's,
    at most `max_length`; longer training pairs are skipped, longer validation sources cut."""
    if train_files is None or valid_files is None:
        raise InvalidArgument(
            "expected both --train SOURCE TARGET and --valid SOURCE TARGET (your own corpus), "
            "or neither (the bundled numbers corpus)"
        )
    training, validation = parallel.read(*train_files), parallel.read(*valid_files)
    texts = [text for pair in training.pairs for text in (pair.source, pair.target)]
    vocab = SentencePieceVocabulary.learn(texts, vocab_size, vocab_path, threads=threads)
    lengths = [max(len(vocab.encode(p.source)), len(vocab.encode(p.target)) + 1)
               for p in training.pairs]  # fmt: skip
    steps = min(max(lengths), max_length)
    kept = [pair for pair, length in zip(training.pairs, lengths, strict=True) if length <= steps]
    if not kept:
        raise InvalidArgument(
            f"no training pair fits --max-length {max_length} pieces (the shortest takes "
            f"{min(lengths)}); expected a larger --max-length"
        )
    long = len(training.pairs) - len(kept)
    if log:
        log(f"{len(kept)} training pairs ({training.blank} blank and {long} longer than {steps} "
            f"pieces skipped), {len(validation.pairs)} validation pairs ({validation.blank} blank "
            f"skipped); vocabulary of {len(vocab)} pieces")  # fmt: skip
    supernet = build({**dimensions, "steps": steps}, vocab=vocab,
                     corpus={"train": kept, "valid": validation.pairs})  # fmt: skip
    record = {
        "train": {**training.describe(), "pairs": len(kept), "long_pairs_skipped": long},
        "valid": {**validation.describe(), "pairs": len(validation.pairs)},
    }  # fmt: skip
    return supernet, record


def _fine_tune(
    weights: Path, train_files: Sequence[Path | str] | None,
    valid_files: Sequence[Path | str] | None, out: Path, log: Callable[[str], None] | None,
) -> tuple[TransformerSupernet, dict[str, Any]]:  # fmt: skip
    """The trained supernet at `weights` on the user's corpus, its vocabulary kept (a
    SentencePiece model is copied beside `out`); and what the manifest records of the corpus,
    with the pieces the vocabulary cannot cover (UNK) counted and their characters listed."""
    if train_files is None or valid_files is None:
        raise InvalidArgument(
            "--from fine-tunes on a new corpus: expected --train SOURCE TARGET and --valid "
            "SOURCE TARGET"
        )
    state, manifest = weight_files.load(weights)
    if manifest.get("supernet") != "transformer":
        raise InvalidArgument(
            f"--from {weights} holds weights of the {manifest.get('supernet')!r} supernet: "
            "expected a trained elastic Transformer (linas train transformer --out)"
        )
    vocab = from_manifest(manifest["vocab"], weights.parent)
    training, validation = parallel.read(*train_files), parallel.read(*valid_files)
    steps = int(manifest["options"]["steps"])
    lengths = [max(len(vocab.encode(p.source)), len(vocab.encode(p.target)) + 1)
               for p in training.pairs]  # fmt: skip
    kept = [pair for pair, length in zip(training.pairs, lengths, strict=True) if length <= steps]
    if not kept:
        raise InvalidArgument(
            f"no training pair fits the supernet's {steps} pieces (the shortest takes "
            f"{min(lengths)}): expected sentences its workload can hold"
        )
    coverage = {role: _coverage(vocab, pairs) for role, pairs in
                (("train", kept), ("valid", validation.pairs))}  # fmt: skip
    if log:
        for role, c in coverage.items():
            chars = f": characters {' '.join(c['characters'])}" if c["characters"] else ""
            log(f"{role}: {c['pairs_with_unknown']} of {c['pairs']} pairs hold "
                f"{c['unknown_pieces']} piece(s) the vocabulary of {len(vocab)} cannot cover "
                f"(UNK){chars}")  # fmt: skip
        log(f"{len(kept)} training pairs ({len(training.pairs) - len(kept)} longer than {steps} "
            "pieces skipped)")  # fmt: skip
    if isinstance(vocab, SentencePieceVocabulary) and vocab.path.parent != out.parent:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(vocab.path, out.parent / vocab.path.name)
    supernet = TransformerSupernet(vocab, manifest["options"],
                                   corpus={"train": kept, "valid": validation.pairs})  # fmt: skip
    supernet.net.load_state_dict({k: v.float() for k, v in state.items()})
    record = {
        "from": {"weights": str(weights.resolve()), "sha256": manifest["sha256"]},
        "train": {**training.describe(), "pairs": len(kept),
                  "long_pairs_skipped": len(training.pairs) - len(kept)},
        "valid": {**validation.describe(), "pairs": len(validation.pairs)},
        "coverage": coverage,
    }  # fmt: skip
    return supernet, record


def _coverage(vocab: Vocabulary | SentencePieceVocabulary, pairs: Sequence) -> dict[str, Any]:
    """How much of `pairs` (both sides) the vocabulary cannot cover: UNK pieces, the pairs
    holding any, and the characters it has no piece for."""
    unknown = [sum(vocab.encode(text).count(UNK) for text in (p.source, p.target))
               for p in pairs]  # fmt: skip
    characters = sorted({c for p in pairs for c in p.source + p.target if not c.isspace()})
    return {"pairs": len(pairs), "pairs_with_unknown": sum(1 for u in unknown if u),
            "unknown_pieces": sum(unknown),
            "characters": [c for c in characters if UNK in vocab.encode(c)]}  # fmt: skip


def _command_line(given: dict[str, Any]) -> str:
    """The `linas train transformer` line that passes the options `given` (None left out)."""
    words = ["linas", "train", "transformer"]
    for name, value in given.items():
        if value is None:
            continue
        words.append(_FLAGS.get(name, "--" + name.replace("_", "-")))
        words += map(str, value) if isinstance(value, (list, tuple)) else [str(value)]
    return shlex.join(words)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _options(parser: argparse.ArgumentParser) -> None:
    common_options(parser)
    pair = {"nargs": 2, "type": Path, "metavar": ("SOURCE", "TARGET"), "default": None}
    parser.add_argument(
        "--train", dest="train_files", **pair,
        help="your own training corpus: two text files, one sentence a line",
    )  # fmt: skip
    parser.add_argument(
        "--valid", dest="valid_files", **pair, help="your own validation pair (with --train)"
    )
    parser.add_argument(
        "--vocab-size", type=_positive, default=None,
        help=f"SentencePiece pieces, a soft limit (default {VOCAB_SIZE})",
    )  # fmt: skip
    parser.add_argument(
        "--max-length", type=_positive, default=None,
        help=f"longest sentence in pieces with EOS, the exported workload's length (default "
        f"{MAX_LENGTH}); longer training pairs are skipped, longer validation sources cut",
    )  # fmt: skip
    demo = DEMO_OPTIONS
    dims = {"type": _positive, "default": None}
    parser.add_argument("--encoder-layers", **dims,
                        help=f"encoder depth (default {demo['encoder_layers']})")  # fmt: skip
    for name, what in (("decoder-layers", "decoder depths"), ("embed", "embedding widths"),
                       ("ffn", "feed-forward widths"), ("heads", "attention head counts"),
                       ("ende", "encoder layers a decoder layer attends to")):  # fmt: skip
        default = " ".join(map(str, demo[name.replace("-", "_")]))
        parser.add_argument(f"--{name}", nargs="+", **dims, help=f"{what} (default {default})")
    parser.add_argument("--head-dim", **dims, help=f"width of a head (default {demo['head_dim']})")
    parser.add_argument(
        "--from", dest="from_weights", type=Path, default=None, metavar="WEIGHTS",
        help="fine-tune these trained weights on --train/--valid, keeping their vocabulary and "
        "dimensions",
    )  # fmt: skip


TRAINER = Trainer(
    train, _options,
    "elastic Transformer (HAT space) on English->German numbers or your own corpus "
    "(sandwich rule)",
)  # fmt: skip
