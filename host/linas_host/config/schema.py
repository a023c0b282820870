"""The `linas search CONFIG.yaml` schema, validated with pydantic.

One schema serves the YAML file and the Python API (`linas_sdk.search(**options)` validates its
keywords with `SearchConfig` too), so every option means the same in both. A validation error
names each offending field and what was expected, in one message (`ConfigError`).

Every relative path in a file (a table, a devices file, the data folders, a supernet's
``weights``, ``checkpoint``, ``corpus`` and ``valid``, the output and cache folders) is taken
relative to the file's folder; from the Python API, relative to the working directory. Without
`out`, a run writes to ``runs/<config file stem>`` (``runs/search`` from the API) under the
working directory.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    field_validator,
    model_validator,
)

from linas_host.config_files import read_mapping, validated
from linas_host.search.runner import check_budget
from linas_sdk.cell import Cell
from linas_sdk.errors import InvalidArgument
from linas_sdk.formats import RUNTIMES, Format, format_of_runtime
from linas_sdk.metrics import DEVICE_METRICS, METRICS
from linas_sdk.objectives import STATISTICS, Objective
from linas_sdk.target import Target

METRIC_NAMES = (*METRICS, "column")
PATH_OPTIONS = ("weights", "checkpoint", "corpus", "valid", "dictionary", "bpe_codes")
"""The supernet options that name files (a path, or a list of paths for ``valid``)."""
RENAMED_RUNTIMES = {"onnx": "onnxruntime", "tflite": "litert"}
"""The runtime spellings of earlier releases (they named the format), read for one more."""


class ConfigError(InvalidArgument):
    """A search configuration is invalid; the message lists every field at fault."""


def _constraint(text: str) -> str:
    from linas_sdk.objectives import Constraint

    Constraint.parse(text)
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpaceSpec(_Strict):
    """What to search: exactly one of a supernet (built-in name or "module:factory"), or a table
    of measured architectures (every row one architecture, its variables and objective columns;
    ``cell``: which of them are a cell's edges, as `linas_sdk.cell.Cell` reads it)."""

    supernet: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    table: Path | None = None
    variables: list[str] | None = None
    cell: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"supernet": value}
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> SpaceSpec:
        if (self.supernet is None) == (self.table is None):
            raise ValueError(
                "expected exactly one of 'supernet' (a built-in name such as mobilenetv3 or "
                "transformer, or 'module:factory') and 'table' (a CSV file)"
            )
        if self.table is not None and not self.variables:
            raise ValueError("a table space needs 'variables': the columns that are design genes")
        if self.table is None and self.variables is not None:
            raise ValueError("'variables' only applies to a table space")
        if self.table is not None and self.options:
            raise ValueError("'options' only applies to a supernet space")
        if self.cell is not None:
            if self.table is None:
                raise ValueError("'cell' only applies to a table space")
            Cell.from_dict(self.cell)
        return self


class DataSpec(_Strict):
    """The user's data for a supernet that scores on it (``mobilenetv3`` variants ``ofa-*``,
    and weights adapted to the user's classes, the small supernet's too): ``val`` and
    ``calibration`` are image folders (one sub-folder a class) or ``.npz`` files (``x`` float32
    NCHW normalised, ``y`` labels); ``classes`` a file naming the folders' class order, one a
    line; ``mean`` and ``std`` the per-channel normalisation (ImageNet's by default; one value
    each for a grayscale network). Given to the supernet's factory as its ``data`` option."""

    val: Path | None = None
    calibration: Path | None = None
    classes: Path | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[PositiveFloat, ...] | None = None

    @field_validator("mean", "std")
    @classmethod
    def _one_per_channel(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None and len(value) not in (1, 3):
            raise ValueError(
                f"{len(value)} values: expected 3 (RGB) or 1 (a grayscale network), one a channel"
            )
        return value

    def options(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class ObjectiveSpec(_Strict):
    """One objective: a metric, where it is measured, and its direction.

    Shorthands: ``"accuracy"`` (any metric name), or ``"acc_cifar100:max"`` (a table column).
    """

    metric: Literal[METRIC_NAMES]  # type: ignore[valid-type]
    name: str | None = None
    direction: Literal["min", "max"] | None = None
    column: str | None = None
    device: str | None = None
    labels: dict[str, str] | None = None
    statistic: Literal[STATISTICS] = "median"  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        column, sep, direction = value.partition(":")
        if sep:
            return {"metric": "column", "column": column, "direction": direction}
        return {"metric": value}

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("expected letters, digits and underscores, not starting with a digit")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ObjectiveSpec:
        if self.metric == "column":
            if not self.column or self.direction is None:
                raise ValueError("a column objective needs 'column' and 'direction' (min or max)")
        elif self.column is not None:
            raise ValueError("'column' only applies to metric 'column'")
        if self.metric not in DEVICE_METRICS and (self.device or self.labels):
            raise ValueError(
                f"'device' and 'labels' only apply to {' and '.join(DEVICE_METRICS)}")
        if self.device and self.labels:
            raise ValueError("give either 'device' (one board by name) or 'labels', not both")
        return self

    @property
    def target(self) -> Target:
        """Where it is measured: a device by name, by labels, or any device."""
        return Target.of(self.device, self.labels)

    @property
    def resolved_name(self) -> str:
        """The objective's column name: `name`, else derived from metric and target
        (``latency_ms_pi5_a``; ``latency_ms`` for any device)."""
        if self.name:
            return self.name
        if self.metric == "column":
            return str(self.column)
        slug, column = self.target.slug(), METRICS[self.metric].column
        return f"{column}_{slug}" if slug else column

    @property
    def resolved_direction(self) -> str:
        return self.direction or METRICS[self.metric].direction

    def objective(self) -> Objective:
        """The search core's objective: its column, direction and unit, and for a metric
        what fills the column (the metric, its target, the statistic)."""
        if self.metric == "column":
            return Objective(self.resolved_name, self.resolved_direction)
        return Objective(
            self.resolved_name, self.resolved_direction, METRICS[self.metric].unit,
            metric=self.metric, target=self.target, statistic=self.statistic,
        )


class QuantizationSpec(_Strict):
    """How `precision: int8` (and `mixed`, its int8 stages) quantizes a candidate:
    `calibration_samples` images to calibrate its activations on (the supernet's calibration
    or training images), and integer inputs and outputs (`integer_io`, for a TFLite file; an
    ONNX QDQ file keeps float ones)."""

    calibration_samples: int = Field(256, ge=1)
    integer_io: bool = False


class ExecutorSpec(_Strict):
    """Where each candidate's host work runs: ``local`` (this process, the default) or ``ray``
    (a task of `num_cpus` CPUs and `num_gpus` GPUs on the Ray cluster at `address`: ``auto``,
    ``HOST:PORT`` or ``ray://HOST:PORT``; docs/ray.md). Shorthand: ``"local"`` or ``"ray"``."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = None
    num_cpus: float | None = Field(None, gt=0)
    num_gpus: float | None = Field(None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> ExecutorSpec:
        given = [n for n in ("address", "num_cpus", "num_gpus") if getattr(self, n) is not None]
        if self.kind == "local":
            if given:
                raise ValueError(f"{', '.join(given)}: only for kind 'ray' (this is 'local')")
            return self
        address = "auto" if self.address is None else self.address
        if address != "auto" and not re.fullmatch(r"(ray://)?[^\s:/]+:\d{1,5}", address):
            raise ValueError(
                f"address {address!r}: expected 'auto', 'HOST:PORT' or 'ray://HOST:PORT'")
        object.__setattr__(self, "address", address)
        object.__setattr__(self, "num_cpus", 1.0 if self.num_cpus is None else self.num_cpus)
        object.__setattr__(self, "num_gpus", 0.0 if self.num_gpus is None else self.num_gpus)
        return self


class SearchConfig(_Strict):
    """A whole search: space, objectives, devices, runtime, budget, output."""

    space: SpaceSpec
    objectives: list[ObjectiveSpec] = Field(min_length=2, max_length=4)
    constraints: list[Annotated[str, AfterValidator(_constraint)]] = Field(default_factory=list)
    data: DataSpec | None = None
    devices: Path | None = None
    wait_for_devices_s: float = Field(0.0, ge=0)
    runtime: Literal[RUNTIMES] = "onnxruntime"  # type: ignore[valid-type]
    precision: Literal["fp32", "int8", "mixed"] = "fp32"
    quantization: QuantizationSpec = Field(default_factory=QuantizationSpec)
    provider: str = ""
    accuracy_on: Literal["host", "device"] = "host"
    accuracy_limit: int | None = Field(None, ge=1)
    threads: int = Field(0, ge=0)
    host_threads: int | None = Field(None, ge=1)
    measure: dict[str, Any] = Field(default_factory=dict)
    method: str = "linas"
    method_options: dict[str, Any] = Field(default_factory=dict)
    budget: int = Field(ge=1)
    population: int = Field(50, ge=2)
    seed: int = 0
    reference_point: dict[str, float] | None = None
    out: Path | None = None
    cache_dir: Path | None = None
    cache: bool = True
    export_front: bool = True
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)
    warm_start: Path | None = None
    """A finished run on another board (its directory): its board-independent objectives are
    reused and its board's objectives become a predictor feature (`linas_host.run.warm`)."""

    @field_validator("runtime", mode="before")
    @classmethod
    def _renamed_runtime(cls, value: Any) -> Any:
        if value in RENAMED_RUNTIMES:
            warnings.warn(
                f"runtime: {value!r} is deprecated and will be removed in the next release; "
                f"write {RENAMED_RUNTIMES[value]!r} (the runtime that runs the file)",
                FutureWarning, stacklevel=2,
            )
            return RENAMED_RUNTIMES[value]
        return value

    @field_validator("measure")
    @classmethod
    def _measure_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        from linas_sdk.serde import settings_to_proto

        settings_to_proto(value)  # refused here as on the wire: unknown names, bad values
        return value

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        from linas_host.search import registry

        registry.check(value)  # a method registered at run time, an entry point or a path too
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SearchConfig:
        names = [o.resolved_name for o in self.objectives]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(
                f"objective names must differ, {', '.join(repeated)} repeats: give each a "
                "'name', or a different 'device' or 'labels'"
            )
        table = self.space.table is not None
        for i, objective in enumerate(self.objectives):
            if table != (objective.metric == "column"):
                raise ValueError(
                    f"objectives[{i}]: a table space takes column objectives only "
                    "('column:min|max'), a supernet space takes metrics only "
                    f"({', '.join(METRICS)})"
                )
        from linas_sdk.objectives import Constraint

        for text in self.constraints:
            if Constraint.parse(text).source not in names:
                raise ValueError(
                    f"constraint {text!r} names no objective: expected one of {', '.join(names)}"
                )
        if self.reference_point is not None and set(self.reference_point) != set(names):
            raise ValueError(
                f"reference_point names {', '.join(sorted(self.reference_point))}: expected one "
                f"value for each objective ({', '.join(names)})"
            )
        try:
            check_budget(self.budget, self.population)
        except InvalidArgument as error:
            raise ValueError(str(error)) from None
        if self.data is not None and table:
            raise ValueError(
                "data: images apply to a supernet space that scores on them, not to a table; "
                "expected no 'data' beside space.table")
        if self.data is not None and "data" in self.space.options:
            raise ValueError(
                "data is given twice, as 'data' and as space.options.data: expected one of them")
        if self.quantization.integer_io and self.runtime != "litert":
            raise ValueError(
                "quantization.integer_io: integer inputs and outputs apply to a TFLite file "
                "(runtime litert); an ONNX QDQ file keeps float ones")
        if table and self.precision != "fp32":
            raise ValueError("precision: a table space replays recorded figures; expected fp32")
        if table and self.executor.kind != "local":
            raise ValueError(
                "executor: a table space is replayed, with no host work to run elsewhere; "
                "expected executor 'local' (the default) or a supernet space")
        if self.devices is None and not all(o.target.anywhere for o in self.objectives):
            raise ValueError(
                "an objective names a device or labels, so a 'devices' file is needed "
                "(without one, the search measures on this machine only)"
            )
        return self

    @property
    def objective_names(self) -> list[str]:
        return [o.resolved_name for o in self.objectives]

    @property
    def format(self) -> Format:
        """The format of the files the search exports: the one `runtime` runs."""
        return format_of_runtime(self.runtime)

    def with_base(self, base: Path) -> SearchConfig:
        """This config with its relative paths taken from `base` (a config file's folder)."""

        def rebase(path: Path | None) -> Path | None:
            return path if path is None or path.is_absolute() else base / path

        options = {
            k: ([str(rebase(Path(p))) for p in v] if isinstance(v, list) else str(rebase(Path(v))))
            if k in PATH_OPTIONS and isinstance(v, (str, list)) else v
            for k, v in self.space.options.items()
        }
        space = self.space.model_copy(
            update={"table": rebase(self.space.table), "options": options})
        data = self.data and self.data.model_copy(
            update={k: rebase(getattr(self.data, k)) for k in ("val", "calibration", "classes")}
        )
        return self.model_copy(
            update={
                "space": space,
                "data": data,
                "devices": rebase(self.devices),
                "out": rebase(self.out),
                "cache_dir": rebase(self.cache_dir),
                "warm_start": rebase(self.warm_start),
            }
        )

    def to_yaml(self) -> str:
        """The config as YAML, defaults filled in (what a run directory keeps)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return yaml.safe_dump(data, sort_keys=False)


def validate(options: dict[str, Any], *, source: str = "Python API") -> SearchConfig:
    """A SearchConfig from plain options, or ConfigError naming every field at fault."""
    return validated(
        SearchConfig, options, header=f"invalid search configuration ({source})", error=ConfigError
    )


def load(path: str | Path) -> SearchConfig:
    """Read and validate a YAML config; relative paths are resolved from its folder, and the
    output directory defaults to ``runs/<file stem>`` under the working directory."""
    path = Path(path)
    data = read_mapping(
        path,
        what="search configuration",
        expected="a mapping of options at the top level",
        error=ConfigError,
    )
    config = validate(data, source=str(path)).with_base(path.parent.resolve())
    if config.out is None:
        config = config.model_copy(update={"out": Path("runs") / path.stem})
    return config


def load_saved(path: str | Path) -> SearchConfig:
    """A run directory's config.yaml, as a run wrote it (paths already absolute, defaults
    filled in); a spelling an earlier release wrote is read as it meant, without a warning."""
    data = read_mapping(Path(path), what="run configuration", expected="a mapping of options",
                        error=ConfigError)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return validate(data, source=str(path))
