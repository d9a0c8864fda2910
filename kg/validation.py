"""Validate record files as a whole: every problem found, located, before anything is written.

``collect(paths)`` reads the files, checks each record against the models, resolves every
reference (with the kinds the contract allows), merges entities that several cases share,
and returns a :class:`Collection`; or raises :class:`InputError` listing every problem.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from pydantic import ValidationError

from . import records as R
from .errors import InputError, Problem
from .readers import RawRecord, discover, display_path, read_file

ExistingLookup = Callable[[set[str]], dict[str, str]]  # ids -> {id: kind} found in the database


@dataclass
class Entity:
    kind: str
    id: str
    model: Any
    cases: list[str]
    raw: RawRecord  # where it was (first) defined, for messages


@dataclass
class RelationRecord:
    model: R.Relation
    raw: RawRecord
    case: str


@dataclass
class Collection:
    entities: dict[str, Entity] = field(default_factory=dict)
    relations: list[RelationRecord] = field(default_factory=list)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    files: int = 0
    records: int = 0
    external_refs: dict[str, str] = field(default_factory=dict)  # id -> kind, already in the DB
    invalid: dict[str, str] = field(default_factory=dict)  # id -> kind of records that failed

    def kind_of(self, ref: str) -> Optional[str]:
        ent = self.entities.get(ref)
        if ent is not None:
            return ent.kind
        return self.external_refs.get(ref) or self.invalid.get(ref)


def slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:128] or "case"


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
        return (f"unknown field {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + (f"; allowed: {', '.join(allowed)}" if allowed else "")
                + "; put free-form data under 'extra:'")
    if kind == "string_pattern_mismatch":
        if loc and loc[-1] == "sha256":
            return f"expected 64 hexadecimal characters, got {_short(value)}"
        return (f"expected an id: a lowercase slug such as 'ramzan-kadyrov' "
                f"(a-z, 0-9, separated by - _ or .), got {_short(value)}")
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
            fld = next((f for f in getattr(current, "model_fields", {}).values()
                        if f.alias == part), None)
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


def _validate_model(raw: RawRecord, model: type, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(raw.data)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            loc = tuple(err["loc"])
            problems.append(Problem(raw.file, raw.line_of(loc), raw.label, _field(raw, loc),
                                    _message(err, model)))
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


def _merge(into: Entity, other: Any, other_raw: RawRecord, notices: list[str]) -> None:
    """Merge a second definition of an entity (from another case) into the first.

    Lists are unioned in order; a scalar given by both with different values keeps the later
    one and is reported as a notice; ``confidential`` is true if any case says so.
    """
    base = into.model
    for name in type(base).model_fields:
        a, b = getattr(base, name), getattr(other, name)
        if name == "id":
            continue
        if name == "confidential":
            setattr(base, name, bool(a or b))
        elif isinstance(a, list):
            merged = list(a)
            for item in b:
                if item not in merged:
                    merged.append(item)
            setattr(base, name, merged)
        elif isinstance(a, dict):
            setattr(base, name, {**a, **b})
        elif b is not None:
            if a is not None and a != b:
                notices.append(f"{other_raw.file}:{other_raw.line_of((name,))}: {into.id}: "
                               f"{name}: differs from {into.raw.file}:{into.raw.line}; the "
                               f"value from case '{into.cases[-1]}' is kept")
            setattr(base, name, b)


def _case_ids(raws: list[RawRecord], problems: list[Problem]) -> dict[str, tuple[str, dict]]:
    """Map each record file's folder to (case id, case fields) from `case` declarations."""
    declared: dict[str, tuple[RawRecord, R.Case]] = {}
    for raw in raws:
        if raw.kind != "case":
            continue
        model = _validate_model(raw, R.Case, problems)
        if model is None:
            continue
        where = raw.case_dir if Path(raw.case_dir).is_file() else str(Path(raw.file).parent)
        key = str(Path(where).resolve()) if Path(raw.case_dir).is_file() else \
            str(Path(raw.file).resolve().parent)
        if key in declared:
            first = declared[key][0]
            problems.append(Problem(raw.file, raw.line, model.id, "case",
                                    f"a second case declaration in one folder (the first is "
                                    f"{first.file}:{first.line}); a folder holds one case"))
            continue
        declared[key] = (raw, model)
    return {k: (m.id, m.model_dump(exclude_none=True)) for k, (_, m) in declared.items()}


def _case_of(raw: RawRecord, declared: dict[str, tuple[str, dict]]) -> tuple[str, dict]:
    if raw.case:
        return raw.case, {"id": raw.case}
    arg = Path(raw.case_dir).resolve()
    if arg.is_file():
        hit = declared.get(str(arg))
        if hit:
            return hit
        folder = arg.parent
        return slugify(folder.name), {"id": slugify(folder.name)}
    here = Path(raw.file).resolve().parent
    while True:
        hit = declared.get(str(here))
        if hit:
            return hit
        if here == arg or here.parent == here:
            break
        here = here.parent
    return slugify(arg.name), {"id": slugify(arg.name)}


def collect(paths: list[str | Path], *, existing: Optional[ExistingLookup] = None) -> Collection:
    """Read and validate everything under ``paths``; raise InputError with all problems."""
    problems: list[Problem] = []
    coll = Collection()
    found = discover(paths)
    problems.extend(found.problems)
    for f in found.ignored:
        coll.notices.append(f"{display_path(f)}: ignored (not a .yaml, .yml or .jsonl file)")
    raws: list[RawRecord] = []
    for path, case_dir in found.files:
        res = read_file(path)
        coll.files += 1
        problems.extend(res.problems)
        for r in res.records:
            r.case_dir = case_dir
        raws.extend(res.records)
    return validate_raws(raws, coll, problems, existing)


def validate_raws(raws: list[RawRecord], coll: Optional[Collection] = None,
                  problems: Optional[list[Problem]] = None,
                  existing: Optional[ExistingLookup] = None) -> Collection:
    """Validate raw records from any reader; raise InputError with every problem."""
    coll = coll if coll is not None else Collection()
    problems = problems if problems is not None else []
    declared = _case_ids(raws, problems)

    defined: dict[tuple[str, str], RawRecord] = {}  # (case, id) -> first definition
    case_cache: dict[tuple[str, str, str], tuple[str, dict]] = {}  # one lookup per file
    for raw in raws:
        if raw.kind == "case":
            continue
        coll.records += 1
        where = (raw.case, raw.case_dir, raw.file)
        if where not in case_cache:
            case_cache[where] = _case_of(raw, declared)
        case_id, case_fields = case_cache[where]
        coll.cases.setdefault(case_id, case_fields)
        model_cls = R.KINDS[raw.kind]
        model = _validate_model(raw, model_cls, problems)
        if model is None:
            # Already reported; count it as defined so references to it do not cascade.
            rid = raw.data.get("id")
            if raw.kind != "relation" and isinstance(rid, str):
                coll.invalid.setdefault(rid, raw.kind)
            continue
        if raw.kind == "relation":
            coll.relations.append(RelationRecord(model, raw, case_id))
            continue
        first = defined.get((case_id, model.id))
        if first is not None:
            problems.append(Problem(raw.file, raw.line_of(("id",)), model.id, "id",
                                    f"duplicate id: already defined at {first.file}:"
                                    f"{first.line_of(('id',))} in the same case "
                                    f"'{case_id}'"))
            continue
        defined[(case_id, model.id)] = raw
        ent = coll.entities.get(model.id)
        if ent is None:
            coll.entities[model.id] = Entity(raw.kind, model.id, model, [case_id], raw)
        elif ent.kind != raw.kind:
            problems.append(Problem(raw.file, raw.line_of(("id",)), model.id, "id",
                                    f"id is a {raw.kind} here but a {ent.kind} at "
                                    f"{ent.raw.file}:{ent.raw.line}; one id is one entity"))
        else:
            ent.cases.append(case_id)
            _merge(ent, model, raw, coll.notices)

    unreadable = [p.file for p in problems if p.record == "-"]
    _check_references(coll, problems, existing, skip_missing=bool(unreadable))
    note = None
    if unreadable:
        note = ("note: references were not checked for existence, because "
                f"{', '.join(sorted(set(unreadable)))} could not be read")
    _check_cycles(coll, problems)
    if problems:
        raise InputError(sorted(problems, key=_order), hint=note)
    return coll


def _order(p: Problem) -> tuple[str, int]:
    return (p.file, p.line)


def _check_references(coll: Collection, problems: list[Problem],
                      existing: Optional[ExistingLookup], skip_missing: bool = False) -> None:
    # Every (raw, location, ref, allowed kinds) to check.
    checks: list[tuple[RawRecord, tuple[Any, ...], str, tuple[str, ...], str]] = []
    for ent in coll.entities.values():
        for path, kinds in R.REFERENCE_FIELDS[ent.kind].items():
            for loc, ref in _get_path(ent.model, path):
                checks.append((ent.raw, loc, ref, kinds, ent.id))
    for rel in coll.relations:
        for loc, ref in _get_path(rel.model, "reported_by.*.source"):
            checks.append((rel.raw, loc, ref, ("source",), rel.raw.label))

    missing = {ref for _, _, ref, _, _ in checks if coll.kind_of(ref) is None}
    missing |= {r for rel in coll.relations for r in (rel.model.from_, rel.model.to)
                if coll.kind_of(r) is None}
    if missing and existing is not None:
        coll.external_refs = existing(missing)

    for raw, loc, ref, kinds, label in checks:
        if skip_missing and coll.kind_of(ref) is None:
            continue
        _check_ref(coll, problems, raw, loc, ref, kinds, label, existing is not None)

    for rel in coll.relations:
        m, raw = rel.model, rel.raw
        if m.type not in R.RELATION_TYPES:
            if m.type in R.FIELD_ONLY_TYPES:
                msg = (f"{m.type} is made by statement and reported_by fields, not by a "
                       "relation record")
            else:
                hint = difflib.get_close_matches(m.type.upper(), list(R.RELATION_TYPES), n=1)
                msg = (f"unknown relationship type {m.type!r}"
                       + (f" (did you mean {hint[0]!r}?)" if hint else "")
                       + f"; expected one of: {', '.join(sorted(R.RELATION_TYPES))}")
            problems.append(Problem(raw.file, raw.line_of(("type",)), raw.label, "type", msg))
            continue
        ends = []
        for name, ref in (("from", m.from_), ("to", m.to)):
            kind = coll.kind_of(ref)
            if kind is None and not skip_missing:
                problems.append(Problem(raw.file, raw.line_of((name,)), raw.label, name,
                                        _not_found(ref, coll, existing is not None)))
            ends.append(kind)
        if None not in ends and not R.relation_allowed(m.type, ends[0], ends[1]):
            problems.append(Problem(raw.file, raw.line_of(("type",)), raw.label, "type",
                                    f"{m.type} cannot go from a {ends[0]} to a {ends[1]}; "
                                    f"allowed: {R.kinds_for_relation(m.type)}"))


def _not_found(ref: str, coll: Collection, allow_existing: bool) -> str:
    hint = difflib.get_close_matches(ref, list(coll.entities), n=1)
    msg = f"reference {ref!r} not found"
    if hint:
        msg += f" (did you mean {hint[0]!r}?)"
    if not allow_existing:
        msg += "; define it in the input, or load with --allow-existing to use the database's"
    else:
        msg += " in the input or the database"
    return msg


def _check_ref(coll: Collection, problems: list[Problem], raw: RawRecord, loc: tuple[Any, ...],
               ref: str, kinds: tuple[str, ...], label: str, allow_existing: bool) -> None:
    kind = coll.kind_of(ref)
    if kind is None:
        problems.append(Problem(raw.file, raw.line_of(loc), label, _field(raw, loc),
                                _not_found(ref, coll, allow_existing)))
    elif kind not in kinds:
        problems.append(Problem(raw.file, raw.line_of(loc), label, _field(raw, loc),
                                f"{ref!r} is a {kind}; expected a {' or '.join(kinds)}"))


def _check_cycles(coll: Collection, problems: list[Problem]) -> None:
    for attr in ("located_in", "parent"):
        graph = {e.id: getattr(e.model, attr, None) for e in coll.entities.values()
                 if getattr(e.model, attr, None)}
        reported: set[str] = set()
        for start in sorted(graph):
            seen: list[str] = []
            node: Optional[str] = start
            while node in graph and node not in seen:
                seen.append(node)
                node = graph[node]
            if node == start and start not in reported:
                reported.update(seen)
                ent = coll.entities[start]
                chain = " -> ".join(seen + [start])
                problems.append(Problem(ent.raw.file, ent.raw.line_of((attr,)), start, attr,
                                        f"{attr} goes round in a circle: {chain}"))
