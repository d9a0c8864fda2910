"""Pydantic errors as record problems: each located at the line and named by the field as
the record wrote it, in words a person fixing the file understands.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from .errors import Problem
from .readers import RawRecord


def field_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "-"


def _field(raw: RawRecord, loc: tuple[Any, ...]) -> str:
    """The field as the user knows it: for a sheet, with the column it came from."""
    fp = field_path(loc)
    col = raw.field_names.get(str(loc[0])) if loc else None
    return f"{fp} [column {col}]" if col else fp


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: dict[str, Any], model: type) -> str:
    kind = err["type"]
    value = err.get("input")
    loc = err["loc"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        allowed = _allowed_fields(model, loc[:-1])
        hint = difflib.get_close_matches(name, allowed, n=1)
        return (
            f"unknown field {name!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + (f"; allowed: {', '.join(allowed)}" if allowed else "")
            + "; put free-form data under 'extra:'"
        )
    if kind == "string_pattern_mismatch":
        if loc and loc[-1] == "sha256":
            return f"expected 64 hexadecimal characters, got {_short(value)}"
        return (
            f"expected an id: a lowercase slug such as 'ramzan-kadyrov' "
            f"(a-z, 0-9, separated by - _ or .), got {_short(value)}"
        )
    if kind == "string_too_long":
        return f"longer than {err.get('ctx', {}).get('max_length')} characters"
    if kind == "literal_error":
        return f"{err['msg'].replace('Input should be', 'expected')}, got {_short(value)}"
    if kind in ("value_error", "assertion_error"):
        msg = err["msg"]
        return msg.removeprefix("Value error, ")
    if kind == "string_too_short":
        return "must not be empty"
    return f"{err['msg'][0].lower()}{err['msg'][1:]}, got {_short(value)}"


def _allowed_fields(model: type, loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at a location inside a model (for 'did you mean')."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fld = getattr(current, "model_fields", {}).get(part)
        if fld is None:
            fld = next(
                (f for f in getattr(current, "model_fields", {}).values() if f.alias == part), None
            )
        if fld is None:
            return []
        current = _inner_model(fld.annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", {})
    return [f.alias or n for n, f in fields.items()]


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _as_written(raw: RawRecord, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A location as the record wrote it: `via: x` (one value where a list is also allowed,
    held as a list) is `via`, not `via[0]`."""
    if (
        len(loc) == 2
        and loc[1] == 0
        and isinstance(raw.data, dict)
        and not isinstance(raw.data.get(loc[0]), list)
    ):
        return loc[:1]
    return loc


def _validate_model(raw: RawRecord, model: Any, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(raw.data)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            loc = tuple(err["loc"])
            problems.append(
                Problem(
                    raw.file,
                    raw.line_of(loc),
                    raw.label,
                    _field(raw, loc),
                    _message(dict(err), model),
                )
            )
        return None


def _get_path(model: Any, path: str) -> list[tuple[tuple[Any, ...], Any]]:
    """Values at a dotted path with '*' for list items, with their concrete locations."""
    results: list[tuple[tuple[Any, ...], Any]] = [((), model)]
    for part in path.split("."):
        nxt = []
        for loc, obj in results:
            if part == "*":
                for i, item in enumerate(obj or []):
                    nxt.append((loc + (i,), item))
            else:
                val = getattr(obj, part, None)
                if val is not None:
                    nxt.append((loc + (part,), val))
        results = nxt
    return results
