"""linas's `ofa-w1.0` supernet against the reference implementation (`ofa`, random weights,
nothing downloaded): from the same state dict, 22 sub-networks (both ends, seeded random ones
at several resolutions, 160 among them) give the same outputs, parameters and MACs as the
reference's `set_active_subnet` + `get_active_subnet(preserve_weight=True)`, and the exported
ONNX runs the same in onnxruntime."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from linas_host.export.subnet import subnetwork_bytes
from linas_host.supernets import create
from linas_host.supernets.profile import count_params
from ofa_helpers import reference_net, reference_subnet, save_checkpoint
from torch import nn


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """One reference net (random weights) and linas's supernet loaded from its checkpoint."""
    net = reference_net(1.0)
    path = save_checkpoint(net, tmp_path_factory.mktemp("ofa") / "ofa_mbv3_d234_e346_k357_w1.0")
    supernet = create(
        "mobilenetv3", variant="ofa-w1.0", checkpoint=path, resolutions=[160, 176, 192, 208, 224]
    )
    return net, supernet


def _configs(supernet) -> list[dict]:
    configs = [supernet.smallest, supernet.largest, *supernet.space.sample(3, 20)]
    configs[2]["resolution"] = 160  # below 224 for sure, besides the smallest
    return configs


def _reference_macs(module: nn.Module, x: torch.Tensor) -> int:
    """Multiply-accumulates of convolutions and linear layers, counted by forward hooks."""
    total = 0

    def hook(layer, _inputs, output):
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            per_output = layer.in_channels // layer.groups * layer.kernel_size[0] ** 2
        else:
            per_output = layer.in_features
        total += output.numel() // output.shape[0] * per_output

    handles = [
        m.register_forward_hook(hook)
        for m in module.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    with torch.no_grad():
        module(x)
    for handle in handles:
        handle.remove()
    return total


def test_outputs_params_and_macs_match_the_reference_on_22_subnetworks(pair):
    net, supernet = pair
    configs = _configs(supernet)
    assert len(configs) >= 20 and {c["resolution"] for c in configs} >= {160, 224}
    generator = torch.Generator().manual_seed(1)
    for config in configs:
        side = config["resolution"]
        x = torch.randn(2, 3, side, side, generator=generator)
        reference = reference_subnet(net, config)
        ours = supernet.extract(config, calibrate=False)
        assert ours.resolution == side
        with torch.no_grad():
            expected, got = reference(x), ours(x)
        assert got.shape == (2, 1000)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
        assert count_params(ours) == sum(p.numel() for p in reference.parameters())
        assert supernet.params(config) == count_params(ours)
        reference_macs = _reference_macs(reference, x[:1])
        assert abs(supernet.macs(config) - reference_macs) <= 0.01 * reference_macs


def test_onnx_export_matches_the_reference_within_1e_4(pair):
    net, supernet = pair
    configs = _configs(supernet)
    for config in (configs[0], configs[1], configs[2]):
        side = config["resolution"]
        x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(2))
        data = subnetwork_bytes(supernet, config, "onnx", supernet.extract(config, calibrate=False))
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        (got,) = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            expected = reference_subnet(net, config)(x).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_the_w1_2_variant_loads_its_checkpoint_and_matches_the_reference(tmp_path):
    net = reference_net(1.2, seed=5)
    path = save_checkpoint(net, tmp_path / "ofa_mbv3_d234_e346_k357_w1.2")
    supernet = create("mobilenetv3", variant="ofa-w1.2", checkpoint=path)
    assert "resolution" not in supernet.space.names and len(supernet.space.variables) == 45
    config = supernet.space.sample(9, 1)[0]
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        got = supernet.extract(config, calibrate=False)(x)
        expected = reference_subnet(net, config)(x)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
