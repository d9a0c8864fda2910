"""Records -> node and relationship rows: the graph the contract describes. Pure: no I/O.

Every relationship row knows the record that *owns* it (the one whose reload replaces it),
so a reload can remove what a changed record no longer says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from . import records as R
from .dates import PartialDate, certain_by, interval
from .validation import Collection, Entity, RelationRecord

# Relationship properties that tell two edges of one type between one pair apart.
KEY_PROPS: dict[str, tuple[str, ...]] = {
    "DENIED": ("statement",),
    "ABOUT": ("stance",),
    "REPORTED_BY": ("quote", "page"),
    "AFFILIATED_WITH": ("role", "start"),
    "INVOLVED_IN": ("role",),
    # v1.1 statement links made by a statement's fields carry `statement` (the owner).
    **{t: ("statement",) for t in R.STATEMENT_LINKS.values()},
}
RELATION_KEY = ("role",)


class Modelled(Protocol):
    """What mapping reads of an entity: its kind, id and (merged) model."""

    kind: str
    id: str

    @property
    def model(self) -> Any: ...


# Ownership of field-made edges: the owner is the start node, the end node, or (DENIED) the
# statement named in the `statement` property. Relation-made edges carry `sources` and are
# owned by no entity: they are keyed by (type, from, to, role). The v1.1 statement links
# (REVISES, ...) carry `sources` too, whichever made them: those a statement's fields make
# also carry `statement` (the statement itself, their owner), which relation-made ones never do.
OWNED_OUTGOING = (
    "ABOUT",
    "VIA",
    "REPORTED_BY",
    "LOCATED_IN",
    "PUBLISHED_BY",
    "AUTHORED_BY",
    "AFFILIATED_WITH",
    "PART_OF",
    "COPY_OF",
    "KNOWN_THROUGH",
    *R.STATEMENT_LINKS.values(),
)
OWNED_INCOMING = ("SAID", "INVOLVED_IN")


@dataclass(frozen=True)
class NodeRow:
    id: str
    label: str
    props: dict[str, Any]
    cases: tuple[str, ...]


@dataclass
class EdgeRow:
    type: str
    start: str
    end: str
    props: dict[str, Any]
    owner: str | None  # entity id whose reload replaces this edge; None for relations

    @cached_property
    def key(self) -> tuple[Any, ...]:
        """Type, ends, origin and the properties that tell edges apart (computed once: the
        key properties of a row never change once it is made)."""
        names = RELATION_KEY if self.owner is None else KEY_PROPS.get(self.type, ())
        return (
            self.type,
            self.start,
            self.end,
            self.owner is None,
            *(_hashable(self.props.get(n)) for n in names),
        )


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def edge_key(rel_type: str, start: str, end: str, props: dict[str, Any]) -> tuple[Any, ...]:
    """The key of an edge read back from the database (same shape as EdgeRow.key)."""
    relation_made = is_relation_made(props)
    names = RELATION_KEY if relation_made else KEY_PROPS.get(rel_type, ())
    return (rel_type, start, end, relation_made, *(_hashable(props.get(n)) for n in names))


def is_relation_made(props: dict[str, Any]) -> bool:
    """Relation-made edges carry `sources` and never `statement` (see OWNED_OUTGOING)."""
    return "sources" in props and "statement" not in props


@dataclass
class GraphRows:
    nodes: list[NodeRow] = field(default_factory=list)
    edges: list[EdgeRow] = field(default_factory=list)


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Neo4j stores no nulls: drop them (and empty lists, which carry no type)."""
    return {k: v for k, v in props.items() if v is not None and v != []}


def _date_props(
    prefix_date: PartialDate | None,
    start: PartialDate | None = None,
    end: PartialDate | None = None,
) -> dict[str, Any]:
    if prefix_date is not None:
        return {
            "date": prefix_date.first,
            "start": prefix_date.first,
            "end": prefix_date.last,
            "date_precision": prefix_date.precision,
        }
    out: dict[str, Any] = {}
    if start is not None:
        out["start"] = start.first
        out["date_precision"] = start.precision
    if end is not None:
        out["end"] = end.last
        out.setdefault("date_precision", end.precision)
    return out


def source_known_by(m: R.Source) -> Any | None:
    """The first day by which a source was certainly out (kg.dates' rule): the last day of
    its `published` span (`on-or-before` counts, `on-or-after` gives no such day); without
    one, the last day of `retrieved` (it existed when it was retrieved); else none."""
    day = certain_by(interval(m.published, m.published_bound))
    if day is None and m.retrieved is not None:
        day = m.retrieved.last
    return day


def node_props(ent: Modelled) -> dict[str, Any]:
    m = ent.model
    props: dict[str, Any] = {
        "id": m.id,
        R.NAME_FIELD[ent.kind]: getattr(m, R.NAME_FIELD[ent.kind]),
        "description": m.description,
        "aliases": list(m.aliases),
        "tags": list(m.tags),
        "confidential": bool(m.confidential),
    }
    for key, value in m.extra.items():
        props[f"extra_{key}"] = value
    if ent.kind == "source":
        props.update(
            kind=m.kind,
            url=m.url,
            language=m.language,
            reliability=m.reliability,
            archive_url=m.archive_url,
            sha256=m.sha256,
            license=m.license,
        )
        for name in ("published", "retrieved"):
            d = getattr(m, name)
            if d is not None:
                props[name] = d.first
                props[f"{name}_precision"] = d.precision
        props["published_bound"] = m.published_bound
        props["known_by"] = source_known_by(m)
    elif ent.kind == "person":
        props["nationality"] = m.nationality
    elif ent.kind == "organization":
        props["kind"] = m.kind
    elif ent.kind == "location":
        props.update(kind=m.kind, lat=m.lat, lon=m.lon)
    elif ent.kind == "event":
        props.update(kind=m.kind, status=m.status, date_bound=m.date_bound)
        props.update(_date_props(m.date, m.start, m.end))
        if m.victims is not None:
            props["victims_min"] = m.victims.min
            props["victims_max"] = m.victims.max
    elif ent.kind == "statement":
        props.update(verbatim=bool(m.verbatim), language=m.language, date_bound=m.date_bound)
        if m.original is not None:
            props.update(original_text=m.original.text, original_language=m.original.language)
        props.update(_date_props(m.date))
    return _clean(props)


def _citation_props(c: R.SourceCitation) -> dict[str, Any]:
    return _clean(
        {
            "quote": c.quote,
            "page": c.page,
            "accessed": c.accessed.first if c.accessed else None,
            "credibility": c.credibility,
        }
    )


def entity_edges(ent: Modelled) -> Iterable[EdgeRow]:
    m, oid = ent.model, ent.id
    for c in m.reported_by:
        yield EdgeRow("REPORTED_BY", oid, c.source, _citation_props(c), oid)
    located = getattr(m, "located_in", None)
    if located:
        yield EdgeRow("LOCATED_IN", oid, located, {}, oid)
    if ent.kind == "source":
        if m.publisher:
            yield EdgeRow("PUBLISHED_BY", oid, m.publisher, {}, oid)
        for a in m.authors:
            yield EdgeRow("AUTHORED_BY", oid, a, {}, oid)
        if m.copy_of:
            yield EdgeRow("COPY_OF", oid, m.copy_of, {}, oid)
        if m.known_through:
            yield EdgeRow("KNOWN_THROUGH", oid, m.known_through, {}, oid)
    elif ent.kind == "person":
        for a in m.affiliations:
            yield EdgeRow(
                "AFFILIATED_WITH",
                oid,
                a.organization,
                _clean(
                    {
                        "role": a.role,
                        "start": a.start.first if a.start else None,
                        "end": a.end.last if a.end else None,
                    }
                ),
                oid,
            )
    elif ent.kind == "organization":
        if m.parent:
            yield EdgeRow("PART_OF", oid, m.parent, {}, oid)
    elif ent.kind == "event":
        for p in m.participants:
            yield EdgeRow("INVOLVED_IN", p.actor, oid, {"role": p.role}, oid)
    elif ent.kind == "statement":
        yield EdgeRow(
            "SAID",
            m.speaker,
            oid,
            _clean({"date": m.date.first if m.date else None, "via": m.via[0] if m.via else None}),
            oid,
        )
        for outlet in m.via:
            yield EdgeRow("VIA", oid, outlet, {}, oid)
        for name, rel_type in R.STATEMENT_LINKS.items():
            for link in getattr(m, name):
                yield EdgeRow(
                    rel_type,
                    oid,
                    link.statement,
                    {
                        "sources": list(dict.fromkeys(c.source for c in link.reported_by)),
                        "statement": oid,
                    },
                    oid,
                )
        for a in m.about:
            yield EdgeRow("ABOUT", oid, a.target, {"stance": a.stance}, oid)
            if a.stance == "denies":
                yield EdgeRow("DENIED", m.speaker, a.target, {"statement": oid}, oid)


def relation_edge(rel: R.Relation) -> EdgeRow:
    props = _clean(
        {
            "role": rel.role,
            "start": rel.start.first if rel.start else None,
            "end": rel.end.last if rel.end else None,
            "description": rel.description,
        }
    )
    # Always present on relation-made edges, even empty: it marks them as relation-made.
    props["sources"] = list(dict.fromkeys(c.source for c in rel.reported_by))
    return EdgeRow(rel.type, rel.from_, rel.to, props, None)


def map_collection(coll: Collection) -> GraphRows:
    """The node and relationship rows for everything in a validated collection."""
    return map_records(coll.entities.values(), coll.relations)


def map_records(entities: Iterable[Entity], relations: Iterable[RelationRecord]) -> GraphRows:
    """Rows for some entities and relation records (a whole collection, or one chunk of a
    streamed load: an entity's edges never depend on another entity's record), each the union
    of every case's definition (kg.contributions)."""
    from .contributions import entity_rows, relation_row

    rows = GraphRows()
    for ent in entities:
        er = entity_rows(ent.kind, ent.id, ent.defs.values())
        rows.nodes.append(NodeRow(ent.id, R.LABELS[ent.kind], er.props, tuple(er.props["cases"])))
        rows.edges.extend(er.edges)
    groups: dict[tuple, dict[str, Any]] = {}
    for rel in relations:
        groups.setdefault(rel.key, {}).update(rel.defs)
    for defs in groups.values():
        rows.edges.append(relation_row(defs.values()))
    return rows
