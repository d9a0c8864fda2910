"""Declarative files (sheet mappings, saved-query headers) as pydantic models, checked when
they are loaded and reported like records: ``file:line: label: field: message``.

A file is read with ``readers.load_limited_yaml(..., lines=...)``, which records the line of
every key; ``check`` validates one part of it against a model and turns each pydantic error
into a Problem at the deepest line known for its location.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import Problem
from .suggest import did_you_mean

Loc = tuple[Any, ...]


class Declared(BaseModel):
    """A part of a declarative file: unknown keys are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def line_at(lines: dict[Loc, int], loc: Iterable[Any], default: int = 1) -> int:
    """The line of the deepest part of ``loc`` that the reader saw."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return default


def dotted(loc: Iterable[Any]) -> str:
    """('params', 1, 'type') -> 'params[1].type'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "-"


def keys_of(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or name for name, f in model.model_fields.items())


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation (Optional[M], list[M], dict[str, M]), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, list, dict, tuple) or origin is not None:
        for arg in typing.get_args(annotation):
            sub = _submodel(arg)
            if sub is not None:
                return sub
    return None


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = _submodel(field.annotation)
    return current


def message(err: Any, model: type[BaseModel]) -> str:
    """One pydantic error as a sentence; an unknown key names the keys allowed there."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        at = _model_at(model, loc[:-1])
        allowed = keys_of(at) if at is not None else []
        return f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), allowed)}" + (
            f"; expected: {', '.join(allowed)}" if allowed else ""
        )
    if err["type"] == "missing":
        return "required key is missing"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] in ("value_error", "assertion_error"):
        return msg
    return f"{msg[0].lower()}{msg[1:]}, got {err.get('input')!r}"[:300]


def check(
    model: type[BaseModel],
    data: Any,
    *,
    shown: str,
    label: str,
    lines: dict[Loc, int],
    at: Loc = (),
    problems: list[Problem],
    named: int = 0,
) -> Any:
    """``data`` (found at ``at`` in the file) as ``model``, or None with its problems added.
    Fields are named from the ``named``-th part of their location on (the label names the
    parts before it)."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        found = []
        for err in e.errors(include_url=False):
            loc = at + tuple(err["loc"])
            found.append(
                Problem(shown, line_at(lines, loc), label, dotted(loc[named:]), message(err, model))
            )
        problems.extend(sorted(found, key=lambda p: p.line))  # in the file's order
        return None
