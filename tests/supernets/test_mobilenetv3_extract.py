"""Extracted sub-networks compute what the supernet computes at their config, carry only
their own (sliced) weights, and are counted in MACs and parameters that grow with size."""

from __future__ import annotations

import torch
from linas_host.supernets.mobilenetv3.net import ElasticMobileNetV3
from linas_host.supernets.profile import count_macs, count_params
from mobilenetv3_helpers import committed_supernet, configs
from torch import nn


def test_extracted_matches_the_supernet_at_its_config():
    supernet = committed_supernet()
    x = supernet.validation(64)[0]
    with torch.no_grad():
        for config in configs(supernet):
            sub = supernet.extract(config, calibrate=False)
            assert not any(isinstance(m, ElasticMobileNetV3) for m in sub.modules())
            torch.testing.assert_close(sub(x), supernet.net(x, config), atol=1e-5, rtol=0)


def test_extracted_weights_are_sliced_not_masked():
    supernet = committed_supernet()
    small = supernet.extract(supernet.smallest, calibrate=False)
    large = supernet.extract(supernet.largest, calibrate=False)
    assert count_params(small) < count_params(large) / 2
    assert count_params(large) < count_params(supernet.net)
    depthwise = [m for m in small.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    kernels = {m.kernel_size[0] for m in depthwise[1:]}  # [0] is the fixed first block's
    assert kernels == {3}


def test_calibration_changes_only_batchnorm_statistics_and_keeps_accuracy_sane():
    supernet = committed_supernet()
    config = supernet.space.sample(11, 1)[0]
    raw = supernet.extract(config, calibrate=False).state_dict()
    calibrated = supernet.extract(config).state_dict()
    changed = {k for k in raw if not torch.equal(raw[k], calibrated[k])}
    assert changed and all(k.endswith(("running_mean", "running_var", "num_batches_tracked"))
                           for k in changed)


def test_macs_and_params_grow_from_smallest_to_largest():
    supernet = committed_supernet()
    space = supernet.space
    middle = space.canonical({v.name: v.choices[1] for v in space.variables})
    ends = [supernet.smallest, middle, supernet.largest]
    macs = [supernet.macs(c) for c in ends]
    params = [supernet.params(c) for c in ends]
    assert macs == sorted(macs) and len(set(macs)) == 3
    assert params == sorted(params) and len(set(params)) == 3


def test_mac_counter_matches_the_formula_for_a_conv_and_a_linear():
    module = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, groups=1), nn.Flatten(),
                           nn.Linear(8 * 5 * 5, 4))
    x = torch.zeros(2, 3, 5, 5)
    assert count_macs(module, (x,)) == 8 * 5 * 5 * 3 * 9 + 200 * 4
