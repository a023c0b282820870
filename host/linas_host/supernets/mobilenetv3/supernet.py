"""The elastic MobileNetV3 supernet (Once-for-All space) on the distorted-digits task, as a
`linas_host.supernets.protocol.Supernet`.

`load()` is the registry's factory for ``mobilenetv3``. Its ``variant`` picks the member:
``digits`` (the default) reads the committed demo weights (or the file given) after checking
their sha256; ``ofa-w1.0`` and ``ofa-w1.2`` load Once-for-All's published ImageNet
checkpoints (`linas_host.supernets.mobilenetv3.ofa`). Digits sub-networks come out of
`extract` with sliced weights and batch-norm statistics recalibrated on a fixed draw of
training images.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from linas_host.supernets import weights as weight_files
from linas_host.supernets.calibration import recalibrate_batchnorm
from linas_host.supernets.mobilenetv3 import stages
from linas_host.supernets.mobilenetv3.digits import DigitsTask, Distortion
from linas_host.supernets.mobilenetv3.net import Architecture, ElasticMobileNetV3
from linas_host.supernets.mobilenetv3.space import mobilenetv3_space
from linas_host.supernets.profile import count_macs, count_params
from linas_sdk.errors import InvalidArgument

DEFAULT_WEIGHTS = weight_files.PACKAGED / "mobilenetv3.pt"


class MobileNetV3Supernet:
    """Elastic MobileNetV3: 45 variables (5 stage depths, 20 x expand ratio and kernel)."""

    name = "mobilenetv3"
    input_names = ("input",)
    output_names = ("logits",)
    precision_stages = stages.PRECISION_STAGES

    def __init__(
        self, net: ElasticMobileNetV3, task: DigitsTask, *, calibration_samples: int = 512
    ) -> None:
        self.net = net.eval()
        self.task = task
        arch = net.arch
        self.space = mobilenetv3_space(arch.depths, arch.expand_ratios, arch.kernel_sizes)
        self.calibration_samples = calibration_samples
        self._calibration: torch.Tensor | None = None
        self._validation: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def smallest(self) -> dict:
        return self.space.extreme(largest=False)

    @property
    def largest(self) -> dict:
        return self.space.extreme(largest=True)

    def extract(self, config: dict, *, calibrate: bool = True) -> nn.Module:
        """The sub-network `config` (canonicalised) with sliced weights, in eval mode; with
        `calibrate`, its batch-norm statistics are re-estimated on training images."""
        module = self.net.extract(self.space.canonical(config))
        if calibrate:
            if self._calibration is None:
                self._calibration = self.task.calibration(self.calibration_samples)
            recalibrate_batchnorm(module, self._calibration)
        return module.eval()

    def example_input(self, config: dict | None = None) -> tuple[torch.Tensor, ...]:
        """One image: every sub-network takes the same input shape."""
        size = self.task.resolution
        generator = torch.Generator().manual_seed(0)
        return (torch.randn(1, self.task.in_channels, size, size, generator=generator),)

    def validation(self, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed validation images and labels (the first `limit` of them)."""
        if self._validation is None:
            self._validation = self.task.validation()
        x, y = self._validation
        return (x, y) if limit is None else (x[:limit], y[:limit])

    def validation_arrays(
        self, limit: int | None = None, config: dict | None = None
    ) -> dict[str, np.ndarray]:
        """The validation set as arrays for a ``.npz``: the input by its graph name, labels "y"
        (one resolution: every sub-network takes the same)."""
        x, y = self.validation(limit)
        return {self.input_names[0]: x.numpy().astype(np.float32), "y": y.numpy()}

    def calibration_arrays(
        self, limit: int | None = None, config: dict | None = None
    ) -> dict[str, np.ndarray]:
        """Distorted training images (the batch-norm calibration draw), for int8 calibration."""
        return {self.input_names[0]: self.task.calibration(limit or self.calibration_samples)
                .numpy().astype(np.float32)}

    def stage_operators(self, config: dict, fmt: str) -> dict[str, str]:
        """Stem, stages and head -> patterns of their operators (`precision: mixed`)."""
        return stages.stage_operators(self.space.canonical(config), fmt)

    def evaluate(
        self, module: nn.Module, *, limit: int | None = None, batch_size: int = 500
    ) -> dict[str, float]:
        """Top-1 accuracy of `module` on the validation set, in [0, 1]."""
        x, y = self.validation(limit)
        module.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(y), batch_size):
                logits = module(x[start : start + batch_size])
                correct += int((logits.argmax(1) == y[start : start + batch_size]).sum())
        return {"accuracy": correct / len(y)}

    def macs(self, config: dict) -> int:
        return count_macs(self.extract(config, calibrate=False), self.example_input(config))

    def params(self, config: dict) -> int:
        return count_params(self.extract(config, calibrate=False))


def build(arch: Architecture, task: DigitsTask) -> MobileNetV3Supernet:
    """An untrained supernet for `arch` on `task`."""
    return MobileNetV3Supernet(ElasticMobileNetV3(arch), task)


def load(*, variant: str = "digits", **options: Any) -> Any:
    """The ``mobilenetv3`` supernet of `variant` ("digits", "ofa-w1.0", "ofa-w1.2"), built with
    that variant's keyword `options` (`load_digits`, `ofa.load`); `weights` or `checkpoint`
    naming weights adapted to the user's classes loads them (`adapted.load`)."""
    from linas_host.supernets.mobilenetv3 import adapted, ofa

    factories = {"digits": load_digits, **dict.fromkeys(ofa.VARIANTS, ofa.load)}
    if variant not in factories:
        raise InvalidArgument(
            f"unknown mobilenetv3 variant {variant!r}: expected one of {', '.join(factories)}"
        )
    factory = factories[variant]
    for named_as in ("weights", "checkpoint"):
        if adapted.manifest_of(options.get(named_as)) is not None:
            path = options.pop(named_as)
            factory = functools.partial(adapted.load, path, named_as=named_as)
    parameters = inspect.signature(factory).parameters
    accepted = [k for k in parameters if k not in ("variant", "named_as")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InvalidArgument(
            f"option(s) {', '.join(unknown)} do not apply to mobilenetv3 variant {variant!r}: "
            f"expected {', '.join(accepted)}"
        )
    if "variant" in parameters:
        options["variant"] = variant
    return factory(**options)


def load_digits(
    *, weights: str | Path | None = None, calibration_samples: int = 512, data: dict | None = None
) -> MobileNetV3Supernet:
    """The trained supernet from `weights` (default: the committed demo weights), after
    verifying the file's sha256 against its manifest. `data` (the user's images) applies only
    to weights adapted to their classes, which `load` hands to `adapted.load`."""
    if data is not None:
        raise InvalidArgument(
            f"data: (your images) applies to weights adapted to your classes, but "
            f"{weights or DEFAULT_WEIGHTS} were trained on the digits task: adapt them first "
            "(linas train mobilenetv3 --train DIR --valid DIR, docs/your-data.md) and name the "
            "result as weights:"
        )
    state, manifest = weight_files.load(Path(weights) if weights else DEFAULT_WEIGHTS)
    arch = Architecture.from_dict(manifest["architecture"])
    task_data = dict(manifest["task"])
    task = DigitsTask(
        **{k: v for k, v in task_data.items() if k != "distortion"},
        distortion=Distortion.from_dict(task_data["distortion"]),
    )
    net = ElasticMobileNetV3(arch)
    net.load_state_dict(state)
    return MobileNetV3Supernet(net, task, calibration_samples=calibration_samples)


def task_to_dict(task: DigitsTask) -> dict:
    """The manifest form of a task (what `load` rebuilds it from)."""
    return {
        "resolution": task.resolution,
        "seed": task.seed,
        "validation_fraction": task.validation_fraction,
        "validation_copies": task.validation_copies,
        "distortion": task.distortion.to_dict(),
    }
