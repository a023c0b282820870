"""Batch-norm recalibration leaves the statistics a plain train-mode pass leaves (linas's
implementation before issue 26, kept here as the oracle), on real extracted sub-networks of the
bundled MobileNetV3 and of an OFA w1.0 checkpoint, and runs each image through the network once.
"""

from __future__ import annotations

import copy
import os
import platform

import pytest
import torch
from linas_host.supernets import create
from linas_host.supernets.calibration import recalibrate_batchnorm
from mobilenetv3_helpers import committed_supernet
from ofa_helpers import image_npz, random_checkpoint
from torch import nn

# float32 rounding: on these networks the oracle itself is up to 2e-5 (relative) away from the
# same pass in float64, and channels-last convolutions round differently from NCHW ones.
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


def train_mode_pass(module: nn.Module, images: torch.Tensor, batch_size: int) -> None:
    """The oracle: reset, momentum None, a train-mode NCHW forward per batch under no_grad."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    module.train()
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            module(images[start : start + batch_size])
    for norm in norms:
        norm.momentum = 0.1
    module.eval()


def assert_same_statistics(module: nn.Module, oracle: nn.Module) -> None:
    got, expected = module.state_dict(), oracle.state_dict()
    statistics = [k for k in expected if k.endswith(("running_mean", "running_var"))]
    assert statistics
    for key in statistics:
        torch.testing.assert_close(got[key], expected[key], **TOLERANCE, msg=key)
    for key in (k for k in expected if k.endswith("num_batches_tracked")):
        assert torch.equal(got[key], expected[key]), key


@pytest.fixture(scope="module")
def ofa(tmp_path_factory):
    """An OFA w1.0 supernet from a random-weight checkpoint, calibrating on 12 images of 64 px."""
    folder = tmp_path_factory.mktemp("ofa")
    images = image_npz(folder / "calibration.npz", 12, 64)
    return create(
        "mobilenetv3",
        variant="ofa-w1.0",
        checkpoint=random_checkpoint(folder / "ofa_mbv3_d234_e346_k357_w1.0"),
        resolutions=[64],
        data={"calibration": images},
        calibration_samples=12,
    )


def test_extract_calibrates_an_ofa_subnetwork_as_a_train_mode_pass_does(ofa):
    for config in (ofa.smallest, ofa.largest):
        oracle = ofa.extract(config, calibrate=False)
        train_mode_pass(oracle, ofa.calibration_images(64), batch_size=256)
        assert_same_statistics(ofa.extract(config), oracle)


@pytest.mark.parametrize("batch_size", [5, 256])
def test_batches_are_averaged_as_a_train_mode_pass_averages_them(ofa, batch_size):
    images = ofa.calibration_images(64)
    module = ofa.extract(ofa.largest, calibrate=False)
    oracle = copy.deepcopy(module)
    recalibrate_batchnorm(module, images, batch_size)
    train_mode_pass(oracle, images, batch_size)
    assert_same_statistics(module, oracle)


def test_the_bundled_supernet_calibrates_as_a_train_mode_pass_does():
    supernet = committed_supernet()
    config = supernet.space.sample(3, 1)[0]
    images = supernet.task.calibration(40)
    module = supernet.extract(config, calibrate=False)
    oracle = copy.deepcopy(module)
    recalibrate_batchnorm(module, images, batch_size=16)
    train_mode_pass(oracle, images, batch_size=16)
    assert_same_statistics(module, oracle)


def test_each_image_goes_through_the_network_once_and_the_module_is_left_as_it_was(ofa):
    images = ofa.calibration_images(64)
    module = ofa.extract(ofa.smallest, calibrate=False)
    seen = []
    module.first_conv.register_forward_pre_hook(lambda _, inputs: seen.append(len(inputs[0])))
    recalibrate_batchnorm(module, images, batch_size=5)
    assert seen == [5, 5, 2]
    assert not module.training
    norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
    assert {m.momentum for m in norms} == {0.1}
    activations = [m for m in module.modules() if isinstance(m, (nn.ReLU, nn.Hardswish))]
    assert activations and not any(m.inplace for m in activations)
    assert all(p.is_contiguous() for p in module.parameters())


def test_the_calibration_arrays_are_the_calibration_images_in_nchw_order(ofa):
    arrays = ofa.calibration_arrays(5, ofa.smallest)
    assert list(arrays) == ["input"]
    assert arrays["input"].shape == (5, 3, 64, 64)
    assert arrays["input"].flags.c_contiguous
    assert torch.equal(torch.from_numpy(arrays["input"]), ofa.calibration_images(64)[:5])


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the pass tunes glibc's heap")
def test_the_pass_gives_its_memory_back_and_large_blocks_are_unmapped_again(ofa):
    module = ofa.extract(ofa.largest, calibrate=False)
    images = torch.randn(256, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    recalibrate_batchnorm(module, images[:8])  # the kernels' caches, made once
    before = _resident_bytes()
    recalibrate_batchnorm(module, images)  # a pass of about 200 MB at its peak
    assert _resident_bytes() - before < 32 << 20
    block = torch.ones(256 << 20, dtype=torch.uint8)
    del block
    assert _resident_bytes() - before < 32 << 20
