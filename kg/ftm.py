"""FollowTheMoney (FtM): export kg entities as FtM JSON lines; load FtM entities back.

Export (``kg export ftm``), checked against the followthemoney library's own model:

| kg | FtM |
| --- | --- |
| person | Person (name, alias, nationality, description, notes = tags) |
| organization | Organization, or PublicBody for government and security forces |
| location | Address (full = name, latitude, longitude); entities placed in it get addressEntity |
| event | Event (name, date / startDate / endDate, summary, involved, organizer, addressEntity) |
| source | Document (title, publisher, sourceUrl, date, language) |
| reported_by | Documentation (document = the source, entity = what it reports, summary = quote) |
| statement | Note (entity = speaker, then what it is about; description = text; keywords = "stance:target-id" for each `about`, and "date:…", "verbatim", "via:…") |
| affiliation | Membership (member, organization, role, startDate, endDate) |
| ASSOCIATED_WITH | Associate (person-person) or UnknownLink (others), role |

Entity ids are kg ids (``kg-`` prefixed for the derived ones). Loading (``kg load --format
ftm``) maps the same schemata back to kg records and reports what it skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import InputError, Problem, UsageError
from .readers import RawRecord, display_path
from .selection import Subgraph
from .validation import slugify

ACTOR_SCHEMATA = {"Person": "person", "Organization": "organization", "PublicBody": "organization",
                  "Company": "organization", "LegalEntity": "organization"}


def _model():
    try:
        from followthemoney import model
    except ImportError:
        raise UsageError("FollowTheMoney support needs the followthemoney package: "
                         "pip install 'kg[ftm]'") from None
    return model


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

    def make(schema: str, eid: str, props: dict[str, Any]) -> dict[str, Any]:
        proxy = model.make_entity(schema)
        proxy.id = eid
        for k, v in props.items():
            for item in (v if isinstance(v, list) else [v]):
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
        common = {"description": p.get("description")}
        addr = located.get(nid)
        if kind == "person":
            yield make("Person", nid, {"name": p.get("name"), "alias": p.get("aliases"),
                                       "nationality": p.get("nationality"), **common,
                                       "addressEntity": addr, "notes": p.get("tags")})
        elif kind == "organization":
            schema = "PublicBody" if p.get("kind") in ("government", "security-forces") else "Organization"
            yield make(schema, nid, {"name": p.get("name"), "alias": p.get("aliases"), **common,
                                     "addressEntity": addr})
        elif kind == "location":
            yield make("Address", nid, {"full": p.get("name"), "latitude": p.get("lat"),
                                        "longitude": p.get("lon"), "summary": p.get("description")})
        elif kind == "event":
            roles = involved.get(nid, [])
            prec = p.get("date_precision")
            dates = ({"date": _date(p["date"], prec)} if p.get("date") else
                     {"startDate": _date(p["start"], prec) if p.get("start") else None,
                      "endDate": _date(p["end"], prec) if p.get("end") else None})
            yield make("Event", nid, {"name": p.get("title"), "summary": p.get("description"), **dates,
                                      "involved": [a for a, r in roles if r != "organizer"],
                                      "organizer": [a for a, r in roles if r == "organizer"],
                                      "addressEntity": addr, "keywords": p.get("kind")})
        elif kind == "source":
            pub = publishers.get(nid)
            yield make("Document", nid, {"title": p.get("title"), "sourceUrl": p.get("url"),
                                         "publisher": nodes[pub]["props"].get("name") if pub in nodes else None,
                                         "date": _date(p["published"], p.get("published_precision"))
                                         if p.get("published") else None,
                                         "language": p.get("language"), **common})
        elif kind == "statement":
            targets = about.get(nid, [])
            keywords = [f"{s}:{t}" for t, s in targets]
            if p.get("date"):
                keywords.append(f"date:{_date(p['date'], p.get('date_precision'))}")
            if p.get("verbatim"):
                keywords.append("verbatim")
            entities = ([speakers[nid]] if nid in speakers else []) + [t for t, _ in targets]
            yield make("Note", nid, {"name": nid, "description": p.get("text"),
                                     "entity": entities, "keywords": keywords})
    n = 0
    for e in edges:
        a, b, t, props = e["start"], e["end"], e["type"], e["props"]
        if t == "REPORTED_BY":
            n += 1
            yield make("Documentation", f"kg-doc-{n}", {"document": b, "entity": a,
                                                        "summary": props.get("quote"),
                                                        "role": "reported_by"})
        elif t == "AFFILIATED_WITH":
            n += 1
            yield make("Membership", f"kg-member-{n}", {"member": a, "organization": b,
                                                        "role": props.get("role"),
                                                        "startDate": _date(props["start"]) if props.get("start") else None,
                                                        "endDate": _date(props["end"]) if props.get("end") else None})
        elif t == "ASSOCIATED_WITH":
            n += 1
            both_people = nodes.get(a, {}).get("kind") == "person" and nodes.get(b, {}).get("kind") == "person"
            if both_people:
                yield make("Associate", f"kg-assoc-{n}", {"person": a, "associate": b,
                                                          "relationship": props.get("role")})
            else:
                yield make("UnknownLink", f"kg-link-{n}", {"subject": a, "object": b,
                                                           "role": props.get("role")})


def write_ftm(sub: Subgraph, out: Path) -> Path:
    with open(out, "w", encoding="utf-8") as f:
        for entity in to_ftm(sub):
            f.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
    return out


# --- loading FtM back ----------------------------------------------------------------------

def _kg_id(ftm_id: str) -> str:
    s = re.sub(r"[^a-z0-9_.-]+", "-", str(ftm_id).lower()).strip("-._")
    s = re.sub(r"[-_.]{2,}", "-", s)
    return s[:128] or "ftm-entity"


def _schema(by_id: dict[str, Any], eid: str) -> str | None:
    proxy = by_id.get(eid)
    return proxy.schema.name if proxy is not None else None


def ftm_raws(paths: Iterable[Path]) -> tuple[list[RawRecord], list[str]]:
    """kg raw records from FtM JSON lines, and notices of what was skipped."""
    model = _model()
    raws: list[RawRecord] = []
    skipped: dict[str, int] = {}
    problems: list[Problem] = []
    for path in paths:
        shown = display_path(path)
        entities: list[tuple[int, Any]] = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entities.append((n, model.get_proxy(json.loads(line), cleaned=False)))
            except Exception as e:  # noqa: BLE001 - any invalid entity is reported with its line
                problems.append(Problem(shown, n, "-", "-", f"not a valid FtM entity: {e}"))
        case = slugify(path.name.split(".")[0])
        by_id = {p.id: p for _, p in entities}
        docs: dict[str, list[dict]] = {}
        participants: dict[str, list[dict]] = {}
        affiliations: dict[str, list[dict]] = {}
        relations: list[tuple[int, dict]] = []
        for n, p in entities:
            s = p.schema.name
            if s == "Documentation":
                for ent in p.get("entity"):
                    for doc in p.get("document"):
                        cite = {"source": _kg_id(doc)}
                        if p.first("summary"):
                            cite["quote"] = p.first("summary")
                        docs.setdefault(ent, []).append(cite)
            elif s == "Membership":
                for m in p.get("member"):
                    for o in p.get("organization"):
                        aff = {"organization": _kg_id(o)}
                        if p.first("role"):
                            aff["role"] = p.first("role")
                        affiliations.setdefault(m, []).append(aff)
            elif s in ("Associate", "UnknownLink"):
                a = p.first("person") or p.first("subject")
                b = p.first("associate") or p.first("object")
                role = p.first("relationship") or p.first("role")
                if a and b and _schema(by_id, a) in ACTOR_SCHEMATA and _schema(by_id, b) in ACTOR_SCHEMATA:
                    rel = {"type": "ASSOCIATED_WITH", "from": _kg_id(a), "to": _kg_id(b)}
                    if role:
                        rel["role"] = role
                    relations.append((n, rel))
                else:
                    skipped[s] = skipped.get(s, 0) + 1
            elif s == "Event":
                for a in p.get("involved"):
                    participants.setdefault(p.id, []).append({"actor": _kg_id(a), "role": "participant"})
                for a in p.get("organizer"):
                    participants.setdefault(p.id, []).append({"actor": _kg_id(a), "role": "organizer"})
        counts: dict[str, int] = {}

        def add(kind: str, n: int, data: dict) -> None:
            counts[kind] = counts.get(kind, 0) + 1
            raws.append(RawRecord(kind, {k: v for k, v in data.items() if v not in (None, [], "")},
                                  shown, n, {}, counts[kind], case_dir=str(path), case=case))

        def addr(p: Any) -> Any:
            a = p.first("addressEntity")
            return _kg_id(a) if a and _schema(by_id, a) == "Address" else None

        for n, p in entities:
            s, kid = p.schema.name, _kg_id(p.id)
            cites = docs.get(p.id, [])
            if s in ACTOR_SCHEMATA:
                kind = ACTOR_SCHEMATA[s]
                data = {"id": kid, "name": p.first("name") or p.caption, "aliases": p.get("alias"),
                        "description": p.first("description"), "located_in": addr(p),
                        "reported_by": cites}
                if kind == "person":
                    data["affiliations"] = affiliations.get(p.id, [])
                    data["nationality"] = p.first("nationality")
                else:
                    data["kind"] = "government" if s == "PublicBody" else "company" if s == "Company" else None
                add(kind, n, data)
            elif s == "Address":
                add("location", n, {"id": kid, "name": p.first("full") or p.caption,
                                    "lat": p.first("latitude"), "lon": p.first("longitude"),
                                    "description": p.first("summary"), "reported_by": cites})
            elif s == "Event":
                date = p.first("date")
                data = {"id": kid, "title": p.first("name") or p.caption,
                        "description": p.first("summary"), "participants": participants.get(p.id, []),
                        "located_in": addr(p), "reported_by": cites,
                        "kind": slugify(p.first("keywords")) if p.first("keywords") else None}
                if date:
                    data["date"] = date[:10]
                else:
                    data["start"] = (p.first("startDate") or "")[:10] or None
                    data["end"] = (p.first("endDate") or "")[:10] or None
                add("event", n, data)
            elif s == "Document":
                add("source", n, {"id": kid, "title": p.first("title") or p.caption or kid,
                                  "url": p.first("sourceUrl"), "published": (p.first("date") or "")[:10] or None,
                                  "description": p.first("description"), "kind": "other"})
            elif s == "Note":
                ents = p.get("entity")
                if not ents or not p.first("description"):
                    skipped["Note without entity or text"] = skipped.get("Note without entity or text", 0) + 1
                    continue
                about, extra = [], {}
                for kw in p.get("keywords"):
                    stance, _, target = kw.partition(":")
                    if stance in ("asserts", "denies", "corroborates", "disputes", "calls-for", "mentions") and target:
                        about.append({"target": _kg_id(target), "stance": stance})
                    elif stance == "date":
                        extra["date"] = target
                    elif kw == "verbatim":
                        extra["verbatim"] = True
                add("statement", n, {"id": kid, "speaker": _kg_id(ents[0]), "text": p.first("description"),
                                     "about": about, "reported_by": cites, **extra})
            elif s in ("Documentation", "Membership", "Associate", "UnknownLink"):
                continue
            else:
                skipped[s] = skipped.get(s, 0) + 1
        for n, rel in relations:
            add("relation", n, rel)
    if problems:
        raise InputError(problems)
    notices = [f"skipped {n} FtM {s} entit{'y' if n == 1 else 'ies'} (no kg equivalent)"
               for s, n in sorted(skipped.items())]
    return raws, notices
