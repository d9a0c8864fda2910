"""A saved query's file: its YAML header in `//` comments (a pydantic model, checked as
records are) and its Cypher; parameters declared, typed and used. kg.queries loads a
library of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .declared import Declared
from .errors import InputError, Problem

PARAM_TYPES = ("string", "int", "float", "bool", "date", "list", "search")
MODES = ("read", "write")
RETURNS = ("rows", "graph")
NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _enums() -> dict[str, tuple[str, ...]]:
    from . import records as R

    return {
        "stance": R.STANCES,
        "role": R.PARTICIPANT_ROLES,
        "status": R.EVENT_STATUSES,
        "source-kind": R.SOURCE_KINDS,
        "organization-kind": R.ORGANIZATION_KINDS,
        "location-kind": R.LOCATION_KINDS,
        "entity-kind": R.ENTITY_KINDS,
        "precision": ("year", "month", "day"),
        "date-bound": R.DATE_BOUNDS,
        "reliability": R.RELIABILITY,
        "statement-link": tuple(R.STATEMENT_LINKS),
        "relationship-type": R.ALL_REL_TYPES,
    }


# Named enumerations a parameter's `values` may refer to (from the record format).
ENUMS: dict[str, tuple[str, ...]] = _enums()


class ParamHeader(Declared):
    """One parameter in a saved query's header; the values are checked in parse_query_file."""

    name: str
    type: str
    required: bool | None = None
    default: Any = None
    description: Any = ""
    span: Any = "start"
    values: Any = None


class QueryHeader(Declared):
    """A saved query's header: its keys and their shapes (checked as records are)."""

    name: Any = None
    title: Any = None
    description: Any = None
    category: Any = None
    mode: Any = "read"
    returns: Any = "rows"
    params: list[ParamHeader] | None = None
    overrides: Any = False


@dataclass
class Param:
    name: str
    type: str
    required: bool
    default: Any
    description: str
    span: str = "start"
    values: tuple[str, ...] | None = None  # the accepted values, when enumerated

    def as_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
        }
        if self.values is not None:
            out["values"] = list(self.values)
        return out


@dataclass
class SavedQuery:
    name: str
    title: str
    description: str
    category: str
    mode: str
    returns: str
    params: list[Param]
    cypher: str
    path: Path
    origin: str = "bundled"
    overrides: bool = False  # the header says it replaces a bundled query of the same name

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "category": self.category,
            "description": self.description,
            "mode": self.mode,
            "returns": self.returns,
            "params": [p.as_dict() for p in self.params],
            "origin": self.origin,
        }


# Line breaks (any Unicode kind) and other control characters: a one-line field has none.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.S)
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def cypher_parameters(cypher: str) -> set[str]:
    """The $names a Cypher text uses, outside strings, quoted names and comments."""
    return set(_PARAM.findall(_STRINGS.sub(" ", cypher)))


def parse_query_file(path: Path, origin: str = "bundled") -> SavedQuery:
    from .safeio import read_text

    shown = str(path)
    try:
        text = read_text(path)
    except OSError as e:
        raise InputError(
            [Problem(shown, 0, path.stem, "-", f"cannot read: {e.strerror or e}")]
        ) from None
    except UnicodeDecodeError as e:
        raise InputError([Problem(shown, 0, path.stem, "-", f"cannot read: {e}")]) from None
    lines = text.splitlines()
    header: list[str] = []
    body_start = 0
    for i, line in enumerate(lines):
        if line.startswith("//"):
            header.append(line[2:][1:] if line[2:3] == " " else line[2:])
            body_start = i + 1
        elif not line.strip() and not header:
            body_start = i + 1
        else:
            break
    cypher = "\n".join(lines[body_start:]).strip()
    problems: list[Problem] = []

    def bad(line: int, fld: str, msg: str) -> None:
        problems.append(Problem(shown, line, path.stem, fld, msg))

    from .declared import check, line_at
    from .readers import YamlLimitError, load_limited_yaml

    where: dict[tuple[Any, ...], int] = {}
    try:  # the limits of record files: alias bombs, depth, duplicate keys
        meta = (
            load_limited_yaml("\n".join(header), record_scalars=False, lines=where)
            if header
            else None
        )
    except YamlLimitError as e:
        raise InputError(
            [
                Problem(
                    shown, e.line, path.stem, "header", f"the header is not valid YAML: {e.message}"
                )
            ]
        ) from None
    if not isinstance(meta, dict):
        raise InputError(
            [
                Problem(
                    shown,
                    1,
                    path.stem,
                    "header",
                    "a saved query starts with a header of '// key: value' lines "
                    "(name, title, description, category, params, mode, returns)",
                )
            ]
        )
    head = check(QueryHeader, meta, shown=shown, label=path.stem, lines=where, problems=problems)
    if head is None:  # unknown keys, a parameter without name or type: nothing more to say
        raise InputError(problems)

    def line_of(*loc: Any) -> int:
        return line_at(where, loc)

    name = head.name
    if not isinstance(name, str) or not NAME_RE.match(name):
        bad(line_of("name"), "name", f"expected a name like 'who-denied-what', got {name!r}")
        name = path.stem
    texts = {"title": head.title, "description": head.description, "category": head.category}
    for key, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            bad(line_of(key), key, "required text is missing")
        elif key != "description" and _CONTROL.search(text.strip()):
            bad(
                line_of(key), key, "must be one line of text (no line breaks or control characters)"
            )
    if not isinstance(head.overrides, bool):
        bad(line_of("overrides"), "overrides", f"expected true or false, got {head.overrides!r}")
    mode, returns = head.mode, head.returns
    if mode not in MODES:
        bad(line_of("mode"), "mode", f"expected read or write, got {mode!r}")
    if returns not in RETURNS:
        bad(line_of("returns"), "returns", f"expected rows or graph, got {returns!r}")
    params: list[Param] = []
    param_lines: dict[str, int] = {}
    for i, p in enumerate(head.params or []):
        at = f"params[{i}]"
        pl = param_lines[p.name] = line_of("params", i)
        if p.type not in PARAM_TYPES:
            bad(pl, f"{at}.type", f"expected one of {', '.join(PARAM_TYPES)}, got {p.type!r}")
            continue
        if p.span not in ("start", "end"):
            bad(pl, f"{at}.span", f"expected start or end, got {p.span!r}")
        required = p.required if p.required is not None else "default" not in p.model_fields_set
        values = p.values
        if values is not None:
            if p.type not in ("string", "list"):
                bad(pl, f"{at}.values", "only string and list parameters take values")
                values = None
            elif isinstance(values, str):
                if values not in ENUMS:
                    bad(
                        pl,
                        f"{at}.values",
                        f"expected a list of values or one of "
                        f"{', '.join(sorted(ENUMS))}, got {values!r}",
                    )
                    values = None
                else:
                    values = ENUMS[values]
            elif isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                values = tuple(values)
            else:
                bad(
                    pl,
                    f"{at}.values",
                    "expected a non-empty list of text values or the name of an enumeration",
                )
                values = None
        default = p.default
        if (
            values is not None
            and default is not None
            and not all(d in values for d in (default if isinstance(default, list) else [default]))
        ):
            bad(pl, f"{at}.default", f"{default!r} is not one of its values")
        params.append(
            Param(
                p.name,
                p.type,
                bool(required),
                default,
                str(p.description if p.description is not None else ""),
                p.span,
                values,
            )
        )
    if not cypher:
        bad(len(lines) or 1, "cypher", "no Cypher after the header")
    used = cypher_parameters(cypher)
    declared = {p.name for p in params}
    for missing in sorted(used - declared):
        bad(
            line_of("params"),
            "params",
            f"the Cypher uses ${missing}, which the header does not declare",
        )
    for unused in sorted(declared - used):
        bad(param_lines[unused], "params", f"${unused} is declared but the Cypher does not use it")
    if problems:
        raise InputError(problems)
    return SavedQuery(
        name=name,
        title=str(head.title).strip(),
        description=" ".join(str(head.description).split()),
        category=str(head.category).strip(),
        mode=mode,
        returns=returns,
        params=params,
        cypher=cypher,
        path=path,
        origin=origin,
        overrides=head.overrides is True,
    )
