"""Once-for-All's own ImageNet supernetworks, from the checkpoints their authors publish.

`ofa-w1.0` and `ofa-w1.2` are the elastic MobileNetV3 of the LINAS paper (kernel {3, 5, 7},
expand {3, 4, 6}, depth {2, 3, 4}, 1000 classes) at width 1.0 and 1.2, loaded from the files
``ofa_mbv3_d234_e346_k357_w1.0`` and ``..._w1.2``: a torch file whose ``state_dict`` has the
reference implementation's key names, which `ElasticMobileNetV3` shares. linas downloads
nothing; the user gives the file's path.

The 45 variables mean what the reference's ``set_active_subnet(ks, e, d)`` does: ``depth_S``
is ``d[S-1]``, ``kernel_S_B`` is ``ks[4(S-1)+B-1]``, ``expand_S_B`` is ``e[4(S-1)+B-1]``. The
input side is a 46th variable ``resolution`` when more than one is allowed; it sets the shape
of the exported model (and so its latency) and the preprocessing of the images it is scored
on.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from linas_host.supernets import images as image_data
from linas_host.supernets.calibration import recalibrate_batchnorm
from linas_host.supernets.mobilenetv3 import stages
from linas_host.supernets.mobilenetv3.net import Architecture, ElasticMobileNetV3
from linas_host.supernets.mobilenetv3.space import mobilenetv3_space
from linas_host.supernets.profile import count_macs, count_params
from linas_sdk.errors import ArtifactCorrupt, InvalidArgument
from linas_sdk.space import SearchSpace, Variable

VARIANTS = {"ofa-w1.0": Architecture(width=1.0), "ofa-w1.2": Architecture(width=1.2)}
CHECKPOINTS = {name: f"ofa_mbv3_d234_e346_k357_{name[4:]}" for name in VARIANTS}
RESOLUTIONS = (160, 176, 192, 208, 224)


class OFAMobileNetV3Supernet:
    """An OFA MobileNetV3 checkpoint as a `Supernet`, scored on the user's images."""

    name = "mobilenetv3"
    input_names = ("input",)
    output_names = ("logits",)
    precision_stages = stages.PRECISION_STAGES

    def __init__(
        self,
        net: ElasticMobileNetV3,
        *,
        variant: str,
        resolutions: tuple[int, ...] = (224,),
        val: image_data.Images | None = None,
        calibration: image_data.Images | None = None,
        calibration_samples: int = 256,
    ) -> None:
        self.net, self.variant = net.eval(), variant
        self.resolutions = tuple(sorted(resolutions))
        arch = net.arch
        space = mobilenetv3_space(arch.depths, arch.expand_ratios, arch.kernel_sizes)
        if len(self.resolutions) > 1:
            space = SearchSpace([*space.variables, Variable("resolution", self.resolutions, "int")])
        self.space = space
        self.val, self.calibration = val, calibration
        self.calibration_samples = calibration_samples
        self._calibration: dict[int, torch.Tensor] = {}
        for data in (val, calibration):
            if data is not None:
                _check_data(data, self.resolutions, arch.num_classes)

    @property
    def smallest(self) -> dict:
        return self.space.extreme(largest=False)

    @property
    def largest(self) -> dict:
        return self.space.extreme(largest=True)

    def resolution(self, config: dict) -> int:
        return int(config.get("resolution", self.resolutions[-1]))

    def extract(self, config: dict, *, calibrate: bool | None = None) -> nn.Module:
        """The sub-network `config` with sliced weights, in eval mode, its input side in
        ``.resolution``. `calibrate` (default: whether calibration images were given)
        re-estimates its batch-norm statistics on them; False keeps the checkpoint's."""
        config = self.space.canonical(config)
        module = self.net.extract(config)
        module.resolution = self.resolution(config)
        if self.calibration is not None if calibrate is None else calibrate:
            recalibrate_batchnorm(module, self.calibration_images(module.resolution))
        return module.eval()

    def calibration_images(self, resolution: int) -> torch.Tensor:
        """The first `calibration_samples` calibration images at `resolution`, read once and
        kept channels-last, the layout the recalibration runs in."""
        if self.calibration is None:
            raise InvalidArgument(
                "calibrate=True needs calibration images: give data.calibration (an image "
                "folder or .npz), or calibrate=False to keep the checkpoint's statistics"
            )
        if resolution not in self._calibration:
            x, _ = image_data.arrays(self.calibration, resolution, self.calibration_samples)
            self._calibration[resolution] = torch.from_numpy(x).contiguous(
                memory_format=torch.channels_last
            )
        return self._calibration[resolution]

    def example_input(self, config: dict | None = None) -> tuple[torch.Tensor, ...]:
        side = self.resolution(config or {})
        return (torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(0)),)

    def _validation(self) -> image_data.Images:
        if self.val is None:
            raise InvalidArgument(
                f"accuracy of {self.variant} needs validation images: give data.val (an image "
                "folder or .npz)"
            )
        return self.val

    def validation_arrays(
        self, limit: int | None = None, config: dict | None = None
    ) -> dict[str, np.ndarray]:
        """The validation images at `config`'s resolution (inputs by graph name, labels "y")."""
        x, y = image_data.arrays(self._validation(), self.resolution(config or {}), limit)
        return {self.input_names[0]: x, "y": y}

    def calibration_arrays(
        self, limit: int | None = None, config: dict | None = None
    ) -> dict[str, np.ndarray]:
        """The calibration images at `config`'s resolution (inputs by graph name), in the
        NCHW order of the exported graph's input."""
        images = self.calibration_images(self.resolution(config or {}))[:limit]
        return {self.input_names[0]: images.contiguous().numpy()}

    def stage_operators(self, config: dict, fmt: str) -> dict[str, str]:
        """Stem, stages and head -> patterns of their operators (`precision: mixed`)."""
        return stages.stage_operators(self.space.canonical(config), fmt)

    def evaluate(
        self, module: nn.Module, *, limit: int | None = None, batch_size: int = 64
    ) -> dict[str, float]:
        """Top-1 accuracy of `module` on the validation images at its resolution, in [0, 1];
        read batch by batch, so memory stays bounded."""
        module.eval()
        correct = total = 0
        side = getattr(module, "resolution", None) or self.resolutions[-1]
        with torch.no_grad():
            for x, y in self._validation().batches(side, limit=limit, batch_size=batch_size):
                logits = module(torch.from_numpy(x))
                correct += int((logits.argmax(1).numpy() == y).sum())
                total += len(y)
        return {"accuracy": correct / total}

    def macs(self, config: dict) -> int:
        return count_macs(self.extract(config, calibrate=False), self.example_input(config))

    def params(self, config: dict) -> int:
        return count_params(self.extract(config, calibrate=False))


def load_checkpoint(path: str | Path, variant: str) -> ElasticMobileNetV3:
    """The supernet of `variant` with the weights of the checkpoint at `path` (a torch file
    holding ``{"state_dict": ...}``, as published, or the state dict itself)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument(
            f"checkpoint {path} does not exist; expected the published file "
            f"{CHECKPOINTS[variant]} (download it yourself: linas fetches nothing)"
        )
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as error:
        raise ArtifactCorrupt(
            f"checkpoint {path} could not be read ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}): it is truncated or not a "
            f"torch file; expected {CHECKPOINTS[variant]}"
        ) from None
    state = saved.get("state_dict", saved) if isinstance(saved, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InvalidArgument(
            f"checkpoint {path} holds no state dict of tensors; expected a torch file with "
            f"'state_dict', as {CHECKPOINTS[variant]}"
        )
    # Older releases of the reference name a block's layer `mobile_inverted_conv`.
    state = {k.replace(".mobile_inverted_conv.", ".conv."): v for k, v in state.items()}
    for name in [variant, *(v for v in VARIANTS if v != variant)]:
        net = ElasticMobileNetV3(VARIANTS[name])
        if _fits(net, state):
            break
    else:
        raise InvalidArgument(
            f"checkpoint {path} is not an OFA MobileNetV3 of {', '.join(VARIANTS)}: its keys "
            f"or shapes differ from {CHECKPOINTS[variant]}'s (first difference: "
            f"{_first_difference(ElasticMobileNetV3(VARIANTS[variant]), state)})"
        )
    if name != variant:
        raise InvalidArgument(
            f"checkpoint {path} is the {name} supernet ({CHECKPOINTS[name]}), not {variant}: "
            f"expected {CHECKPOINTS[variant]}, or variant {name}"
        )
    net.load_state_dict(state, strict=False)
    return net.eval()


def _expected(net: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _fits(net: nn.Module, state: dict[str, torch.Tensor]) -> bool:
    return _first_difference(net, state) is None


def _first_difference(net: nn.Module, state: dict[str, torch.Tensor]) -> str | None:
    """The first key the checkpoint lacks, adds or shapes differently (batch counters may be
    absent: they are not weights)."""
    expected = _expected(net)
    for key, shape in expected.items():
        if key not in state and not key.endswith("num_batches_tracked"):
            return f"{key} missing"
        if key in state and tuple(state[key].shape) != shape:
            return f"{key} has shape {tuple(state[key].shape)}, expected {shape}"
    extra = sorted(set(state) - set(expected))
    return f"unexpected key {extra[0]}" if extra else None


def _check_data(data: image_data.Images, resolutions: tuple[int, ...], classes: int) -> None:
    for side in resolutions:
        data.check(side)
    if data.num_classes > classes:
        raise InvalidArgument(
            f"the images have {data.num_classes} classes, more than the checkpoint's head "
            f"({classes} outputs); expected at most {classes}, indexed as the head was trained"
        )


def load(
    *,
    variant: str,
    checkpoint: str | Path,
    resolutions: list[int] | tuple[int, ...] = (224,),
    data: dict | None = None,
    calibration_samples: int = 256,
) -> OFAMobileNetV3Supernet:
    """An OFA MobileNetV3 supernet from its checkpoint, scored on `data` (``val`` and
    ``calibration``: image folders or .npz files; ``classes``: a file naming the folders'
    class order; ``mean``, ``std``: the normalisation)."""
    if variant not in VARIANTS:
        raise InvalidArgument(f"unknown variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    resolutions = tuple(int(r) for r in resolutions) or (224,)
    if any(r < 32 or r % 8 for r in resolutions):
        raise InvalidArgument(
            f"resolutions {list(resolutions)}: expected multiples of 8 of at least 32 "
            f"(Once-for-All's are {list(RESOLUTIONS)})"
        )
    data = dict(data or {})
    unknown = sorted(set(data) - {"val", "calibration", "classes", "mean", "std"})
    if unknown:
        raise InvalidArgument(
            f"data has unknown key(s) {', '.join(unknown)}: expected val, calibration, classes, "
            "mean, std"
        )
    preprocess = image_data.Preprocess(
        mean=tuple(data.get("mean", image_data.IMAGENET_MEAN)),
        std=tuple(data.get("std", image_data.IMAGENET_STD)),
    )
    sets = {
        role: image_data.open_images(data[role], classes=data.get("classes"), preprocess=preprocess)
        for role in ("val", "calibration")
        if data.get(role) is not None
    }
    return OFAMobileNetV3Supernet(
        load_checkpoint(checkpoint, variant),
        variant=variant,
        resolutions=resolutions,
        val=sets.get("val"),
        calibration=sets.get("calibration"),
        calibration_samples=calibration_samples,
    )
