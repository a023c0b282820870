"""The Once-for-All MobileNetV3 space: 45 variables, block genes conditional on stage depth."""

from __future__ import annotations

from linas_host.supernets.mobilenetv3.space import mobilenetv3_space


def test_space_has_45_variables_5_depths_and_20_blocks_of_expand_and_kernel():
    space = mobilenetv3_space()
    assert len(space) == 45
    assert sum(name.startswith("depth_") for name in space.names) == 5
    assert sum(name.startswith("expand_") for name in space.names) == 20
    assert sum(name.startswith("kernel_") for name in space.names) == 20
    assert space["kernel_3_2"].choices == (3, 5, 7)
    assert space["expand_3_2"].choices == (3, 4, 6)


def test_genes_of_blocks_a_depth_switches_off_are_canonicalised_away():
    space = mobilenetv3_space()
    base = space.extreme(largest=True) | {"depth_2": 2}
    other = base | {"expand_2_3": 3, "kernel_2_4": 5}  # blocks 3 and 4 of stage 2 are off
    assert space.key(base) == space.key(other)
    assert space.canonical(other)["expand_2_3"] == 3  # folded to the first choice
    deeper = base | {"depth_2": 3}
    changed = deeper | {"expand_2_3": 4}
    assert space.key(deeper) != space.key(changed)  # block 3 is on at depth 3
    assert space.key(deeper | {"kernel_2_4": 3}) == space.key(deeper | {"kernel_2_4": 7})


def test_extremes_are_canonical_and_sampled_configs_are_too():
    space = mobilenetv3_space()
    smallest = space.extreme(largest=False)
    assert all(smallest[f"depth_{s}"] == 2 for s in range(1, 6))
    for config in space.sample(3, 20):
        assert space.canonical(config) == config
