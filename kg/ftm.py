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
| confidential | the keywords value "confidential" (in any letter case) |

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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import records as R
from .errors import InputError, Problem, UsageError
from .readers import RawRecord, display_path
from .validation import slugify

ACTOR_SCHEMATA = {
    "Person": "person",
    "Organization": "organization",
    "PublicBody": "organization",
    "Company": "organization",
    "LegalEntity": "organization",
}


def _model():
    try:
        from followthemoney import model
    except ImportError:
        raise UsageError(
            "FollowTheMoney support needs the followthemoney package: pip install 'kg[ftm]'"
        ) from None
    return model


CONFIDENTIAL = "confidential"  # the keywords value that marks a confidential record
SAID_ROLE = "said"  # UnknownLink role: subject said the Note (object)
STANCES = R.STANCES  # the record contract's, one list


def derived_id(kind: str, *parts: Any) -> str:
    """The id of an entity kg derives from a relationship: the same relationship always
    gets the same id, whatever else is exported with it."""
    key = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"kg-{kind}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:20]}"


# --- loading FtM back ----------------------------------------------------------------------


def _kg_id(ftm_id: str) -> str:
    s = re.sub(r"[^a-z0-9_.-]+", "-", str(ftm_id).lower()).strip("-._")
    s = re.sub(r"[-_.]{2,}", "-", s)
    return s[:128] or "ftm-entity"


# The two ends of FtM's link schemata (each an interval between two entities).
LINK_ENDS = {
    "Associate": ("person", "associate"),
    "Family": ("person", "relative"),
    "UnknownLink": ("subject", "object"),
    "Directorship": ("director", "organization"),
    "Membership": ("member", "organization"),
    "Employment": ("employee", "employer"),
}
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
            except Exception as e:
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
                rel: dict[str, Any] = {
                    "type": "ASSOCIATED_WITH",
                    "from": _kg_id(a),
                    "to": _kg_id(b),
                }
                if role or default_role:
                    rel["role"] = role or default_role
                relations.append((n, rel))
            else:
                skipped[f"{s} between entities kg does not hold"] = (
                    skipped.get(f"{s} between entities kg does not hold", 0) + 1
                )

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
                    participants.setdefault(p.id, []).append(
                        {"actor": _kg_id(a), "role": "participant"}
                    )
                for a in _values(p, "organizer"):
                    participants.setdefault(p.id, []).append(
                        {"actor": _kg_id(a), "role": "organizer"}
                    )
        counts: dict[str, int] = {}

        def add(kind: str, n: int, data: dict) -> None:
            counts[kind] = counts.get(kind, 0) + 1
            raws.append(
                RawRecord(
                    kind,
                    {k: v for k, v in data.items() if v not in (None, [], "")},
                    shown,
                    n,
                    {},
                    counts[kind],
                    case_dir=str(path),
                    case=case,
                )
            )

        def addr(p: Any) -> Any:
            a = _first(p, "addressEntity")
            return _kg_id(a) if a and _schema(by_id, a) == "Address" else None

        for n, p in entities:
            s, kid = p.schema.name, _kg_id(p.id)
            cites = docs.get(p.id, [])
            keywords = _values(p, "keywords")
            # any letter case, spaces around ("Confidential"): a marker not to miss
            secret = (
                {"confidential": True}
                if any(k.strip().lower() == CONFIDENTIAL for k in keywords)
                else {}
            )
            if s in ACTOR_SCHEMATA:
                kind = ACTOR_SCHEMATA[s]
                data = {
                    "id": kid,
                    "name": _first(p, "name") or p.caption,
                    "aliases": _values(p, "alias"),
                    "description": _first(p, "description"),
                    "located_in": addr(p),
                    "reported_by": cites,
                    **secret,
                }
                if kind == "person":
                    data["affiliations"] = affiliations.get(p.id, [])
                    data["nationality"] = _first(p, "nationality")
                else:
                    data["kind"] = (
                        "government" if s == "PublicBody" else "company" if s == "Company" else None
                    )
                add(kind, n, data)
            elif s == "Address":
                add(
                    "location",
                    n,
                    {
                        "id": kid,
                        "name": _first(p, "full") or p.caption,
                        "lat": _first(p, "latitude"),
                        "lon": _first(p, "longitude"),
                        "description": _first(p, "summary"),
                        "reported_by": cites,
                        **secret,
                    },
                )
            elif s == "Event":
                date = _first(p, "date")
                kinds = [k[5:] for k in keywords if k.startswith("kind:")] or [
                    k for k in keywords if ":" not in k and k.strip().lower() != CONFIDENTIAL
                ]
                data = {
                    "id": kid,
                    "title": _first(p, "name") or p.caption,
                    "description": _first(p, "summary"),
                    "participants": participants.get(p.id, []),
                    "located_in": addr(p),
                    "reported_by": cites,
                    "kind": slugify(sorted(kinds)[0]) if kinds else None,
                    **secret,
                }
                if date:
                    data["date"] = date[:10]
                else:
                    data["start"] = (_first(p, "startDate") or "")[:10] or None
                    data["end"] = (_first(p, "endDate") or "")[:10] or None
                add("event", n, data)
            elif s == "Document":
                add(
                    "source",
                    n,
                    {
                        "id": kid,
                        "title": _first(p, "title") or p.caption or kid,
                        "url": _first(p, "sourceUrl"),
                        "published": (_first(p, "date") or "")[:10] or None,
                        "description": _first(p, "description"),
                        "kind": "other",
                        **secret,
                    },
                )
            elif s == "Note":
                ents = _values(p, "entity")
                # the speaker: a "said" link, else kg's speaker keyword, else (FtM written
                # elsewhere) the first entity named
                said = sorted(speakers.get(p.id, []))
                said = said or [k[8:] for k in keywords if k.startswith("speaker:")]
                said = said or [e for e in ents if _schema(by_id, e) in ACTOR_SCHEMATA][:1]
                if not said or not _first(p, "description"):
                    skipped["Note without speaker or text"] = (
                        skipped.get("Note without speaker or text", 0) + 1
                    )
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
                add(
                    "statement",
                    n,
                    {
                        "id": kid,
                        "speaker": _kg_id(said[0]),
                        "text": _first(p, "description"),
                        "about": about,
                        "reported_by": cites,
                        **extra,
                        **secret,
                    },
                )
            elif s == "Documentation" or s in LINK_ENDS:
                continue
            else:
                skipped[s] = skipped.get(s, 0) + 1
        for n, rel in relations:
            add("relation", n, rel)
    if problems:
        raise InputError(problems)
    notices = [
        f"skipped {n} FtM {s} entit{'y' if n == 1 else 'ies'} (no kg equivalent)"
        for s, n in sorted(skipped.items())
    ]
    return raws, notices
