"""The reference implementation (the `ofa` package, a test-only dependency) with random weights,
and the checkpoints, image folders and .npz files the OFA tests make: nothing is downloaded.

`ofa`'s network modules import torchvision at module level, for its data loaders only (random
resized crops, ImageFolder); the registry's torchvision does not load beside the CPU torch here
("operator torchvision::nms does not exist"). So `reference_class` puts an empty stand-in
`torchvision` package in `sys.modules` for that import alone (every attribute a placeholder
class, enough for `ofa`'s class definitions) and removes it right after: no network code of
`ofa` touches it, and linas never imports torchvision.
"""

from __future__ import annotations

import functools
import sys
import types
from pathlib import Path

import numpy as np
import torch
from PIL import Image

TORCHVISION = (
    "torchvision",
    "torchvision.transforms",
    "torchvision.transforms.functional",
    "torchvision.datasets",
)


def _placeholder_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = []

    def attribute(attr: str) -> type:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return type(attr, (), {})

    module.__getattr__ = attribute
    return module


@functools.lru_cache(maxsize=1)
def reference_class() -> type:
    """`ofa`'s OFAMobileNetV3, imported beside a stand-in torchvision (see the module doc)."""
    if any(name in sys.modules for name in TORCHVISION):
        raise RuntimeError("a torchvision is already imported; the stand-in would shadow it")
    for name in TORCHVISION:
        sys.modules[name] = _placeholder_module(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, sys.modules[name])
    try:
        from ofa.imagenet_classification.elastic_nn.networks.ofa_mbv3 import OFAMobileNetV3
    finally:
        for name in TORCHVISION:
            sys.modules.pop(name, None)
    return OFAMobileNetV3


def reference_net(width: float = 1.0, seed: int = 0) -> torch.nn.Module:
    """The reference supernet with random weights *and* random batch-norm statistics and kernel
    transforms (the default ones, zero means, unit variances and identities, would hide
    a wrong slice)."""
    torch.manual_seed(seed)
    net = reference_class()(
        dropout_rate=0,
        width_mult=width,
        ks_list=[3, 5, 7],
        expand_ratio_list=[3, 4, 6],
        depth_list=[2, 3, 4],
    )
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("running_var") or name.endswith("bn.weight"):
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
            elif name.endswith(("running_mean", "bn.bias")):
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
            elif name.endswith("_matrix"):
                tensor.add_(0.05 * torch.randn(tensor.shape, generator=generator))
    return net.eval()


def save_checkpoint(net: torch.nn.Module, path: Path) -> Path:
    """`net`'s weights as the published checkpoints hold them: ``{"state_dict": ...}``."""
    torch.save({"state_dict": net.state_dict()}, path)
    return path


def image_folder(root: Path, classes: int = 3, per_class: int = 2, seed: int = 0) -> Path:
    """Random RGB images of assorted sizes and formats, one sub-folder a class."""
    rng = np.random.default_rng(seed)
    for c in range(classes):
        folder = root / f"class_{c:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (40 + 9 * i, 56 - 5 * c, 3), dtype=np.uint8)
            suffix = ".png" if (c + i) % 2 else ".jpg"
            Image.fromarray(pixels).save(folder / f"img_{i}{suffix}")
    return root


def image_npz(path: Path, count: int, resolution: int, classes: int = 10, seed: int = 0) -> Path:
    """`count` random normalised images of side `resolution` and labels below `classes`."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 3, resolution, resolution)).astype(np.float32)
    np.savez(path, x=x, y=rng.integers(0, classes, count))
    return path


def reference_subnet(net: torch.nn.Module, config: dict) -> torch.nn.Module:
    """The reference's sub-network for a linas config: ``ks[4(S-1)+B-1]``, ``e[...]``,
    ``d[S-1]`` (genes of blocks a depth switches off take any value)."""
    ks = [config[f"kernel_{s}_{b}"] for s in range(1, 6) for b in range(1, 5)]
    e = [config[f"expand_{s}_{b}"] for s in range(1, 6) for b in range(1, 5)]
    d = [config[f"depth_{s}"] for s in range(1, 6)]
    net.set_active_subnet(ks=ks, e=e, d=d)
    return net.get_active_subnet(preserve_weight=True).eval()
