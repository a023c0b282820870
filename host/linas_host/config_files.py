"""Reading a YAML config file and validating it with pydantic, for every config the host reads
(the search configuration, the devices file), so that each reports its mistakes the same way.

`read_mapping` loads a file that must hold a mapping; `validated` checks plain data against a
model and raises one error that lists every field at fault, with what was expected::

    invalid search configuration (search.yaml):
      - objectives[1].metric: Input should be 'accuracy', ... or 'column' (got 'speed')
      - colour: unknown field; expected one of space, objectives, constraints, ...

An unknown field's value is never echoed: it could be a secret pasted in by mistake.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from linas_sdk.errors import InvalidArgument

Model = TypeVar("Model", bound=BaseModel)


def read_mapping(
    path: Path, *, what: str, expected: str, error: type[InvalidArgument] = InvalidArgument
) -> dict[str, Any]:
    """The mapping a YAML file holds; `error` names the file as `what` and, when the file holds
    something else, says it `expected` (e.g. "a mapping with a 'devices' key")."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as cause:
        raise error(f"cannot read {what} {path}: {cause.strerror}") from None
    except yaml.YAMLError as cause:
        raise error(f"{what} {path} is not valid YAML: {cause}") from None
    if not isinstance(data, dict):
        raise error(f"{what} {path}: expected {expected}, got {type(data).__name__}")
    return data


def validated(
    model: type[Model],
    data: Any,
    *,
    header: str,
    error: type[InvalidArgument] = InvalidArgument,
    context: dict[str, Any] | None = None,
    unknown_hint: Callable[[str], str] = lambda field: "",
) -> Model:
    """`data` as a `model`, or `error` with `header` and a line per field at fault;
    `unknown_hint(field)` adds advice to an unknown field's line."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as cause:
        lines = [_describe(item, model, unknown_hint) for item in cause.errors()]
        raise error("\n  - ".join([f"{header}:", *lines])) from None


def _describe(item: Any, model: type[BaseModel], unknown_hint: Callable[[str], str]) -> str:
    """One pydantic error as `field.path[0]: what was wrong (got value)`."""
    loc = item["loc"]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    where = where.removeprefix(".") or "(top level)"
    if item["type"] == "extra_forbidden":
        allowed = _fields_beside(model, loc[:-1])
        expected = f"; expected one of {', '.join(allowed)}" if allowed else ""
        return f"{where}: unknown field{expected}{unknown_hint(str(loc[-1]))}"
    message = item["msg"].removeprefix("Value error, ")
    given = item.get("input")
    if item["type"] == "missing" or isinstance(given, dict):
        return f"{where}: {message}"
    return f"{where}: {message} (got {given!r})"


def _fields_beside(model: type[BaseModel], loc: tuple) -> list[str]:
    """The fields of the model found at `loc` (through nested models, lists and dicts)."""
    kind: Any = model
    for part in loc:
        found = _model_in(kind)
        if found is not None and part in found.model_fields:
            kind = found.model_fields[part].annotation
        else:
            kind = _element_of(kind)
    found = _model_in(kind)
    return list(found.model_fields) if found is not None else []


def _model_in(kind: Any) -> type[BaseModel] | None:
    """The model in `kind` (itself, or the model of an optional), if any."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return kind
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        models = [k for k in typing.get_args(kind) if _model_in(k) is not None]
        return models[0] if len(models) == 1 else None
    return None


def _element_of(kind: Any) -> Any:
    """What a list or dict annotation holds (its last type argument)."""
    args = typing.get_args(kind)
    return args[-1] if typing.get_origin(kind) in (list, dict) and args else None
