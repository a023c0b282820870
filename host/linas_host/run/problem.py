"""From a validated `SearchConfig` to what the search core runs: the space, the objectives and
constraints in the core's types, and the source of figures (a supernet or a measured table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linas_host.config.schema import SearchConfig
from linas_host.evaluate.table import MeasuredTable
from linas_host.export.quantize import Quantization
from linas_host.export.subnet import Exporter
from linas_host.search.hypervolume import natural_reference, worst_point
from linas_host.supernets.precision import MixedPrecision
from linas_host.supernets.protocol import Calibrated
from linas_sdk.cell import Cell
from linas_sdk.objectives import Constraint, Objective, parse_constraints
from linas_sdk.space import SearchSpace


@dataclass
class Problem:
    """What is searched and how it is judged. `reference` (natural units) is known upfront for a
    table (each objective's worst value in it) or when the config gives one; otherwise the
    run fixes one after its first population (`RunHypervolume`)."""

    space: SearchSpace
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    supernet: Any = None
    table: Any = None
    reference: dict[str, float] | None = None

    @property
    def directions(self) -> list[tuple[str, str]]:
        return [(o.name, o.direction) for o in self.objectives]


def build_problem(config: SearchConfig, *, table: MeasuredTable | None = None) -> Problem:
    """Load the supernet (its weights) or the table (`table`, when it is loaded already), and
    name the objectives. At `precision: mixed` the supernet's space gains a precision gene per
    stage (`MixedPrecision`)."""
    objectives = tuple(o.objective() for o in config.objectives)
    constraints = parse_constraints(config.constraints)
    reference = dict(config.reference_point) if config.reference_point else None
    if config.space.table is not None:
        if table is None:
            cell = Cell.from_dict(config.space.cell) if config.space.cell is not None else None
            table = MeasuredTable.load(config.space.table, config.space.variables, cell=cell)
        table.check(objectives, constraints)
        if reference is None:
            reference = natural_reference(objectives, worst_point(table.minimised(objectives)))
        return Problem(table.space, objectives, constraints, table=table, reference=reference)
    from linas_host.supernets import create

    options = dict(config.space.options)
    if config.data is not None:
        options["data"] = config.data.options()
    supernet = create(config.space.supernet, **options)
    if config.precision == "mixed":
        supernet = MixedPrecision(supernet)
    return Problem(supernet.space, objectives, constraints, supernet=supernet,
                   reference=reference)


def candidate_exporter(config: SearchConfig, supernet: Any, fmt: str | None = None) -> Exporter:
    """What turns a sub-network of `supernet` into the config's candidate file, as `fmt` (the
    runtime's format by default): FP32, or int8 at `precision: int8` (its int8 stages at
    `mixed`), statically calibrated for a supernet that gives calibration images, else
    dynamically (int8 weights of its matrix products: a Transformer)."""
    quantization = None
    if config.precision != "fp32":
        scheme = "static" if isinstance(supernet, Calibrated) else "dynamic"
        quantization = Quantization(scheme, integer_io=config.quantization.integer_io)
    return Exporter(supernet, fmt or config.format.name, quantization,
                    config.quantization.calibration_samples)
