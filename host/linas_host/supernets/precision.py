"""`precision: mixed`: a supernet's space with one precision gene per stage.

`MixedPrecision` wraps a `Staged` supernet: its space is the supernet's plus a categorical
``precision_<stage>`` gene (fp32 or int8) for each of ``precision_stages``, added after the
architecture's genes, so the search, its predictors and the journal treat them like any
other gene (a candidate's key names its precisions; two precisions of one architecture are two
candidates, two files, two cache entries). Its random draws (every method's initial population,
random search, LINAS's fill) give each candidate one precision for all its stages, fp32 or int8
with equal chance: whether int8 buys or costs latency is mostly the board's (its int8
kernels against the quantize and dequantize around them), so the first front holds the best of
both uniform fronts and crossover and mutation mix stages from there; a draw per gene would
start every candidate with about half its stages in each precision, far from both. (Random
search therefore compares uniform precisions only.) Every call that takes a config hands the
supernet the architecture alone; the exporter asks `stage_precisions` which stages to quantize
(`linas_host.export.subnet.Exporter`). Everything else is the supernet's own, so the optional
protocols (scored on the board, calibrated) hold for the wrapper as they do for the supernet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from linas_host.supernets.protocol import Staged
from linas_sdk.errors import InvalidArgument
from linas_sdk.space import SearchSpace, Variable

PRECISIONS = ("fp32", "int8")
GENE_PREFIX = "precision_"


def gene(stage: str) -> str:
    """The name of `stage`'s precision gene."""
    return GENE_PREFIX + stage


def split(config: Mapping) -> tuple[dict, dict[str, str]]:
    """A config of a `MixedPrecision` space as (its architecture, each stage -> precision)."""
    stages = {k[len(GENE_PREFIX):]: v for k, v in config.items() if k.startswith(GENE_PREFIX)}
    return {k: v for k, v in config.items() if not k.startswith(GENE_PREFIX)}, stages


class PrecisionSpace(SearchSpace):
    """A space whose random draws give a candidate's precision genes one value (module doc)."""

    def __init__(self, variables: list[Variable], precision_genes: tuple[str, ...]) -> None:
        super().__init__(variables)
        self.precision_genes = precision_genes

    def sample(self, rng: np.random.Generator | int | None, n: int) -> list[dict]:
        rng = np.random.default_rng(rng)
        configs = super().sample(rng, n)
        for config, precision in zip(configs, rng.choice(PRECISIONS, size=len(configs)),
                                     strict=True):
            config.update(dict.fromkeys(self.precision_genes, str(precision)))
        return configs


class MixedPrecision:
    """A `Staged` supernet searched with a precision gene per stage (see the module docstring)."""

    def __init__(self, supernet: Any) -> None:
        if not isinstance(supernet, Staged):
            raise InvalidArgument(
                f"precision: mixed needs a supernet that names its stages (precision_stages and "
                f"stage_operators: linas_host.supernets.protocol.Staged); {supernet.name!r} "
                "does not: expected precision fp32 or int8")
        self.supernet = supernet
        self.genes = {gene(stage): stage for stage in supernet.precision_stages}
        clash = sorted(set(self.genes) & set(supernet.space.names))
        if clash:
            raise InvalidArgument(f"the supernet's space already has genes {clash}")
        self.space = PrecisionSpace([*supernet.space.variables,
                                     *(Variable(name, PRECISIONS) for name in self.genes)],
                                    tuple(self.genes))

    def __getattr__(self, name: str) -> Any:
        if name == "supernet" or name.startswith("__"):  # not set yet: unpickling
            raise AttributeError(name)
        found = getattr(self.supernet, name)
        if name in ("validation_arrays", "calibration_arrays"):
            return lambda limit=None, config=None: found(
                limit, None if config is None else self.architecture(config))
        return found

    def architecture(self, config: Mapping) -> dict:
        """`config` without its precision genes: what the supernet builds."""
        return {k: v for k, v in config.items() if k not in self.genes}

    def stage_precisions(self, config: Mapping) -> dict[str, str]:
        """Each stage -> its precision in `config`, in the supernet's stage order."""
        missing = sorted(set(self.genes) - set(config))
        if missing:
            raise InvalidArgument(f"config {dict(config)!r} lacks the precision genes {missing}")
        return {stage: config[name] for name, stage in self.genes.items()}

    def stage_operators(self, config: Mapping, fmt: str) -> dict[str, str]:
        return self.supernet.stage_operators(self.architecture(config), fmt)

    def extract(self, config: Mapping) -> Any:
        return self.supernet.extract(self.architecture(config))

    def example_input(self, config: Mapping | None = None) -> tuple:
        return self.supernet.example_input(None if config is None else self.architecture(config))

    def macs(self, config: Mapping) -> int:
        return self.supernet.macs(self.architecture(config))

    def params(self, config: Mapping) -> int:
        return self.supernet.params(self.architecture(config))
