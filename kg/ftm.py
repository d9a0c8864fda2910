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
| statement | Note (description = text; entity = speaker and targets, for Aleph; keywords = "speaker:id", "stance:target-id" for each `about`, "date:…", "verbatim") |
| its speaker / each about | UnknownLink (subject = speaker, object = Note, role = "said") / (subject = Note, object = target, role = the stance) |
| affiliation | Membership (member, organization, role, startDate, endDate) |
| ASSOCIATED_WITH | Associate (person-person) or UnknownLink (others), role |
| confidential | the keywords value "confidential" |

Nothing depends on the order of a property's values: FtM's ``statements`` and
``aggregate-statements`` tools do not keep it. Entity ids are kg ids; those kg derives from a
relationship are ``kg-<kind>-<hash of the relationship>`` (``derived_id``), stable whatever
else is exported. Loading (``kg load --format ftm``) maps the same schemata back, and the link
schemata of OpenSanctions/Aleph data (Associate, Family, UnknownLink, Membership,
Directorship, Employment) by their own properties; a property a schema lacks reads as empty.
It reports what it skipped.
"""

from __future__ import annotations

import hashlib
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


CONFIDENTIAL = "confidential"   # the keywords value that marks a confidential record
SAID_ROLE = "said"              # UnknownLink role: subject said the Note (object)
STANCES = ("asserts", "denies", "corroborates", "disputes", "calls-for", "mentions")


def derived_id(kind: str, *parts: Any) -> str:
    """The id of an entity kg derives from a relationship: the same relationship always
    gets the same id, whatever else is exported with it."""
    key = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"kg-{kind}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:20]}"


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
        if secret:   # a keyword survives FtM's statements/aggregate tools and Aleph
            proxy.add("keywords", CONFIDENTIAL)
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
        secret = bool(p.get("confidential"))
        common = {"description": p.get("description")}
        addr = located.get(nid)
        if kind == "person":
            yield make("Person", nid, {"name": p.get("name"), "alias": p.get("aliases"),
                                       "nationality": p.get("nationality"), **common,
                                       "addressEntity": addr, "notes": p.get("tags")}, secret=secret)
        elif kind == "organization":
            schema = "PublicBody" if p.get("kind") in ("government", "security-forces") else "Organization"
            yield make(schema, nid, {"name": p.get("name"), "alias": p.get("aliases"), **common,
                                     "addressEntity": addr}, secret=secret)
        elif kind == "location":
            yield make("Address", nid, {"full": p.get("name"), "latitude": p.get("lat"),
                                        "longitude": p.get("lon"), "summary": p.get("description")}, secret=secret)
        elif kind == "event":
            roles = involved.get(nid, [])
            prec = p.get("date_precision")
            dates = ({"date": _date(p["date"], prec)} if p.get("date") else
                     {"startDate": _date(p["start"], prec) if p.get("start") else None,
                      "endDate": _date(p["end"], prec) if p.get("end") else None})
            yield make("Event", nid, {"name": p.get("title"), "summary": p.get("description"), **dates,
                                      "involved": [a for a, r in roles if r != "organizer"],
                                      "organizer": [a for a, r in roles if r == "organizer"],
                                      "addressEntity": addr,
                                      "keywords": f"kind:{p['kind']}" if p.get("kind") else None}, secret=secret)
        elif kind == "source":
            pub = publishers.get(nid)
            yield make("Document", nid, {"title": p.get("title"), "sourceUrl": p.get("url"),
                                         "publisher": nodes[pub]["props"].get("name") if pub in nodes else None,
                                         "date": _date(p["published"], p.get("published_precision"))
                                         if p.get("published") else None,
                                         "language": p.get("language"), **common}, secret=secret)
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
            yield make("Note", nid, {"name": nid, "description": p.get("text"),
                                     "entity": entities, "keywords": keywords}, secret=secret)
    # Who said it and what it is about, as links with named properties (subject, object,
    # role): FtM's statements/aggregate tools keep them, where the order of Note.entity is lost.
    for nid, speaker in sorted(speakers.items()):
        if nid in nodes:
            yield make("UnknownLink", derived_id("said", speaker, nid),
                       {"subject": speaker, "object": nid, "role": SAID_ROLE})
    for nid, targets in sorted(about.items()):
        for t, stance in targets:
            yield make("UnknownLink", derived_id("about", nid, t, stance),
                       {"subject": nid, "object": t, "role": stance})
    for e in edges:
        a, b, t, props = e["start"], e["end"], e["type"], e["props"]
        if t == "REPORTED_BY":
            yield make("Documentation", derived_id("doc", a, b, props.get("quote"), props.get("page")),
                       {"document": b, "entity": a, "summary": props.get("quote"),
                        "role": "reported_by"})
        elif t == "AFFILIATED_WITH":
            yield make("Membership", derived_id("member", a, b, props.get("role"), props.get("start"),
                                                props.get("end")),
                       {"member": a, "organization": b, "role": props.get("role"),
                        "startDate": _date(props["start"]) if props.get("start") else None,
                        "endDate": _date(props["end"]) if props.get("end") else None})
        elif t == "ASSOCIATED_WITH":
            both_people = nodes.get(a, {}).get("kind") == "person" and nodes.get(b, {}).get("kind") == "person"
            if both_people:
                yield make("Associate", derived_id("assoc", a, b, props.get("role")),
                           {"person": a, "associate": b, "relationship": props.get("role")})
            else:
                yield make("UnknownLink", derived_id("link", a, b, props.get("role")),
                           {"subject": a, "object": b, "role": props.get("role")})


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


# The two ends of FtM's link schemata (each an interval between two entities).
LINK_ENDS = {"Associate": ("person", "associate"), "Family": ("person", "relative"),
             "UnknownLink": ("subject", "object"), "Directorship": ("director", "organization"),
             "Membership": ("member", "organization"), "Employment": ("employee", "employer")}
DEFAULT_ROLE = {"Family": "family", "Associate": "associate"}


def _values(proxy: Any, prop: str) -> list[str]:
    """A property's values, or none when the entity's schema has no such property (FtM
    raises on unknown properties; data from elsewhere uses schemata kg does not export)."""
    return proxy.get(prop) if prop in proxy.schema.properties else []


def _first(proxy: Any, prop: str) -> Any:
    values = _values(proxy, prop)
    return values[0] if values else None


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
        speakers: dict[str, list[str]] = {}
        linked_about: dict[str, list[dict]] = {}

        def link(n: int, s: str, a: Any, b: Any, role: Any, default_role: str | None) -> None:
            """A link between two entities: a statement's speaker or target, or an association."""
            sa, sb = _schema(by_id, a), _schema(by_id, b)
            if sb == "Note" and role == SAID_ROLE and sa in ACTOR_SCHEMATA:
                speakers.setdefault(b, []).append(a)
            elif sa == "Note" and role in STANCES and b:
                linked_about.setdefault(a, []).append({"target": _kg_id(b), "stance": role})
            elif a and b and sa in ACTOR_SCHEMATA and sb in ACTOR_SCHEMATA:
                rel: dict[str, Any] = {"type": "ASSOCIATED_WITH", "from": _kg_id(a),
                                       "to": _kg_id(b)}
                if role or default_role:
                    rel["role"] = role or default_role
                relations.append((n, rel))
            else:
                skipped[f"{s} between entities kg does not hold"] = \
                    skipped.get(f"{s} between entities kg does not hold", 0) + 1

        for n, p in entities:
            s = p.schema.name
            if s == "Documentation":
                for ent in _values(p, "entity"):
                    for doc in _values(p, "document"):
                        cite = {"source": _kg_id(doc)}
                        if _first(p, "summary"):
                            cite["quote"] = _first(p, "summary")
                        docs.setdefault(ent, []).append(cite)
            elif s in ("Membership", "Directorship", "Employment"):
                member_prop, org_prop = LINK_ENDS[s]
                for m in _values(p, member_prop):
                    for o in _values(p, org_prop):
                        role = _first(p, "role") or (None if s == "Membership" else s.lower())
                        if _schema(by_id, m) == "Person" and _schema(by_id, o) in ACTOR_SCHEMATA:
                            aff = {"organization": _kg_id(o)}
                            if role:
                                aff["role"] = role
                            affiliations.setdefault(m, []).append(aff)
                        else:
                            link(n, s, m, o, role, None)
            elif s in LINK_ENDS:
                a_prop, b_prop = LINK_ENDS[s]
                role = _first(p, "relationship") or _first(p, "role")
                for a in _values(p, a_prop):
                    for b in _values(p, b_prop):
                        link(n, s, a, b, role, DEFAULT_ROLE.get(s))
            elif s == "Event":
                for a in _values(p, "involved"):
                    participants.setdefault(p.id, []).append({"actor": _kg_id(a), "role": "participant"})
                for a in _values(p, "organizer"):
                    participants.setdefault(p.id, []).append({"actor": _kg_id(a), "role": "organizer"})
        counts: dict[str, int] = {}

        def add(kind: str, n: int, data: dict) -> None:
            counts[kind] = counts.get(kind, 0) + 1
            raws.append(RawRecord(kind, {k: v for k, v in data.items() if v not in (None, [], "")},
                                  shown, n, {}, counts[kind], case_dir=str(path), case=case))

        def addr(p: Any) -> Any:
            a = _first(p, "addressEntity")
            return _kg_id(a) if a and _schema(by_id, a) == "Address" else None

        for n, p in entities:
            s, kid = p.schema.name, _kg_id(p.id)
            cites = docs.get(p.id, [])
            keywords = _values(p, "keywords")
            secret = {"confidential": True} if CONFIDENTIAL in keywords else {}
            if s in ACTOR_SCHEMATA:
                kind = ACTOR_SCHEMATA[s]
                data = {"id": kid, "name": _first(p, "name") or p.caption, "aliases": _values(p, "alias"),
                        "description": _first(p, "description"), "located_in": addr(p),
                        "reported_by": cites, **secret}
                if kind == "person":
                    data["affiliations"] = affiliations.get(p.id, [])
                    data["nationality"] = _first(p, "nationality")
                else:
                    data["kind"] = "government" if s == "PublicBody" else "company" if s == "Company" else None
                add(kind, n, data)
            elif s == "Address":
                add("location", n, {"id": kid, "name": _first(p, "full") or p.caption,
                                    "lat": _first(p, "latitude"), "lon": _first(p, "longitude"),
                                    "description": _first(p, "summary"), "reported_by": cites, **secret})
            elif s == "Event":
                date = _first(p, "date")
                kinds = ([k[5:] for k in keywords if k.startswith("kind:")]
                         or [k for k in keywords if ":" not in k and k != CONFIDENTIAL])
                data = {"id": kid, "title": _first(p, "name") or p.caption,
                        "description": _first(p, "summary"), "participants": participants.get(p.id, []),
                        "located_in": addr(p), "reported_by": cites,
                        "kind": slugify(sorted(kinds)[0]) if kinds else None, **secret}
                if date:
                    data["date"] = date[:10]
                else:
                    data["start"] = (_first(p, "startDate") or "")[:10] or None
                    data["end"] = (_first(p, "endDate") or "")[:10] or None
                add("event", n, data)
            elif s == "Document":
                add("source", n, {"id": kid, "title": _first(p, "title") or p.caption or kid,
                                  "url": _first(p, "sourceUrl"),
                                  "published": (_first(p, "date") or "")[:10] or None,
                                  "description": _first(p, "description"), "kind": "other", **secret})
            elif s == "Note":
                ents = _values(p, "entity")
                # the speaker: a "said" link, else kg's speaker keyword, else (FtM written
                # elsewhere) the first entity named
                said = sorted(speakers.get(p.id, []))
                said = said or [k[8:] for k in keywords if k.startswith("speaker:")]
                said = said or [e for e in ents if _schema(by_id, e) in ACTOR_SCHEMATA][:1]
                if not said or not _first(p, "description"):
                    skipped["Note without speaker or text"] = skipped.get("Note without speaker or text", 0) + 1
                    continue
                about, extra, seen = [], dict[str, Any](), set()
                for item in linked_about.get(p.id, []):
                    if (item["target"], item["stance"]) not in seen:
                        seen.add((item["target"], item["stance"]))
                        about.append(item)
                for kw in sorted(keywords):
                    stance, _, target = kw.partition(":")
                    if stance in STANCES and target:
                        if (_kg_id(target), stance) not in seen:
                            seen.add((_kg_id(target), stance))
                            about.append({"target": _kg_id(target), "stance": stance})
                    elif stance == "date":
                        extra["date"] = target
                    elif kw == "verbatim":
                        extra["verbatim"] = True
                add("statement", n, {"id": kid, "speaker": _kg_id(said[0]), "text": _first(p, "description"),
                                     "about": about, "reported_by": cites, **extra, **secret})
            elif s == "Documentation" or s in LINK_ENDS:
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
