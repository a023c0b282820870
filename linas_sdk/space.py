"""A search space as plain data: named design variables, each with its list of choices.

A configuration (config) is a plain dict ``name -> value``. A variable may be *conditional*:
``active_if={"depth": [3, 4]}`` makes it matter only when ``depth`` is 3 or 4 (say, the genes of
a layer that a smaller depth switches off). The *canonical* form sets every inactive variable to
its first choice, so two encodings of one network become one config, one key and one
evaluation. Conditions may only name variables declared earlier, which rules out cycles.

Spaces are data, not subclasses: build them in Python or load them from YAML::

    variables:
      - {name: depth, kind: int, choices: [2, 3, 4]}
      - {name: kernel_3, choices: [3, 5, 7], active_if: {depth: [3, 4]}}
      - {name: op, choices: [conv, pool]}

A cell-based space may also say which variables are the ops on a DAG's edges (`cell.Cell`),
which lets predictors see edges that no input-to-output path uses as cut.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from linas_sdk.cell import Cell
from linas_sdk.errors import InvalidArgument

KINDS = ("categorical", "int")


@dataclass(frozen=True)
class Variable:
    """One design variable. ``int`` values are ordered numbers (features use the value);
    ``categorical`` values are labels (features one-hot them). ``active_if`` maps earlier
    variables to the values under which this one matters."""

    name: str
    choices: tuple
    kind: str = "categorical"
    active_if: Mapping[str, tuple] | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgument(f"a variable needs a non-empty string name, got {self.name!r}")
        if self.kind not in KINDS:
            raise InvalidArgument(
                f"variable {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}"
            )
        if isinstance(self.choices, (str, bytes)) or not isinstance(self.choices, Iterable):
            raise InvalidArgument(
                f"variable {self.name!r}: choices must be a list, got {self.choices!r}"
            )
        choices = tuple(_plain(c) for c in self.choices)
        if not choices:
            raise InvalidArgument(f"variable {self.name!r} has no choices")
        if len(set(choices)) != len(choices):
            raise InvalidArgument(f"variable {self.name!r} lists a choice twice: {list(choices)}")
        for c in choices:
            ok = isinstance(c, int) if self.kind == "int" else isinstance(c, (str, int, float))
            if not ok or isinstance(c, bool) or (isinstance(c, float) and not math.isfinite(c)):
                raise InvalidArgument(
                    f"variable {self.name!r} ({self.kind}): choice {c!r} is not "
                    + ("an integer" if self.kind == "int" else "a string or finite number")
                )
        object.__setattr__(self, "choices", choices)
        if self.active_if is not None:
            if not isinstance(self.active_if, Mapping) or not self.active_if:
                raise InvalidArgument(
                    f"variable {self.name!r}: active_if must map variable names to lists of "
                    f"values, got {self.active_if!r}"
                )
            cond = {}
            for parent, values in self.active_if.items():
                if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                    values = (values,)
                cond[str(parent)] = tuple(_plain(v) for v in values)
            object.__setattr__(self, "active_if", cond)

    def index(self, value: Any) -> int:
        """The position of ``value`` among the choices (raises InvalidArgument if absent)."""
        try:
            return self.choices.index(_plain(value))
        except ValueError:
            raise InvalidArgument(
                f"{value!r} is not a choice of variable {self.name!r}; "
                f"expected one of {list(self.choices)}"
            ) from None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "choices": list(self.choices)}
        if self.active_if:
            out["active_if"] = {k: list(v) for k, v in self.active_if.items()}
        return out


class SearchSpace:
    """An ordered set of variables (and optionally the `Cell` graph some of them form); every
    method, evaluator and journal sees configs through it."""

    def __init__(self, variables: Sequence[Variable], *, cell: Cell | None = None) -> None:
        variables = tuple(variables)
        if not variables:
            raise InvalidArgument("a search space needs at least one variable")
        seen: dict[str, Variable] = {}
        for var in variables:
            if not isinstance(var, Variable):
                raise InvalidArgument(f"expected Variable objects, got {var!r}")
            if var.name in seen:
                raise InvalidArgument(f"variable {var.name!r} is declared twice")
            for parent, values in (var.active_if or {}).items():
                if parent not in seen:
                    raise InvalidArgument(
                        f"variable {var.name!r}: active_if names {parent!r}, which is not a "
                        "variable declared before it"
                    )
                for v in values:
                    seen[parent].index(v)  # each condition value must be a real choice
            seen[var.name] = var
        self.variables = variables
        self.names = tuple(seen)
        self._by_name = seen
        self.sizes = np.array([len(v.choices) for v in variables], dtype=np.int64)
        # (child, parent, mask over the parent's choices): the conditions, by index
        self._conditions = []
        for j, var in enumerate(variables):
            for parent, values in (var.active_if or {}).items():
                p = self.names.index(parent)
                allowed = np.zeros(self.sizes[p], dtype=bool)
                allowed[[variables[p].index(v) for v in values]] = True
                self._conditions.append((j, p, allowed))
        self.cell = cell
        if cell is not None:
            self._cell_columns, self._cell_zero = self._bind(cell)

    def _bind(self, cell: Cell) -> tuple[np.ndarray, np.ndarray]:
        """The cell's edge variables as column indices, with the index of the zero choice."""
        columns, zeros = [], []
        for name in cell.edges:
            var = self._by_name.get(name)
            if var is None or var.active_if:
                raise InvalidArgument(
                    f"cell edge {name!r} must be an unconditional variable of the space; the "
                    f"space has {list(self.names)}"
                )
            if cell.zero not in var.choices:
                raise InvalidArgument(
                    f"cell edge {name!r}: the zero op {cell.zero!r} is not among its choices "
                    f"{list(var.choices)}"
                )
            columns.append(self.names.index(name))
            zeros.append(var.index(cell.zero))
        return np.array(columns), np.array(zeros)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping) -> SearchSpace:
        """Build from ``{"variables": [{"name", "choices", "kind"?, "active_if"?}, ...],
        "cell"?: {"edges", "zero"}}``."""
        if not isinstance(data, Mapping) or not isinstance(data.get("variables"), list):
            raise InvalidArgument(
                "a search space is a mapping with a 'variables' list, e.g. "
                "{'variables': [{'name': 'op', 'choices': ['conv', 'pool']}]}"
            )
        if set(data) - {"variables", "cell"}:
            raise InvalidArgument(
                f"a search space has 'variables' and optionally 'cell'; got keys {sorted(data)}"
            )
        variables = []
        for i, item in enumerate(data["variables"]):
            if not isinstance(item, Mapping):
                raise InvalidArgument(f"variables[{i}] must be a mapping, got {item!r}")
            unknown = set(item) - {"name", "choices", "kind", "active_if"}
            if unknown or "name" not in item or "choices" not in item:
                raise InvalidArgument(
                    f"variables[{i}] needs 'name' and 'choices' (optional 'kind', 'active_if');"
                    f" got keys {sorted(item)}"
                )
            variables.append(
                Variable(
                    name=item["name"],
                    choices=item["choices"],
                    kind=item.get("kind", "categorical"),
                    active_if=item.get("active_if"),
                )
            )
        cell = Cell.from_dict(data["cell"]) if "cell" in data else None
        return cls(variables, cell=cell)

    @classmethod
    def from_yaml(cls, path: str | Path) -> SearchSpace:
        import yaml

        try:
            text = Path(path).read_text()
        except OSError as error:
            raise InvalidArgument(f"cannot read search space file {path}: {error}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise InvalidArgument(f"{path} is not valid YAML: {error}") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"variables": [v.to_dict() for v in self.variables]}
        if self.cell is not None:
            out["cell"] = self.cell.to_dict()
        return out

    def fingerprint(self) -> str:
        """A hash of the space's definition: journals refuse to mix spaces by comparing it."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    # -- configs ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.variables)

    def __getitem__(self, name: str) -> Variable:
        return self._by_name[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(self.names)})"

    def size(self) -> int:
        """How many encodings the space has (canonical forms may be fewer)."""
        return int(np.prod(self.sizes, dtype=object))

    def is_active(self, name: str, config: Mapping) -> bool:
        """Whether ``name`` matters in ``config`` (its conditions hold, its parents are active)."""
        var = self._by_name[name]
        for parent, values in (var.active_if or {}).items():
            if not self.is_active(parent, config) or _plain(config[parent]) not in values:
                return False
        return True

    def validate(self, config: Mapping) -> None:
        """Raise InvalidArgument unless ``config`` names every variable with one of its choices."""
        if not isinstance(config, Mapping):
            raise InvalidArgument(f"a config is a dict of variable values, got {config!r}")
        missing = [n for n in self.names if n not in config]
        extra = [n for n in config if n not in self._by_name]
        if missing or extra:
            raise InvalidArgument(
                f"config {dict(config)!r} does not match the space: "
                f"missing {missing}, unknown {extra}"
            )
        for var in self.variables:
            var.index(config[var.name])

    def canonical(self, config: Mapping) -> dict:
        """The config with every inactive variable set to its first choice."""
        self.validate(config)
        out: dict = {}
        for var in self.variables:  # parents come first, so `out` already holds them canonical
            out[var.name] = _plain(config[var.name])
            if var.active_if and not self.is_active(var.name, out):
                out[var.name] = var.choices[0]
        return out

    def extreme(self, *, largest: bool) -> dict:
        """Every variable at its largest (or smallest) choice, canonical: the largest and
        smallest sub-networks of a supernet whose choices grow with the network."""
        pick = max if largest else min
        return self.canonical({v.name: pick(v.choices) for v in self.variables})

    def key(self, config: Mapping) -> str:
        """A stable string naming the architecture: equal for two encodings of one network."""
        canon = self.canonical(config)
        return json.dumps([canon[n] for n in self.names], separators=(",", ":"))

    def config_from_key(self, key: str) -> dict:
        try:
            values = json.loads(key)
        except ValueError:
            raise InvalidArgument(f"{key!r} is not an architecture key of this space") from None
        if not isinstance(values, list) or len(values) != len(self.names):
            raise InvalidArgument(f"{key!r} is not an architecture key of this space")
        return self.canonical(dict(zip(self.names, values, strict=False)))

    def encode(self, config: Mapping) -> np.ndarray:
        """The canonical config as choice indices (an int vector, one entry per variable)."""
        canon = self.canonical(config)
        return np.array([v.index(canon[v.name]) for v in self.variables], dtype=np.int64)

    def decode(self, x: Sequence[int] | np.ndarray) -> dict:
        """The canonical config for a vector of choice indices (floats are rounded)."""
        x = np.asarray(x)
        if x.shape != (len(self.variables),):
            raise InvalidArgument(
                f"expected {len(self.variables)} choice indices, got shape {x.shape}"
            )
        idx = np.rint(x).astype(np.int64)
        if np.any(idx < 0) or np.any(idx >= self.sizes):
            raise InvalidArgument(f"choice indices {idx.tolist()} outside {self.sizes.tolist()}")
        config = {v.name: v.choices[i] for v, i in zip(self.variables, idx, strict=True)}
        return self.canonical(config)

    def sample(self, rng: np.random.Generator | int | None, n: int) -> list[dict]:
        """``n`` canonical configs drawn uniformly over encodings (may repeat)."""
        rng = np.random.default_rng(rng)
        X = rng.integers(0, self.sizes, size=(int(n), len(self.sizes)))
        return [self.decode(x) for x in X]

    def features(self, configs: Iterable[Mapping]) -> np.ndarray:
        """Numeric features for predictors: int variables as their value (0 when inactive),
        categoricals one-hot (all zero when inactive; a dead cell edge as its zero op).
        Shape (n, n_features)."""
        X = np.array([self.encode(c) for c in configs], dtype=np.int64)
        return self.features_encoded(X.reshape(-1, len(self.variables)))

    def active_encoded(self, X: np.ndarray) -> np.ndarray:
        """Which genes matter, for a matrix of choice indices: a bool matrix of X's shape."""
        X = self._index_matrix(X)
        active = np.ones(X.shape, dtype=bool)
        for j, p, allowed in self._conditions:
            active[:, j] &= active[:, p] & allowed[X[:, p]]
        return active

    def canonical_encoded(self, X: np.ndarray) -> np.ndarray:
        """``encode(canonical(decode(x)))`` for every row of X at once (inactive genes -> 0)."""
        X = self._index_matrix(X)
        return np.where(self.active_encoded(X), X, 0)

    def features_encoded(self, X: np.ndarray) -> np.ndarray:
        """``features`` for a matrix of choice indices (one row per config), vectorised, which
        keeps predictor-driven GAs fast."""
        X = self._index_matrix(X)
        active = self.active_encoded(X)
        if self.cell is not None:
            X = X.copy()
            edges = X[:, self._cell_columns]
            live = self.cell.live(edges == self._cell_zero)
            X[:, self._cell_columns] = np.where(live, edges, self._cell_zero)
        columns = []
        for j, var in enumerate(self.variables):
            if var.kind == "int":
                values = np.asarray(var.choices, dtype=np.float64)[X[:, j]]
                columns.append((values * active[:, j])[:, None])
            else:
                columns.append(np.eye(len(var.choices))[X[:, j]] * active[:, j][:, None])
        return np.hstack(columns)

    def _index_matrix(self, X: np.ndarray) -> np.ndarray:
        idx = np.asarray(X)
        if idx.dtype.kind not in "iu":
            idx = np.rint(idx)
        idx = idx.astype(np.int64, copy=False).reshape(-1, len(self.variables))
        if np.any(idx < 0) or np.any(idx >= self.sizes):
            raise InvalidArgument(f"choice indices outside {self.sizes.tolist()}")
        return idx

    @property
    def n_features(self) -> int:
        return sum(1 if v.kind == "int" else len(v.choices) for v in self.variables)

    def feature_names(self) -> list[str]:
        names = []
        for var in self.variables:
            if var.kind == "int":
                names.append(var.name)
            else:
                names.extend(f"{var.name}={c}" for c in var.choices)
        return names


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so configs compare, hash and serialise as plain data."""
    return value.item() if isinstance(value, np.generic) else value
