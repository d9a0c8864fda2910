"""Store layer of entity resolution: every Cypher statement `kg resolve` runs.

The graph holds resolution in two shapes, neither touching an entity's own node:
- ``(:Judgement {key, decision, a, b, who, when, why, case, file, line})`` nodes: the
  judgements files applied, one node per judgement (not ``:Entity``: never exported,
  searched or counted as a record);
- ``(member)-[:SAME_AS {resolved_id, cases}]->(canonical)`` edges, derived from the
  ``same_as`` judgements whose two ids are both loaded: every member of a merged entity points
  at its canonical id (the smallest id of the group), so any member reaches every other in
  at most two SAME_AS steps. ``cases`` names the judgements cases that merged them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from . import records as R
from .store import Store, _label

RESOLVABLE = ("person", "organization", "location")


def profiles(store: Store, kind: str) -> list[dict[str, Any]]:
    """Everything candidate scoring looks at, for every entity of one kind."""
    label = _label(R.LABELS[kind])
    res = store.read(
        f"MATCH (n:{label}) "
        "RETURN n.id AS id, coalesce(n.name, n.title) AS name, n.aliases AS aliases, "
        "n.cases AS cases, n.confidential AS confidential, n.nationality AS nationality, "
        "[k IN keys(n) WHERE k STARTS WITH 'extra_' | [k, toString(n[k])]] AS extra, "
        "COLLECT { MATCH (n)-[:AFFILIATED_WITH|PART_OF]->(o:Entity) "
        "          RETURN [o.id, coalesce(o.name, '')] } AS orgs, "
        "COLLECT { MATCH (n)-[:LOCATED_IN]->(l:Entity) RETURN [l.id, coalesce(l.name, '')] } "
        "  AS places"
    )
    return [dict(r) for r in res.records]


def same_as_edges(store: Store) -> list[dict[str, Any]]:
    res = store.read(
        "MATCH (a:Entity)-[r:SAME_AS]->(b:Entity) "
        "RETURN elementId(r) AS eid, a.id AS start, b.id AS end, "
        "r.resolved_id AS resolved_id, r.cases AS cases"
    )
    return [dict(r) for r in res.records]


def judgements(store: Store) -> list[dict[str, Any]]:
    res = store.read("MATCH (j:Judgement) RETURN properties(j) AS p ORDER BY j.case, j.key")
    return [dict(r["p"]) for r in res.records]


def judgement_cases(store: Store) -> list[str]:
    return [
        r["case"]
        for r in store.read(
            "MATCH (j:Judgement) RETURN DISTINCT j.case AS case ORDER BY case"
        ).records
    ]


def replace_judgements(store: Store, case: str, rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Make the stored judgements of `case` exactly `rows`; returns (written, deleted)."""
    keys = [r["key"] for r in rows]
    deleted = store.write(
        "MATCH (j:Judgement {case: $case}) WHERE NOT j.key IN $keys DELETE j RETURN count(*) AS n",
        {"case": case, "keys": keys},
    ).records[0]["n"]
    written = 0
    if rows:
        written = store.write(
            "UNWIND $batch.rows AS row MERGE (j:Judgement {case: row.case, key: row.key}) "
            "WITH j, row WHERE properties(j) <> row SET j = row RETURN count(*) AS n",
            {"batch": {"rows": list(rows)}},
        ).records[0]["n"]
    return written, deleted


def write_same_as(
    store: Store,
    create: Sequence[dict[str, Any]],
    update: Sequence[dict[str, Any]],
    delete: Sequence[str],
) -> None:
    if delete:
        store.write(
            "UNWIND $batch.eids AS eid MATCH (:Entity)-[r:SAME_AS]->(:Entity) "
            "WHERE elementId(r) = eid DELETE r",
            {"batch": {"eids": list(delete)}},
        )
    if update:
        store.write(
            "UNWIND $batch.rows AS row MATCH (:Entity)-[r:SAME_AS]->(:Entity) "
            "WHERE elementId(r) = row.eid SET r = row.props",
            {"batch": {"rows": list(update)}},
        )
    if create:
        store.write(
            "UNWIND $batch.rows AS row MATCH (a:Entity {id: row.start}) "
            "MATCH (b:Entity {id: row.end}) CREATE (a)-[r:SAME_AS]->(b) SET r = row.props",
            {"batch": {"rows": list(create)}},
        )


def cards(store: Store, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What a reviewer sees of each entity: its fields, cases, links and sources."""
    res = store.read(
        "UNWIND $batch.ids AS id MATCH (n:Entity {id: id}) "
        "RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Entity'][0] AS label, "
        "properties(n) AS props, "
        "COLLECT { MATCH (n)-[r:AFFILIATED_WITH|PART_OF|LOCATED_IN]->(o:Entity) "
        "          RETURN type(r) + ' ' + coalesce(o.name, o.id) + "
        "                 coalesce(' (' + r.role + ')', '') } AS links, "
        "COLLECT { MATCH (n)-[:REPORTED_BY]->(s:Source) RETURN s.title ORDER BY s.title LIMIT 5 } "
        "  AS sources, "
        "COUNT { (n)-[:SAID]->() } AS statements, "
        "COLLECT { MATCH (n)-[:SAME_AS*1..2]-(m:Entity) RETURN DISTINCT m.id } AS merged_with",
        {"batch": {"ids": list(ids)}},
    )
    return {r["id"]: dict(r) for r in res.records}


def canonical_map(store: Store) -> dict[str, str]:
    """{id: canonical id} for every member of a merged entity (canonical ids included)."""
    out: dict[str, str] = {}
    for r in store.read(
        "MATCH (a:Entity)-[r:SAME_AS]->(b:Entity) RETURN a.id AS a, b.id AS b"
    ).records:
        out[r["a"]] = r["b"]
        out[r["b"]] = r["b"]
    return out
