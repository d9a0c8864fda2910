"""FollowTheMoney entities as JSON lines, checked by followthemoney (kg.ftm holds what
export and import share, and the import)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..ftm import CONFIDENTIAL, SAID_ROLE, _model, derived_id
from ..selection import Subgraph
from .base import Exporter


class FtmExporter(Exporter):
    """FollowTheMoney entities as JSON lines (see kg.ftm), checked by followthemoney."""

    suffix = ".ftm.json"

    def __init__(self, out: Path, **kw: Any):
        super().__init__(out, **kw)
        from ..selection import Subgraph

        self.sub = Subgraph()

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        self.sub.nodes[nid] = node

    def write_edge(self, edge: dict[str, Any]) -> None:
        self.sub.edges.append(edge)

    def finalize(self) -> list[Path]:
        return [write_ftm(self.sub, self.out)]


def _date(value: Any, precision: str | None = None) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if precision == "year":
        return text[:4]
    if precision == "month":
        return text[:7]
    return text


def to_ftm(sub: Subgraph) -> Iterator[dict[str, Any]]:
    """FtM entity dicts for a (redacted) selection, each checked by followthemoney."""
    model = _model()

    def make(schema: str, eid: str, props: dict[str, Any], secret: bool = False) -> dict[str, Any]:
        proxy = model.make_entity(schema)
        proxy.id = eid
        if secret:  # a keyword survives FtM's statements/aggregate tools and Aleph
            proxy.add("keywords", CONFIDENTIAL)
        for k, v in props.items():
            for item in v if isinstance(v, list) else [v]:
                if item not in (None, ""):
                    proxy.add(k, item if isinstance(item, str) else str(item))
        return proxy.to_dict()

    nodes, edges = sub.nodes, sub.sorted_edges()
    located = {e["start"]: e["end"] for e in edges if e["type"] == "LOCATED_IN"}
    involved: dict[str, list[tuple[str, str]]] = {}
    about: dict[str, list[tuple[str, str]]] = {}
    for e in edges:
        if e["type"] == "INVOLVED_IN":
            involved.setdefault(e["end"], []).append((e["start"], e["props"].get("role", "")))
        elif e["type"] == "ABOUT":
            about.setdefault(e["start"], []).append((e["end"], e["props"].get("stance", "")))
    publishers = {e["start"]: e["end"] for e in edges if e["type"] == "PUBLISHED_BY"}
    speakers = {e["end"]: e["start"] for e in edges if e["type"] == "SAID"}
    for nid, node in sub.sorted_nodes():
        p, kind = node["props"], node["kind"]
        secret = bool(p.get("confidential"))
        common = {"description": p.get("description")}
        addr = located.get(nid)
        if kind == "person":
            yield make(
                "Person",
                nid,
                {
                    "name": p.get("name"),
                    "alias": p.get("aliases"),
                    "nationality": p.get("nationality"),
                    **common,
                    "addressEntity": addr,
                    "notes": p.get("tags"),
                },
                secret=secret,
            )
        elif kind == "organization":
            schema = (
                "PublicBody"
                if p.get("kind") in ("government", "security-forces")
                else "Organization"
            )
            yield make(
                schema,
                nid,
                {"name": p.get("name"), "alias": p.get("aliases"), **common, "addressEntity": addr},
                secret=secret,
            )
        elif kind == "location":
            yield make(
                "Address",
                nid,
                {
                    "full": p.get("name"),
                    "latitude": p.get("lat"),
                    "longitude": p.get("lon"),
                    "summary": p.get("description"),
                },
                secret=secret,
            )
        elif kind == "event":
            roles = involved.get(nid, [])
            prec = p.get("date_precision")
            dates = (
                {"date": _date(p["date"], prec)}
                if p.get("date")
                else {
                    "startDate": _date(p["start"], prec) if p.get("start") else None,
                    "endDate": _date(p["end"], prec) if p.get("end") else None,
                }
            )
            yield make(
                "Event",
                nid,
                {
                    "name": p.get("title"),
                    "summary": p.get("description"),
                    **dates,
                    "involved": [a for a, r in roles if r != "organizer"],
                    "organizer": [a for a, r in roles if r == "organizer"],
                    "addressEntity": addr,
                    "keywords": f"kind:{p['kind']}" if p.get("kind") else None,
                },
                secret=secret,
            )
        elif kind == "source":
            pub = publishers.get(nid)
            yield make(
                "Document",
                nid,
                {
                    "title": p.get("title"),
                    "sourceUrl": p.get("url"),
                    "publisher": nodes[pub]["props"].get("name") if pub in nodes else None,
                    "date": _date(p["published"], p.get("published_precision"))
                    if p.get("published")
                    else None,
                    "language": p.get("language"),
                    **common,
                },
                secret=secret,
            )
        elif kind == "statement":
            targets = about.get(nid, [])
            keywords = [f"{s}:{t}" for t, s in targets]
            if p.get("date"):
                keywords.append(f"date:{_date(p['date'], p.get('date_precision'))}")
            if p.get("verbatim"):
                keywords.append("verbatim")
            if nid in speakers:
                keywords.append(f"speaker:{speakers[nid]}")
            entities = ([speakers[nid]] if nid in speakers else []) + [t for t, _ in targets]
            yield make(
                "Note",
                nid,
                {
                    "name": nid,
                    "description": p.get("text"),
                    "entity": entities,
                    "keywords": keywords,
                },
                secret=secret,
            )
    # Who said it and what it is about, as links with named properties (subject, object,
    # role): FtM's statements/aggregate tools keep them, where the order of Note.entity is lost.
    for nid, speaker in sorted(speakers.items()):
        if nid in nodes:
            yield make(
                "UnknownLink",
                derived_id("said", speaker, nid),
                {"subject": speaker, "object": nid, "role": SAID_ROLE},
            )
    for nid, targets in sorted(about.items()):
        for t, stance in targets:
            yield make(
                "UnknownLink",
                derived_id("about", nid, t, stance),
                {"subject": nid, "object": t, "role": stance},
            )
    for e in edges:
        a, b, t, props = e["start"], e["end"], e["type"], e["props"]
        if t == "REPORTED_BY":
            yield make(
                "Documentation",
                derived_id("doc", a, b, props.get("quote"), props.get("page")),
                {"document": b, "entity": a, "summary": props.get("quote"), "role": "reported_by"},
            )
        elif t == "AFFILIATED_WITH":
            yield make(
                "Membership",
                derived_id("member", a, b, props.get("role"), props.get("start"), props.get("end")),
                {
                    "member": a,
                    "organization": b,
                    "role": props.get("role"),
                    "startDate": _date(props["start"]) if props.get("start") else None,
                    "endDate": _date(props["end"]) if props.get("end") else None,
                },
            )
        elif t == "ASSOCIATED_WITH":
            both_people = (
                nodes.get(a, {}).get("kind") == "person"
                and nodes.get(b, {}).get("kind") == "person"
            )
            if both_people:
                yield make(
                    "Associate",
                    derived_id("assoc", a, b, props.get("role")),
                    {"person": a, "associate": b, "relationship": props.get("role")},
                )
            else:
                yield make(
                    "UnknownLink",
                    derived_id("link", a, b, props.get("role")),
                    {"subject": a, "object": b, "role": props.get("role")},
                )


def write_ftm(sub: Subgraph, out: Path) -> Path:
    with open(out, "w", encoding="utf-8") as f:
        for entity in to_ftm(sub):
            f.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
    return out
