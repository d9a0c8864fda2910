"""The sheet mapping file (docs/loaders.md) as pydantic models: a typo in a key fails once,
when the mapping is loaded, naming the mapping file, the line and the key, before any sheet
row is read. kg.tabular applies a checked mapping to the rows.

Which dicts are values and which are nested parts follows the record model: a field whose
type is a model (``victims``) or a list of models (``about``) takes nested keys; every other
field takes a value ``{column | template | value, ...}`` or a constant.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, model_validator

from . import records as R
from .declared import Declared, Loc, _submodel, check, dotted, keys_of, line_at
from .errors import Problem
from .suggest import did_you_mean

SOURCE_KEYS = ("column", "template", "value")


class DateSpec(Declared):
    formats: list[str] | None = None
    precision: Literal["day", "month", "year"] | None = None
    precision_column: str | None = None
    precision_map: dict[str, Literal["day", "month", "year"] | None] | None = None


class ValueSpec(Declared):
    """Where a value comes from (one of column, template, value) and how it is read."""

    column: str | None = None
    template: str | None = None
    value: Any = None
    optional: bool = False
    split: str | None = None
    lookup: dict[str, Any] | None = None
    lookup_default: Any = None
    lower: bool = False
    slug: bool = False
    type: Literal["int", "float", "bool"] | None = None
    date: DateSpec | None = None
    default: Any = None

    @model_validator(mode="before")
    @classmethod
    def _date_flag(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("date") is True:
            data = {**data, "date": {}}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> ValueSpec:
        given = [k for k in SOURCE_KEYS if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(
                "a value needs exactly one of column, template or value"
                + (f" (has {', '.join(given)})" if given else "")
            )
        return self


class RecordSpec(Declared):
    """One record each row makes. ``kind``, ``id`` and ``each`` are values or constants;
    ``fields`` is checked against the record kind's model by ``check_mapping``."""

    kind: Any
    id: Any = None
    when: str | None = None
    if_missing: bool = False
    each: Any = None
    fields: dict[str, Any] = {}

    @model_validator(mode="after")
    def _needs_id(self) -> RecordSpec:
        if self.kind != "relation" and self.id is None:
            raise ValueError("each record needs kind and id (relations: kind only)")
        return self


class MappingFile(Declared):
    name: str | None = None
    description: str | None = None
    case: dict[str, Any] | None = None
    allow_existing: bool = False
    delimiter: str | None = None
    date_formats: list[str] | None = None
    records: list[dict[str, Any]]

    @model_validator(mode="before")
    @classmethod
    def _drop_anchors(cls, data: Any) -> Any:
        """Top-level ``x-...`` keys hold YAML anchors the records refer to."""
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
            if isinstance(data.get("date_formats"), str):
                data["date_formats"] = [data["date_formats"]]
        return data

    @model_validator(mode="after")
    def _formats(self) -> MappingFile:
        if self.date_formats is not None and not all("%" in f for f in self.date_formats):
            raise ValueError('date_formats is a list of strptime formats such as "%m/%d/%Y"')
        return self


def check_mapping(data: Any, *, shown: str, lines: dict[Loc, int]) -> list[Problem]:
    """Every problem of a mapping file's data (empty: it is well-formed)."""
    problems: list[Problem] = []
    ctx: dict[str, Any] = {"shown": shown, "lines": lines, "problems": problems}
    top = check(MappingFile, data, label="mapping", **ctx)
    if top is None:
        return problems
    for i, spec in enumerate(top.records):
        at: Loc = ("records", i)
        rec = check(RecordSpec, spec, label=f"records[{i}]", at=at, named=2, **ctx)
        if rec is None:
            continue
        for key in ("kind", "id", "each"):
            if isinstance(spec.get(key), dict):
                check(ValueSpec, spec[key], label=f"records[{i}]", at=at + (key,), named=2, **ctx)
        models = _kind_models(rec.kind)
        if isinstance(rec.kind, str) and not models:
            problems.append(
                Problem(
                    shown,
                    line_at(lines, at + ("kind",)),
                    f"records[{i}]",
                    "kind",
                    f"{rec.kind!r} is not a record kind{did_you_mean(rec.kind, R.KINDS)}",
                )
            )
            continue
        _fields(rec.fields, models, at + ("fields",), f"records[{i}]", ctx)
    return problems


def _kind_models(kind: Any) -> list[type[BaseModel]]:
    """The models a record spec's kind may be: one, or (a kind read from a column) those its
    lookup and defaults name, else every kind."""
    if isinstance(kind, str):
        return [R.KINDS[kind]] if kind in R.KINDS else []
    if isinstance(kind, dict):
        named = [
            *(kind.get("lookup") or {}).values(),
            kind.get("lookup_default"),
            kind.get("default"),
            kind.get("value"),
        ]
        hits = [R.KINDS[k] for k in named if isinstance(k, str) and k in R.KINDS]
        if hits:
            return list(dict.fromkeys(hits))
    return list(R.KINDS.values())


def _field_type(models: list[type[BaseModel]], name: str) -> tuple[bool, Any]:
    """(known, annotation) of a field in any of ``models``."""
    for m in models:
        for n, f in m.model_fields.items():
            if (f.alias or n) == name:
                return True, f.annotation
    return False, None


def _fields(
    spec: Any, models: list[type[BaseModel]], at: Loc, label: str, ctx: dict[str, Any]
) -> None:
    shown, lines, problems = ctx["shown"], ctx["lines"], ctx["problems"]
    if not isinstance(spec, dict):
        problems.append(
            Problem(
                shown,
                line_at(lines, at),
                label,
                dotted(at[2:]),
                "expected a mapping of field names to values",
            )
        )
        return
    allowed = sorted({k for m in models for k in keys_of(m)})
    for name, vspec in spec.items():
        here = at + (name,)
        known, annotation = _field_type(models, name)
        if not known:
            problems.append(
                Problem(
                    shown,
                    line_at(lines, here),
                    label,
                    dotted(here[2:]),
                    f"unknown field {name!r}{did_you_mean(str(name), allowed)}; "
                    f"expected: {', '.join(allowed)}",
                )
            )
            continue
        sub = _submodel(annotation)
        free = _is_free_dict(annotation)
        if isinstance(vspec, list):  # a list of item mappings, each with when/each
            for j, item in enumerate(vspec):
                if not isinstance(item, dict):
                    continue
                if "each" in item and isinstance(item["each"], dict):
                    check(
                        ValueSpec, item["each"], label=label, at=here + (j, "each"), named=2, **ctx
                    )
                rest = {k: v for k, v in item.items() if k not in ("when", "each")}
                if sub is not None:
                    _fields(rest, [sub], here + (j,), label, ctx)
                else:
                    _values(rest, here + (j,), label, ctx)
        elif isinstance(vspec, dict) and not set(SOURCE_KEYS) & set(vspec):
            if sub is not None:
                _fields(vspec, [sub], here, label, ctx)
            elif free:
                _values(vspec, here, label, ctx)
            else:
                check(ValueSpec, vspec, label=label, at=here, named=2, **ctx)
        elif isinstance(vspec, dict):
            check(ValueSpec, vspec, label=label, at=here, named=2, **ctx)


def _values(spec: dict[str, Any], at: Loc, label: str, ctx: dict[str, Any]) -> None:
    """Free keys (``extra``), each a value or a constant."""
    for k, v in spec.items():
        if isinstance(v, dict):
            check(ValueSpec, v, label=label, at=at + (k,), named=2, **ctx)


def _is_free_dict(annotation: Any) -> bool:
    import typing

    if typing.get_origin(annotation) is dict:
        return True
    return any(_is_free_dict(a) for a in typing.get_args(annotation))
