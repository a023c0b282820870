"""A tiny weight-sharing supernet for end-to-end tests, plugged in as ``tiny_supernet:make``.

An elastic MLP on scikit-learn's 8x8 digits: depth 1..3 hidden layers, each 16..256 units wide
(conditional genes: a layer's width matters only when the depth reaches it). The largest
network trains for a second at start; a sub-network takes the first units of each layer, so
small ones are worse and faster, and the search has a real (if small) trade-off. It follows the
`linas_host.supernets.protocol.Supernet` contract, which is what makes it a fair stand-in.

Training is deterministic (fixed seeds, one thread), so where `$LINAS_TEST_TINY_SUPERNET_CACHE`
names a folder (the test session sets one: tests/conftest.py) the trained weights are kept
there, with torch's random state after training, and every later `make()` in any process of the
session loads them instead of training again: the same supernet, without a training and the
import of torch's compiler stack that its optimizer pulls in (~2 s a `linas` process).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch
from linas_host.export.stages import module_pattern
from sklearn.datasets import load_digits
from torch import nn

from linas_sdk.space import SearchSpace, Variable

WIDTHS = (16, 64, 256)
DEPTHS = (1, 2, 3)
CACHE_ENV = "LINAS_TEST_TINY_SUPERNET_CACHE"


class TinySupernet:
    name = "tiny"
    input_names = ("input",)
    output_names = ("logits",)
    precision_stages = ("hidden", "head")

    def __init__(self, *, epochs: int = 30, seed: int = 0, checked_input: bool = False,
                 score_seconds: float = 0.0) -> None:
        torch.manual_seed(seed)
        self.checked_input = checked_input
        self.score_seconds = score_seconds  # added to each scoring: a test can catch it mid-way
        self.space = SearchSpace([
            Variable("depth", DEPTHS, kind="int"),
            *[Variable(f"width{i}", WIDTHS, kind="int",
                       active_if=None if i == 0 else {"depth": [d for d in DEPTHS if d > i]})
              for i in range(max(DEPTHS))],
        ])
        digits = load_digits()
        x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
        y = torch.tensor(digits.target)
        self.train_x, self.train_y, self.val_x, self.val_y = x[:1400], y[:1400], x[1400:], y[1400:]
        width = max(WIDTHS)
        self.hidden = nn.ModuleList(
            [nn.Linear(64 if i == 0 else width, width) for i in range(max(DEPTHS))])
        self.heads = nn.ModuleList([nn.Linear(width, 10) for _ in DEPTHS])
        self._train_or_load(epochs, seed)

    def _train_or_load(self, epochs: int, seed: int) -> None:
        folder = os.environ.get(CACHE_ENV)
        if not folder:
            self._train(epochs)
            return
        path = Path(folder) / f"tiny-epochs{epochs}-seed{seed}.pt"
        if path.is_file():
            saved = torch.load(path, weights_only=True)
            self.hidden.load_state_dict(saved["hidden"])
            self.heads.load_state_dict(saved["heads"])
            torch.set_rng_state(saved["rng"])
            return
        self._train(epochs)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        torch.save({"hidden": self.hidden.state_dict(), "heads": self.heads.state_dict(),
                    "rng": torch.get_rng_state()}, partial)  # fmt: skip
        os.replace(partial, path)  # whole or absent, for processes that start meanwhile

    def _forward(self, x: torch.Tensor, config: dict) -> torch.Tensor:
        previous = 64
        for i in range(config["depth"]):
            width = config[f"width{i}"]
            layer = self.hidden[i]
            x = torch.relu(x @ layer.weight[:width, :previous].T + layer.bias[:width])
            previous = width
        head = self.heads[config["depth"] - 1]
        return x @ head.weight[:, :previous].T + head.bias

    def _train(self, epochs: int) -> None:
        parameters = [*self.hidden.parameters(), *self.heads.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=3e-3)
        rng = np.random.default_rng(0)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small matrices: one thread is faster on a busy machine
        try:
            self._steps(epochs, optimizer, rng)
        finally:
            torch.set_num_threads(threads)

    def _steps(self, epochs: int, optimizer: torch.optim.Optimizer, rng) -> None:
        for _ in range(epochs):
            for config in [self.space.decode(self.space.sizes - 1), *self.space.sample(rng, 2)]:
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(self._forward(self.train_x, config),
                                                   self.train_y)
                loss.backward()
                optimizer.step()

    def extract(self, config: dict) -> nn.Module:
        config = self.space.canonical(config)
        layers: list[nn.Module] = []
        previous = 64
        with torch.no_grad():
            for i in range(config["depth"]):
                width = config[f"width{i}"]
                linear = nn.Linear(previous, width)
                linear.weight.copy_(self.hidden[i].weight[:width, :previous])
                linear.bias.copy_(self.hidden[i].bias[:width])
                layers += [linear, nn.ReLU()]
                previous = width
            head = nn.Linear(previous, 10)
            head.weight.copy_(self.heads[config["depth"] - 1].weight[:, :previous])
            head.bias.copy_(self.heads[config["depth"] - 1].bias)
        network = nn.Sequential(*layers, head)
        return (_Checked(network) if self.checked_input else network).eval()

    def example_input(self, config: dict | None = None) -> tuple[torch.Tensor, ...]:
        return (torch.zeros(1, 64),)

    def stage_operators(self, config: dict, fmt: str) -> dict[str, str]:
        """The hidden layers and the head (`precision: mixed`): the extracted Sequential's
        modules, the head its last."""
        depth = self.space.canonical(config)["depth"]
        return {"hidden": module_pattern([str(i) for i in range(2 * depth)], fmt),
                "head": module_pattern([str(2 * depth)], fmt)}

    def evaluate(self, module: nn.Module, *, limit: int | None = None) -> dict[str, float]:
        x, y = self.val_x[:limit], self.val_y[:limit]
        time.sleep(self.score_seconds)
        with torch.no_grad():
            return {"accuracy": float((module(x).argmax(1) == y).float().mean())}

    def calibration_arrays(
        self, limit: int | None = None, config: dict | None = None
    ) -> dict[str, np.ndarray]:
        return {"input": self.train_x[:limit].numpy()}

    def validation_arrays(
        self, limit: int | None = None, config: dict | None = None
    ) -> dict[str, np.ndarray]:
        return {"input": self.val_x[:limit].numpy(), "y": self.val_y[:limit].numpy()}

    def macs(self, config: dict) -> int:
        return sum(m.in_features * m.out_features for m in self.extract(config)
                   if isinstance(m, nn.Linear))

    def params(self, config: dict) -> int:
        return sum(p.numel() for p in self.extract(config).parameters())


class _Checked(nn.Module):
    """Checks its input's width in Python, as many real models do: tracing it for ONNX export
    makes torch raise a TracerWarning (what `checked_input` is for: the run's log must catch it)."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != 64:
            raise ValueError(f"expected 64 input features, got {x.shape[-1]}")
        return self.body(x)


def make(**options) -> TinySupernet:
    return TinySupernet(**options)
