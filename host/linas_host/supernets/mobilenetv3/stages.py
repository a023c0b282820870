"""The MobileNetV3 sub-network's stages for `precision: mixed`: the stem (the first convolution
and the fixed first block), each elastic stage (its first ``depth_S`` blocks) and the head
(the final expansion, pooling, feature mix and classifier), as modules of the extracted
`MobileNetV3`, whose blocks are numbered in one list across the stages.
"""

from __future__ import annotations

from linas_host.export.stages import module_pattern
from linas_host.supernets.mobilenetv3.space import STAGES

PRECISION_STAGES = ("stem", *(f"stage{s}" for s in range(1, STAGES + 1)), "head")


def stage_modules(config: dict) -> dict[str, list[str]]:
    """Each stage of the sub-network `config` -> the paths of its modules."""
    modules, first = {"stem": ["first_conv", "blocks.0"]}, 1
    for s in range(1, STAGES + 1):
        depth = config[f"depth_{s}"]
        modules[f"stage{s}"] = [f"blocks.{i}" for i in range(first, first + depth)]
        first += depth
    modules["head"] = ["final_expand_layer", "feature_mix_layer", "classifier"]
    return modules


def stage_operators(config: dict, fmt: str) -> dict[str, str]:
    """Each stage -> a pattern of its operators' names in the `fmt` file of `config`."""
    return {stage: module_pattern(paths, fmt) for stage, paths in stage_modules(config).items()}
