"""Supernet trainers by name, for `linas train NAME`: the rule of `linas_host.registry` with the
``linas.trainers`` entry-point group.

A trainer is a `Trainer` kept beside the code it runs (which may import torch); it declares
its own command-line options, so `linas train` parses them only once NAME is loaded and this
module stays light.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linas_host.registry import Registry
from linas_sdk.errors import InvalidArgument


@dataclass(frozen=True)
class Trainer:
    """What `linas train NAME` runs. `options` adds the trainer's options to a parser; `train`
    is called with the options given (those left `None` are left out, so its defaults hold),
    plus ``command``, the line to record in the weights' manifest, and returns the weights' path.
    """

    train: Callable[..., Path]
    options: Callable[[argparse.ArgumentParser], None]
    help: str

    def __call__(self, **options: Any) -> Path:
        return self.train(**options)


def common_options(parser: argparse.ArgumentParser) -> None:
    """The options every built-in trainer takes: output, epochs, seed, threads, max steps."""
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


TRAINERS = Registry(
    "trainer",
    {
        "mobilenetv3": "linas_host.supernets.mobilenetv3.training:TRAINER",
        "transformer": "linas_host.supernets.transformer.training:TRAINER",
    },
    group="linas.trainers",
)

register = TRAINERS.register
names = TRAINERS.names


def resolve(name: str) -> Trainer:
    """The trainer `name` stands for."""
    trainer = TRAINERS.resolve(name)
    if not isinstance(trainer, Trainer):
        raise InvalidArgument(
            f"trainer {name!r} is a {type(trainer).__name__}, not a "
            "linas_host.supernets.trainer.Trainer (a function and the options it declares)"
        )
    return trainer
