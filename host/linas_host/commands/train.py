"""`linas train SUPERNET`: train a built-in supernet's shared weights and cache them.

One sub-command per trainable supernet. Each names its trainer as ``"module:function"``
(imported only when run, so this module stays light) and declares its own options; the
trainer takes them as keyword arguments, plus ``command`` (the line recorded in the weights'
manifest), and returns the path of the weights it wrote.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from pathlib import Path


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=None,
        help="where to write the weights (default: .cache/linas/<supernet>.pt, or $LINAS_CACHE)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="training epochs")
    parser.add_argument("--seed", type=int, default=0, help="seed of data split and training")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument(
        "--max-steps", type=int, default=None, help="stop after this many steps (smoke tests)"
    )


def _mobilenetv3(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--width", type=float, default=None, help="width multiplier")
    parser.add_argument("--resolution", type=int, default=None, help="input side in pixels")
    parser.add_argument("--noise", type=float, default=None, help="std of the input noise")
    parser.add_argument(
        "--distill", action="store_true", default=None,
        help="smaller sub-networks learn from the largest's predictions (in-place distillation)",
    )


# name -> (trainer "module:function", options beyond the common ones, help)
TRAINERS = {
    "mobilenetv3": (
        "linas_host.supernets.mobilenetv3.training:train",
        _mobilenetv3,
        "elastic MobileNetV3 on distorted digits (sandwich rule)",
    ),
    "transformer": (
        "linas_host.supernets.transformer.training:train",
        lambda parser: None,
        "elastic Transformer (HAT space) on English->German numbers (sandwich rule)",
    ),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a supernet's shared weights", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="supernet", required=True, metavar="SUPERNET")
    for name, (trainer, add_options, help_text) in TRAINERS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        _common(command)
        add_options(command)
        command.set_defaults(func=run, trainer=trainer)


def run(args: argparse.Namespace) -> int:
    # Under CPU contention, OpenMP threads that spin while waiting slow torch training by an
    # order of magnitude (measured with 2 threads on a shared 2-core machine); torch has not
    # been imported yet, so this still takes effect.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    module_name, _, function = args.trainer.partition(":")
    train = getattr(importlib.import_module(module_name), function)
    skip = {"command", "supernet", "func", "trainer"}
    options = {k: v for k, v in vars(args).items() if k not in skip and v is not None}
    line = "linas " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else ""
    path = train(**options, command=line)
    print(f"weights: {path}")
    return 0
