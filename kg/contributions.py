"""Per-case contributions: what each case says about an entity or a relation, and their union.

A case's *definition* of an entity is its record as the curator wrote it. The graph keeps
every case's definition (``kg_records`` on the node: one entry per case, sorted by case id)
and shows their union, computed here by rules that do not depend on the order in which
cases were loaded:

- ``cases`` lists every case that defines the entity, sorted;
- list fields (aliases, tags, citations, participants, affiliations, about) are united, in
  case-id order, each item once;
- ``confidential`` is true while any case says so;
- a single value (name, description, dates, kind, speaker, ...) given differently by several
  cases is a *conflict*: every case's value is kept (in its definition, and listed in
  ``kg_conflict_*`` on the node) and the value shown is the one of the case whose id sorts
  first among those that give one;
- relationships come from each case's definition separately, so every case's edges are
  present: one edge per distinct fact (type, ends and the properties that tell edges apart),
  with ``cases`` naming the cases that state it;
- records made "if missing" (a sheet naming a speaker) count only while no case defines the
  entity fully.

Pure: no I/O. The loader reads the other cases' entries from the database and calls
:func:`entity_rows` / :func:`relation_row` with all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

SEP = " "  # between a case id and its record in an entry (never in a slug; sorts first)
WEAK_MARK = "?"  # after SEP: the record was made "if missing"
CONFLICT_PROPS = ("kg_conflict_field", "kg_conflict_case", "kg_conflict_value")
INTERNAL_PREFIX = "kg_"  # properties kg keeps for itself: hidden from results and exports


@dataclass(slots=True)
class Definition:
    """One case's record of one entity (or one relation)."""

    case: str
    kind: str  # an entity kind, or "relation"
    data: dict[str, Any]  # the record as written (validated)
    weak: bool = False
    _model: Any = field(default=None, repr=False, compare=False)
    _entry: str | None = field(default=None, repr=False, compare=False)

    @property
    def model(self) -> Any:
        if self._model is None:
            from .records import KINDS

            self._model = KINDS[self.kind].model_validate(self.data)
        return self._model

    @property
    def entry(self) -> str:
        """The definition as stored in ``kg_records``: ``case-id {json}``."""
        if self._entry is None:
            body = orjson.dumps(
                self.data, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
            )
            self._entry = self.case + SEP + (WEAK_MARK if self.weak else "") + body.decode()
        return self._entry

    @classmethod
    def from_entry(cls, kind: str, entry: str) -> Definition:
        case, _, rest = entry.partition(SEP)
        weak = rest.startswith(WEAK_MARK)
        data = orjson.loads(rest[1:] if weak else rest)
        return cls(case, kind, data, weak, _entry=entry)


def entry_case(entry: str) -> str:
    return entry.partition(SEP)[0]


@dataclass(frozen=True)
class Conflict:
    field: str
    values: tuple[tuple[str, str], ...]  # (case, value as text), in case order
    shown: str  # the case whose value is shown


def show_value(value: Any) -> str:
    if hasattr(value, "model_dump"):
        return orjson.dumps(
            value.model_dump(mode="json", exclude_none=True, by_alias=True),
            option=orjson.OPT_SORT_KEYS,
        ).decode()
    return str(value)


def merge(defs: list[Definition]) -> tuple[Any, list[Conflict]]:
    """The union of several cases' definitions of one entity (``defs`` sorted by case, all of
    one kind), and the conflicts among their single values."""
    strong = [d for d in defs if not d.weak] or defs
    if len(strong) == 1:
        model = strong[0].model
        if not model.confidential and any(d.model.confidential for d in defs):
            model = model.model_copy(update={"confidential": True})
        return model, []
    base = strong[0].model
    update: dict[str, Any] = {}
    conflicts: list[Conflict] = []
    for name in type(base).model_fields:
        if name == "id":
            continue
        values = [(d.case, getattr(d.model, name)) for d in strong]
        if name == "confidential":
            update[name] = any(bool(getattr(d.model, name)) for d in defs)
        elif isinstance(values[0][1], list):
            merged: list[Any] = []
            for _, items in values:
                for item in items:
                    if item not in merged:
                        merged.append(item)
            update[name] = merged
        elif isinstance(values[0][1], dict):
            out: dict[str, Any] = {}
            for key in sorted({k for _, v in values for k in v}):
                given = [(c, v[key]) for c, v in values if key in v and v[key] is not None]
                if given:
                    out[key] = given[0][1]
                    _conflict(conflicts, f"extra.{key}", given)
            update[name] = out
        else:
            given = [(c, v) for c, v in values if v is not None]
            if given:
                update[name] = given[0][1]
                _conflict(conflicts, name, given)
    return base.model_copy(update=update), conflicts


def _conflict(conflicts: list[Conflict], name: str, given: list[tuple[str, Any]]) -> None:
    first = given[0][1]
    if any(v != first for _, v in given[1:]):
        conflicts.append(Conflict(name, tuple((c, show_value(v)) for c, v in given), given[0][0]))


@dataclass
class EntityRows:
    kind: str
    id: str
    props: dict[str, Any]  # the node's properties, with cases and kg_records
    edges: list[Any]  # kg.mapping.EdgeRow, each with props["cases"]
    conflicts: list[Conflict]
    confidential: bool


class _Ent:
    __slots__ = ("kind", "id", "model")

    def __init__(self, kind: str, eid: str, model: Any):
        self.kind, self.id, self.model = kind, eid, model


def entity_rows(kind: str, eid: str, defs: Iterable[Definition]) -> EntityRows:
    """Node properties and owned relationships of an entity from all its definitions."""
    from .mapping import entity_edges, node_props

    defs = list(defs)
    if len(defs) == 1:  # the common case, kept cheap: one case defines the entity
        d = defs[0]
        model = d.model
        props = node_props(_Ent(kind, eid, model))
        cases = [d.case]
        props["cases"] = cases
        props["kg_records"] = [d.entry]
        edges = _dedupe(entity_edges(_Ent(kind, eid, model)))
        for e in edges:
            e.props["cases"] = cases  # one list, shared: never changed after this
        return EntityRows(kind, eid, props, edges, [], bool(model.confidential))
    defs.sort(key=lambda d: d.case)
    model, conflicts = merge(defs)
    props = node_props(_Ent(kind, eid, model))
    strong = [d for d in defs if not d.weak] or defs
    props["cases"] = [d.case for d in strong]  # "if missing" records name no case
    props["kg_records"] = [d.entry for d in defs]
    if conflicts:
        rows = [(c.field, case, value) for c in conflicts for case, value in c.values]
        for i, name in enumerate(CONFLICT_PROPS):
            props[name] = [r[i] for r in rows]
    if len(strong) == 1:
        edges = _dedupe(entity_edges(_Ent(kind, eid, strong[0].model)))
        for e in edges:
            e.props["cases"] = [strong[0].case]
    else:
        edges = _union_edges((d.case, entity_edges(_Ent(kind, eid, d.model))) for d in strong)
    return EntityRows(kind, eid, props, edges, conflicts, bool(model.confidential))


def _dedupe(edges: Iterable[Any]) -> list[Any]:
    """A repeated citation or participant is one edge."""
    out = list(edges)
    if len(out) > 1 and len({e.key for e in out}) < len(out):
        seen: set = set()
        kept = []
        for e in out:
            if e.key not in seen:
                seen.add(e.key)
                kept.append(e)
        out = kept
    return out


def _union_edges(per_case: Iterable[tuple[str, Iterable[Any]]]) -> list[Any]:
    """One edge per key; properties: each one from the first case (in case order) giving it."""
    by_key: dict[tuple, Any] = {}
    for case, edges in per_case:
        for e in _dedupe(edges):
            have = by_key.get(e.key)
            if have is None:
                e.props["cases"] = [case]
                by_key[e.key] = e
            else:
                for k, v in e.props.items():
                    have.props.setdefault(k, v)
                have.props["cases"].append(case)
    return list(by_key.values())


def relation_row(defs: Iterable[Definition]) -> Any:
    """The relationship that several cases' relation records (one key) make together."""
    from .mapping import relation_edge

    defs = sorted(defs, key=lambda d: d.case)
    edges = [relation_edge(d.model) for d in defs]
    edge = edges[0]
    props = dict(edge.props)
    for other in edges[1:]:
        for k, v in other.props.items():
            if k == "sources":
                props["sources"] = props["sources"] + [s for s in v if s not in props["sources"]]
            else:
                props.setdefault(k, v)
    strong = [d for d in defs if not d.weak] or defs
    props["cases"] = [d.case for d in strong]  # "if missing" records name no case
    props["kg_records"] = [d.entry for d in defs]
    edge.props = props
    return edge


KEPT_INTERNAL = ("kg_sealed",)  # opened with the key or left out by kg.seal, later


def public(props: dict[str, Any]) -> dict[str, Any]:
    """Properties without kg's own bookkeeping (``kg_*``; sealed values stay for kg.seal to
    open with the key, or leave out)."""
    return {
        k: v for k, v in props.items() if not k.startswith(INTERNAL_PREFIX) or k in KEPT_INTERNAL
    }
