"""What to export or analyze: one selection model for every format.

The whole graph, a case (``--case``), the neighbourhood of an entity (``--around ID
--hops N``), some kinds (``--kinds person,organization``), a saved query that returns
nodes, relationships or paths (``--query NAME -p ...``), dated entities in a range
(``--since/--until``, honouring date precision and bounds by kg.dates' interval rule: an
entity dated 2017 overlaps April 2017), and the graph as known on a date (``--as-of``: only
sources certainly published by then, and what they support; see :func:`_as_of`).
The result is a :class:`Subgraph` of plain data, redacted unless asked otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import neo4j.graph as g

from . import cypher as C
from . import records as R
from .dates import Interval, PartialDate, overlaps
from .errors import UsageError
from .redact import Redactor
from .seal import Unsealer, drop_sealed, stored_id
from .store import Store, native

BATCH = 10_000


@dataclass
class Subgraph:
    nodes: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # id -> {"kind", "labels", "props"}
    edges: list[dict[str, Any]] = field(default_factory=list)  # {"type", "start", "end", "props"}
    citations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # id -> sources
    redacted: bool = False

    def sorted_nodes(self) -> list[tuple[str, dict[str, Any]]]:
        return sorted(self.nodes.items())

    def sorted_edges(self) -> list[dict[str, Any]]:
        return sorted(
            self.edges,
            key=lambda e: (e["start"], e["type"], e["end"], repr(sorted(e["props"].items()))),
        )


@dataclass
class Selection:
    case: str | None = None
    around: str | None = None
    hops: int = 2
    kinds: list[str] | None = None
    query: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    since: dt.date | None = None
    until: dt.date | None = None
    query_dirs: tuple = ()
    as_of: dt.date | None = None  # the last day of the --as-of date given
    separate: bool = False  # entities merged by kg resolve as their separate ids

    @property
    def whole(self) -> bool:
        """The whole graph: the only selection whose csv/cypher export is a copy of the
        database, and so keeps kg's bookkeeping (``kg_records``, ``kg_conflict_*``)."""
        return not (
            self.case
            or self.around
            or self.kinds
            or self.query
            or self.since
            or self.until
            or self.as_of
        )

    def describe(self) -> str:
        parts = []
        if self.case:
            parts.append(f"case {self.case}")
        if self.around:
            parts.append(f"{self.hops} hops around {self.around}")
        if self.kinds:
            parts.append("kinds " + ",".join(self.kinds))
        if self.query:
            parts.append(f"query {self.query}")
        if self.since or self.until:
            parts.append(f"dated {self.since or '…'} to {self.until or '…'}")
        if self.as_of:
            parts.append(f"as known on {self.as_of}")
        return "; ".join(parts) or "the whole graph"


def parse_kinds(text: str | None) -> list[str] | None:
    if not text:
        return None
    kinds = [k.strip().lower() for k in text.split(",") if k.strip()]
    for k in kinds:
        if k not in R.LABELS:
            raise UsageError(
                f"--kinds: unknown kind {k!r}; expected some of: {', '.join(R.ENTITY_KINDS)}"
            )
    return kinds


def _node_entry(labels: Iterable[str], props: dict[str, Any]) -> dict[str, Any]:
    labels = sorted(labels)
    kind = next((R.KIND_OF_LABEL[lb] for lb in labels if lb in R.KIND_OF_LABEL), "entity")
    return {"kind": kind, "labels": labels, "props": {k: native(v) for k, v in props.items()}}


def _ids_for(store: Store, sel: Selection, opened: bool = False) -> set[str] | None:
    """The node ids of the base selection; None means every entity."""
    ids: set[str] | None = None
    if sel.case:
        ids = set(_one(store, C.CASE_IDS, {"case": sel.case}))
        if not ids:
            raise UsageError(f"no entity belongs to case {sel.case!r}")
    if sel.around:
        # a confidential id given in clear: found with --include-confidential (and the key)
        sel.around = stored_id(store, sel.around, opened=opened)
        if not store.read(C.ENTITY_EXISTS, {"id": sel.around}).records:
            raise UsageError(
                f"--around: no entity with id {sel.around!r}",
                hint="A confidential record is found by its real id only with "
                "--include-confidential (and the key).",
            )
        reached = {sel.around}
        frontier = [sel.around]
        for _ in range(sel.hops):
            nxt: set[str] = set()
            for i in range(0, len(frontier), BATCH):
                res = store.read(C.NEIGHBOURS, {"batch": {"ids": frontier[i : i + BATCH]}})
                nxt.update(r["id"] for r in res.records)
            frontier = sorted(nxt - reached)
            reached |= nxt
            if not frontier:
                break
        ids = reached if ids is None else ids & reached
    return ids


# Rows are read in bulk: each query returns one record holding a batch's rows as a list
# (`collect(...) AS rows`), so the driver reads a few large messages instead of one message
# per row (which cost more than the rows themselves).
def _one(store: Store, cypher: str, params: dict[str, Any] | None = None) -> list[Any]:
    """The `rows` list of a query that returns one record (`RETURN collect(...) AS rows`)."""
    records = store.read(cypher, params or {}).records
    return list(records[0]["rows"]) if records else []


def _batched(store: Store, cypher: str, ids: list[str], **params: Any) -> Iterable[Any]:
    for i in range(0, len(ids), BATCH):
        yield from _one(store, cypher, {"batch": {"ids": ids[i : i + BATCH]}, **params})


def _fetch_nodes(store: Store, ids: set[str] | None) -> dict[str, dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}
    id_list = sorted(_one(store, C.ALL_IDS)) if ids is None else sorted(ids)
    for nid, labels, props in _batched(store, C.NODES, id_list):
        nodes[nid] = _node_entry(labels, props)
    return nodes


def _fetch_edges(store: Store, ids: set[str] | None, keep: set[str]) -> list[dict[str, Any]]:
    """The relationships between nodes of ``keep`` that start at ``ids`` (None: every
    entity; read by their start nodes, in batches)."""
    edges: list[dict[str, Any]] = []
    id_list = sorted(keep if ids is None else ids)
    for s, t, e, p in _batched(store, C.EDGES_FROM, id_list):
        if s in keep and e in keep:
            edges.append(
                {"type": t, "start": s, "end": e, "props": {k: native(v) for k, v in p.items()}}
            )
    return edges


def _from_query(store: Store, sel: Selection) -> tuple[dict[str, dict], list[dict]]:
    from . import queries as Q

    assert sel.query is not None
    q = Q.Library.load(sel.query_dirs).get(sel.query)
    result = Q.run(store, q, Q.bind(q, sel.params))
    nodes: dict[str, dict] = {}
    edges: dict[tuple, dict] = {}

    def add_node(n: g.Node) -> None:
        if "id" in n:
            nodes[n["id"]] = _node_entry(n.labels, dict(n))

    def add_rel(r: g.Relationship) -> None:
        a, b = r.start_node, r.end_node
        if a is None or b is None or "id" not in a or "id" not in b:
            return
        add_node(a)
        add_node(b)
        edges[(r.element_id,)] = {
            "type": r.type,
            "start": a["id"],
            "end": b["id"],
            "props": {k: native(v) for k, v in dict(r).items()},
        }

    def walk(value: Any) -> None:
        if isinstance(value, g.Node):
            add_node(value)
        elif isinstance(value, g.Relationship):
            add_rel(value)
        elif isinstance(value, g.Path):
            for n in value.nodes:
                add_node(n)
            for rel in value.relationships:
                add_rel(rel)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    for rec in result.records:
        for v in rec.values():
            walk(v)
    if not nodes:
        raise UsageError(f"query {sel.query!r} returned no nodes, relationships or paths to export")
    return nodes, list(edges.values())


def _interval(props: dict[str, Any]) -> Interval | None:
    """The days a node's date may stand for (kg.dates' rule), from its stored properties."""
    if "start" in props or "end" in props:
        lo, hi, bound = props.get("start"), props.get("end"), props.get("date_bound")
    elif "published" in props:
        day = PartialDate.parse(str(props["published"]))
        first = day.first
        span = {
            "year": PartialDate.parse(str(first.year)),
            "month": PartialDate.parse(f"{first.year:04d}-{first.month:02d}"),
        }
        d = span.get(props.get("published_precision") or "day", day)
        lo, hi, bound = d.first, d.last, props.get("published_bound")
    else:
        return None
    if bound == "on-or-before":
        lo = None
    elif bound == "on-or-after":
        hi = None
    return Interval(lo, hi)


def _in_range(props: dict[str, Any], since: dt.date | None, until: dt.date | None) -> bool:
    iv = _interval(props)
    if iv is None:
        return True  # undated entities (people, places, ...) are not filtered by dates
    return overlaps(iv, since, until)


def _as_of(
    store: Store, nodes: dict[str, dict], edges: list[dict], as_of: dt.date
) -> tuple[dict[str, dict], list[dict], set[str]]:
    """The selection as known on a day: sources certainly published by then (their
    `known_by`, kg.dates' rule; undated sources are not known), the entities at least one
    of them reports (or that no source reports at all: curated, kept and flagged
    `unsourced`), and the relationships between those whose own sources, if they name any,
    include a known one. Returns nodes, edges and the known sources' ids."""
    known_sources = {r["id"] for r in store.read(C.KNOWN_SOURCES, {"d": as_of}).records}
    ids = sorted(nodes)
    keep: dict[str, dict] = {}
    for i in range(0, len(ids), BATCH):
        res = store.read(C.KNOWN_BY, {"batch": {"ids": ids[i : i + BATCH]}, "d": as_of})
        for r in res.records:
            node = nodes[r["id"]]
            if r["source"]:
                if r["id"] in known_sources:
                    keep[r["id"]] = node
            elif r["known"]:
                keep[r["id"]] = node
            elif r["cited"] == 0:
                keep[r["id"]] = {**node, "props": {**node["props"], "unsourced": True}}
    kept = []
    for e in edges:
        if e["start"] not in keep or e["end"] not in keep:
            continue
        sources = e["props"].get("sources")
        if sources:
            if not any(x in known_sources for x in sources):
                continue
            # Only the sources known by then: a later one is not named.
            e = {
                **e,
                "props": {**e["props"], "sources": [x for x in sources if x in known_sources]},
            }
        kept.append(e)
    return keep, kept, known_sources


def _citations(store: Store, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    keys = ("source", "title", "publisher", "reliability", "quote", "page", "credibility")
    for nid, *values in _batched(store, C.CITATIONS, ids):
        out.setdefault(nid, []).append({k: v for k, v in zip(keys, values) if v is not None})
    return out


def select(
    store: Store,
    sel: Selection,
    *,
    include_confidential: bool = False,
    with_citations: bool = False,
    raw: bool = False,
) -> Subgraph:
    """The selection as plain data: sealed values left out, or opened with the key when
    ``include_confidential``; ``raw``: as stored (sealed values as their tokens), for a copy
    of the database that stays sealed."""
    if sel.query:
        nodes, edges = _from_query(store, sel)
        base = _ids_for(store, sel, include_confidential) if (sel.case or sel.around) else None
        if base is not None:
            nodes = {k: v for k, v in nodes.items() if k in base}
    else:
        ids = _ids_for(store, sel, include_confidential)
        nodes = _fetch_nodes(store, ids)
        edges = []
    if sel.kinds:
        nodes = {k: v for k, v in nodes.items() if v["kind"] in sel.kinds}
    if sel.since or sel.until:
        nodes = {k: v for k, v in nodes.items() if _in_range(v["props"], sel.since, sel.until)}
    keep = set(nodes)
    if sel.query:
        edges = [e for e in edges if e["start"] in keep and e["end"] in keep]
    else:
        edges = _fetch_edges(
            store, None if ids is None and not (sel.kinds or sel.since or sel.until) else keep, keep
        )
    known: set[str] | None = None
    if sel.as_of is not None:
        nodes, edges, known = _as_of(store, nodes, edges, sel.as_of)
        keep = set(nodes)
    if not sel.whole:
        # kg's bookkeeping holds each case's whole record (every source it cites, whenever
        # published; other cases' records of a shared entity): it travels only with the
        # whole graph, never with a selection such as --as-of, --case or --around.
        from .contributions import public

        nodes = {k: {**v, "props": public(v["props"])} for k, v in nodes.items()}
        edges = [{**e, "props": public(e["props"])} for e in edges]
    sub = Subgraph(nodes=nodes, edges=edges)
    if with_citations:
        sub.citations = _citations(store, sorted(keep))
        if known is not None:
            sub.citations = {
                k: [c for c in v if c.get("source") in known] for k, v in sub.citations.items()
            }
    if not sel.separate:
        from .resolve import merge_subgraph
        from .resolve_store import canonical_map

        sub = merge_subgraph(sub, canonical_map(store))
    if raw:
        return sub
    if include_confidential:
        return unseal_subgraph(sub, Unsealer.from_store(store, plain=False))
    sub = redact_subgraph(sub, Redactor.from_store(store))  # records loaded before sealing
    return mask_subgraph(sub)


def unseal_subgraph(sub: Subgraph, uns: Unsealer) -> Subgraph:
    """The selection with sealed values opened (the key, on this machine): real ids,
    names, text and quotes."""
    if not uns.nodes:
        return sub
    out = Subgraph(redacted=False)
    for nid, node in sub.nodes.items():
        out.nodes[uns.rid(nid)] = {**node, "props": uns.props(node["props"])}
    for e in sub.edges:
        out.edges.append(
            {
                "type": e["type"],
                "start": uns.rid(e["start"]),
                "end": uns.rid(e["end"]),
                "props": uns.edge_props(e["props"]),
            }
        )
    for nid, cites in sub.citations.items():
        items = []
        for c in cites:
            src = uns.nodes.get(c.get("source", ""))
            c = {k: uns.value(v) for k, v in c.items()}
            if src is not None and "title" in src["props"]:
                c["title"] = src["props"]["title"]
            items.append(c)
        out.citations[uns.rid(nid)] = items
    return out


def mask_subgraph(sub: Subgraph) -> Subgraph:
    """Without the key: sealed values left out of nodes, relationships and citations."""
    for node in sub.nodes.values():
        node["props"] = drop_sealed(node["props"])
    for e in sub.edges:
        e["props"] = drop_sealed(e["props"])
    for nid, cites in sub.citations.items():
        sub.citations[nid] = [drop_sealed(c) for c in cites]
    sub.redacted = True
    return sub


def redact_subgraph(sub: Subgraph, red: Redactor) -> Subgraph:
    if not red.active:
        sub.redacted = True
        return sub

    def rid(x: str) -> str:
        return red.placeholders[x][0] if x in red.placeholders else x

    out = Subgraph(redacted=True)
    for nid, node in sub.nodes.items():
        out.nodes[rid(nid)] = {**node, "props": red.node_props(node["props"])}
    for e in sub.edges:
        out.edges.append(
            {
                "type": e["type"],
                "start": rid(e["start"]),
                "end": rid(e["end"]),
                "props": red.edge_props(e["start"], e["end"], e["props"]),
            }
        )
    for nid, cites in sub.citations.items():
        conf = nid in red.placeholders
        items = []
        for c in cites:
            c = {k: red.value(v) for k, v in c.items()}
            if conf:
                c.pop("quote", None)
            items.append(c)
        out.citations[rid(nid)] = items
    return out
