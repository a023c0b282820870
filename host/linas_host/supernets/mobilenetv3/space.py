"""The Once-for-All MobileNetV3 search space: 5 stage depths and, per block, an expand ratio
and a kernel size (5 + 20 x 2 = 45 variables at depths {2, 3, 4}).

A block's genes are conditional on its stage's depth: block 3 matters only at depth 3 or 4,
block 4 only at depth 4, so the canonical form folds the encodings of one network into one.
Names: ``depth_S``, ``expand_S_B``, ``kernel_S_B`` (stage S in 1..5, block B from 1).
"""

from __future__ import annotations

from linas_sdk.space import SearchSpace, Variable

STAGES = 5


def mobilenetv3_space(
    depths: tuple[int, ...] = (2, 3, 4),
    expand_ratios: tuple[int, ...] = (3, 4, 6),
    kernel_sizes: tuple[int, ...] = (3, 5, 7),
) -> SearchSpace:
    """The elastic MobileNetV3 space for these choices (Once-for-All's by default)."""
    depths = tuple(sorted(depths))
    variables = [Variable(f"depth_{s}", depths, "int") for s in range(1, STAGES + 1)]
    for s in range(1, STAGES + 1):
        for b in range(1, max(depths) + 1):
            allowed = [d for d in depths if d >= b]
            active_if = None if len(allowed) == len(depths) else {f"depth_{s}": allowed}
            variables.append(Variable(f"expand_{s}_{b}", tuple(expand_ratios), "int", active_if))
            variables.append(Variable(f"kernel_{s}_{b}", tuple(kernel_sizes), "int", active_if))
    return SearchSpace(variables)

